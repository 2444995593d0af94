// One warpgroup computes D (64xN f32) = A (64x64 bf16) * B^T, where B is N x 64 bf16 (both K-major),
// with TMA loads into 128-byte-swizzled shared tiles and four wgmma m64nNk16 steps along K.
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(wgmma_tile, isa::TargetSet::only({"sm_90a"}),
                "D(64xN f32) = A(64x64 bf16) * B(Nx64 bf16)^T with TMA + wgmma (one warpgroup)",
                {{"n", 64, "N: a multiple of 8 up to 256", 8, 256}}) {
  constexpr std::uint32_t kM = 64, kK = 64;
  const auto n = static_cast<std::uint32_t>(params["n"]);
  KernelBuilder k{"wgmma_tile", target};
  k.reqntid(128);
  if (n % 8) k.error("wgmma_tile: n must be a multiple of 8");
  const SharedLayout a_layout{.rows = kM, .cols = kK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const SharedLayout b_layout{.rows = n, .cols = kK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  auto a_map = tma_param(k, "a", a_layout);  // one box fills one tile
  auto b_map = tma_param(k, "b", b_layout);
  auto d = k.param_ptr<f32>("d");  // 64 x n, row-major
  auto a_tile = shared_tile(k, "a_tile", a_layout);
  auto b_tile = shared_tile(k, "b_tile", b_layout);
  MbarrierArray bar(k, "loaded", 1);

  auto tid = k.tid_x();
  bar.init_all(1);
  k.if_(tid == 0u, [&] {
    bar[0].arrive_expect_tx(a_map.box_bytes() + b_map.box_bytes());
    tma_load(k, a_map, a_tile.base(), {0, 0}, bar[0]);
    tma_load(k, b_map, b_tile.base(), {0, 0}, bar[0]);
  });
  bar[0].wait(0u);

  auto acc = wgmma_accumulator(k, n);
  auto accumulate = k.let_pred(true);
  wgmma_fence(k);
  for (std::uint32_t kk = 0; kk < kK / 16; ++kk) {
    // Along K inside a 128-byte swizzled row, the descriptor's start advances 32 bytes per k16 step.
    wgmma_bf16(k, acc, n, a_tile.wgmma_descriptor(kk * 32), b_tile.wgmma_descriptor(kk * 32), accumulate);
  }
  wgmma_commit(k);
  wgmma_wait(k, 0);

  // Thread <-> element map of the m64nN accumulator (dsl/async/mma.h).
  auto warp = tid >> 5u;
  auto lane = tid & 31u;
  auto row0 = warp * 16u + (lane >> 2u);
  auto col0 = (lane & 3u) * 2u;
  for (std::uint32_t j = 0; j < n / 2; ++j) {
    auto row = row0 + 8u * ((j / 2) % 2);
    auto col = col0 + (8u * (j / 4) + (j % 2));
    k.st(d + (row * n + col), acc[j]);
  }
  return k.build();
}

}  // namespace weft::samples
