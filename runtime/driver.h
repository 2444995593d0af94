// The CUDA driver, loaded at run time.
//
// Why dlopen: weft builds, tests and emits PTX on machines without a GPU; only the calls that need a
// device need the driver. Nothing links libcuda, so a CPU-only machine gets a clear weft::rt::Error
// ("no CUDA driver found: libcuda.so.1 (...)") instead of a loader failure at program start.
//
// Why cuGetProcAddress: plain dlsym("cuMemAlloc") returns the legacy (CUDA 2.0) entry point, whose
// calls fail later with "invalid device context". Every entry point here is resolved through the
// driver's cuGetProcAddress_v2 with the CUDA version whose ABI its PFN typedef (cudaTypedefs.h)
// describes, which is the newest variant the headers know, except cuCtxSynchronize (kept at its
// argument-less 2.0 form; the 13.0 variant takes a context) and cuCtxGetDevice (likewise).
//
// $WEFT_LIBCUDA overrides the library path (tests use it to force the no-driver path on a GPU machine).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>
#include <string_view>

#include "runtime/error.h"

namespace weft::rt {

// The one table of the driver entry points weft uses: X(name, version of its PFN typedef).
// Entries marked optional in driver.cpp may be null on older drivers; calling them throws.
#define WEFT_DRIVER_ENTRY_POINTS(X)                   \
  X(cuInit, 2000)                                     \
  X(cuDriverGetVersion, 2020)                         \
  X(cuGetErrorName, 6000)                             \
  X(cuGetErrorString, 6000)                           \
  X(cuDeviceGetCount, 2000)                           \
  X(cuDeviceGet, 2000)                                \
  X(cuDeviceGetName, 2000)                            \
  X(cuDeviceGetAttribute, 2000)                       \
  X(cuDeviceTotalMem, 3020)                           \
  X(cuDevicePrimaryCtxRetain, 7000)                   \
  X(cuDevicePrimaryCtxRelease, 11000)                 \
  X(cuCtxGetCurrent, 4000)                            \
  X(cuCtxSetCurrent, 4000)                            \
  X(cuCtxGetDevice, 2000)                             \
  X(cuCtxSynchronize, 2000)                           \
  X(cuModuleLoadDataEx, 2010)                         \
  X(cuModuleUnload, 2000)                             \
  X(cuModuleGetFunction, 2000)                        \
  X(cuModuleGetGlobal, 3020)                          \
  X(cuMemHostGetDevicePointer, 3020)                  \
  X(cuModuleGetFunctionCount, 12040)                  \
  X(cuModuleEnumerateFunctions, 12040)                \
  X(cuFuncLoad, 12040)                                \
  X(cuFuncGetAttribute, 2020)                         \
  X(cuFuncSetAttribute, 9000)                         \
  X(cuFuncGetName, 12030)                             \
  X(cuLinkCreate, 6050)                               \
  X(cuLinkAddData, 6050)                              \
  X(cuLinkComplete, 5050)                             \
  X(cuLinkDestroy, 5050)                              \
  X(cuLaunchKernelEx, 11060)                          \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor, 6050) \
  X(cuOccupancyMaxActiveClusters, 11070)              \
  X(cuMemGetInfo, 3020)                               \
  X(cuMemAlloc, 3020)                                 \
  X(cuMemFree, 3020)                                  \
  X(cuMemcpyHtoD, 3020)                               \
  X(cuMemcpyDtoH, 3020)                               \
  X(cuMemcpyDtoD, 3020)                               \
  X(cuMemcpyHtoDAsync, 3020)                          \
  X(cuMemcpyDtoHAsync, 3020)                          \
  X(cuMemsetD8, 3020)                                 \
  X(cuMemsetD8Async, 3020)                            \
  X(cuPointerGetAttribute, 4000)                      \
  X(cuMemHostAlloc, 2020)                             \
  X(cuMemFreeHost, 2000)                              \
  X(cuStreamCreate, 2000)                             \
  X(cuStreamDestroy, 4000)                            \
  X(cuStreamSynchronize, 2000)                        \
  X(cuStreamQuery, 2000)                              \
  X(cuEventCreate, 2000)                              \
  X(cuEventDestroy, 4000)                             \
  X(cuEventRecord, 2000)                              \
  X(cuEventSynchronize, 2000)                         \
  X(cuEventElapsedTime, 12080)                        \
  X(cuTensorMapEncodeTiled, 12000)                    \
  X(cuMemGetAllocationGranularity, 10020)             \
  X(cuMemCreate, 10020)                               \
  X(cuMemRelease, 10020)                              \
  X(cuMemExportToShareableHandle, 10020)              \
  X(cuMemImportFromShareableHandle, 10020)            \
  X(cuMemAddressReserve, 10020)                       \
  X(cuMemAddressFree, 10020)                          \
  X(cuMemMap, 10020)                                  \
  X(cuMemUnmap, 10020)                                \
  X(cuMemSetAccess, 10020)

// Member names go through cuda.h's macros (cuMemAlloc -> cuMemAlloc_v2) exactly like call sites do,
// so `driver().cuMemAlloc(...)` names the member declared here.
struct Driver {
  std::string path;        // what was dlopen'ed
  int version = 0;         // cuDriverGetVersion: 13000 for CUDA 13.0
#define WEFT_DRIVER_MEMBER(name, ver) PFN_##name##_v##ver name = nullptr;
  WEFT_DRIVER_ENTRY_POINTS(WEFT_DRIVER_MEMBER)
#undef WEFT_DRIVER_MEMBER
};

// The library path weft loads: $WEFT_LIBCUDA if set, else "libcuda.so.1".
std::string driver_library_path();

// The process-wide driver: loaded, resolved and cuInit'ed on first use. Throws Error every time it is
// called when the driver is missing or unusable (the message is the same each time).
const Driver& driver();

// True when driver() would succeed; otherwise false and `why` (if given) receives the message.
bool driver_available(std::string* why = nullptr);

// Loads a driver from `path` without touching the process-wide one (tests, diagnostics). Throws Error.
// The library is never unloaded: unloading libcuda during exit is a known source of crashes.
Driver load_driver(const std::string& path);

// "CUDA_ERROR_INVALID_PTX" for a result (through the driver; "CUresult <n>" if that fails).
std::string result_name(CUresult r);

// Throws Error for a failed driver call: "<call> failed: <NAME> (<description>)[: <context>]".
[[noreturn]] void throw_driver_error(CUresult r, std::string_view call, std::string_view context = {});

inline void check(CUresult r, std::string_view call, std::string_view context = {}) {
  if (r != CUDA_SUCCESS) throw_driver_error(r, call, context);
}

[[noreturn]] void throw_missing_entry(std::string_view name);

// Returns `fn`, or throws Error naming an optional entry point this driver lacks (cuFuncLoad before
// 12.4, ...).
template <class F>
F need(F fn, std::string_view name) {
  if (!fn) throw_missing_entry(name);
  return fn;
}

// "13.0" for 13000.
std::string driver_version_string(int version);

}  // namespace weft::rt
