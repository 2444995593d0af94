// Tensor-map description checks (pure; the encoding itself needs a driver and is a GPU test).
#include <doctest/doctest.h>

#include "runtime/error.h"
#include "runtime/tma_desc.h"

using namespace weft::rt;

namespace {
constexpr std::uint64_t kBase = 0x7f0000000000;  // 16-byte (and 32-byte) aligned
}

TEST_CASE("a packed 2D bf16 tile with a 128-byte swizzle is valid") {
  auto d = TmaDesc::packed(TmaDtype::bf16, {4096, 4096}, {64, 128});
  d.swizzle = TmaSwizzle::b128;
  CHECK(d.rank == 2);
  CHECK(d.global_strides_bytes[0] == 4096 * 2);
  CHECK(d.box_bytes() == 64 * 128 * 2);
  CHECK_NOTHROW(check_tma(d, kBase));
  auto e = TmaDesc::packed(TmaDtype::f32, {10, 20, 30, 40, 50}, {4, 1, 1, 1, 1});
  CHECK(e.global_strides_bytes[3] == 4ull * 10 * 20 * 30 * 40);
  // 10 x f32 rows are 40 bytes: not a multiple of 16.
  CHECK_THROWS_WITH_AS(check_tma(e, kBase), doctest::Contains("stride of dimension 1 (40 bytes)"), Error);
}

TEST_CASE("check_tma: base address and strides") {
  auto d = TmaDesc::packed(TmaDtype::f32, {256, 256}, {32, 32});
  CHECK_THROWS_WITH_AS(check_tma(d, kBase + 8),
                       "tensor map: the global address 0x7f0000000008 is not 16-byte aligned", Error);
  CHECK_THROWS_WITH_AS(check_tma(d, 0), "tensor map: the global address is null", Error);
  d.global_strides_bytes[0] = 1000;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase),
                       "tensor map: stride of dimension 1 (1000 bytes) is not a nonzero multiple of 16 "
                       "(strides are in bytes)",
                       Error);
  d.global_strides_bytes[0] = 256;  // elements, not bytes: a common slip
  CHECK_THROWS_WITH_AS(check_tma(d, kBase),
                       "tensor map: stride of dimension 1 (256 bytes) is smaller than the 1024 bytes that "
                       "dimension 0 spans (strides are in bytes, not elements)",
                       Error);
  d.global_strides_bytes[0] = 1ull << 40;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), doctest::Contains("is not below 2^40"), Error);
  d.global_strides_bytes[0] = 2048;  // padded rows are fine
  CHECK_NOTHROW(check_tma(d, kBase));
}

TEST_CASE("check_tma: rank, dims, box and element strides") {
  auto d = TmaDesc::packed(TmaDtype::f16, {128, 64, 8}, {64, 16, 2});
  CHECK_NOTHROW(check_tma(d, kBase));
  d.rank = 0;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: rank 0 is outside 1..5", Error);
  d.rank = 6;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: rank 6 is outside 1..5", Error);
  d.rank = 3;
  d.box_dims[1] = 257;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: dimension 1: box size 257 is outside 1..256", Error);
  d.box_dims[1] = 0;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: dimension 1: box size 0 is outside 1..256", Error);
  d.box_dims[1] = 16;
  d.global_dims[2] = 0;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: dimension 2: global size 0 is outside 1..2^32", Error);
  d.global_dims[2] = (1ull << 32) + 1;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), doctest::Contains("outside 1..2^32"), Error);
  d.global_dims[2] = 8;
  d.element_strides[2] = 9;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: dimension 2: element stride 9 is outside 1..8", Error);
  d.element_strides[2] = 2;
  CHECK(d.box_bytes() == 64 * 2 * 16 * 1);  // ceil(2 / 2) = 1 along dimension 2
  d.box_dims[0] = 4;  // 4 x f16 = 8 bytes
  CHECK_THROWS_WITH_AS(check_tma(d, kBase),
                       "tensor map: the box's inner extent is 8 bytes (4 x f16); it must be a multiple of 16 "
                       "bytes",
                       Error);
}

TEST_CASE("check_tma: swizzle span vs the box's inner extent") {
  auto d = TmaDesc::packed(TmaDtype::f32, {1024, 1024}, {32, 64});  // 128-byte rows in the box
  d.swizzle = TmaSwizzle::b128;
  CHECK_NOTHROW(check_tma(d, kBase));
  d.swizzle = TmaSwizzle::b64;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase),
                       "tensor map: the box's inner extent is 128 bytes, wider than the 64-byte swizzle span "
                       "(use at most 16 f32 elements, or a wider swizzle)",
                       Error);
  d.swizzle = TmaSwizzle::b32;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), doctest::Contains("32-byte swizzle span"), Error);
  d.box_dims[0] = 8;
  CHECK_NOTHROW(check_tma(d, kBase));
  d.swizzle = TmaSwizzle::none;
  d.box_dims[0] = 256;
  CHECK_NOTHROW(check_tma(d, kBase));  // no swizzle: any multiple of 16 bytes up to 256 elements
}

