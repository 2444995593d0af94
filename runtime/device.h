// Devices and their primary contexts.
//
// Why the primary context: it is the context the CUDA runtime (and so PyTorch, cuBLAS, NCCL) uses on
// each device. Retaining it, instead of creating a context of our own, lets weft allocations, modules
// and streams be used by those libraries in the same process and the other way round.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <string>
#include <vector>

namespace weft::rt {

struct DeviceProps {
  int ordinal = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int max_threads_per_block = 0;
  int max_smem_per_block = 0;        // bytes, without opt-in (48 KB)
  int max_smem_per_block_optin = 0;  // bytes, with CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  int max_smem_per_sm = 0;
  int regs_per_sm = 0;
  int l2_bytes = 0;
  int clock_khz = 0;         // SM clock (0 if the driver no longer reports it)
  int memory_clock_khz = 0;  // memory clock (likewise)
  int memory_bus_bits = 0;
  std::size_t total_memory = 0;
  bool cluster_launch = false;

  int sm() const { return cc_major * 10 + cc_minor; }  // 90 for 9.0
  std::string target() const { return "sm_" + std::to_string(sm()); }
};

int device_count();
DeviceProps device_props(int ordinal);

// The driver's version (13000 for 13.0).
int driver_version();

// The device's primary context, retained for the life of the process (released by the driver at
// exit). Thread-safe.
CUcontext primary_context(int ordinal = 0);

// Makes a context current on the calling thread if none is: the primary context of device
// $WEFT_DEVICE (default 0). Returns the current context. Every runtime call that needs one calls this,
// so host programs need no context code; a context the program made current itself is left alone.
CUcontext ensure_context();

// The device of the current context (after ensure_context()).
int current_device();

// Waits for all work in the current context; reports an error from any kernel that failed.
void synchronize();

}  // namespace weft::rt
