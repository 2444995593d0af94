// bf16 GEMM for Blackwell (tcgen05: sm_100a, sm_103a, sm_110a): D = alpha * A * B^T + beta * C
// (+ bias per column), fp32 accumulation in tensor memory, bf16 or (out_f32=1) f32 C and D. A is M x K row-major, B is N x K row-major
// ("TN": both K-major), C and D are M x N row-major. Any M, N, K (TMA zero-fills out-of-bounds
// reads; the epilogue checks bounds).
//
// Warp-specialised and persistent, 256 threads:
//   warp 0      TMA producer: A (128 x 64) and B (BN x 64) tiles, 128B-swizzled, into a multi-stage
//               mbarrier Pipeline in dynamic shared memory.
//   warp 1      MMA issuer: one elected thread issues tcgen05.mma kind::f16 (cta_group::1,
//               M = 128, N = BN, K = 16; four per stage) into an fp32 accumulator in tensor memory,
//               and tcgen05.commit releases each stage (the pipeline's empty barrier) and, after the
//               last k-tile, hands the accumulator to the epilogue. This warp owns the tensor memory.
//   warps 2-3   idle.
//   warps 4-7   epilogue: warp w reads rows 32w..32w+31 of the accumulator (tcgen05.ld 32x32b, one
//               row per lane, 32 columns at a time), scales by alpha, adds beta * C and the bias,
//               converts to bf16 (or keeps f32) and stores with bounds checks.
// Two accumulators (2 x BN columns of tensor memory) form a second Pipeline between the MMA warp and
// the epilogue, so the epilogue of one tile overlaps the main loop of the next.
// groups=1: the grouped GEMM of gemm_bf16_sm90 (MoE experts; tile_order.h and tma_producer.h do the
// work): B is `groups` N x K matrices, tile row t takes the one tile_groups[t] names, and a padding
// entry's tile has no K tiles (its accumulator is handed round unused) and stores nothing.
//
// No sm_100 GPU is available to this project: assembled by ptxas and executed in the PTX emulator
// (tools/ptxemu/run_gemm100_checks.py), never on hardware.
#include <fmt/format.h>

#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/group_rows.h"
#include "samples/kernels/gemm/tile_order.h"
#include "samples/kernels/gemm/tma_producer.h"

