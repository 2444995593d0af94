// What every TMA GEMM (gemm_bf16_sm90, gemm_e4m3_sm90, gemm_bf16_sm100) shares: its parameters and
// its producer loop (for each work unit this CTA owns, persistent, in the shared tile order, for each
// of its K tiles, wait for a free stage and have one elected lane load the A and B boxes into it).
#pragma once

#include <functional>

#include "dsl/async.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples {

// The parameters, declared in this order: m, n, k, alpha, beta, the A and B tensor maps (one box
// fills one stage's tile, or a cluster CTA's slice of it), then C and D. C and D are bf16 bits, or
// f32 with out_f32 (declared f32 pointers, so that the launch checks 4-byte elements; the struct holds
// them as bf16-bit pointers either way and Epilogue reinterprets). C is read only when beta != 0.
// With `d_box`, D is a tensor map instead (TMA-store epilogue; `d_map`, whose box is d_box) and `d`
// is left empty.
struct TmaGemmParams {
  Reg<u32> m, n, kdim;
  Reg<f32> alpha, beta;
  TmaTensor a_map, b_map;
  Ptr<u16, Global> c, d;
  TmaTensor d_map;
};

struct TmaGemmOutput {
  bool f32 = false;
  const SharedLayout* d_box = nullptr;  // set: D is a tensor map with this box
};

// Diagnostics (a tile no tensor map can load) name the caller's line.
inline TmaGemmParams tma_gemm_params(KernelBuilder& k, const SharedLayout& a_tile, const SharedLayout& b_box,
                                     TmaGemmOutput out = {}, Loc loc = Loc::current()) {
  TmaGemmParams p;
  p.m = k.param<u32>("m", loc);
  p.n = k.param<u32>("n", loc);
  p.kdim = k.param<u32>("k", loc);
  p.alpha = k.param<f32>("alpha", loc);
  p.beta = k.param<f32>("beta", loc);
  p.a_map = tma_param(k, "a", a_tile, loc);
  p.b_map = tma_param(k, "b", b_box, loc);
  p.c = out.f32 ? k.param_ptr<f32>("c", loc).template as<u16>() : k.param_ptr<u16>("c", loc);
  if (out.d_box) p.d_map = tma_param(k, "d", *out.d_box, loc);
  else p.d = out.f32 ? k.param_ptr<f32>("d", loc).template as<u16>() : k.param_ptr<u16>("d", loc);
  return p;
}

struct TmaOperands {
  const TmaTensor& a;
  const TmaTensor& b;
  std::uint32_t bm, bn, bk;                        // box rows of A, tile rows of B, and box columns (K)
  std::function<Reg<u32>(Reg<u32>)> stage_a, stage_b;  // stage -> shared address of its A / B tile
  // B MN-major (a K x N row-major B, the NN layout): the B tile is bn / b_panel_cols panels of
  // b_panel_cols columns x bk K rows, one box each, one after the other in the stage.
  std::uint32_t b_panel_cols = 0;                  // 0: B is K-major (N x K row-major, TN)
  // With the loads of K tile kt, ask L2 for the boxes of K tile kt + prefetch_ahead of the same unit
  // (cp.async.bulk.prefetch.tensor): a stream then has (stages + prefetch_ahead) K tiles of bytes on
  // their way where its stages alone hold `stages`. 0: none.
  std::uint32_t prefetch_ahead = 0;
  // A in boxes of a_box_rows rows (0: one box of bm rows), one after the other in the stage, with
  // `rows` (M) given: a box whose rows all lie past M is not loaded, and its bytes are completed on
  // the stage's barrier instead (Pipeline::copy_or_complete). At M = 64 in a 128-row tile, half of
  // each stage's A is then neither fetched nor zero-filled by TMA. The first box always loads.
  std::uint32_t a_box_rows = 0;
  Reg<u32> rows;
  // Grouped work (WorkUnits::grouped, K-major B only): B holds one matrix of b_group_rows rows per
  // group, one after the other, and a unit's B rows start at its group's. Padding units have no K
  // tiles, so nothing is loaded for them.
  Reg<u32> b_group_rows;
};

