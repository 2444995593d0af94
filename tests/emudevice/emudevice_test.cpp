// The emulated device's own parts, without running a kernel: the PTX scan that sizes launch
// arguments and allocates module globals, the tensor-map encoder's argument rules, and the arena's
// allocation rules (gaps between allocations, so that an overrun faults).
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "tools/emudevice/arena.h"
#include "tools/emudevice/ptx_module.h"
#include "tools/emudevice/tensor_map.h"

using namespace weft::emu;

TEST_CASE("scan_ptx: targets, parameters, directives and module globals") {
  const std::string ptx = R"(
.version 8.0
.target sm_90a
.address_size 64
// .global .b8 commented_out[4];
.visible .global .align 8 .b8 weft_debug_wait[8];
.global .align 4 .u32 counters[3][2];
.visible .entry k(
	.param .u32 n,
	.param .u64 .ptr .global .align 16 p,
	.param .align 64 .b8 tmap[128],
	.param .f32 alpha
)
.maxntid 384, 1, 1
.reqnctapercluster 2, 1, 1
{
	.shared .align 8 .b8 bar[16];
	ret;
}
.visible .entry plain(.param .u64 x) .reqntid 128 { ret; }
)";
  std::string why;
  auto m = scan_ptx(ptx, &why);
  REQUIRE_MESSAGE(m, why);
  CHECK(m->target_name == "sm_90a");
  CHECK(m->target.sm == 90);
  CHECK(m->target.variant == weft::rt::TargetVariant::arch);
  REQUIRE(m->version);
  CHECK(m->version->str() == "8.0");
  REQUIRE(m->globals.size() == 2);
  CHECK(m->globals[0].name == "weft_debug_wait");
  CHECK(m->globals[0].bytes == 8);
  CHECK(m->globals[1].bytes == 24);
  const PtxEntry* k = m->find("k");
  REQUIRE(k);
  REQUIRE(k->params.size() == 4);
  CHECK(k->params[0].bytes == 4);
  CHECK(k->params[1].name == "p");
  CHECK(k->params[1].bytes == 8);
  CHECK(k->params[2].bytes == 128);
  CHECK(k->params[3].bytes == 4);
  CHECK(k->maxntid == 384u);
  CHECK(k->cluster == 2u);
  CHECK(k->cluster_x == 2u);
  const PtxEntry* plain = m->find("plain");
  REQUIRE(plain);
  CHECK(plain->reqntid == 128u);
  CHECK_FALSE(plain->cluster);
}

TEST_CASE("scan_ptx refuses what it cannot size, and names it") {
  std::string why;
  CHECK_FALSE(scan_ptx("not ptx at all", &why));
  CHECK(why.find(".target") != std::string::npos);
  CHECK_FALSE(scan_ptx(".version 8.0\n.target sm_80\n.global .u32 g = 5;\n.entry k() { ret; }\n", &why));
  CHECK(why.find("initializer") != std::string::npos);
  CHECK_FALSE(scan_ptx(".version 8.0\n.target sm_80\n.entry k(.param .v4 x) { ret; }\n", &why));
  CHECK_FALSE(scan_ptx(".version 8.0\n.target sm_80\n", &why));
  CHECK(why.find("no .entry") != std::string::npos);
}

TEST_CASE("encode_tiled: the driver's argument rules, then the emulator's encoding") {
  alignas(64) CUtensorMap map{};
  const cuuint64_t dims[2] = {256, 100}, strides[1] = {512};
  const cuuint32_t box[2] = {64, 32}, ones[2] = {1, 1};
  void* base = reinterpret_cast<void*>(std::uintptr_t{0x20000});
  auto encode = [&](void* addr, const cuuint64_t* st, const cuuint32_t* bx, CUtensorMapSwizzle sw) {
    return encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, addr, dims, st, bx, ones,
                        CU_TENSOR_MAP_INTERLEAVE_NONE, sw, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  };
  REQUIRE(encode(base, strides, box, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_SUCCESS);
  std::uint32_t magic, rank, esize, swizzle, dim0, box1;
  std::uint64_t addr, stride0;
  const auto* raw = reinterpret_cast<const unsigned char*>(&map);
  std::memcpy(&magic, raw, 4);
  std::memcpy(&rank, raw + 4, 4);
  std::memcpy(&esize, raw + 8, 4);
  std::memcpy(&swizzle, raw + 12, 4);
  std::memcpy(&addr, raw + 24, 8);
  std::memcpy(&dim0, raw + 32, 4);
  std::memcpy(&stride0, raw + 56, 8);
  std::memcpy(&box1, raw + 92, 4);
  CHECK(magic == 0x504D5457u);
  CHECK(rank == 2);
  CHECK(esize == 2);
  CHECK(swizzle == 128);
  CHECK(addr == 0x20000);
  CHECK(dim0 == 256);
  CHECK(stride0 == 512);
  CHECK(box1 == 32);

  const cuuint64_t odd_stride[1] = {520};
  const cuuint32_t wide_box[2] = {128, 32}, narrow_box[2] = {32, 32};
  CHECK(encode(reinterpret_cast<void*>(std::uintptr_t{0x20008}), strides, box, CU_TENSOR_MAP_SWIZZLE_128B) ==
        CUDA_ERROR_INVALID_VALUE);  // base not on 16 bytes
  CHECK(encode(base, odd_stride, box, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_ERROR_INVALID_VALUE);
  CHECK(encode(base, strides, wide_box, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_ERROR_INVALID_VALUE);  // 256 B > span
  CHECK(encode(base, strides, narrow_box, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_ERROR_NOT_SUPPORTED);  // not emulated
  CHECK(encode(base, strides, narrow_box, CU_TENSOR_MAP_SWIZZLE_NONE) == CUDA_SUCCESS);
}

TEST_CASE("arena: allocations are zeroed, separated by a gap, found by range, reused after release") {
  const auto dir = std::filesystem::temp_directory_path() / "weft-emu-arena-test";
  std::filesystem::create_directories(dir);
  {
    Arena a(dir.string(), 1 << 24);
    auto x = a.allocate(1000, "x");
    auto y = a.allocate(64, "y");
    REQUIRE(x);
    REQUIRE(y);
    CHECK(*x % 256 == 0);
    CHECK(*y >= *x + 1000 + 256);  // an overrun of x lands in no allocation
    CHECK(a.find(*x + 999));
    CHECK_FALSE(a.find(*x + 1000));
    CHECK_FALSE(a.find(*x + 990, 16));
    CHECK(static_cast<unsigned char>(*a.host(*x + 5)) == 0);
    CHECK(a.address_of(a.host(*y)) == *y);
    CHECK(a.release(*x));
    CHECK_FALSE(a.release(*x));
    auto z = a.allocate(512, "z");
    REQUIRE(z);
    CHECK(*z == *x);  // first fit
    CHECK_FALSE(a.allocate(1 << 25, "too big"));
  }
  std::filesystem::remove_all(dir);
}
