// The buffers of the MoE all-to-all samples (moe_dispatch, moe_combine). Rank r owns experts
// [r * local_experts, (r + 1) * local_experts). Every token row is h16 packets (16 bytes each).
//
//   x          [tokens][h16]                 this rank's tokens (dispatch input)
//   topk_idx   [tokens][topk]  s32           chosen experts, -1 for none; distinct per token
//   topk_w     [tokens][topk]  f32           combine weights
//   slot_map   [tokens][topk]  u32           where dispatch put each copy (combine reads it)
//   counters   [experts + 1]   u32           dispatch scratch: per-expert fill counts, then the
//                                            finished-CTA count; zero between launches
//   recv       [local_experts][nranks][capacity][h16]  tokens received, grouped by expert and
//                                            source rank; the experts write their outputs in place
//   recv_count [local_experts][nranks] u32   tokens per (expert, source), written by the source
//   x_scales, recv_scales                    dispatch with scales=1 (fp8 tokens): f32 block scales
//                                            [scale_blocks][tokens] and [scale_blocks][recv rows]
//   out        [tokens][h16]                 combine output: sum over k of topk_w * expert output
//   flags / entry_flags                      dispatch: nranks words set by each source, and the
//                                            Rendezvous flags of its opening rendezvous
//
// capacity = tokens suffices when each token picks an expert at most once. All of them are
// symmetric buffers (peer tables), so one launch serves LocalSim's virtual ranks too.
//
// Both kernels give one warp a whole token row and walk it with for_each_row_packet below.
#pragma once

#include <functional>
#include <vector>

#include "codegen/isa/database.h"
#include "dsl/comm.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

// The scalar parameters both kernels take, declared in the order the host passes them.
struct MoeScalars {
  Reg<u32> tokens, topk, local_experts, capacity, h16, epoch;
};
inline MoeScalars moe_scalars(KernelBuilder& k) {
  MoeScalars m;
  m.tokens = k.param<u32>("tokens");
  m.topk = k.param<u32>("topk");
  m.local_experts = k.param<u32>("local_experts");
  m.capacity = k.param<u32>("capacity");
  m.h16 = k.param<u32>("h16");  // 16-byte packets per token row
  m.epoch = k.param<u32>("epoch");
  return m;
}

// Whether moe_dispatch can move rows with bulk copies (bulk=1) on target t: the kernel's check and
// the host's (which options a device can run) in one place.
inline bool moe_bulk_supported(const isa::Target& t) { return isa::form("cp.async.bulk.g2s").targets.contains(t); }

// Row index in recv of slot `slot` for local expert `le` from source rank `src`, and its word offset
// (u32) for rows of h16 packets.
inline Reg<u32> recv_slot(Reg<u32> le, Reg<u32> src, Reg<u32> slot, Reg<u32> nranks, Reg<u32> capacity) {
  return (le * nranks + src) * capacity + slot;
}
inline Reg<u32> recv_row(Reg<u32> le, Reg<u32> src, Reg<u32> slot, Reg<u32> nranks, Reg<u32> capacity,
                         Reg<u32> h16) {
  return recv_slot(le, src, slot, nranks, capacity) * h16 * 4u;
}

// One trip of a lane over a token row (for_each_row_packet): its packets, and whether all of them lie
// inside the row. `in_row(f)` runs f where they do: at once on a whole trip, under a bounds test on a
// tail trip (whose lanes past the row's end still take the trip, for the shuffles).
struct RowTrip {
  KernelBuilder* k;
  std::vector<Reg<u32>> packets;
  bool whole;
  Reg<u32> h16;
  void in_row(const std::function<void()>& f) const {
    if (whole) f();
    else k->if_(packets.front() < h16, f);
  }
};

// The packets of one token row (h16 of them) that a lane of the warp owning the row moves, in
// warp-uniform trips (the bodies shuffle, so every lane takes every trip). While `unroll` x 32
// packets remain, a whole trip hands the body lane + first + 32 u for u < unroll: the body issues
// their loads together, so a lane has `unroll` loads in flight (one at a time left the first H200
// run's collectives at under half of a copy's bandwidth). The rest of the row goes one packet per
// lane and trip.
inline void for_each_row_packet(KernelBuilder& k, Reg<u32> h16, std::uint32_t unroll,
                                const std::function<void(const RowTrip&)>& body) {
  auto lane = k.laneid();
  auto first = k.let<u32>(0u);
  if (unroll > 1) {
    const std::uint32_t span = 32 * unroll;
    auto batch_end = h16 - min(h16, Src<u32>(span - 1));  // first below it: first + span <= h16
    k.while_([&] { return first < batch_end; }, [&] {
      RowTrip trip{&k, {}, true, h16};
      for (std::uint32_t u = 0; u < unroll; ++u) trip.packets.push_back(first + lane + 32u * u);
      body(trip);
      k.assign(first, first + span);
    });
  }
  k.while_([&] { return first < h16; }, [&] {
    body(RowTrip{&k, {k.let<u32>(first + lane)}, false, h16});
    k.assign(first, first + 32u);
  });
}

}  // namespace weft::samples
