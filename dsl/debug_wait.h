// Bounded waits for debugging protocol bugs (Target::debug_waits, `weft emit --debug-waits`): a wait
// that lasts longer than debug_wait::kWaitLimitNs of %globaltimer (an mbarrier or a flag) records what
// it waited for in the module's host-mapped report (runtime/debug_wait_layout.h) and traps, so a hang
// becomes an error that names the barrier or flag, the phase or epoch, and the author's line. Used by Mbarrier::wait
// (dsl/async/mbarrier.h) and wait_flag (dsl/comm/flags.h).
#pragma once

#include "dsl/kernel_builder.h"
#include "runtime/debug_wait_layout.h"

namespace weft::detail {

// Claims the report (the first timed-out wait wins), writes kind / line / id / expected / observed,
// makes them visible to the host, and traps. Emitted on the timeout path only.
void report_wait_timeout(KernelBuilder& k, debug_wait::Kind kind, Src<u32> id, Src<u32> expected,
                         Src<u32> observed, SourceLoc line, Loc loc);

}  // namespace weft::detail
