// The debug-wait report shared by the kernels that write it (dsl/debug_wait.h) and the runtime that
// reads it (weft::rt::Module::debug_wait_report). Header-only and standard-library only, so both
// sides include the one definition.
//
// A module emitted with debug waits (Target::debug_waits, `weft emit --debug-waits`) has an 8-byte
// .global `weft_debug_wait` holding the address of a report in host-mapped memory, installed by the
// runtime when it loads the module (a trap leaves the context unusable; host memory stays readable).
#pragma once

#include <cstdint>

namespace weft::debug_wait {

inline constexpr const char* kSymbol = "weft_debug_wait";
// How long a bounded wait (an mbarrier or a flag) may take (%globaltimer nanoseconds). A time, not a
// count of rounds: mbarrier.try_wait and nanosleep suspend for system-dependent times per round, so
// no round count bounds the time; every protocol wait in weft's kernels completes in microseconds.
inline constexpr std::uint64_t kWaitLimitNs = 2'000'000'000ull;

// How long the threads that lost the claim wait for the winner's report before trapping anyway.
inline constexpr std::uint64_t kReportWaitNs = 10'000'000ull;

// What was waited for.
enum class Kind : std::uint32_t { mbarrier = 0, flag = 1 };

// Report words (u32). The first wait that times out claims word `taken` with a CAS; later ones
// only trap.
enum Word : std::uint32_t {
  taken = 0,     // 1 once a wait timed out
  line = 1,      // the author's source line of the wait
  id = 2,        // mbarrier: its id (MbarrierArray order); flag: the id the author gave (the peer rank)
  expected = 3,  // mbarrier: the phase parity; flag: the epoch waited for
  kind = 4,      // Kind
  observed = 5,  // flag: the last value read; mbarrier: 0
  complete = 6,  // 1 once the words above are written (the other timed-out threads wait for it)
  word_count = 8,
};
inline constexpr std::uint32_t kReportBytes = word_count * 4;

}  // namespace weft::debug_wait
