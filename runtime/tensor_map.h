// Encoding TMA descriptors (CUtensorMap) through the driver.
//
// Why through the driver table: cuTensorMapEncodeTiled is a driver entry point like any other, so a
// CPU-only build still compiles and check_tma() (tma_desc.h) runs everywhere; only the encoding
// itself needs libcuda.
#pragma once

#include <cuda.h>

#include "runtime/memory.h"
#include "runtime/tma_desc.h"

namespace weft::rt {

// An encoded tensor map and the description it was encoded from. A launch passes its 128 bytes (the
// CUtensorMap, 64-byte aligned) by value to a kernel's tensor-map parameter, and first compares the
// description's box with the one the kernel's copies expect (launch_check.h). A bare CUtensorMap may
// be passed too; its box is then not checked. Only `map` has the device's layout: a tensor map stored
// in device memory (an array of maps) is an array of CUtensorMap, not of TensorMap.
struct TensorMap {
  CUtensorMap map{};
  TmaDesc desc{};  // what `map` encodes; box_dims zero: unknown
};
static_assert(sizeof(CUtensorMap) == 128 && alignof(CUtensorMap) >= 64);

// Checks `d` (check_tma) and encodes it for the tensor at `global_address`. Throws Error.
TensorMap encode_tma(const TmaDesc& d, CUdeviceptr global_address);

template <class T>
TensorMap encode_tma(const TmaDesc& d, DevicePtr<T> p) {
  return encode_tma(d, p.raw());
}

}  // namespace weft::rt
