#include "tools/emudevice/tensor_map.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "runtime/tma_desc.h"

namespace weft::emu {
namespace {

constexpr std::uint32_t kMagic = 0x504D5457;  // "WTMP", tma.TMAP_MAGIC

// The element size and swizzle span by the runtime's TMA tables (runtime/tma_desc.h, whose enums carry
// the driver's values); 0 / -1 for a value outside them.
int element_bytes(CUtensorMapDataType t) {
  return t <= CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ ? static_cast<int>(rt::tma_dtype_bytes(static_cast<rt::TmaDtype>(t))) : 0;
}

int swizzle_bytes(CUtensorMapSwizzle s) {
  return s <= CU_TENSOR_MAP_SWIZZLE_128B ? static_cast<int>(rt::tma_swizzle_bytes(static_cast<rt::TmaSwizzle>(s))) : -1;
}

CUresult unsupported(const char* what) {
  std::fprintf(stderr, "weft emulated device: cuTensorMapEncodeTiled: %s is not emulated\n", what);
  return CUDA_ERROR_NOT_SUPPORTED;
}

template <class T>
void put(unsigned char* raw, std::size_t offset, T v) {
  std::memcpy(raw + offset, &v, sizeof v);
}

}  // namespace

CUresult encode_tiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                      const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                      const cuuint32_t* element_strides, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                      CUtensorMapFloatOOBfill fill) {
  // The driver's rules (cuTensorMapEncodeTiled's documentation).
  const int esize = element_bytes(type);
  const int span = swizzle_bytes(swizzle);
  const auto base = reinterpret_cast<std::uintptr_t>(address);
  if (!map || reinterpret_cast<std::uintptr_t>(map) % 64 || rank < 1 || rank > 5 || !address || base % 16 ||
      !dims || !box || !element_strides || (rank > 1 && !strides) || esize == 0 || span < 0)
    return CUDA_ERROR_INVALID_VALUE;
  for (cuuint32_t i = 0; i < rank; ++i) {
    if (dims[i] == 0 || dims[i] > (1ull << 32) || box[i] == 0 || box[i] > 256 || element_strides[i] == 0 ||
        element_strides[i] > 8)
      return CUDA_ERROR_INVALID_VALUE;
    if (i + 1 < rank && (strides[i] % 16 || strides[i] >= (1ull << 40))) return CUDA_ERROR_INVALID_VALUE;
  }
  const std::uint64_t inner = std::uint64_t(box[0]) * esize;
  if (interleave == CU_TENSOR_MAP_INTERLEAVE_NONE && (inner % 16 || (span && inner > std::uint64_t(span))))
    return CUDA_ERROR_INVALID_VALUE;

  // What the emulator models.
  if (interleave != CU_TENSOR_MAP_INTERLEAVE_NONE) return unsupported("an interleaved layout");
  if (fill != CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) return unsupported("NaN fill of out-of-bounds elements");
  for (cuuint32_t i = 0; i < rank; ++i)
    if (element_strides[i] != 1) return unsupported("an element stride other than 1");
  if (span && inner != std::uint64_t(span)) return unsupported("an inner box narrower than its swizzle span");
  for (cuuint32_t i = 0; i < rank; ++i)
    if (dims[i] > 0xFFFFFFFFull) return unsupported("a dimension of 2^32 elements");

  auto* raw = reinterpret_cast<unsigned char*>(map);
  std::memset(raw, 0, 128);
  put<std::uint32_t>(raw, 0, kMagic);
  put<std::uint32_t>(raw, 4, rank);
  put<std::uint32_t>(raw, 8, static_cast<std::uint32_t>(esize));
  put<std::uint32_t>(raw, 12, static_cast<std::uint32_t>(span));
  put<std::uint32_t>(raw, 16, 0);  // zero fill
  put<std::uint64_t>(raw, 24, base);
  for (int i = 0; i < 5; ++i) {
    const bool used = static_cast<cuuint32_t>(i) < rank;
    put<std::uint32_t>(raw, 32 + 4 * i, used ? static_cast<std::uint32_t>(dims[i]) : 1);
    put<std::uint32_t>(raw, 88 + 4 * i, used ? box[i] : 1);
    put<std::uint32_t>(raw, 108 + 4 * i, 1);
    if (i < 4) put<std::uint64_t>(raw, 56 + 8 * i, static_cast<cuuint32_t>(i + 1) < rank ? strides[i] : 0);
  }
  return CUDA_SUCCESS;
}

}  // namespace weft::emu
