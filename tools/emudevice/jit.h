// The emulated device's "JIT": ptxas checks each module for the device's architecture exactly as the
// driver's JIT would (its messages become the JIT error and info logs, its -v report gives each
// kernel's registers and static shared memory), and the "cubin" it produces is this driver's own
// container: the PTX plus that report, since the emulator runs PTX. A real cubin given to the
// emulated device is refused with a message that says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cuda.h>

#include "runtime/ptx_text.h"
#include "tools/emudevice/ptx_module.h"

namespace weft::emu {

struct JitOutput {
  CUresult result = CUDA_SUCCESS;
  std::string error_log, info_log;  // info_log: ptxas -v, which the container keeps
  std::string ptx;
  std::map<std::string, rt::FunctionResources> kernels;  // from info_log (rt::parse_jit_info_log)
};

// Whether a module written for `m.target` runs on the emulated device (rt::target_runs_on, the rule
// the runtime also selects targets by); CUDA_SUCCESS, or CUDA_ERROR_NO_BINARY_FOR_GPU with `log`
// saying why.
CUresult check_target(const PtxModule& m, std::string* log);

// Checks `ptx` for the device and reports per kernel. `work_dir` holds ptxas's files.
JitOutput jit_check(const std::string& ptx, const std::string& work_dir);

// The container a "cubin" of the emulated device is, and back.
std::vector<std::byte> pack_container(const JitOutput& j);
// Reads a container (its size is in its header). nullopt when `image` is not one; `why` then says
// whether it was a real cubin, a fat binary, or neither.
std::optional<JitOutput> unpack_container(const void* image, std::string* why);
bool looks_like_container(const void* image);

}  // namespace weft::emu
