// wgmma with 8-bit floating-point inputs (sm_90a): D (f32) += A * B, A and B e4m3 (or e5m2) in shared
// memory, K = 32 per instruction (32 bytes of each K-major row).
//
//   auto acc = wgmma_accumulator(k, n);                       // n/2 f32 per thread, as for bf16
//   wgmma_fence(k);
//   for (kk = 0; kk < 4; ++kk)                                // a 128-byte (128 x e4m3) swizzled row
//     wgmma_fp8(k, acc, n, a_tile.wgmma_descriptor(kk * 32), b_tile.wgmma_descriptor(kk * 32), accumulate);
//   wgmma_commit(k); wgmma_wait(k, 0);
//
// PTX gives the 8-bit shapes no transpose immediates: both operands must be K-major (the "TN" layout,
// rows of K contiguous). The accumulator map is that of m64nNk16 (dsl/async/mma.h).
#pragma once

#include <vector>

#include "dsl/async/mma.h"

namespace weft {

enum class Fp8 { e4m3, e5m2 };

// wgmma.mma_async.sync.aligned.m64n{n}k32.f32.{e4m3|e5m2}.{same}: acc (n/2 f32 registers) =
// A(desc) * B(desc) (+ acc when `accumulate`). N must be a multiple of 8 in [8, 256].
void wgmma_fp8(KernelBuilder& k, std::vector<Reg<f32>>& acc, std::uint32_t n, Reg<u64> a_desc, Reg<u64> b_desc,
               Pred accumulate, Fp8 type = Fp8::e4m3, Loc loc = Loc::current());

}  // namespace weft
