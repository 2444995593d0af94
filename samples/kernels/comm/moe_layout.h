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
//   out        [tokens][h16]                 combine output: sum over k of topk_w * expert output
//   flags / entry_flags                      dispatch: nranks words set by each source, and the
//                                            Rendezvous flags of its opening rendezvous
//
// capacity = tokens suffices when each token picks an expert at most once. All of them are
// symmetric buffers (peer tables), so one launch serves LocalSim's virtual ranks too.
#pragma once

#include "dsl/comm.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

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

// Word offset (u32) of packet 0 of slot `slot` for local expert `le` from source rank `src`.
inline Reg<u32> recv_row(Reg<u32> le, Reg<u32> src, Reg<u32> slot, Reg<u32> nranks, Reg<u32> capacity,
                         Reg<u32> h16) {
  return ((le * nranks + src) * capacity + slot) * h16 * 4u;
}

}  // namespace weft::samples