// Prefetches the A and B tensor maps, then for each unit this CTA owns (persistent, in the shared tile
// order), for each of its K tiles: waits for a free stage and has one elected lane load the A and B
// boxes into it. In a cluster of
// cluster_m CTAs (vertically adjacent tiles, one tile column), B is shared: CTA r loads rows
// [r, r + 1) * bn / cluster_m of the B tile and multicasts them into every CTA's stage (the B map's
// box is bn / cluster_m rows), so each stage still receives a whole A tile and a whole B tile. An
// MN-major B is loaded as panels, CTA r of a cluster taking panels [r, r + 1) * panels / cluster_m.
inline void tma_producer_loop(KernelBuilder& k, Pipeline& pipe, const WorkUnits& work, const TmaOperands& op) {
  auto st = pipe.state();
  const std::uint32_t cm = work.cluster_m;
  const std::uint32_t b_rows = op.bn / cm;                          // B rows each CTA loads
  const std::uint32_t b_slice = op.b.box_bytes();                   // bytes of one such box
  // The two maps are fetched once, now, so the first stage's loads do not also wait for them.
  k.if_(k.elect_sync(), [&] {
    prefetch_tensor_map(k, op.a);
    prefetch_tensor_map(k, op.b);
  });
  // Calls f(byte offset in the stage's A tile, first row) for each A box of a unit; every box but the
  // first goes through guarded(some of its rows lie inside M, the call).
  const std::uint32_t a_box_rows = op.a_box_rows ? op.a_box_rows : op.bm;
  const std::uint32_t a_row_bytes = op.a.box_bytes() / a_box_rows;
  work.for_each(k, [&](const WorkUnits::Unit& u) {
    auto row_a = bitcast<s32>(u.tm * op.bm);
    auto each_a_box = [&](const std::function<void(std::uint32_t, Reg<s32>)>& f,
                          const std::function<void(Pred, const std::function<void()>&)>& guarded) {
      for (std::uint32_t r = 0; r < op.bm; r += a_box_rows) {
        auto box = [&] { f(r * a_row_bytes, r ? row_a + static_cast<std::int32_t>(r) : row_a); };
        if (r == 0) box();
        else guarded(u.tm * op.bm + r < op.rows, box);
      }
    };
    // f(byte offset in the stage's B tile, box coordinates) for each B box this CTA loads for K tile
    // kt: its slice of the tile's rows (K-major), or its panels (MN-major).
    auto each_b_box = [&](Reg<u32> kt, const std::function<void(Reg<u32>, std::initializer_list<Src<s32>>)>& f) {
      auto kx = bitcast<s32>(kt * op.bk);
      if (!op.b_panel_cols) {
        auto row = u.tn * op.bn + work.rank * b_rows;
        f(work.rank * b_slice, {kx, bitcast<s32>(work.grouped ? u.group * op.b_group_rows + row : row)});
        return;
      }
      const std::uint32_t mine = op.bn / op.b_panel_cols / cm;  // panels this CTA loads
      for (std::uint32_t p = 0; p < mine; ++p) {
        auto panel = work.rank * mine + p;
        f(panel * b_slice, {bitcast<s32>(u.tn * op.bn + panel * op.b_panel_cols), kx});
      }
    };
    k.for_(u.kt_begin, u.kt_end, 1u, [&](Reg<u32> kt) {
      pipe.producer_acquire(st);
      k.if_(k.elect_sync(), [&] {
        if (op.prefetch_ahead)
          k.if_(kt + op.prefetch_ahead < u.kt_end, [&] {
            auto ahead = kt + op.prefetch_ahead;
            auto ka = bitcast<s32>(ahead * op.bk);
            each_a_box([&](std::uint32_t, Reg<s32> row) { tma_prefetch(k, op.a, {ka, row}); },
                       [&](Pred live, const std::function<void()>& box) { k.if_(live, box); });
            each_b_box(ahead, [&](Reg<u32>, std::initializer_list<Src<s32>> at) { tma_prefetch(k, op.b, at); });
          });
        auto ka = bitcast<s32>(kt * op.bk);
        each_a_box([&](std::uint32_t offset, Reg<s32> row) {
          auto dst = op.stage_a(st.stage);
          tma_load(k, op.a, offset ? dst + offset : dst, {ka, row}, pipe.full(st), &pipe);
        }, [&](Pred live, const std::function<void()>& box) { pipe.copy_or_complete(st, live, op.a.box_bytes(), box); });
        each_b_box(kt, [&](Reg<u32> offset, std::initializer_list<Src<s32>> at) {
          auto dst = op.stage_b(st.stage) + offset;
          if (cm == 1) tma_load(k, op.b, dst, at, pipe.full(st), &pipe);
          else tma_load_multicast(k, op.b, dst, at, pipe.full(st), (1u << cm) - 1u, &pipe);
        });
      });
      pipe.producer_commit(st);
      pipe.advance(st);
    });
  });
}

}  // namespace weft::samples
