#include "runtime/tensor_map.h"

#include "runtime/driver.h"

namespace weft::rt {

TensorMap encode_tma(const TmaDesc& d, CUdeviceptr address) {
  check_tma(d, address);
  cuuint64_t dims[5], strides[4];
  cuuint32_t box[5], estrides[5];
  for (std::uint32_t i = 0; i < d.rank; ++i) {
    dims[i] = d.global_dims[i];
    box[i] = d.box_dims[i];
    estrides[i] = d.element_strides[i];
    if (i + 1 < d.rank) strides[i] = d.global_strides_bytes[i];
  }
  // Our enums follow the driver's order (tma_desc.h), so the values convert directly.
  TensorMap map{.desc = d};
  check(need(driver().cuTensorMapEncodeTiled, "cuTensorMapEncodeTiled")(
            &map.map, static_cast<CUtensorMapDataType>(d.dtype), d.rank, reinterpret_cast<void*>(address),
            dims, strides, box, estrides, static_cast<CUtensorMapInterleave>(d.interleave),
            static_cast<CUtensorMapSwizzle>(d.swizzle), static_cast<CUtensorMapL2promotion>(d.l2_promotion),
            static_cast<CUtensorMapFloatOOBfill>(d.oob_fill)),
        "cuTensorMapEncodeTiled",
        "rank " + std::to_string(d.rank) + ", " + std::string(tma_dtype_name(d.dtype)));
  return map;
}

// The enum orders must stay those of cuda.h.
static_assert(static_cast<int>(TmaDtype::tf32_ftz) == CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ);
static_assert(static_cast<int>(TmaDtype::bf16) == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
static_assert(static_cast<int>(TmaSwizzle::b128) == CU_TENSOR_MAP_SWIZZLE_128B);
static_assert(static_cast<int>(TmaInterleave::b32) == CU_TENSOR_MAP_INTERLEAVE_32B);
static_assert(static_cast<int>(TmaL2Promotion::b256) == CU_TENSOR_MAP_L2_PROMOTION_L2_256B);
static_assert(static_cast<int>(TmaOobFill::nan_request_zero_fma) ==
              CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA);

}  // namespace weft::rt
