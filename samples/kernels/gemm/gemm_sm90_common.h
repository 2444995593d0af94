// Pieces shared by the Hopper GEMMs (gemm_sm90.cpp: bf16, gemm_e4m3_sm90.cpp: e4m3): the register
// epilogue of a wgmma m64nN accumulator (the tile order, shared by every GEMM, is in tile_order.h).
#pragma once

#include <utility>
#include <vector>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples::sm90 {

// What the epilogue writes: D (bf16, m x n row-major) = alpha * acc + beta * C (bf16, read only when
// beta != 0).
struct Epilogue {
  Reg<u32> m, n;
  Reg<f32> alpha, beta;
  Ptr<u16, Global> c, d;  // bf16 bits
  std::uint32_t bm = 128, bn = 128;
};

// One consumer warpgroup's 64 x bn part of tile (tm, tn): the accumulator map of dsl/async/mma.h,
// alpha, beta * C, cvt.rn.bf16x2.f32 and one 32-bit store per aligned column pair (16-bit stores when
// n is odd or at the last column); rows and columns outside m x n are skipped.
inline void store_tile(KernelBuilder& k, const Epilogue& e, const std::vector<Reg<f32>>& acc, Reg<u32> tm, Reg<u32> tn,
                       Reg<u32> warpgroup, Reg<u32> warp, Reg<u32> lane) {
  const auto& [m, n, alpha, beta, c, d, bm, bn] = e;
  auto row0 = tm * bm + warpgroup * 64u + warp * 16u + (lane >> 2u);
  auto col0 = tn * bn + (lane & 3u) * 2u;
  auto use_c = beta != 0.0f;
  for (std::uint32_t j = 0; j < bn / 2; j += 2) {
    auto row = row0 + 8u * ((j / 2) % 2);
    auto col = col0 + 8u * (j / 4);
    k.if_(row < m && col < n, [&] {
      auto idx = row * n + col;
      auto v0 = acc[j] * alpha;
      auto v1 = acc[j + 1] * alpha;
      k.if_(use_c, [&] {
        auto c0 = k.ld(c + idx);
        k.assign(v0, fma(beta, bitcast<f32>(convert<u32>(c0) << 16u), v0));
        k.if_(col + 1u < n, [&] {
          auto c1 = k.ld(c + (idx + 1u));
          k.assign(v1, fma(beta, bitcast<f32>(convert<u32>(c1) << 16u), v1));
        });
      });
      auto packed = k.reg<b32>();
      k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, v1, v0});
      k.if_(col + 1u < n && (n & 1u) == 0u, [&] {  // aligned pair: one 32-bit store
        k.st((d + idx).template as<u32>(), bitcast<u32>(packed));
      }).else_([&] {
        auto lo = convert<u16>(bitcast<u32>(packed) & 0xffffu);
        k.st(d + idx, lo);
        k.if_(col + 1u < n, [&] { k.st(d + (idx + 1u), convert<u16>(bitcast<u32>(packed) >> 16u)); });
      });
    });
  }
}

}  // namespace weft::samples::sm90
