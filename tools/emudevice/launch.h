// One kernel launch on the emulated device: a request file for tools/ptxemu/device_launch.py, the
// emulator run in a child process (which reads and writes the arena file in place), its result read
// back. Synchronous: when run_launch returns, the kernel has finished.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <cuda.h>

#include "tools/emudevice/arena.h"
#include "tools/emudevice/vmm.h"

namespace weft::emu {

struct LaunchRequest {
  std::string ptx_path;
  std::string entry;
  std::uint32_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1}, cluster[3] = {1, 1, 1};
  std::uint32_t dynamic_smem = 0;
  std::vector<std::vector<unsigned char>> params;  // raw bytes per .entry parameter
  std::vector<std::pair<std::string, std::uint64_t>> globals;
  std::uint64_t seed = 1;
  std::vector<LaunchMapping> mappings;  // virtual memory mapped for the device (vmm.h), each also an allocation
};

struct LaunchOutcome {
  CUresult result = CUDA_SUCCESS;  // what the launch leaves behind as the context's sticky error
  std::string status;              // the emulator's: ok, trap, illegal_address, misaligned, deadlock, ...
  std::string message;
};

LaunchOutcome run_launch(const LaunchRequest& r, const Arena& arena, const std::string& work_dir);

}  // namespace weft::emu
