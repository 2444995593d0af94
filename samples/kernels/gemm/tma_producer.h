// The producer loop of every TMA GEMM (gemm_bf16_sm90, gemm_e4m3_sm90, gemm_bf16_sm100): for each
// tile this CTA owns (persistent, in the shared tile order), for each K tile, wait for a free stage
// and have one elected lane load the A and B boxes into it. Call it from the producing warp.
#pragma once

#include <functional>

#include "dsl/async.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples {

struct TmaOperands {
  const TmaTensor& a;
  const TmaTensor& b;
  std::uint32_t bm, bn, bk;                        // box rows of A, of B, and box columns (K)
  std::function<Reg<u32>(Reg<u32>)> stage_a, stage_b;  // stage -> shared address of its A / B tile
};

inline void tma_producer_loop(KernelBuilder& k, Pipeline& pipe, const TileOrder& order, Reg<u32> k_tiles,
                              const TmaOperands& op) {
  auto st = pipe.state();
  k.for_(k.ctaid_x(), order.tiles, k.nctaid_x(), [&](Reg<u32> t) {
    auto [tm, tn] = order.coords(t);
    auto row_a = bitcast<s32>(tm * op.bm);
    auto row_b = bitcast<s32>(tn * op.bn);
    k.for_(0u, k_tiles, 1u, [&](Reg<u32> kt) {
      pipe.producer_acquire(st);
      k.if_(k.elect_sync(), [&] {
        auto kx = bitcast<s32>(kt * op.bk);
        tma_load(k, op.a, op.stage_a(st.stage), {kx, row_a}, pipe.full(st), &pipe);
        tma_load(k, op.b, op.stage_b(st.stage), {kx, row_b}, pipe.full(st), &pipe);
      });
      pipe.producer_commit(st);
      pipe.advance(st);
    });
  });
}

}  // namespace weft::samples