namespace weft::samples {

// The targets of the tcgen05 rows (codegen/isa/tables/tcgen05.cpp; tests/samples check that they agree).
// Spelled out: the instruction database must not be consulted during static initialisation.
WEFT_KERNEL_FOR(gemm_bf16_sm100, isa::TargetSet::only({"sm_100a", "sm_103a", "sm_110a"}),
                "D = alpha*A*B^T + beta*C (+bias), bf16 in, bf16 or f32 out, fp32 accumulate in tensor memory: "
                "TMA + tcgen05.mma, warp-specialised, persistent",
                {{"bn", 256, "tile N (multiple of 16, at most 256)", 16, 256},
                 {"stages", 4, "pipeline stages", 2, 8},
                 {"group_m", 8, "tile rows visited together (L2 reuse)", 1, 64},
                 {"out_f32", 0, "1: C and D are f32 (else bf16)", 0, 1},
                 {"bias", 0, "1: add a bf16 bias per column (a `bias` parameter)", 0, 1},
                 {"groups", 0, "1: grouped GEMM (MoE experts), as gemm_bf16_sm90's: B holds `groups` matrices of n x k, "
                               "tile row t multiplies the one tile_groups[t] names; an entry not below `groups` (-1) "
                               "marks padding rows, neither computed nor stored; the bias is groups x n", 0, 1}}) {
  constexpr std::uint32_t kBM = 128, kBK = 64, kAccumulators = 2, kEpilogueThreads = 128;
  static_assert(kBM == kGroupRows, "groups=1 reads one tile_groups entry per tile row");
  const auto bn = static_cast<std::uint32_t>(params["bn"]);
  const auto stages = static_cast<std::uint32_t>(params["stages"]);
  const auto group_m = static_cast<std::uint32_t>(params["group_m"]);
  const bool out_f32 = params["out_f32"] != 0, with_bias = params["bias"] != 0, grouped = params["groups"] != 0;
  const std::uint32_t out_bytes = out_f32 ? 4 : 2;
  KernelBuilder k{"gemm_bf16_sm100", target};
  const Tcgen05F16Desc mma{.m = kBM, .n = bn, .ab = isa::Type::bf16, .d = isa::Type::f32};
  if (auto p = tcgen05_f16_problem(mma); !p.empty()) k.error("gemm: tcgen05.mma " + p);
  const std::uint32_t chunk = bn % 32 == 0 ? 32 : 16;  // accumulator columns per tcgen05.ld

  // Shared memory: per stage an A tile (128 x 64 bf16) and a B tile (bn x 64 bf16), 128B-swizzled.
  const SharedLayout a_layout{.rows = kBM, .cols = kBK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const SharedLayout b_layout{.rows = bn, .cols = kBK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const std::uint32_t a_bytes = a_layout.bytes(), b_bytes = b_layout.bytes();
  const std::uint32_t stage_bytes = (a_bytes + b_bytes + 1023) / 1024 * 1024;
  // The stages sit in a 1024-aligned window beside the static barriers and tensor-memory slot (under 1 KB).
  const std::uint32_t room = dynamic_shared_room(target, 1024, 1024);
  if (stages * stage_bytes > room)
    k.error(fmt::format("gemm: {} stages of {} bytes need {} bytes of shared memory, over the {} of a CTA on {}",
                        stages, stage_bytes, stages * stage_bytes + (target.max_shared_per_cta() - room),
                        target.max_shared_per_cta(), target.name()),
            "use fewer stages or a smaller bn");
  // Tensor memory: two accumulators of bn fp32 columns each (lane = row of the tile, column = column),
  // in an allocation rounded up to a power of two; accumulator s starts at column s * acc_stride.
  std::uint32_t tmem_columns = 32;
  while (tmem_columns < kAccumulators * bn) tmem_columns *= 2;
  const std::uint32_t acc_stride = tmem_columns / kAccumulators;

  const auto declared = tma_gemm_params(k, a_layout, b_layout, {.f32 = out_f32});
  const auto& [m, n, kdim, alpha, beta, a_map, b_map, c, d, unused_d_map] = declared;
  Ptr<u16, Global> bias;
  if (with_bias) bias = k.param_ptr<u16>("bias");
  // Grouped: a group index per 128-row tile row of A (s32), and the number of groups B holds
  // (tile_order.h's WorkUnits: the producer, the MMA warp and the epilogue each read a tile's entry).
  Ptr<s32, Global> tile_groups;
  Reg<u32> groups;
  if (grouped) {
    tile_groups = k.param_ptr<s32>("tile_groups");
    groups = k.param<u32>("groups");
  }
  auto smem = k.dynamic_shared<u8>("smem", 1024, stages * stage_bytes);

  // Stage ring: the producer's TMA completes bytes on `full`; one tcgen05.commit releases `empty`.
  Pipeline ab(k, "ab", {.stages = stages, .consumer_arrivals = 1, .tx_bytes = a_bytes + b_bytes,
                        .producer_role = "tma", .consumer_role = "mma"});
  // Accumulator ring: the MMA warp commits `full`; every epilogue thread arrives on `empty`.
  Pipeline accum(k, "acc", {.stages = kAccumulators, .consumer_arrivals = kEpilogueThreads,
                            .producer_role = "mma", .consumer_role = "epilogue"});
  auto tid = k.tid_x();
  auto warp = tid >> 5u;
  TensorMemory tmem(k, "tmem", tmem_columns);
  auto tmem_base = tmem.allocate(warp == 1u);  // the MMA warp owns the tensor memory

  auto work = work_units(k, m, n, kdim, kBM, bn, kBK, group_m);  // tiles, no split-K, no cluster
  if (grouped) {
    work.grouped = true;
    work.tile_groups = tile_groups;
    work.groups = groups;
  }
  auto tiles = work.units;
  auto k_tiles = work.k_tiles;
  auto tile_coords = [&](Reg<u32> t) { return work.order.coords(t); };
  auto stage_a = [&](Reg<u32> stage) { return smem.base() + stage * stage_bytes; };
  auto stage_b = [&](Reg<u32> stage) { return smem.base() + (stage * stage_bytes + a_bytes); };
  // A warp of the main-loop warpgroup acting as its own role (the pipelines check who calls them).
  auto as_role = [&](const char* name, const std::function<void()>& body) {
    const auto saved = k.role();
    k.set_role(name);
    body();
    k.set_role(saved);
  };

  warp_roles(k, {
      {.name = "mainloop", .warpgroups = 1, .body = [&](const RoleContext& r) {
         auto w = r.thread >> 5u;
         k.if_(w == 0u, [&] {
           as_role("tma", [&] {
             tma_producer_loop(k, ab, work, {a_map, b_map, kBM, bn, kBK, stage_a, stage_b, 0, 0, 0, m, n});
           });
         });
         k.if_(w == 1u, [&] {
           as_role("mma", [&] {
             // One lane issues every MMA and every commit (a commit tracks its own thread's MMAs), and
             // only that lane runs the loops: with nothing warp-collective in them, the other lanes'
             // barrier waits could fall two phases behind the leader, where a parity wait passes on the
             // stale phase or never returns (the emulator's tcgen05 checks caught exactly that).
             k.if_(k.elect_sync(), [&] {
               auto idesc = k.let<u32>(tcgen05_idesc_f16(mma));
               auto st = ab.state();
               auto acc = accum.state();
               k.for_(k.ctaid_x(), tiles, k.nctaid_x(), [&](Reg<u32> t) {
                 // Grouped: a padding tile has no K tiles (its accumulator still goes round, unused).
                 const Reg<u32> tile_k_tiles = grouped ? work.unit(t).kt_end : k_tiles;
                 accum.producer_acquire(acc);  // the epilogue has drained this accumulator
                 tcgen05_fence_after_sync(k);
                 auto d_tmem = tmem_base + acc.stage * acc_stride;
                 k.for_(0u, tile_k_tiles, 1u, [&](Reg<u32> kt) {
                   ab.consumer_wait(st);
                   tcgen05_fence_after_sync(k);
                   auto a_tile = shared_tile_at(k, stage_a(st.stage), a_layout);
                   auto b_tile = shared_tile_at(k, stage_b(st.stage), b_layout);
                   auto accumulate = kt != 0u;
                   // K = 16 per MMA: the descriptors advance 32 bytes along the swizzled 128-byte rows.
                   for (std::uint32_t kk = 0; kk < kBK / 16; ++kk)
                     tcgen05_mma_f16(k, d_tmem, a_tile.tcgen05_descriptor(kk * 32), b_tile.tcgen05_descriptor(kk * 32),
                                     idesc, kk == 0 ? accumulate : k.let_pred(true));
                   tcgen05_commit(k, ab.empty(st));  // the stage is free once these MMAs complete
                   ab.advance(st);
                 });
                 tcgen05_commit(k, accum.full(acc));  // the accumulator is final
                 accum.producer_commit(acc);
                 accum.advance(acc);
               });
             });
           });
         });
       }},
      {.name = "epilogue", .warpgroups = 1, .body = [&](const RoleContext& r) {
         auto w = r.thread >> 5u;  // warp w of this warpgroup may read tensor-memory lanes 32w..32w+31
         auto lane = r.thread & 31u;
         auto use_c = beta != 0.0f;
         auto empty_k = k_tiles == 0u;  // no MMA ran: the accumulator is zero, not what tensor memory holds
         // 16-byte stores (and C and bias loads) need every row to start 16-byte aligned.
         auto bases = c.base() | d.base();
         if (with_bias) bases = bases | bias.base();
         auto vec_ok = (n & 7u) == 0u && (convert<u32>(bases & 15ull)) == 0u;
         auto c32 = c.template as<f32>();
         auto d32 = d.template as<f32>();
         auto acc = accum.state();
         k.for_(k.ctaid_x(), tiles, k.nctaid_x(), [&](Reg<u32> t) {
           auto [tm, tn] = tile_coords(t);
           // Grouped: the tile's K tiles (none for padding, which stores nothing) and its group's bias.
           Pred no_mma = empty_k, store_tile;
           Ptr<u16, Global> tile_bias = bias;
           if (grouped) {
             const auto u = work.unit(t);
             no_mma = u.kt_end == 0u;
             store_tile = u.live;
             if (with_bias) tile_bias = bias + u.group * n;
           }
           accum.consumer_wait(acc);
           tcgen05_fence_after_sync(k);
           auto row = tm * kBM + w * 32u + lane;
           auto lane_addr = tmem_base + ((w * 32u) << 16u) + acc.stage * acc_stride;
           // Chunk c + 1 is loaded while chunk c is converted and stored (wait::ld waits for every
           // earlier load, so each chunk is waited for before the next one is issued). The chunks are
           // a loop, not unrolled: the loaded registers are copied out before the next load reuses
           // them (a few moves per 32 columns, and an 8x smaller kernel at bn = 256).
           std::vector<Reg<b32>> next(chunk), v(chunk);
           std::vector<ir::RegId> next_ids;
           for (std::uint32_t j = 0; j < chunk; ++j) {
             next[j] = k.reg<b32>();
             v[j] = k.reg<b32>();
             next_ids.push_back(next[j].id());
           }
           const std::uint32_t chunks = bn / chunk;
           tcgen05_ld_32x32b(k, next_ids, lane_addr);
           k.for_(0u, chunks, 1u, [&](Reg<u32> ci) {
             tcgen05_wait_ld(k);
             for (std::uint32_t j = 0; j < chunk; ++j) k.assign(v[j], next[j]);
             k.if_(ci + 1u == chunks, [&] {  // the last read of this accumulator: hand it back to the MMA warp
               tcgen05_fence_before_sync(k);
               accum.consumer_release(acc);
             }).else_([&] { tcgen05_ld_32x32b(k, next_ids, lane_addr + (ci + 1u) * chunk); });
             k.if_(no_mma, [&] {
               for (auto& x : v) k.assign(x, 0u);
             });
             auto col = tn * bn + ci * chunk;
             auto value = [&](std::uint32_t j) { return bitcast<f32>(v[j]) * alpha; };
             auto bf16_to_f32 = [&](Reg<u32> bits, bool high) {
               return bitcast<f32>(high ? bits & 0xffff0000u : bits << 16u);
             };
             auto pack = [&](Reg<f32> lo, Reg<f32> hi) {
               auto packed = k.reg<b32>();
               k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, hi, lo});
               return bitcast<u32>(packed);
             };
             k.if_(grouped ? (row < m && store_tile) : row < m, [&] {
               auto row_idx = row * n;
               k.if_(vec_ok && col + chunk <= n, [&] {  // the whole chunk in range: 16-byte accesses
                 const std::uint32_t per = 16 / out_bytes;  // elements per 16-byte access: 8 bf16, 4 f32
                 for (std::uint32_t g = 0; g < chunk; g += per) {
                   auto idx = row_idx + (col + g);
                   std::vector<Reg<f32>> x(per);
                   for (std::uint32_t j = 0; j < per; ++j) x[j] = value(g + j);
                   k.if_(use_c, [&] {
                     if (out_f32) {
                       auto cv = k.ld_vec<f32, Global, 4>(c32 + idx);
                       for (std::uint32_t j = 0; j < 4; ++j) k.assign(x[j], fma(beta, cv[j], x[j]));
                     } else {
                       auto cv = k.ld_vec<u32, Global, 4>((c + idx).template as<u32>());
                       for (std::uint32_t j = 0; j < 8; ++j)
                         k.assign(x[j], fma(beta, bf16_to_f32(cv[j / 2], j % 2 == 1), x[j]));
                     }
                   });
                   if (with_bias) {  // per / 2 words of bf16 bias: 16 bytes (bf16 out) or 8 (f32 out)
                     auto at = (tile_bias + (col + g)).template as<u32>();
                     std::vector<Reg<u32>> bw;
                     if (out_f32) {
                       auto w2 = k.ld_vec<u32, Global, 2>(at);
                       bw.assign(w2.begin(), w2.end());
                     } else {
                       auto w4 = k.ld_vec<u32, Global, 4>(at);
                       bw.assign(w4.begin(), w4.end());
                     }
                     for (std::uint32_t j = 0; j < per; ++j) k.assign(x[j], x[j] + bf16_to_f32(bw[j / 2], j % 2 == 1));
                   }
                   if (out_f32) {
                     k.st_vec(d32 + idx, std::array<Reg<f32>, 4>{x[0], x[1], x[2], x[3]});
                   } else {
                     std::array<Reg<u32>, 4> out;
                     for (std::uint32_t j = 0; j < 4; ++j) out[j] = pack(x[2 * j], x[2 * j + 1]);
                     k.st_vec((d + idx).template as<u32>(), out);
                   }
                 }
               }).else_([&] {  // the tile's right edge (or unaligned rows): one element at a time
                 for (std::uint32_t j = 0; j < chunk; ++j) {
                   auto cj = col + j;
                   k.if_(cj < n, [&] {
                     auto idx = row_idx + cj;
                     auto x = value(j);
                     k.if_(use_c, [&] {
                       auto cx = out_f32 ? k.ld(c32 + idx) : bf16_to_f32(convert<u32>(k.ld(c + idx)), false);
                       k.assign(x, fma(beta, cx, x));
                     });
                     if (with_bias) k.assign(x, x + bf16_to_f32(convert<u32>(k.ld(tile_bias + cj)), false));
                     if (out_f32) {
                       k.st(d32 + idx, x);
                     } else {
                       k.st(d + idx, convert<u16>(pack(x, x) & 0xffffu));
                     }
                   });
                 }
               });
             });
           });
           accum.advance(acc);
         });
       }},
  });
  tmem.deallocate(warp == 1u);  // every thread: after the epilogue's last tcgen05.ld
  return k.build();
}

}  // namespace weft::samples
