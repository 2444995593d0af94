// PTX -> cubin through the driver's linker (cuLinkCreate / cuLinkAddData / cuLinkComplete).
//
// Why the linker and not cuModuleLoadData on the PTX: the linker hands back the cubin bytes, which the
// disk cache stores; the next load of the same module is a cubin load (microseconds). The JIT's error
// and info logs (ptxas's messages, with line numbers, and its register/spill report) go into the
// exception or the result.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace weft::rt {

struct JitOptions {
  int optimization_level = 4;  // CU_JIT_OPTIMIZATION_LEVEL, 0..4
  bool line_info = false;      // CU_JIT_GENERATE_LINE_INFO (.loc lines for Nsight / sanitizer)
  unsigned max_registers = 0;  // CU_JIT_MAX_REGISTERS; 0: not set
  // A canonical text of every option, part of the cache key.
  std::string canonical() const;
};

struct JitResult {
  std::vector<std::byte> cubin;
  std::string info_log;  // ptxas's verbose report (registers, spills per function)
  double ms = 0;         // wall time of the JIT
};

// Compiles PTX for the device of the current context. `origin` names the input in ptxas's messages
// and in errors ("saxpy.sm_90a.ptx"). Throws Error carrying the JIT error log; PTX whose `.version`
// the driver does not support is reported with both versions.
JitResult jit_ptx_to_cubin(std::string_view ptx, const JitOptions& options, const std::string& origin);

// The message for PTX too new for the driver (pure; shared by the pre-check and the driver's error).
std::string ptx_too_new_message(const std::string& origin, const std::string& ptx_version,
                                int driver_version, const std::string& driver_max);

}  // namespace weft::rt
