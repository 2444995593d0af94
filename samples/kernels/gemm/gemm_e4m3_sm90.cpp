// fp8 (e4m3) GEMM for Hopper (sm_90a): D (bf16) = alpha * A * B^T + beta * C, fp32 accumulation.
// A is M x K row-major e4m3, B is N x K row-major e4m3 ("TN": both K-major, the layout cuBLASLt's fp8
// GEMM takes), C and D are M x N row-major bf16.
//
// The structure of gemm_bf16_sm90 (warp-specialised, persistent, grouped tile order, the same
// epilogue: gemm_sm90_common.h): a producer warpgroup (40 registers) streams 128 x 128 A tiles and
// bn x 128 B tiles (128 e4m3 = one 128-byte swizzled row per K-tile) with TMA into a multi-stage
// mbarrier pipeline; two consumer warpgroups (232 registers) each own 64 rows of the tile and run
// four wgmma m64n{bn}k32 per stage.
//
// Scales (docs/gemm.md, "The fp8 Hopper kernel"):
//   - per tensor: fold them into alpha (alpha * a_scale * b_scale). Each consumer keeps one wgmma
//     group in flight: it issues k-tile kt, waits for kt-1 and releases kt-1's stage.
//   - block_scales=1 (DeepSeek-V3's recipe): fp32 parameters a_scales and b_scales, with KB = ceil(K/128)
//       a_scales: KB x M row-major (K-block major): A row m, K block kb is scaled by a_scales[kb * M + m];
//       b_scales: ceil(N/128) x KB row-major: B rows 128 nb .. 128 nb + 127, K block kb by b_scales[nb * KB + kb];
//     D = alpha * sum_kb (a_scale(m, kb) * b_scale(n / 128, kb)) * (A_kb * B_kb^T) + beta * C. Each
//     128-wide K block is accumulated by wgmma into a temporary accumulator, then promoted in fp32:
//     acc += partial * (a_scale * b_scale) (two A scales per thread: its two rows). A tile's columns
//     lie in one B scale block, so bn must divide 128.
#include "dsl/registry.h"
#include "samples/kernels/gemm/gemm_sm90_common.h"
#include "samples/kernels/gemm/tma_producer.h"

