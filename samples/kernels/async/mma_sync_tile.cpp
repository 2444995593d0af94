// One warp computes D (16x8 f32) = A (16x16 bf16, row-major) * B (16x8 bf16, given as B^T row-major)
// with one mma.sync.m16n8k16, loading each thread's fragment straight from global memory through
// the documented thread <-> element map (dsl/async/mma.h).
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL(mma_sync_tile, "D(16x8 f32) = A(16x16 bf16) * B(16x8 bf16), one warp, one mma.sync.m16n8k16", {}) {
  KernelBuilder k{"mma_sync_tile", target};
  k.reqntid(32);
  auto a = k.param_ptr<u32>("a");    // 16 rows x 8 words (two bf16 per word)
  auto bt = k.param_ptr<u32>("bt");  // B transposed: 8 rows (n) x 8 words (k)
  auto d = k.param_ptr<f32>("d");    // 16 x 8, row-major
  auto lane = k.laneid();
  auto g = lane >> 2u;  // groupID
  auto t = lane & 3u;   // thread in group
  auto word = [&](Ptr<u32, Global> base, Reg<u32> row, std::uint32_t col_pair_offset) {
    return k.ld(base + (row * 8u + t + col_pair_offset));
  };
  Fragment<b32, 4> fa(k);
  Fragment<b32, 2> fb(k);
  Fragment<f32, 4> acc(k);
  k.assign(fa.get<0>(), bitcast<b32>(word(a, g, 0)));
  k.assign(fa.get<1>(), bitcast<b32>(word(a, g + 8u, 0)));
  k.assign(fa.get<2>(), bitcast<b32>(word(a, g, 4)));
  k.assign(fa.get<3>(), bitcast<b32>(word(a, g + 8u, 4)));
  k.assign(fb.get<0>(), bitcast<b32>(word(bt, g, 0)));
  k.assign(fb.get<1>(), bitcast<b32>(word(bt, g, 4)));
  acc.fill(k, 0.0f);
  mma_m16n8k16_bf16(k, acc, fa, fb, acc);
  auto col = t * 2u;
  k.st(d + (g * 8u + col), acc.get<0>());
  k.st(d + (g * 8u + col + 1u), acc.get<1>());
  k.st(d + ((g + 8u) * 8u + col), acc.get<2>());
  k.st(d + ((g + 8u) * 8u + col + 1u), acc.get<3>());
  return k.build();
}

}  // namespace weft::samples
