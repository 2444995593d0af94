// libnccl.so.2, loaded at run time (like libcuda: nothing links NCCL, so weft builds and runs without
// it and only the Nccl heap needs it).
//
// The declarations below are the few parts of NCCL's public C ABI that weft calls, written out here
// so that building weft needs no nccl.h (which pulls in the CUDA runtime's headers). ncclComm is
// NCCL's own opaque type name, so a program that includes nccl.h passes its ncclComm_t unchanged.
//
// $WEFT_NCCL_LIBRARY overrides the library path. Versions before 2.28 lack symmetric windows with
// device-side peer addressing and are refused with both versions in the message.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

struct ncclComm;  // NCCL's opaque communicator (ncclComm_t is ncclComm*)

namespace weft::rt::comm {

namespace nccl_abi {
using Result = int;  // ncclResult_t; 0 is ncclSuccess
using Comm = ::ncclComm*;
// ncclWindow_t: the device address of NCCL's window description when the communicator supports
// symmetric memory; otherwise (NCCL 2.28: one local rank, or ranks without direct P2P) NCCL hands back
// its host-side local registration record instead (nccl_window.h).
using Window = void*;
struct UniqueId {
  char internal[128];
};
constexpr int kWinCollSymmetric = 0x01;  // NCCL_WIN_COLL_SYMMETRIC
constexpr int kUint8 = 1;                // ncclUint8
}  // namespace nccl_abi

struct NcclLibrary {
  std::string path;  // what was dlopen'ed
  int version = 0;   // ncclGetVersion: 22803 for 2.28.3
  nccl_abi::Result (*GetVersion)(int*) = nullptr;
  const char* (*GetErrorString)(nccl_abi::Result) = nullptr;
  const char* (*GetLastError)(nccl_abi::Comm) = nullptr;
  nccl_abi::Result (*GetUniqueId)(nccl_abi::UniqueId*) = nullptr;
  nccl_abi::Result (*CommInitRank)(nccl_abi::Comm*, int, nccl_abi::UniqueId, int) = nullptr;
  nccl_abi::Result (*CommDestroy)(nccl_abi::Comm) = nullptr;
  nccl_abi::Result (*CommCount)(nccl_abi::Comm, int*) = nullptr;
  nccl_abi::Result (*CommUserRank)(nccl_abi::Comm, int*) = nullptr;
  nccl_abi::Result (*MemAlloc)(void**, std::size_t) = nullptr;
  nccl_abi::Result (*MemFree)(void*) = nullptr;
  nccl_abi::Result (*CommWindowRegister)(nccl_abi::Comm, void*, std::size_t, nccl_abi::Window*, int) = nullptr;
  nccl_abi::Result (*CommWindowDeregister)(nccl_abi::Comm, nccl_abi::Window) = nullptr;
  nccl_abi::Result (*AllGather)(const void*, void*, std::size_t, int, nccl_abi::Comm, void* stream) = nullptr;

  // Throws Error for a failed NCCL call: "<call> failed: <NCCL's text> (ncclResult_t n)[: last error]".
  void check(nccl_abi::Result r, const char* call, nccl_abi::Comm comm = nullptr) const;
};

// The oldest NCCL weft accepts: 2.28.0 (symmetric windows with ncclWindow_t peer addressing).
constexpr int kMinNcclVersion = 22800;

// The paths tried, in order: $WEFT_NCCL_LIBRARY alone if set, else libnccl.so.2 then libnccl.so.
std::vector<std::string> nccl_library_paths();

// Loads the first of `paths` that dlopens, resolves its entry points and checks its version. Throws
// Error naming every path tried (with dlerror's text) when none loads.
NcclLibrary load_nccl(const std::vector<std::string>& paths);

// The process-wide library (loaded once from nccl_library_paths(); a failure is reported every call).
const NcclLibrary& nccl();

// "2.28.3" for 22803 (and "2.8.4" for the old 2804 encoding).
std::string nccl_version_string(int code);

// Throws Error unless `found` >= `required`: "NCCL 2.27.7 (libnccl.so.2) is too old: weft needs 2.28.0
// or newer (symmetric memory windows)". Pure.
void check_nccl_version(int found, const std::string& path, int required = kMinNcclVersion);

}  // namespace weft::rt::comm
