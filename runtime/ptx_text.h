// Facts read from PTX text and from ptxas/JIT logs. Pure functions, tested on the CPU.
//
// Why: the runtime decides things before it asks the driver (is this PTX too new for the driver?
// which target is it for? which entries must be loaded eagerly?) and records what the JIT reports
// (registers, spills) in the cache entry. `//` comments are skipped, so the `//!` signature block
// never confuses these readers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/targets.h"

namespace weft::rt {

// `.version 9.0` -> {9, 0}; nullopt if the text has no (well-formed) `.version` directive.
std::optional<PtxIsa> ptx_version_of(std::string_view ptx);

// `.target sm_90a, texmode_independent` -> "sm_90a"; nullopt if there is no `.target`.
std::optional<std::string> ptx_target_of(std::string_view ptx);

// The names of every `.entry` in the text, in order.
std::vector<std::string> ptx_entries_of(std::string_view ptx);

// What ptxas (or the driver's JIT, which prints the same lines) reports per function with -v /
// CU_JIT_LOG_VERBOSE.
struct FunctionResources {
  int registers = -1;  // -1: not reported
  std::uint32_t spill_stores = 0;
  std::uint32_t spill_loads = 0;
  std::uint32_t stack_frame = 0;
  std::uint32_t smem = 0;
  bool operator==(const FunctionResources&) const = default;
};

// Reads "Compiling entry function 'f'", "Function properties for f", "N bytes stack frame, N bytes
// spill stores, N bytes spill loads", "Used N registers, ... N bytes smem" lines.
std::map<std::string, FunctionResources> parse_jit_info_log(std::string_view log);

}  // namespace weft::rt
