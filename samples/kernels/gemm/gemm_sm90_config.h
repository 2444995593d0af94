// The Hopper GEMM's configuration (gemm_sm90.cpp): its kernel parameters, and the plan a
// configuration gives (tiles, shared-memory layouts, stages), with every rule a configuration must
// follow checked here and reported at the author's line.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "dsl/async.h"
#include "dsl/registry.h"
#include "samples/kernels/gemm/gemm_sm90_common.h"
#include "samples/kernels/gemm/group_rows.h"
#include "samples/kernels/gemm/tma_producer.h"

namespace weft::samples::sm90 {

inline constexpr std::uint32_t kBM = 128;         // tile rows (a unit of work)
static_assert(kBM == kGroupRows, "groups=1 reads one tile_groups entry per tile row");
inline constexpr std::uint32_t kConsumers = 2;    // consumer warpgroups
inline constexpr std::uint32_t kScaleBlock = 128; // block scales: K blocks and B's N blocks
inline constexpr std::uint32_t kPanelCols = 64;   // NN: columns of one B panel (128 bytes of bf16)

struct Config {
  bool fp8 = false;
  std::uint32_t bn = 128, stages = 0, group_m = 8, cluster_m = 1, splits = 1;
  bool out_f32 = false, bias = false, block_scales = false;
  bool tma_store = true;
  std::uint32_t store_buffers = 2;  // TMA-store staging boxes per consumer warpgroup
  bool nn = false;  // bf16 only: B is K x N row-major (MN-major tiles, wgmma imm-trans-b)
  bool pingpong = false;  // each consumer warpgroup computes whole tiles of its own, alternating
  bool stream_k = false;  // the last wave's tiles shared out by K tiles (tile_order.h)
  // Block scales, cooperative: the consumer warpgroups issue each K block's MMAs in turn, so that one
  // promotes its partial sums while the other's MMAs keep the tensor cores busy.
  bool scale_turns = true;
  // Block scales: a K block's scales are loaded one K block ahead (into registers the loop carries),
  // so their latency from L2 hides behind a whole K block's MMAs instead of one wait.
  bool scale_ahead = true;
  // A loaded as two 64-row boxes, the one whose rows all lie past M skipped (decode: M <= 64).
  bool a_halves = false;
  // Grouped (MoE experts): B holds one n x k matrix per group, and each 128-row tile row of A takes
  // the group a `tile_groups` entry names (gemm_sm90.cpp).
  bool groups = false;
  std::uint32_t prefetch = 0;  // K tiles ahead that the producer asks L2 for (TmaOperands::prefetch_ahead)
  bool copy = false;
  std::uint32_t copy_chunk = 16384, copy_stages = 2, copy_lag = 0;
  bool copy_evict_first = false;  // the copy's loads and stores marked L2 evict_first
  // Split-K and stream-K sum partial tiles through an fp32 workspace and per-tile counters.
  bool uses_workspace() const { return splits > 1 || stream_k; }
  // The registry name: gemm_e4m3_sm90 or gemm_bf16_sm90.
  const char* kernel_name() const { return fp8 ? "gemm_e4m3_sm90" : "gemm_bf16_sm90"; }
};

// What a configuration gives: bk = 128 bytes of K per stage row, one 128-byte swizzle span (64 bf16
// or 128 e4m3).
struct Plan {
  isa::Type elem = isa::Type::bf16;
  std::uint32_t bk = 64, k_step = 16;  // K per stage and per wgmma
  std::uint32_t m_blocks = 1;          // 64-row blocks (wgmma m64 accumulators) per consumer warpgroup
  std::uint32_t out_bytes = 2;
  SharedLayout a_layout, b_layout, b_panel, a_box, b_box, d_box;  // a_box / b_box: what the A / B map loads; d_box: D's
  std::uint32_t a_bytes = 0, b_bytes = 0, stage_bytes = 0;
  std::uint32_t staging_bytes = 0, extra_bytes = 0;  // TMA-store staging; it and the copy ring
  std::uint32_t store_buffers = 0;  // staging boxes per consumer warpgroup: store_buffers, at most its boxes
  std::uint32_t stages = 0;
};

// Checks the configuration (each problem a diagnostic) and plans it; the caller stops when k has
// diagnostics.
inline Plan plan(KernelBuilder& k, const Config& g) {
  Plan p;
  p.elem = g.fp8 ? isa::Type::e4m3 : isa::Type::bf16;
  p.bk = g.fp8 ? 128 : 64;
  p.k_step = g.fp8 ? 32 : 16;  // K of one wgmma: 32 bytes either way
  p.m_blocks = g.pingpong ? 2 : 1;
  const auto bn = g.bn;
  const bool pp = g.pingpong;
  const std::uint32_t m_blocks = p.m_blocks, bk = p.bk;
  const auto elem = p.elem;
  if (bn % 16) k.error("gemm: bn must be a multiple of 16");
  // Accumulator registers per consumer thread: m_blocks x bn / 2, twice that with block scales' partial
  // sums; 128 (cooperative bn = 256) leaves the rest of the 232-register budget to addressing.
  if (const std::uint32_t regs = m_blocks * bn / 2 * (g.block_scales ? 2 : 1); regs > 128)
    k.error("gemm: " + std::to_string(regs) + " accumulator registers per thread (" +
                (pp ? "ping-pong: a warpgroup holds a whole 128 x " : "a warpgroup holds 64 x ") + std::to_string(bn) +
                (g.block_scales ? ", twice with block scales" : "") + "); at most 128 fit the consumers' 232-register budget",
            pp ? (g.block_scales ? "bn = 64 with block scales" : "bn <= 128") : "a smaller bn");
  if (g.block_scales && kScaleBlock % bn)
    k.error("gemm: block_scales needs bn dividing 128, so that a tile's columns share one B scale block",
            "bn = 16, 32, 64 or 128");
  const std::uint32_t out_bytes = p.out_bytes = g.out_f32 ? 4 : 2;
  if (g.tma_store && bn % (128 / out_bytes))
    k.error("gemm: the TMA-store epilogue stores boxes of 128 bytes of D (" + std::to_string(128 / out_bytes) +
                " columns), so bn must be a multiple of " + std::to_string(128 / out_bytes),
            "another bn, or tma_store=0 (stores from registers)");
  if (g.nn && bn % (64 * g.cluster_m))
    k.error("gemm: NN loads B in panels of 64 columns (128 bytes)" +
                std::string(g.cluster_m > 1 ? ", split between the CTAs of the cluster," : "") +
                " so bn must be a multiple of " + std::to_string(64 * g.cluster_m),
            "bn = " + std::to_string(64 * g.cluster_m) + ", " + std::to_string(128 * g.cluster_m) + ", ...");
  if (g.stream_k && (g.pingpong || g.cluster_m > 1 || g.splits > 1))
    k.error("gemm: stream_k shares the last wave's K tiles between single CTAs whose two consumer warpgroups "
                "hold one tile together: it takes neither ping-pong, clusters nor split-K",
            "stream_k=1 with pingpong=0, cluster_m=1, splits=1");
  if (g.groups && (g.stream_k || g.cluster_m > 1 || g.nn))
    k.error(std::string("gemm: groups gives each 128-row tile row its own B, so ") +
                (g.stream_k ? "stream_k (whose pieces cross tile rows)"
                            : g.cluster_m > 1 ? "clusters (a CTA pair's tile rows share one B tile)"
                                              : "NN (a group's K tail would read the next group's rows of B)") +
                " cannot be used with it",
            "groups=1 with stream_k=0, cluster_m=1 and nn=0 (split-K and ping-pong work)");
  if (g.cluster_m > 1 && bn % (16 * g.cluster_m))
    k.error("gemm: with cluster_m = " + std::to_string(g.cluster_m) + " each CTA multicasts bn / " +
                std::to_string(g.cluster_m) + " rows of B, which must be a multiple of 8 (the swizzle's 1024-byte atom)",
            "bn a multiple of " + std::to_string(16 * g.cluster_m));

  // Shared memory: per stage an A tile (128 x bk) and a B tile (bn x bk), 128B-swizzled. NN: the B
  // tile is bn / 64 panels of bk K rows x 64 columns (MN-major), one box each.
  p.a_layout = {.rows = kBM, .cols = bk, .elem = elem, .swizzle = Swizzle::b128};
  p.b_layout = {.rows = bn, .cols = bk, .elem = elem, .swizzle = Swizzle::b128};
  p.b_panel = {.rows = bk, .cols = kPanelCols, .elem = elem, .swizzle = Swizzle::b128};
  p.a_box = g.a_halves ? SharedLayout{.rows = kBM / 2, .cols = bk, .elem = elem, .swizzle = Swizzle::b128} : p.a_layout;
  p.b_box = g.nn ? p.b_panel : SharedLayout{.rows = bn / g.cluster_m, .cols = bk, .elem = elem, .swizzle = Swizzle::b128};
  p.d_box = {.rows = 64, .cols = 128 / out_bytes, .elem = g.out_f32 ? isa::Type::f32 : isa::Type::bf16,
             .swizzle = Swizzle::b128};
  p.a_bytes = p.a_layout.bytes();
  p.b_bytes = p.b_layout.bytes();
  p.stage_bytes = (p.a_bytes + p.b_bytes + 1023) / 1024 * 1024;
  // After the GEMM's stages: the TMA-store staging (store_buffers 8 KB boxes per consumer warpgroup),
  // then the copy role's ring.
  // A warpgroup never has more boxes in flight than a tile gives it (bn = 64 bf16: one), so buffers past
  // that would only take stages' room.
  const std::uint32_t boxes = m_blocks * bn / (128 / p.out_bytes);
  p.store_buffers = std::max(1u, std::min(g.store_buffers, boxes));
  const std::uint32_t staging_bytes = p.staging_bytes = g.tma_store ? kConsumers * p.store_buffers * kStoreBoxBytes : 0;
  const std::uint32_t ring_bytes = g.copy ? g.copy_stages * g.copy_chunk : 0;
  const std::uint32_t extra_bytes = p.extra_bytes = staging_bytes + ring_bytes;
  const std::uint32_t stage_bytes = p.stage_bytes;
  // The 1024-aligned window's room beside the static barriers (under 1 KB).
  const std::uint32_t budget = dynamic_shared_room(k.target(), 1024, 1024);
  auto& stages = p.stages;
  stages = g.stages;
  if (stages == 0) stages = std::min(8u, (budget - std::min(extra_bytes, budget)) / stage_bytes);
  if (stages < 2 || stages * stage_bytes + extra_bytes > budget)
    k.error("gemm: " + std::to_string(stages) + " stages of " + std::to_string(stage_bytes) + " bytes" +
                (staging_bytes ? ", the store staging of " + std::to_string(staging_bytes) + " bytes" : std::string()) +
                (ring_bytes ? ", a copy ring of " + std::to_string(ring_bytes) + " bytes" : std::string()) +
                " need " + std::to_string(stages * stage_bytes + extra_bytes) + " bytes of shared memory; a CTA has " +
                std::to_string(budget) + " (and at least 2 stages are needed)",
            "fewer stages or a smaller bn (stages=0 picks the most that fit)");
  return p;
}

inline std::vector<KernelParam> params(bool fp8) {
  std::vector<KernelParam> p = {
      {"bn", 128, fp8 ? "tile N (multiple of 16, at most 256; with block_scales 16, 32, 64 or 128)"
                      : "tile N (multiple of 16, at most 256)", 16, 256},
      {"stages", 0, "pipeline stages (0: as many as fit in shared memory, at most 8)", 0, 8},
      {"group_m", 8, "tile rows visited together (L2 reuse)", 1, 64},
      {"cluster_m", 1, "CTAs per cluster along M (2: the pair shares B through TMA multicast)", 1, 2},
      {"splits", 1, "split-K: K parts per tile, reduced through an fp32 workspace (1: off)", 1, 16},
      {"stream_k", 0, "1: the tiles of the last, partial wave are shared out by K tiles, so every CTA does the "
                      "same work; cut tiles are summed through an fp32 workspace (2 tiles per CTA)", 0, 1},
      {"out_f32", 0, "1: C and D are f32 (else bf16)", 0, 1},
      {"tma_store", 1, "1: the epilogue stages D in shared memory and stores it with TMA (D is a tensor map); "
                       "0: stores from registers (D is a pointer)", 0, 1},
      {"bias", 0, "1: add a bf16 bias per column (a `bias` parameter)", 0, 1},
      {"pingpong", 0, "1: each consumer warpgroup computes whole 128 x bn tiles, alternating with the other "
                      "(one's epilogue overlaps the other's MMAs); 0: both share each tile", 0, 1},
      {"copy", 0, "1: a producer-side warp also copies copy_src to copy_dst with bulk copies", 0, 1},
      {"copy_chunk", 16384, "copy role: bytes per chunk (a multiple of 16)", 1024, 65536},
      {"copy_stages", 2, "copy role: chunks in flight per CTA", 1, 8},
      {"copy_lag", 0, "copy role: stores still reading when a stage is refilled (less than copy_stages)", 0, 7},
      {"copy_evict_first", 0, "copy role: 1 marks its loads and stores L2 evict_first, so the copied bytes do "
                              "not evict the GEMM's A and B from L2", 0, 1},
      {"prefetch", 0, "K tiles ahead of its loads that the producer asks L2 for (cp.async.bulk.prefetch.tensor): "
                      "more bytes on their way than the stages hold, for shapes that stream B from memory "
                      "(decode); 0: none", 0, 32},
      {"store_buffers", 2, "TMA-store epilogue: 8 KB staging boxes per consumer warpgroup (4 stage a whole "
                           "64 x 256 bf16 block, so no box waits for another's store; 1 frees 16 KB of "
                           "shared memory, 2 overlaps a box's store with the next box's writes)", 1, 4},
      {"a_halves", 0, "1: A is loaded as two 64-row boxes (the A map's box is 64 rows), and a box whose rows all "
                      "lie past M is not loaded (its bytes are counted as arrived): at M <= 64 (decode) TMA "
                      "neither fetches nor zero-fills half of every A tile; 0: one 128-row box", 0, 1},
      {"groups", 0, "1: grouped GEMM (MoE experts): B holds `groups` matrices of n x k, one after the other, and "
                    "tile row t (A's rows 128 t .. 128 t + 127) multiplies the one tile_groups[t] names; an entry "
                    "not below `groups` (-1) marks padding rows, which are neither computed nor stored. With bias "
                    "and block scales, a group's bias and B scales follow the previous group's", 0, 1}};
  if (!fp8)  // fp8 wgmma has no transpose: B must be K-major
    p.push_back({"nn", 0, "B layout: 0 = N x K row-major (TN), 1 = K x N row-major (NN: MN-major tiles, "
                          "wgmma imm-trans-b)", 0, 1});
  if (fp8) {
    p.push_back({"block_scales", 0, "1: DeepSeek-V3 block scales (fp32 a_scales per row and 128-wide K block, "
                                    "b_scales per 128 x 128 block)", 0, 1});
    p.push_back({"scale_turns", 1, "block scales without ping-pong: 1 has the consumer warpgroups issue each K "
                                   "block's MMAs in turn (one promotes while the other's MMAs run); 0: both at once",
                 0, 1});
    p.push_back({"scale_ahead", 1, "block scales: 1 loads a K block's scales one K block ahead (their L2 latency "
                                   "hidden behind a K block's MMAs); 0: at the K block itself", 0, 1});
  }
  return p;
}

inline Config from_params(bool fp8, const KernelParams& params) {
  Config g;
  g.fp8 = fp8;
  auto u = [&](const char* p) { return static_cast<std::uint32_t>(params[p]); };
  g.bn = u("bn");
  g.stages = u("stages");
  g.group_m = u("group_m");
  g.cluster_m = u("cluster_m");
  g.splits = u("splits");
  g.stream_k = u("stream_k") != 0;
  g.out_f32 = u("out_f32") != 0;
  g.tma_store = u("tma_store") != 0;
  g.pingpong = u("pingpong") != 0;
  g.bias = u("bias") != 0;
  g.copy = u("copy") != 0;
  g.copy_chunk = u("copy_chunk");
  g.copy_stages = u("copy_stages");
  g.copy_lag = u("copy_lag");
  g.copy_evict_first = u("copy_evict_first") != 0;
  g.store_buffers = u("store_buffers");
  g.prefetch = u("prefetch");
  g.a_halves = u("a_halves") != 0;
  g.groups = u("groups") != 0;
  g.block_scales = fp8 && u("block_scales") != 0;
  g.scale_turns = fp8 && u("scale_turns") != 0;
  g.scale_ahead = fp8 && u("scale_ahead") != 0;
  g.nn = !fp8 && u("nn") != 0;
  return g;
}


}  // namespace weft::samples::sm90
