// L2 cache policies for bulk copies and TMA (createpolicy, PTX 7.4; the .L2::cache_hint operand).
//
// Data streamed through once (a device copy, a communication buffer) is best marked evict_first:
// its lines then leave L2 before anything else, so a copy running beside a GEMM does not push out
// the A/B panels the GEMM's tiles re-read from L2. evict_last is the opposite, for data re-read soon.
#pragma once

#include "dsl/kernel_builder.h"

namespace weft {

// A 64-bit policy register made by `createpolicy.fractional.L2::<priority>.b64` (fraction 1.0: every
// access it covers). Make it once, outside loops; pass it to the copies it should govern.
struct L2Policy {
  Reg<u64> reg;
};

// `priority`: q::L2_evict_first, q::L2_evict_normal, q::L2_evict_last or q::L2_evict_unchanged (the
// database's createpolicy row takes them; any other qualifier is a diagnostic at the author's line).
L2Policy l2_policy(KernelBuilder& k, q::Q priority, Loc loc = Loc::current());

}  // namespace weft
