// Pieces of the Hopper GEMM (gemm_sm90.cpp) that are not the main loop: the register epilogue of a
// wgmma m64nN accumulator, and split-K's reduction (the tile order and work units, shared by every
// GEMM, are in tile_order.h).
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples::sm90 {

// What the epilogue writes: D = alpha * acc + beta * C (+ bias[col]). D and C are m x n row-major,
// bf16, or f32 with out_f32 (C is read only when beta != 0); bias is bf16, one per column.
struct Epilogue {
  Reg<u32> m, n;
  Reg<f32> alpha, beta;
  Ptr<u16, Global> c, d;  // bf16 bits; reinterpreted as f32 with out_f32
  Ptr<u16, Global> bias;  // with has_bias
  bool out_f32 = false, has_bias = false;
  std::uint32_t bm = 128, bn = 128;
};

// One consumer warpgroup's 64 x bn part of tile (tm, tn), through the accumulator map of
// dsl/async/mma.h: per column pair (col, col + 1) and row half, alpha * acc, + beta * C, + bias, then
// one store per aligned pair (bf16: cvt.rn.bf16x2.f32 and a 32-bit store; f32: a 64-bit store) and
// single-element stores when n is odd or at the last column; rows and columns outside m x n are
// skipped.
inline void store_tile(KernelBuilder& k, const Epilogue& e, const std::vector<Reg<f32>>& acc, Reg<u32> tm, Reg<u32> tn,
                       Reg<u32> warpgroup, Reg<u32> warp, Reg<u32> lane) {
  auto row0 = tm * e.bm + warpgroup * 64u + warp * 16u + (lane >> 2u);
  auto col0 = tn * e.bn + (lane & 3u) * 2u;
  auto use_c = e.beta != 0.0f;
  auto c32 = e.c.template as<f32>();
  auto d32 = e.d.template as<f32>();
  auto bf16_to_f32 = [&](Reg<u16> h) { return bitcast<f32>(convert<u32>(h) << 16u); };
  for (std::uint32_t cj = 0; cj < e.bn / 8; ++cj) {  // column pair cj: registers 4 cj .. 4 cj + 3
    auto col = col0 + 8u * cj;
    k.if_(col < e.n, [&] {
      auto pair = col + 1u < e.n;
      Reg<f32> bias0, bias1;
      if (e.has_bias) {
        bias0 = bf16_to_f32(k.ld(e.bias + col));
        bias1 = k.let<f32>(0.0f);
        k.if_(pair, [&] { k.assign(bias1, bf16_to_f32(k.ld(e.bias + (col + 1u)))); });
      }
      for (std::uint32_t half = 0; half < 2; ++half) {  // rows row0 and row0 + 8
        const std::uint32_t j = 4 * cj + 2 * half;
        auto row = row0 + 8u * half;
        k.if_(row < e.m, [&] {
          auto idx = row * e.n + col;
          auto v0 = acc[j] * e.alpha;
          auto v1 = acc[j + 1] * e.alpha;
          k.if_(use_c, [&] {
            if (e.out_f32) {
              k.assign(v0, fma(e.beta, k.ld(c32 + idx), v0));
              k.if_(pair, [&] { k.assign(v1, fma(e.beta, k.ld(c32 + (idx + 1u)), v1)); });
            } else {
              k.assign(v0, fma(e.beta, bf16_to_f32(k.ld(e.c + idx)), v0));
              k.if_(pair, [&] { k.assign(v1, fma(e.beta, bf16_to_f32(k.ld(e.c + (idx + 1u))), v1)); });
            }
          });
          if (e.has_bias) {
            k.assign(v0, v0 + bias0);
            k.assign(v1, v1 + bias1);
          }
          auto aligned_pair = pair && (e.n & 1u) == 0u;  // idx even: an 8-byte (f32) or 4-byte (bf16) pair
          if (e.out_f32) {
            k.if_(aligned_pair, [&] { k.st_vec(d32 + idx, std::array<Reg<f32>, 2>{v0, v1}); }).else_([&] {
              k.st(d32 + idx, v0);
              k.if_(pair, [&] { k.st(d32 + (idx + 1u), v1); });
            });
          } else {
            auto packed = k.reg<b32>();
            k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, v1, v0});
            k.if_(aligned_pair, [&] { k.st((e.d + idx).template as<u32>(), bitcast<u32>(packed)); }).else_([&] {
              k.st(e.d + idx, convert<u16>(bitcast<u32>(packed) & 0xffffu));
              k.if_(pair, [&] { k.st(e.d + (idx + 1u), convert<u16>(bitcast<u32>(packed) >> 16u)); });
            });
          }
        });
      }
    });
  }
}

// Split-K (splits > 1): the units of one tile compute its K parts on different CTAs. Each writes its
// fp32 partial tile to `workspace` (tile t, part s at (t * splits + s) * bm * bn floats, thread i of
// the consumers writing register j at j * threads + i: coalesced) and counts itself on counters[t]
// (acq_rel at gpu scope, after a gpu-scope fence of every thread). The last to arrive resets the
// counter to 0 (ready for the next launch: the host zeroes the counters once, when it allocates
// them), sums the parts in order 0 .. splits-1 (so D does not depend on which part came last) and
// runs the epilogue. Nobody waits for anybody: no deadlock whatever the residency.
struct SplitK {
  std::uint32_t splits = 1;
  Ptr<f32, Global> workspace;
  Ptr<u32, Global> counters;
  Ptr<u32, Shared> last;  // one u32: thread 0's verdict, for the whole consumer role
};

// `consumers`: the consumer role (its threads write and sum the tile; its named barrier orders the
// verdict). Runs `epilogue` with `acc` holding the whole sum, in the CTA that arrives last.
inline void split_k_epilogue(KernelBuilder& k, const SplitK& s, const RoleContext& consumers, std::vector<Reg<f32>>& acc,
                             const WorkUnits::Unit& u, std::uint32_t bm, std::uint32_t bn,
                             const std::function<void()>& epilogue) {
  const std::uint32_t threads = consumers.threads;
  auto part = [&](Reg<u32> split) { return s.workspace + ((u.tile * s.splits + split) * (bm * bn) + consumers.thread); };
  auto mine = part(u.split);
  for (std::uint32_t j = 0; j < acc.size(); ++j) k.st(mine + j * threads, acc[j]);
  k.fence({q::acq_rel, q::gpu});
  consumers.sync();
  k.if_(consumers.thread == 0u, [&] {
    auto before = k.atom(q::add, s.counters + u.tile, 1u, {q::acq_rel, q::gpu});
    auto last = before == s.splits - 1;
    k.if_(last, [&] { k.st(s.counters + u.tile, 0u, {q::relaxed, q::gpu}); });
    k.st(s.last, select(last, k.let<u32>(1u), k.let<u32>(0u)));
  });
  consumers.sync();
  k.if_(k.ld(s.last) != 0u, [&] {
    k.fence({q::acq_rel, q::gpu});
    for (auto& a : acc) k.assign(a, 0.0f);
    k.for_(0u, s.splits, 1u, [&](Reg<u32> split) {
      auto p = part(split);
      for (std::uint32_t j = 0; j < acc.size(); ++j) k.assign(acc[j], acc[j] + k.ld(p + j * threads, {q::cg}));
    });
    epilogue();
  });
}

}  // namespace weft::samples::sm90
