// bf16 GEMM for Hopper (sm_90a): D = alpha * A * B^T + beta * C, fp32 accumulation, bf16 output.
// A is M x K row-major, B is N x K row-major ("TN": both K-major), C and D are M x N row-major.
//
// Warp-specialised and persistent: a producer warpgroup (40 registers) streams A and B tiles with
// TMA into a multi-stage mbarrier pipeline in dynamic shared memory (128-byte swizzle); two consumer
// warpgroups (232 registers) each own 64 rows of the 128 x BN tile and run wgmma m64nBNk16 over the
// stages; the epilogue scales, adds beta * C, converts to bf16 and stores with bounds checks, so any
// M, N, K works (TMA fills out-of-bounds reads with zeros). Tiles are visited in grouped order
// (GROUP_M tile rows at a time) so that consecutive CTAs share A and B tiles in L2.
//
// With copy=1, the producer warpgroup's second warp becomes a communication role: its lane 0 moves
// `copy_chunks` chunks of copy_src to copy_dst with bulk async copies through a small ring of its own
// (dsl/comm/bulk_copy.h), chunk c on CTA c mod grid. The destination may be a peer's buffer. The copy
// takes no SM from the GEMM: one warp that was idle, some shared memory, and memory bandwidth.
#include "dsl/async.h"
#include "dsl/comm/bulk_copy.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/gemm_sm90_common.h"
#include "samples/kernels/gemm/tma_producer.h"

namespace weft::samples {

WEFT_KERNEL_FOR(gemm_bf16_sm90, isa::TargetSet::only({"sm_90a"}),
                "D = alpha*A*B^T + beta*C, bf16 in/out, fp32 accumulate: TMA + wgmma, warp-specialised, persistent",
                {{"bn", 128, "tile N (multiple of 16, at most 256)", 16, 256},
                 {"stages", 4, "pipeline stages", 2, 8},
                 {"group_m", 8, "tile rows visited together (L2 reuse)", 1, 64},
                 {"copy", 0, "1: a producer-side warp also copies copy_src to copy_dst with bulk copies", 0, 1},
                 {"copy_chunk", 16384, "copy role: bytes per chunk (a multiple of 16)", 1024, 65536},
                 {"copy_stages", 2, "copy role: chunks in flight per CTA", 1, 8}}) {
  constexpr std::uint32_t kBM = 128, kBK = 64, kConsumers = 2;
  const auto bn = static_cast<std::uint32_t>(params["bn"]);
  const auto stages = static_cast<std::uint32_t>(params["stages"]);
  const auto group_m = static_cast<std::uint32_t>(params["group_m"]);
  const bool copy = params["copy"] != 0;
  const auto copy_chunk = static_cast<std::uint32_t>(params["copy_chunk"]);
  const auto copy_stages = static_cast<std::uint32_t>(params["copy_stages"]);
  KernelBuilder k{"gemm_bf16_sm90", target};
  if (bn % 16) k.error("gemm: bn must be a multiple of 16");

  // Shared memory: per stage an A tile (128 x 64 bf16) and a B tile (bn x 64 bf16), 128B-swizzled.
  const SharedLayout a_layout{.rows = kBM, .cols = kBK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const SharedLayout b_layout{.rows = bn, .cols = kBK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const std::uint32_t a_bytes = a_layout.bytes(), b_bytes = b_layout.bytes();
  const std::uint32_t stage_bytes = (a_bytes + b_bytes + 1023) / 1024 * 1024;

  const auto [m, n, kdim, alpha, beta, a_map, b_map, c, d] = tma_gemm_params(k, a_layout, b_layout);
  Ptr<u8, Global> copy_src, copy_dst;
  Reg<u32> copy_chunks;
  if (copy) {
    copy_src = k.param_ptr<u8>("copy_src");
    copy_dst = k.param_ptr<u8>("copy_dst");
    copy_chunks = k.param<u32>("copy_chunks");
  }
  const std::uint32_t ring_bytes = copy ? copy_stages * copy_chunk : 0;  // after the GEMM's stages
  auto smem = k.dynamic_shared<u8>("smem", 1024, stages * stage_bytes + ring_bytes);

  Pipeline pipe(k, "ab", {.stages = stages, .consumer_arrivals = kConsumers * 128,
                          .tx_bytes = a_bytes + b_bytes, .producer_role = "producer", .consumer_role = "consumer"});

  // Grouped rasterisation: tile t -> (tile_m, tile_n), walking group_m tile rows column by column.
  const auto order = grouped_tiles(m, n, kBM, bn, group_m);
  auto tiles = order.tiles;
  auto k_tiles = (kdim + (kBK - 1)) / kBK;
  auto tile_coords = [&](Reg<u32> t) { return order.coords(t); };
  auto stage_a = [&](Reg<u32> stage) { return smem.base() + stage * stage_bytes; };
  auto stage_b = [&](Reg<u32> stage) { return smem.base() + (stage * stage_bytes + a_bytes); };

  warp_roles(k, {
      {.name = "producer", .warpgroups = 1, .registers = 40, .body = [&](const RoleContext& r) {
         k.if_(r.thread < 32u, [&] {
           tma_producer_loop(k, pipe, order, k_tiles, {a_map, b_map, kBM, bn, kBK, stage_a, stage_b});
         });
         if (copy)
           k.if_(r.thread == 32u, [&] {
             comm::bulk_copy_chunks(k, {.name = "copy", .base = smem.base() + stages * stage_bytes,
                                        .stages = copy_stages, .chunk = copy_chunk},
                                    copy_src, copy_dst, copy_chunks, k.ctaid_x(), k.nctaid_x());
           });
       }},
      {.name = "consumer", .warpgroups = kConsumers, .registers = 232, .body = [&](const RoleContext& r) {
         auto st = pipe.state();
         auto warp = (r.thread >> 5u) & 3u;  // warp within this consumer warpgroup
         auto lane = r.thread & 31u;
         auto a_offset = r.warpgroup * (64u * 128u);  // this warpgroup's 64 rows of the A tile
         k.for_(k.ctaid_x(), tiles, k.nctaid_x(), [&](Reg<u32> t) {
           auto [tm, tn] = tile_coords(t);
           auto acc = wgmma_accumulator(k, bn);
           k.for_(0u, k_tiles, 1u, [&](Reg<u32> kt) {
             pipe.consumer_wait(st);
             auto a_tile = shared_tile_at(k, stage_a(st.stage) + a_offset, a_layout);
             auto b_tile = shared_tile_at(k, stage_b(st.stage), b_layout);
             auto accumulate = kt != 0u;
             wgmma_fence(k);
             for (std::uint32_t kk = 0; kk < kBK / 16; ++kk)
               wgmma_bf16(k, acc, bn, a_tile.wgmma_descriptor(kk * 32), b_tile.wgmma_descriptor(kk * 32),
                          kk == 0 ? accumulate : k.let_pred(true));
             wgmma_commit(k);
             wgmma_wait(k, 0);
             pipe.consumer_release(st);
             pipe.advance(st);
           });
           // Epilogue: the accumulator map of dsl/async/mma.h; two adjacent columns per store.
           sm90::store_tile(k, {m, n, alpha, beta, c, d, kBM, bn}, acc, tm, tn, r.warpgroup, warp, lane);
         });
       }},
  });
  return k.build();
}

}  // namespace weft::samples
