// Flags between ranks (DESIGN.md decision 10). A flag is a u32 that only its writer's epochs go into:
// the host passes an epoch that grows by one per launch, a writer stores it with release semantics
// at system scope, and a reader spins with acquire loads until the flag has reached it. Flags are
// never reset, so back-to-back launches need no clearing kernel; comparisons are modulo 2^32.
//
//   k.bar_sync();                               // the CTA's data writes ...
//   k.if_(k.tid_x() == 0u, [&] {
//     k.fence({q::acq_rel, q::sys});            // ... are ordered before the flag at system scope
//     comm::signal(k, flags_on_peer + slot, epoch);
//   });
//   comm::wait_flag(k, my_flags + slot, epoch, /*id=*/src_rank);
#pragma once

#include "dsl/kernel_builder.h"

namespace weft::comm {

// st.release.sys: everything this thread wrote (and, through bar.sync and cumulativity, what its CTA
// wrote before the barrier) is visible to a reader that observes the epoch.
void signal(KernelBuilder& k, Ptr<u32, Global> flag, Src<u32> epoch, Loc loc = Loc::current());

// Spins until the flag has reached `epoch` (ld.acquire.sys; `value - epoch` read as signed is
// >= 0), sleeping between reads with a doubling nanosleep (32 ns to 1 us) so a waiting CTA
// leaves issue slots to others. With Target::debug_waits the wait is bounded: it records `id` (the
// rank being waited for, by convention), the epoch and the last value read, and traps.
void wait_flag(KernelBuilder& k, Ptr<u32, Global> flag, Src<u32> epoch, Src<u32> id, Loc loc = Loc::current());

}  // namespace weft::comm
