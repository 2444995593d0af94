// What every TMA GEMM (gemm_bf16_sm90, gemm_e4m3_sm90, gemm_bf16_sm100) shares: its parameters and
// its producer loop (for each tile this CTA owns, persistent, in the shared tile order, for each K
// tile, wait for a free stage and have one elected lane load the A and B boxes into it).
#pragma once

#include <functional>

#include "dsl/async.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples {

// The parameters, declared in this order: m, n, k, alpha, beta, the A and B tensor maps (one box
// fills one stage's tile), then C and D (bf16 bits; C is read only when beta != 0).
struct TmaGemmParams {
  Reg<u32> m, n, kdim;
  Reg<f32> alpha, beta;
  TmaTensor a_map, b_map;
  Ptr<u16, Global> c, d;
};

// Diagnostics (a tile no tensor map can load) name the caller's line.
inline TmaGemmParams tma_gemm_params(KernelBuilder& k, const SharedLayout& a_tile, const SharedLayout& b_tile,
                                     Loc loc = Loc::current()) {
  TmaGemmParams p;
  p.m = k.param<u32>("m", loc);
  p.n = k.param<u32>("n", loc);
  p.kdim = k.param<u32>("k", loc);
  p.alpha = k.param<f32>("alpha", loc);
  p.beta = k.param<f32>("beta", loc);
  p.a_map = tma_param(k, "a", a_tile, loc);
  p.b_map = tma_param(k, "b", b_tile, loc);
  p.c = k.param_ptr<u16>("c", loc);
  p.d = k.param_ptr<u16>("d", loc);
  return p;
}

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