TEST_CASE("check_tma: interleave and out-of-bounds fill") {
  auto d = TmaDesc::packed(TmaDtype::f16, {64, 64}, {16, 16});
  d.interleave = TmaInterleave::b16;
  CHECK_THROWS_WITH_AS(check_tma(d, kBase), "tensor map: an interleaved layout needs rank 3 or more (rank is 2)",
                       Error);
  auto e = TmaDesc::packed(TmaDtype::f16, {64, 64, 4}, {16, 16, 2});
  e.interleave = TmaInterleave::b32;
  e.swizzle = TmaSwizzle::b64;
  CHECK_THROWS_WITH_AS(check_tma(e, kBase), "tensor map: a 32-byte interleaved layout needs the 32-byte swizzle",
                       Error);
  e.swizzle = TmaSwizzle::b32;
  CHECK_NOTHROW(check_tma(e, kBase));
  CHECK_THROWS_WITH_AS(check_tma(e, kBase + 16), doctest::Contains("is not 32-byte aligned"), Error);

  auto f = TmaDesc::packed(TmaDtype::s32, {64, 64}, {16, 16});
  f.oob_fill = TmaOobFill::nan_request_zero_fma;
  CHECK_THROWS_WITH_AS(check_tma(f, kBase),
                       "tensor map: the NaN out-of-bounds fill needs a floating-point element type (got s32)",
                       Error);
  f.dtype = TmaDtype::f32;
  CHECK_NOTHROW(check_tma(f, kBase));
}

TEST_CASE("TmaDesc::packed rejects mismatched shapes") {
  CHECK_THROWS_AS(TmaDesc::packed(TmaDtype::f32, {1, 2, 3}, {1, 2}), Error);
  CHECK_THROWS_AS(TmaDesc::packed(TmaDtype::f32, {1, 2, 3, 4, 5, 6}, {1, 1, 1, 1, 1, 1}), Error);
}

TEST_CASE("element types: sizes and names") {
  CHECK(tma_dtype_bytes(TmaDtype::u8) == 1);
  CHECK(tma_dtype_bytes(TmaDtype::bf16) == 2);
  CHECK(tma_dtype_bytes(TmaDtype::tf32) == 4);
  CHECK(tma_dtype_bytes(TmaDtype::f64) == 8);
  CHECK(tma_dtype_name(TmaDtype::f32_ftz) == "f32_ftz");
  CHECK(tma_dtype_is_float(TmaDtype::tf32));
  CHECK_FALSE(tma_dtype_is_float(TmaDtype::u64));
  CHECK(tma_swizzle_bytes(TmaSwizzle::b64) == 64);
}

TEST_CASE("tma_box_key names what a box moves: type, box, swizzle, and strides or interleave where set") {
  auto d = TmaDesc::packed(TmaDtype::bf16, {4096, 4096}, {64, 128});
  d.swizzle = TmaSwizzle::b128;
  CHECK(tma_box_key(d) == "bf16:64x128:128B");
  d.swizzle = TmaSwizzle::none;
  CHECK(tma_box_key(d) == "bf16:64x128:none");
  d.element_strides[1] = 2;  // every other row: half the rows per box
  CHECK(tma_box_key(d) == "bf16:64x128:none:estride1x2");
  auto i = TmaDesc::packed(TmaDtype::f32, {8, 64, 64}, {8, 16, 4});
  i.interleave = TmaInterleave::b32;
  CHECK(tma_box_key(i) == "f32:8x16x4:none:interleave32B");
  CHECK(tma_box_key(TmaDesc{}).empty());  // no box: nothing to compare
}

TEST_CASE("parse_tma_box_key reads back what tma_box_key writes, and nothing else") {
  for (const char* key : {"bf16:64x128:128B", "u8:128x64:128B", "f32:64x64:none", "f32:32x8:32B",
                          "bf16:64x128:none:estride1x2", "f32:8x16x4:none:interleave32B", "u16:16:64B"}) {
    INFO(key);
    const auto d = parse_tma_box_key(key);
    REQUIRE(d);
    CHECK(tma_box_key(*d) == key);
  }
  const auto d = *parse_tma_box_key("bf16:64x128:128B");
  CHECK(d.dtype == TmaDtype::bf16);
  CHECK(d.rank == 2);
  CHECK(d.box_dims[0] == 64);
  CHECK(d.box_dims[1] == 128);
  CHECK(d.swizzle == TmaSwizzle::b128);
  for (const char* bad : {"", "bf16", "bf16:64x128", "bf17:64x128:128B", "bf16:64x0:128B", "bf16:64x257:128B",
                          "bf16:64xx128:128B", "bf16:64x128:16B", "bf16:64x128:128B:estride1", "bf16:64x128:128B:zz",
                          "bf16:1x1x1x1x1x1:none", "bf16:64x128:128B:estride1x1", "bf16:064x128:128B"}) {
    INFO(bad);
    CHECK_FALSE(parse_tma_box_key(bad));
  }
}
