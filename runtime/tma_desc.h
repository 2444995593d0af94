// A TMA (tensor memory accelerator) descriptor, described in plain terms, and its checks.
//
// Why a description of our own: the DSL (which emits the cp.async.bulk.tensor that uses the map and
// the mbarrier transaction bytes that must match its box) and the runtime (which encodes the map with
// cuTensorMapEncodeTiled) must agree on one description. This header is standard-library only so the
// DSL can use it without cuda.h, and check_tma() reports a bad description with a sentence instead of
// the driver's bare CUDA_ERROR_INVALID_VALUE. The rules are those cuda.h documents for
// cuTensorMapEncodeTiled.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace weft::rt {

// Element types, in the order of CUtensorMapDataType (the values are the driver's enum values).
enum class TmaDtype : std::uint8_t {
  u8, u16, u32, s32, u64, s64, f16, f32, f64, bf16, f32_ftz, tf32, tf32_ftz,
};
enum class TmaSwizzle : std::uint8_t { none, b32, b64, b128 };
enum class TmaInterleave : std::uint8_t { none, b16, b32 };
enum class TmaL2Promotion : std::uint8_t { none, b64, b128, b256 };
enum class TmaOobFill : std::uint8_t { zero, nan_request_zero_fma };

std::uint32_t tma_dtype_bytes(TmaDtype t);
std::string_view tma_dtype_name(TmaDtype t);
bool tma_dtype_is_float(TmaDtype t);
std::uint32_t tma_swizzle_bytes(TmaSwizzle s);  // 0 for none

// Dimension 0 is the innermost (contiguous) one, as in the driver's API.
struct TmaDesc {
  TmaDtype dtype = TmaDtype::f32;
  std::uint32_t rank = 2;                               // 1..5
  std::array<std::uint64_t, 5> global_dims{};           // elements, per dimension
  std::array<std::uint64_t, 4> global_strides_bytes{};  // bytes, for dimensions 1..rank-1
  std::array<std::uint32_t, 5> box_dims{};              // elements copied per dimension (<= 256)
  std::array<std::uint32_t, 5> element_strides{1, 1, 1, 1, 1};  // 1..8
  TmaSwizzle swizzle = TmaSwizzle::none;
  TmaInterleave interleave = TmaInterleave::none;
  TmaL2Promotion l2_promotion = TmaL2Promotion::none;
  TmaOobFill oob_fill = TmaOobFill::zero;

  // Bytes one box moves (what an mbarrier's expect_tx must count for one copy).
  std::uint64_t box_bytes() const;
  // A row-major tensor: dims innermost first, rows packed (stride of dim i = product of dims below).
  static TmaDesc packed(TmaDtype dtype, std::initializer_list<std::uint64_t> dims,
                        std::initializer_list<std::uint32_t> box);
  // Sets rank, global_dims and packed strides from `dims` (innermost first, 1 to 5 of them).
  void set_packed_shape(std::span<const std::uint64_t> dims);
};

// What a kernel's copies through a tensor map depend on: element type, box (innermost dimension
// first) and swizzle, as "bf16:64x128:128B" ("none" without swizzle), then element strides
// (":estride1x2") and interleave (":interleave32B") where they are not the defaults. A kernel's signature records it
// for each tensor-map parameter, and a launch compares it with the map's own (launch_check.h): a map
// of another box brings other bytes than the kernel's barriers wait for. Empty for a description
// without a box (a default TmaDesc).
std::string tma_box_key(const TmaDesc& d);
// The description a key names (element type, rank, box, swizzle, element strides, interleave; no
// global shape), or nullopt for text that is not such a key. tma_box_key(*parse_tma_box_key(k)) == k.
std::optional<TmaDesc> parse_tma_box_key(std::string_view key);

// Throws weft::rt::Error with a sentence naming the offending field and dimension when the description
// (with the tensor's base address) breaks a rule of cuTensorMapEncodeTiled.
void check_tma(const TmaDesc& d, std::uint64_t global_address);

}  // namespace weft::rt
