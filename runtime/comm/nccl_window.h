// Reading an NCCL symmetric window's addressing fields.
//
// Why on the device: ncclCommWindowRegister returns an ncclWindow_t, the device address of NCCL's
// window description (struct ncclWindow_vidmem in nccl_device/impl/core__types.h). NCCL's own device
// API reads it from kernels; on the host it is opaque and cuMemcpyDtoH from it fails (DEVICE_FACTS.md).
// So a one-thread kernel built with weft's DSL copies the fields into an ordinary device buffer, and
// the host builds the peer table from them.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <string>

namespace weft::rt::comm {

// The fields weft needs, at the offsets NCCL 2.28 gives them (they have not moved since the window
// API appeared): void* winHost @0, char* lsaFlatBase @8, int lsaRank @16, int worldRank @20,
// uint32_t stride4G @24.
struct NcclWindowFields {
  std::uint64_t lsa_flat_base = 0;
  std::int32_t lsa_rank = 0;
  std::int32_t world_rank = 0;
  std::uint32_t stride4g = 0;
};

// True when `window` is device memory, i.e. NCCL's device-side window description. NCCL 2.28 builds
// that description only for communicators with symmetric memory support (every rank on one node, all
// pairs with direct P2P, cuMem enabled); for any other communicator, one rank included, the handle it
// returns is its host-side registration record, which a kernel must not read. Asks the driver
// (cuPointerGetAttribute); an address the driver does not know is not device memory.
bool nccl_window_is_device_side(CUdeviceptr window);

// Runs the reader kernel on the current context's device (built and loaded once per process).
NcclWindowFields read_nccl_window(CUdeviceptr window);

// The reader's PTX for a target ("sm_90"): kernel weft_nccl_window_fields(u64* window, u64* out),
// one thread; out receives lsaFlatBase (u64 @0), lsaRank (@8), worldRank (@12), stride4G (@16).
std::string nccl_window_reader_ptx(const std::string& target);

}  // namespace weft::rt::comm
