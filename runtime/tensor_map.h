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

// A 128-byte tensor map (64-byte aligned at least): pass it by value as a kernel's `bytes 128 64` parameter.
using TensorMap = CUtensorMap;
static_assert(sizeof(TensorMap) == 128 && alignof(TensorMap) >= 64);

// Checks `d` (check_tma) and encodes it for the tensor at `global_address`. Throws Error.
TensorMap encode_tma(const TmaDesc& d, CUdeviceptr global_address);

template <class T>
TensorMap encode_tma(const TmaDesc& d, DevicePtr<T> p) {
  return encode_tma(d, p.raw());
}

}  // namespace weft::rt
