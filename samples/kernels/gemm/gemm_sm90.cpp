// The Hopper GEMM (sm_90a), one source for two kernels:
//   gemm_bf16_sm90: D = alpha * A * B^T + beta * C (+ bias), bf16 A and B;
//   gemm_e4m3_sm90: the same with e4m3 A and B (per-tensor scales folded into alpha), or with
//                   DeepSeek-V3's block scales (block_scales=1).
// A is M x K row-major, B is N x K row-major ("TN": both K-major; bf16 also takes B K x N row-major,
// "NN", with nn=1: B's tiles are then MN-major and wgmma transposes them), C and D are M x N row-major, bf16
// or (out_f32=1) f32; fp32 accumulation; any M, N, K (TMA zero-fills out-of-bounds reads; the
// epilogue's TMA stores clip to M x N, or with tma_store=0 its register stores check bounds).
//
// Warp-specialised and persistent: a producer warpgroup (40 registers) streams A and B tiles with TMA
// into a multi-stage mbarrier pipeline in dynamic shared memory (128-byte swizzle); two consumer
// warpgroups (232 registers) each own 64 rows of the 128 x bn tile and run wgmma over the stages,
// keeping one wgmma group in flight (k-tile kt is issued before kt-1's stage is released). Work units
// (tiles, times `splits` K parts with split-K) are visited in grouped order (tile_order.h). The
// epilogue (gemm_sm90_common.h) stages D through shared memory, 64 rows x 128 bytes at a time, and
// stores it with TMA (tma_store=1, D a tensor map), or stores from registers (tma_store=0).
//   - cluster_m=2: CTA pairs own vertically adjacent tiles of one tile column and share B: each loads
//     half of the B tile and multicasts it into both CTAs' stages (TMA .multicast::cluster), so B is
//     read from L2 once per pair; releases go to both CTAs' empty barriers (Pipeline::cluster_ctas).
//   - splits>1: split-K through an fp32 workspace, reduced in order by the last part to arrive
//     (gemm_sm90_common.h), for shapes with fewer tiles than SMs (decode: M = 64..256).
//   - groups=1: a grouped GEMM (MoE experts, as DeepGEMM's contiguous layout): B is `groups` N x K
//     matrices one after the other (a tensor map of groups * N rows), and tile row t of A multiplies
//     the one tile_groups[t] names, so each group's rows of A must start on a 128-row boundary; an
//     entry not below `groups` (-1) marks padding rows, which cost no loads, MMAs or stores.
//   - copy=1: the producer warpgroup's second warp becomes a communication role: its lane 0 moves
//     `copy_chunks` chunks of copy_src to copy_dst with bulk async copies through a ring of its own
//     (dsl/comm/bulk_copy.h), chunk c on CTA c mod grid; the destination may be a peer's buffer. The
//     copy takes no SM from the GEMM: one idle warp, some shared memory, and memory bandwidth.
//
// Block scales (e4m3, block_scales=1), fp32 parameters a_scales and b_scales, KB = ceil(K/128):
//   a_scales: KB x M row-major (K-block major): A row m, K block kb is scaled by a_scales[kb * M + m];
//   b_scales: ceil(N/128) x KB row-major: B rows 128 nb .. 128 nb + 127, K block kb by b_scales[nb * KB + kb];
//   D = alpha * sum_kb (a_scale(m, kb) * b_scale(n / 128, kb)) * (A_kb * B_kb^T) + beta * C. Each
//   128-wide K block is accumulated by wgmma into a temporary accumulator, then promoted in fp32:
//   acc += partial * (a_scale * b_scale) (two A scales per thread: its two rows). A tile's columns lie
//   in one B scale block, so bn must divide 128. With scale_turns=1 (the default; cooperative only)
//   the two consumer warpgroups issue each K block's MMAs in turn, so that one's promotion runs
//   under the other's MMAs.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dsl/async.h"
#include "dsl/comm/bulk_copy.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/gemm_sm90_common.h"
#include "samples/kernels/gemm/gemm_sm90_config.h"
#include "samples/kernels/gemm/tma_producer.h"