namespace weft::samples {

WEFT_KERNEL_FOR(gemm_e4m3_sm90, isa::TargetSet::only({"sm_90a"}),
                "D = alpha*A*B^T + beta*C, e4m3 in, bf16 out, fp32 accumulate (per-tensor scales in alpha, or "
                "1x128 / 128x128 block scales): TMA + wgmma k32, warp-specialised, persistent",
                {{"bn", 128, "tile N (multiple of 16, at most 256; with block_scales 16, 32, 64 or 128)", 16, 256},
                 {"stages", 0, "pipeline stages (0: as many as fit in shared memory, at most 8)", 0, 8},
                 {"group_m", 8, "tile rows visited together (L2 reuse)", 1, 64},
                 {"block_scales", 0, "1: DeepSeek-V3 block scales (fp32 a_scales per row and 128-wide K block, "
                                     "b_scales per 128 x 128 block)", 0, 1}}) {
  constexpr std::uint32_t kBM = 128, kBK = 128, kConsumers = 2;  // kBK e4m3 = 128 bytes: one swizzle span
  constexpr std::uint32_t kScaleBlock = 128;                     // block_scales: K blocks and B's N blocks
  // Dynamic shared memory a CTA may have on sm_90 (227 KB), less 1 KB for the barriers before the
  // 1024-aligned window.
  constexpr std::uint32_t kSmemBudget = 227 * 1024 - 1024;
  const auto bn = static_cast<std::uint32_t>(params["bn"]);
  auto stages = static_cast<std::uint32_t>(params["stages"]);
  const auto group_m = static_cast<std::uint32_t>(params["group_m"]);
  const bool block = params["block_scales"] != 0;
  KernelBuilder k{"gemm_e4m3_sm90", target};
  if (bn % 16) k.error("gemm: bn must be a multiple of 16");
  if (block && kScaleBlock % bn)
    k.error("gemm: block_scales needs bn dividing 128, so that a tile's columns share one B scale block",
            "bn = 16, 32, 64 or 128");

  // Shared memory: per stage an A tile (128 x 128 e4m3) and a B tile (bn x 128 e4m3), 128B-swizzled.
  const SharedLayout a_layout{.rows = kBM, .cols = kBK, .elem = isa::Type::e4m3, .swizzle = Swizzle::b128};
  const SharedLayout b_layout{.rows = bn, .cols = kBK, .elem = isa::Type::e4m3, .swizzle = Swizzle::b128};
  const std::uint32_t a_bytes = a_layout.bytes(), b_bytes = b_layout.bytes();
  const std::uint32_t stage_bytes = (a_bytes + b_bytes + 1023) / 1024 * 1024;
  if (stages == 0) stages = std::min(8u, kSmemBudget / stage_bytes);
  if (stages < 2 || stages * stage_bytes > kSmemBudget)
    k.error("gemm: " + std::to_string(stages) + " stages of " + std::to_string(stage_bytes) + " bytes need " +
                std::to_string(stages * stage_bytes) + " bytes of shared memory; a CTA has " +
                std::to_string(kSmemBudget) + " (and at least 2 stages are needed)",
            "fewer stages or a smaller bn (stages=0 picks the most that fit)");
  if (!k.diagnostics().empty()) return k.build();  // throws with the problems above

  const auto [m, n, kdim, alpha, beta, a_map, b_map, c, d] = tma_gemm_params(k, a_layout, b_layout);
  Ptr<f32, Global> a_scales, b_scales;
  if (block) {
    a_scales = k.param_ptr<f32>("a_scales");  // KB x M
    b_scales = k.param_ptr<f32>("b_scales");  // ceil(N / 128) x KB
  }
  auto smem = k.dynamic_shared<u8>("smem", 1024, stages * stage_bytes);

  Pipeline pipe(k, "ab", {.stages = stages, .consumer_arrivals = kConsumers * 128,
                          .tx_bytes = a_bytes + b_bytes, .producer_role = "producer", .consumer_role = "consumer"});

  const auto order = grouped_tiles(m, n, kBM, bn, group_m);
  auto k_tiles = (kdim + (kBK - 1)) / kBK;  // = KB: one K-tile is one scale block
  auto stage_a = [&](Reg<u32> stage) { return smem.base() + stage * stage_bytes; };
  auto stage_b = [&](Reg<u32> stage) { return smem.base() + (stage * stage_bytes + a_bytes); };

  warp_roles(k, {
      {.name = "producer", .warpgroups = 1, .registers = 40, .body = [&](const RoleContext& r) {
         k.if_(r.thread < 32u, [&] {
           tma_producer_loop(k, pipe, order, k_tiles, {a_map, b_map, kBM, bn, kBK, stage_a, stage_b});
         });
       }},
      {.name = "consumer", .warpgroups = kConsumers, .registers = 232, .body = [&](const RoleContext& r) {
         auto st = pipe.state();
         auto warp = (r.thread >> 5u) & 3u;  // warp within this consumer warpgroup
         auto lane = r.thread & 31u;
         auto a_offset = r.warpgroup * (64u * 128u);  // this warpgroup's 64 rows of the A tile
         const sm90::Epilogue epilogue{m, n, alpha, beta, c, d, kBM, bn};
         // Per-tensor: the stage to release lags one k-tile behind `st` (one wgmma group in flight).
         // Block scales: the temporary accumulator of one K block.
         Pipeline::State rel;
         std::vector<Reg<f32>> part;
         if (block) part = wgmma_accumulator(k, bn);
         else rel = pipe.state();
         k.for_(k.ctaid_x(), order.tiles, k.nctaid_x(), [&](Reg<u32> t) {
           auto [tm, tn] = order.coords(t);
           auto acc = wgmma_accumulator(k, bn);
           // Block scales: this thread's two accumulator rows (clamped into A: rows past M are
           // computed but not stored) and the tile's B scale row.
           Ptr<f32, Global> sa0, sa1, sb;
           if (block) {
             auto row0 = tm * kBM + r.warpgroup * 64u + warp * 16u + (lane >> 2u);
             auto last = m - 1u;
             sa0 = a_scales + min(row0, last);
             sa1 = a_scales + min(row0 + 8u, last);
             sb = b_scales + (tn * bn / kScaleBlock) * k_tiles;
           }
           k.for_(0u, k_tiles, 1u, [&](Reg<u32> kt) {
             // Block scales: load this K block's scales first; the loads overlap the waits below.
             Reg<f32> a0, a1, b0;
             if (block) {
               auto off = kt * m;
               a0 = k.ld(sa0 + off, {q::nc});
               a1 = k.ld(sa1 + off, {q::nc});
               b0 = k.ld(sb + kt, {q::nc});
             }
             pipe.consumer_wait(st);
             auto a_tile = shared_tile_at(k, stage_a(st.stage) + a_offset, a_layout);
             auto b_tile = shared_tile_at(k, stage_b(st.stage), b_layout);
             auto& dst = block ? part : acc;
             auto first = block ? k.let_pred(false) : kt != 0u;  // scale-d of the first k-step
             wgmma_fence(k);
             for (std::uint32_t kk = 0; kk < kBK / 32; ++kk)
               wgmma_fp8(k, dst, bn, a_tile.wgmma_descriptor(kk * 32), b_tile.wgmma_descriptor(kk * 32),
                         kk == 0 ? first : k.let_pred(true));
             wgmma_commit(k);
             if (block) {
               wgmma_wait(k, 0);
               pipe.consumer_release(st);
               // Promotion in fp32: acc += partial * (a_scale(row) * b_scale); rows alternate every 2 registers.
               auto s0 = a0 * b0;
               auto s1 = a1 * b0;
               for (std::uint32_t j = 0; j < bn / 2; ++j) k.assign(acc[j], fma(part[j], (j / 2) % 2 ? s1 : s0, acc[j]));
             } else {
               wgmma_wait(k, 1);  // k-tile kt-1's group is done: its stage can be refilled
               k.if_(kt != 0u, [&] {
                 pipe.consumer_release(rel);
                 pipe.advance(rel);
               });
             }
             pipe.advance(st);
           });
           if (!block) {
             wgmma_wait(k, 0);
             k.if_(k_tiles != 0u, [&] {
               pipe.consumer_release(rel);
               pipe.advance(rel);
             });
           }
           sm90::store_tile(k, epilogue, acc, tm, tn, r.warpgroup, warp, lane);
         });
       }},
  });
  return k.build();
}

}  // namespace weft::samples