namespace weft::samples {

namespace {

ir::Module build_sm90_gemm(const isa::Target& target, const sm90::Config& g) {
  using namespace sm90;
  KernelBuilder k{g.kernel_name(), target};
  const auto p = plan(k, g);
  if (!k.diagnostics().empty()) return k.build();  // throws with the problems above
  const auto bn = g.bn;
  const bool pp = g.pingpong;
  const auto& [elem, bk, k_step, m_blocks, out_bytes, a_layout, b_layout, b_panel, a_box, b_box, d_box, a_bytes, b_bytes,
               stage_bytes, staging_bytes, extra_bytes, store_buffers, stages] = p;  // the plan's names, as used below

  if (g.cluster_m > 1) k.cluster_dims(g.cluster_m);
  const auto declared = tma_gemm_params(k, a_box, b_box, {.f32 = g.out_f32, .d_box = g.tma_store ? &d_box : nullptr});
  const auto& [m, n, kdim, alpha, beta, a_map, b_map, c, d, d_map] = declared;
  Ptr<u16, Global> bias;
  if (g.bias) bias = k.param_ptr<u16>("bias");
  Ptr<f32, Global> a_scales, b_scales;
  if (g.block_scales) {
    a_scales = k.param_ptr<f32>("a_scales");  // KB x M
    b_scales = k.param_ptr<f32>("b_scales");  // ceil(N / 128) x KB
  }
  // Grouped: a group index per 128-row tile row of A (s32), and the number of groups B holds.
  Ptr<s32, Global> tile_groups;
  Reg<u32> groups;
  if (g.groups) {
    tile_groups = k.param_ptr<s32>("tile_groups");
    groups = k.param<u32>("groups");
  }
  sm90::SplitK split_k{.splits = g.splits};
  if (g.uses_workspace()) {
    // Split-K: tiles x splits x 128 x bn; stream-K: 2 x grid x 128 x bn (two slots per CTA).
    split_k.workspace = k.param_ptr<f32>("workspace");
    split_k.counters = k.param_ptr<u32>("counters");    // tiles, zero before the first launch
    split_k.last = k.shared<u32>("split_k_last", pp ? kConsumers : 1);
  }
  Ptr<u8, Global> copy_src, copy_dst;
  Reg<u32> copy_chunks;
  if (g.copy) {
    copy_src = k.param_ptr<u8>("copy_src");
    copy_dst = k.param_ptr<u8>("copy_dst");
    copy_chunks = k.param<u32>("copy_chunks");
  }
  auto smem = k.dynamic_shared<u8>("smem", 1024, stages * stage_bytes + extra_bytes);

  // Every consumer warp that reads a stage releases it once (lane 0, after its wgmma wait), in every
  // CTA of the cluster: both warpgroups' 8 warps, or in ping-pong the 4 of the warpgroup whose tile it is.
  Pipeline pipe(k, "ab", {.stages = stages, .consumer_arrivals = (pp ? 1 : kConsumers) * 4, .tx_bytes = a_bytes + b_bytes,
                          .producer_role = "producer", .consumer_role = "consumer", .cluster_ctas = g.cluster_m});

  auto work = work_units(k, m, n, kdim, kBM, bn, bk, g.group_m, g.splits, g.cluster_m, g.stream_k);
  if (g.groups) {
    work.grouped = true;
    work.tile_groups = tile_groups;
    work.groups = groups;
  }
  auto stage_a = [&](Reg<u32> stage) { return smem.base() + stage * stage_bytes; };
  auto stage_b = [&](Reg<u32> stage) { return smem.base() + (stage * stage_bytes + a_bytes); };
  const sm90::Epilogue epilogue{m, n, alpha, beta, c, d, bias, g.out_f32, g.bias, kBM, bn};

  warp_roles(k, {
      {.name = "producer", .warpgroups = 1, .registers = 40, .body = [&](const RoleContext& r) {
         k.if_(r.thread < 32u, [&] {
           tma_producer_loop(k, pipe, work,
                             {a_map, b_map, kBM, bn, bk, stage_a, stage_b, g.nn ? kPanelCols : 0, g.prefetch,
                              g.a_halves ? kBM / 2 : 0, m, n});
         });
         if (g.copy)
           k.if_(r.thread == 32u, [&] {
             comm::bulk_copy_chunks(k, {.name = "copy", .base = smem.base() + (stages * stage_bytes + staging_bytes),
                                        .stages = g.copy_stages, .chunk = g.copy_chunk,
                                        .store_lag = g.copy_lag, .l2_evict_first = g.copy_evict_first},
                                    copy_src, copy_dst, copy_chunks, k.ctaid_x(), k.nctaid_x());
           });
       }},
      {.name = "consumer", .warpgroups = kConsumers, .registers = 232, .body = [&](const RoleContext& r) {
         auto st = pipe.state();
         auto warp = (r.thread >> 5u) & 3u;  // warp within this consumer warpgroup
         auto lane = r.thread & 31u;
         if (g.tma_store)  // D's map, ahead of the first tile's stores
           k.if_(r.thread == 0u, [&] { prefetch_tensor_map(k, d_map); });
         // The 64-row blocks of a unit's tile this warpgroup computes, one wgmma m64 accumulator each:
         // cooperative, its own half of the tile; ping-pong, the whole tile.
         std::vector<Reg<u32>> blocks;
         for (std::uint32_t b = 0; b < m_blocks; ++b) blocks.push_back(pp ? k.let<u32>(b) : r.warpgroup);
         auto release = [&](Pipeline::State& s) { k.if_(lane == 0u, [&] { pipe.consumer_release(s); }); };
         // One stage: bk / k_step k-steps (the descriptors advance 32 bytes along K inside the swizzled
         // rows), one wgmma per row block; `overwrite`: the first k-step replaces dst instead of adding
         // to it (scale-d false).
         auto mma = [&](std::vector<std::vector<Reg<f32>>>& dst, Reg<u32> stage, bool overwrite) {
           std::vector<SharedTile> a_tiles;
           for (const auto& blk : blocks)
             a_tiles.push_back(shared_tile_at(k, stage_a(stage) + blk * (64u * a_layout.row_bytes()), a_layout));
           auto b_tile = shared_tile_at(k, stage_b(stage), g.nn ? b_panel : b_layout);
           wgmma_fence(k);
           for (std::uint32_t kk = 0; kk < bk / k_step; ++kk) {
             // K-major: k-step kk is 32 bytes along the swizzled rows; NN: 16 K rows further down
             // the panels, whose 64-column spans are a panel apart.
             auto bd = g.nn ? b_tile.wgmma_descriptor_mn(kk * k_step * b_panel.row_bytes(), b_panel.bytes())
                            : b_tile.wgmma_descriptor(kk * 32);
             auto accumulate = k.let_pred(!(overwrite && kk == 0));
             for (std::uint32_t mb = 0; mb < m_blocks; ++mb) {
               auto ad = a_tiles[mb].wgmma_descriptor(kk * 32);
               if (g.fp8) wgmma_fp8(k, dst[mb], bn, ad, bd, accumulate);
               else wgmma_bf16(k, dst[mb], bn, ad, bd, accumulate, /*transpose_b=*/g.nn);
             }
           }
           wgmma_commit(k);
         };
         auto accumulators = [&] {
           std::vector<std::vector<Reg<f32>>> acc;
           for (std::uint32_t mb = 0; mb < m_blocks; ++mb) acc.push_back(wgmma_accumulator(k, bn));
           return acc;
         };
         // Per-tensor: the stage to release lags one k-tile behind `st` (one wgmma group in flight).
         // Block scales: the temporary accumulators of one K block.
         Pipeline::State rel;
         std::vector<std::vector<Reg<f32>>> part;
         if (g.block_scales) part = accumulators();
         else rel = pipe.state();
         // Split-K: the threads that hold a tile (the role, or this warpgroup in ping-pong).
         sm90::TileGroup group{
             pp ? r.thread & 127u : r.thread, pp ? kWarpgroupThreads : r.threads,
             [&] { pp ? r.sync_warpgroup() : r.sync(); },
             g.uses_workspace() ? (pp ? split_k.last + r.warpgroup : split_k.last) : Ptr<u32, Shared>{}};
         // Block scales, cooperative (scale_turns): the warpgroups issue each K block's MMAs in turn,
         // warpgroup 0 first (named barrier turn[w]: the other arrives once its MMAs are issued, w syncs,
         // 256 threads). Without turns both issue at once on the same full barrier, both wait for their
         // MMAs, and both promote at once while the tensor cores idle; in turn, one warpgroup's
         // promotion runs under the other's MMAs. Both walk the same K blocks, so each arrive has its
         // sync; warpgroup 0 takes the last one after its loop.
         struct Turns {
           Reg<u32> mine, other, issued;  // issued: this warpgroup has issued a K block's MMAs
         };
         std::optional<Turns> turns;
         if (g.block_scales && g.scale_turns && !pp) {
           if (r.free_barrier + kConsumers - 1 > last_named_barrier())
             k.error("gemm: no named barrier left for the block-scale turns");
           turns = Turns{r.warpgroup + r.free_barrier, (r.warpgroup ^ 1u) + r.free_barrier, k.let<u32>(0u)};
         }
         // Runs `issue` (a K block's MMAs, or nothing for an idle warpgroup) in this warpgroup's turn:
         // warpgroup 0's very first K block goes first; every other waits for the other's MMAs.
         auto in_turn = [&](const std::function<void()>& issue) {
           if (!turns) return issue();
           k.if_(r.warpgroup == 1u || turns->issued != 0u, [&] { k.bar_sync(turns->mine, 2 * kWarpgroupThreads); });
           issue();
           k.bar_arrive(turns->other, 2 * kWarpgroupThreads);
           k.assign(turns->issued, 1u);
         };
         // `after_mainloop`: what runs once this warpgroup has waited for every stage of the unit (ping-pong:
         // hand the turn to the other warpgroup).
         std::function<void()> after_mainloop = [] {};
         // Cooperative: a warpgroup whose 64 rows of the unit's tile all lie past M (the second one of
         // a decode shape's M = 64 tile, or of the last tile row) issues no MMAs. It still waits for
         // every stage and releases it: the stage's empty barrier counts both warpgroups' warps, and
         // the full-barrier wait keeps this warpgroup's arrivals within the phase the producer waits
         // on. The tensor cores, which two warpgroups share, then run only the other's MMAs: a decode
         // shape's tile costs half its MMA time.
         //   Only lane 0 waits and releases for its warp. In a loop without wgmma's warp-wide .aligned
         // instructions nothing keeps a lane that only waits in step with lane 0, and a lane two
         // phases behind a parity barrier waits on the phase in progress, forever: the emulator found
         // that schedule when every lane waited. The bar.warp.sync after each stage keeps the other
         // lanes from running ahead of lane 0 into the next unit (defensive: the MMA loop's
         // .aligned instructions would hold them there too).
         auto idle_k_tile = [&](Reg<u32> /*kt*/) {
           k.if_(lane == 0u, [&] { pipe.consumer_wait(st); });
           in_turn([] {});  // the turn still passes, so the other warpgroup's syncs are matched
           release(st);  // lane 0
           k.bar_warp_sync();
           pipe.advance(st);
           if (!g.block_scales) pipe.advance(rel);  // `rel` meets `st` at the end of a unit, as in the MMA loop
         };
         auto unit_body = [&](const WorkUnits::Unit& u) {
           // Whether this warpgroup's rows may all lie past M: cooperative only (a ping-pong warpgroup
           // holds the whole tile, so some of its rows always lie inside M).
           const bool may_idle = !pp;
           auto rows_live = u.tm * kBM + r.warpgroup * 64u < m;
           auto acc = accumulators();  // zero: every wgmma accumulates (also for an empty K part)
           // Block scales: per row block this thread's two accumulator rows (clamped into A: rows past
           // M are computed but not stored), and the tile's B scale row.
           std::vector<std::pair<Ptr<f32, Global>, Ptr<f32, Global>>> sa;
           Ptr<f32, Global> sb;
           if (g.block_scales) {
             auto last = m - 1u;
             for (const auto& blk : blocks) {
               auto row0 = u.tm * kBM + blk * 64u + warp * 16u + (lane >> 2u);
               sa.emplace_back(a_scales + min(row0, last), a_scales + min(row0 + 8u, last));
             }
             // Grouped: each group's ceil(N / 128) rows of B scales follow the previous group's.
             auto scale_row = u.tn * bn / kScaleBlock;
             if (g.groups) scale_row = u.group * ((n + (kScaleBlock - 1)) / kScaleBlock) + scale_row;
             sb = b_scales + scale_row * work.k_tiles;
           }
           // A K block's scales: per row block this thread's two A scales, and the tile's B scale.
           struct Scales {
             std::vector<std::pair<Reg<f32>, Reg<f32>>> a;
             Reg<f32> b;
           };
           auto new_scales = [&] {
             Scales s;
             for (std::size_t i = 0; i < sa.size(); ++i) s.a.emplace_back(k.reg<f32>(), k.reg<f32>());
             s.b = k.reg<f32>();
             return s;
           };
           // Loads K block kt's scales into `s` (ld_to: nothing waits for the loads until they are used).
           auto load_scales = [&](Scales& s, Reg<u32> kt) {
             auto off = kt * m;
             for (std::size_t i = 0; i < sa.size(); ++i) {
               k.ld_to(s.a[i].first, sa[i].first + off, {q::nc});
               k.ld_to(s.a[i].second, sa[i].second + off, {q::nc});
             }
             k.ld_to(s.b, sb + kt, {q::nc});
           };
           // scale_ahead: the next K block's scales, loaded while this one's MMAs run.
           Scales ahead;
           if (g.block_scales && g.scale_ahead) ahead = new_scales();
           auto mma_k_tile = [&](Reg<u32> kt) {
             if (g.block_scales) {
               // This K block's scales: loaded one K block ago (scale_ahead; then the next one's are
               // issued), or now, overlapping the wait below.
               Scales now;
               if (g.scale_ahead) {
                 for (const auto& [s0, s1] : ahead.a) now.a.emplace_back(k.let<f32>(s0), k.let<f32>(s1));
                 now.b = k.let<f32>(ahead.b);
                 load_scales(ahead, min(kt + 1u, u.kt_end - 1u));  // the last K block reloads itself: in bounds, unused
               } else {
                 now = new_scales();
                 load_scales(now, kt);
               }
               const auto& a_scale = now.a;
               auto b0 = now.b;
               pipe.consumer_wait(st);
               in_turn([&] { mma(part, st.stage, true); });
               wgmma_wait(k, 0);
               release(st);
               // Promotion in fp32: acc += partial * (a_scale(row) * b_scale); rows alternate every 2 registers.
               for (std::uint32_t mb = 0; mb < m_blocks; ++mb) {
                 auto s0 = a_scale[mb].first * b0;
                 auto s1 = a_scale[mb].second * b0;
                 for (std::uint32_t j = 0; j < bn / 2; ++j)
                   k.assign(acc[mb][j], fma(part[mb][j], (j / 2) % 2 ? s1 : s0, acc[mb][j]));
               }
             } else {
               pipe.consumer_wait(st);
               mma(acc, st.stage, false);
               wgmma_wait(k, 1);  // k-tile kt-1's group is done: its stage can be refilled
               k.if_(kt != u.kt_begin, [&] {
                 release(rel);
                 pipe.advance(rel);
               });
             }
             pipe.advance(st);
           };
           auto mainloop = [&] {
             if (g.block_scales && g.scale_ahead)  // the first K block's scales
               k.if_(u.kt_end != u.kt_begin, [&] { load_scales(ahead, u.kt_begin); });
             k.for_(u.kt_begin, u.kt_end, 1u, mma_k_tile);
             if (!g.block_scales) {
               wgmma_wait(k, 0);
               k.if_(u.kt_end != u.kt_begin, [&] {
                 release(rel);
                 pipe.advance(rel);
               });
             }
           };
           if (may_idle) k.if_(rows_live, mainloop).else_([&] { k.for_(u.kt_begin, u.kt_end, 1u, idle_k_tile); });
           else mainloop();
           after_mainloop();
           // Grouped: the unit's group's bias (each group's n columns follow the previous group's).
           auto unit_epilogue = epilogue;
           if (g.groups && g.bias) unit_epilogue.bias = bias + u.group * n;
           auto store_rows = [&] {
             if (g.tma_store) {
               std::vector<sm90::RowBlock> rows;
               for (std::uint32_t mb = 0; mb < m_blocks; ++mb) rows.push_back({&acc[mb], blocks[mb]});
               sm90::store_tile_tma(k, unit_epilogue, {&d_map, smem.base() + stages * stage_bytes, store_buffers}, rows, u.tm, u.tn, r, warp,
                                    lane);
             } else {
               for (std::uint32_t mb = 0; mb < m_blocks; ++mb)
                 sm90::store_tile(k, unit_epilogue, acc[mb], u.tm, u.tn, blocks[mb], warp, lane);
             }
           };
           auto store = [&] {  // an idle warpgroup has nothing inside M to store
             if (may_idle) k.if_(rows_live, store_rows);
             else store_rows();
           };
           std::vector<Reg<f32>> all;  // the tile's registers of this group, block after block
           for (const auto& a : acc) all.insert(all.end(), a.begin(), a.end());
           std::vector<Pred> live;  // per block: some of its rows lie inside M
           for (const auto& blk : blocks) live.push_back(u.tm * kBM + blk * 64u < m);
           auto finish = [&] {
             if (g.splits > 1) {
               const auto parts = sm90::split_k_parts(split_k, u);
               k.if_(u.tm < work.tiles_m, [&] { sm90::split_k_epilogue(k, split_k, parts, group, all, live, u, kBM, bn, store); });
             } else if (g.stream_k) {  // a whole tile stores; a cut one sums its pieces first
               const auto parts = sm90::stream_k_parts(work, u);
               k.if_(u.parts == 1u, store).else_([&] { sm90::split_k_epilogue(k, split_k, parts, group, all, live, u, kBM, bn, store); });
             } else {
               store();
             }
           };
           // Grouped: padding rows are not stored, and a split tile of padding neither writes partials
           // nor counts (every part reads the same tile_groups entry, so none waits for the others).
           if (g.groups) k.if_(u.live, finish);
           else finish();
         };
         if (!pp) {
           work.for_each(k, unit_body);
           if (turns)  // warpgroup 1's last arrive
             k.if_(r.warpgroup == 0u && turns->issued != 0u, [&] { k.bar_sync(turns->mine, 2 * kWarpgroupThreads); });
         } else {
           // Ping-pong: this CTA's units alternate between the warpgroups (unit j is warpgroup j % 2's);
           // a warpgroup steps its pipeline states over the other's K tiles. The main loops take turns:
           // warpgroup w starts unit j only after the other has waited for every stage of unit j - 1
           // (named barrier turn[w]: the other arrives, w syncs, 256 threads). Besides overlapping one's
           // epilogue with the other's MMAs, this keeps each full-barrier wait at most one phase ahead
           // of the barrier: a parity wait two phases ahead would pass on the stale parity.
           if (r.free_barrier + kConsumers - 1 > last_named_barrier())
             k.error("gemm: no named barrier left for the ping-pong turns");
           auto turn_mine = r.warpgroup + r.free_barrier, turn_other = (r.warpgroup ^ 1u) + r.free_barrier;
           auto j = k.let<u32>(0u);
           auto units_here = select(work.first < work.units, (work.units - work.first + (work.stride - 1u)) / work.stride,
                                    k.let<u32>(0u));
           after_mainloop = [&] {
             k.if_(j + 1u < units_here, [&] { k.bar_arrive(turn_other, 2 * kWarpgroupThreads); });
           };
           work.for_each(k, [&](const WorkUnits::Unit& u) {
             k.if_((j & 1u) == r.warpgroup, [&] {
               k.if_(j != 0u, [&] { k.bar_sync(turn_mine, 2 * kWarpgroupThreads); });
               unit_body(u);
             }).else_([&] {
               auto n = u.kt_end - u.kt_begin;
               pipe.advance_by(st, n);
               if (!g.block_scales) pipe.advance_by(rel, n);
             });
             k.assign(j, j + 1u);
           });
         }
         // The last TMA stores must have read their staging buffers before the CTA exits.
         if (g.tma_store) k.if_((r.thread & 127u) == 0u, [&] { bulk_wait(k, 0); });
       }},
  });
  // The other CTA of the cluster multicasts into this one's shared memory and arrives on its
  // barriers until its last stage: neither may exit before both are done.
  if (g.cluster_m > 1) cluster_sync(k);
  return k.build();
}

}  // namespace

WEFT_KERNEL_FOR(gemm_bf16_sm90, isa::TargetSet::only({"sm_90a"}),
                "D = alpha*A*B + beta*C (+bias), bf16 in (TN or NN), bf16 or f32 out, fp32 accumulate: TMA + wgmma, "
                "warp-specialised (cooperative or ping-pong), persistent, optional 2-CTA cluster multicast and split-K",
                sm90::params(false)) {
  return build_sm90_gemm(target, sm90::from_params(false, params));
}

WEFT_KERNEL_FOR(gemm_e4m3_sm90, isa::TargetSet::only({"sm_90a"}),
                "D = alpha*A*B^T + beta*C (+bias), e4m3 in, bf16 or f32 out, fp32 accumulate (per-tensor scales "
                "in alpha, or 1x128 / 128x128 block scales): TMA + wgmma k32, warp-specialised, persistent",
                sm90::params(true)) {
  return build_sm90_gemm(target, sm90::from_params(true, params));
}

}  // namespace weft::samples
