// The emulated device's own parts, without running a kernel: the PTX scan that sizes launch
// arguments and allocates module globals, the tensor-map encoder's argument rules, and the arena's
// allocation rules (gaps between allocations, so that an overrun faults), and virtual memory
// management (two arenas standing for two processes sharing one exported allocation).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "tools/emudevice/arena.h"
#include "tools/emudevice/ptx_module.h"
#include "tools/emudevice/tensor_map.h"
#include "tools/emudevice/vmm.h"

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

TEST_CASE("scan_ptx: initialized globals (libdevice's tables) become their little-endian bytes") {
  std::string why;
  auto m = scan_ptx(R"(.version 8.0
.target sm_80
.global .align 4 .b8 table[6] = {65, 144,
    0x43, 255};
.global .s32 minus = -2;
.global .f32 f[2] = {0f3F800000, 2.5};
.global .f64 d = 0d4000000000000000;
.entry k() { ret; }
)",
                    &why);
  REQUIRE_MESSAGE(m, why);
  REQUIRE(m->globals.size() == 4);
  CHECK(m->globals[0].bytes == 6);
  CHECK(m->globals[0].init == std::vector<unsigned char>{65, 144, 0x43, 255});  // the rest is zero-filled
  CHECK(m->globals[1].init == std::vector<unsigned char>{0xfe, 0xff, 0xff, 0xff});
  CHECK(m->globals[2].init == std::vector<unsigned char>{0, 0, 0x80, 0x3f, 0, 0, 0x20, 0x40});
  CHECK(m->globals[3].init == std::vector<unsigned char>{0, 0, 0, 0, 0, 0, 0, 0x40});
}

TEST_CASE("scan_ptx refuses what it cannot size, and names it") {
  std::string why;
  CHECK_FALSE(scan_ptx("not ptx at all", &why));
  CHECK(why.find(".target") != std::string::npos);
  CHECK_FALSE(scan_ptx(".version 8.0\n.target sm_80\n.global .u64 g = generic(h);\n.entry k() { ret; }\n", &why));
  CHECK(why.find("initializer value 'generic(h)'") != std::string::npos);
  CHECK_FALSE(scan_ptx(".version 8.0\n.target sm_80\n.global .u8 g[2] = {1, 2, 3};\n.entry k() { ret; }\n", &why));
  CHECK(why.find("longer than the variable") != std::string::npos);
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

namespace {
CUmemAllocationProp fd_prop() {
  CUmemAllocationProp p{};
  p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  p.location.id = 0;
  p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  return p;
}
}  // namespace

// Two arenas stand for two processes' devices: what one exports, the other imports and maps, and the
// bytes are shared through the host mappings that the copies and the emulator use.
TEST_CASE("virtual memory: create, export, import, reserve, map, set access; the inverses; bad calls") {
  const auto dir = std::filesystem::temp_directory_path() / "weft-emu-vmm-test";
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  {
    Arena arena_a((dir / "a").string(), 1 << 24), arena_b((dir / "b").string(), 1 << 24);
    VirtualMemory a(arena_a), b(arena_b);
    const CUmemAllocationProp prop = fd_prop();
    constexpr std::size_t kG = VirtualMemory::kGranularity;
    std::size_t gran = 0;
    CHECK(a.granularity(&gran, &prop) == CUDA_SUCCESS);
    CHECK(gran == kG);
    CUmemAllocationProp host_prop = prop;
    host_prop.location.type = CU_MEM_LOCATION_TYPE_HOST;
    CHECK(a.granularity(&gran, &host_prop) == CUDA_ERROR_INVALID_VALUE);

    CUmemGenericAllocationHandle h = 0;
    CHECK(a.create(&h, kG + 4096, &prop, 0) == CUDA_ERROR_INVALID_VALUE);  // not a multiple of the granularity
    REQUIRE(a.create(&h, 2 * kG, &prop, 0) == CUDA_SUCCESS);
    CHECK(a.created_bytes() == 2 * kG);
    int fd = -1;
    REQUIRE(a.export_fd(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) == CUDA_SUCCESS);
    CUmemGenericAllocationHandle imported = 0;
    REQUIRE(b.import_fd(&imported, fd, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) == CUDA_SUCCESS);
    ::close(fd);  // the importer keeps its own descriptor
    CHECK(b.created_bytes() == 0);
    int again = -1;  // an imported handle is not exported again, and nor is one created without the fd type
    CHECK(b.export_fd(&again, imported, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) == CUDA_ERROR_INVALID_VALUE);
    CUmemAllocationProp private_prop = prop;
    private_prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_NONE;
    CUmemGenericAllocationHandle private_h = 0;
    REQUIRE(a.create(&private_h, kG, &private_prop, 0) == CUDA_SUCCESS);
    CHECK(a.export_fd(&again, private_h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) == CUDA_ERROR_INVALID_VALUE);
    CHECK(a.release(private_h) == CUDA_SUCCESS);

    // Map on both sides; no access until cuMemSetAccess.
    CUdeviceptr va = 0, vb = 0;
    REQUIRE(a.reserve(&va, 2 * kG, 0, 0) == CUDA_SUCCESS);
    REQUIRE(b.reserve(&vb, 2 * kG, kG, 0) == CUDA_SUCCESS);
    CHECK(va >= arena_a.virtual_begin());
    CHECK(va % kG == 0);
    CHECK(a.map(va, kG, 0, h) == CUDA_ERROR_INVALID_VALUE);  // part of the allocation: not modelled
    CUdeviceptr huge = 0;
    CHECK(a.reserve(&huge, ~std::size_t{0} / kG * kG, 0, 0) == CUDA_ERROR_OUT_OF_MEMORY);
    CUdeviceptr wide = 0;  // 4 granules: a mapping off the granularity inside it is refused
    REQUIRE(a.reserve(&wide, 4 * kG, 0, 0) == CUDA_SUCCESS);
    CHECK(wide >= va + 2 * kG + kG);  // a free granule between reservations
    CHECK(a.map(wide + 4096, 2 * kG, 0, h) == CUDA_ERROR_INVALID_VALUE);
    CHECK(a.free(wide, 4 * kG) == CUDA_SUCCESS);
    REQUIRE(a.map(va, 2 * kG, 0, h) == CUDA_SUCCESS);
    REQUIRE(b.map(vb, 2 * kG, 0, imported) == CUDA_SUCCESS);
    CHECK(b.map(vb, 2 * kG, 0, imported) == CUDA_ERROR_INVALID_VALUE);  // already mapped there
    CHECK_FALSE(a.accessible(va, 4));
    CUmemAccessDesc rw{};
    rw.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    rw.location.id = 0;
    rw.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    CHECK(a.set_access(va, kG, &rw, 1) == CUDA_ERROR_INVALID_VALUE);  // half a mapping
    CUmemAccessDesc other_device = rw;
    other_device.location.id = 1;
    CHECK(a.set_access(va, 2 * kG, &other_device, 1) == CUDA_ERROR_INVALID_DEVICE);
    REQUIRE(a.set_access(va, 2 * kG, &rw, 1) == CUDA_SUCCESS);
    REQUIRE(b.set_access(vb, 2 * kG, &rw, 1) == CUDA_SUCCESS);
    CHECK(a.accessible(va + 2 * kG - 4, 4));
    CHECK_FALSE(a.accessible(va + 2 * kG - 4, 8));  // past the end

    // One memory: a write through either host mapping is seen through the other.
    std::memcpy(arena_a.host(va + 100), "weft", 4);
    CHECK(std::memcmp(arena_b.host(vb + 100), "weft", 4) == 0);
    std::memcpy(arena_b.host(vb + kG), "vmm!", 4);
    CHECK(std::memcmp(arena_a.host(va + kG), "vmm!", 4) == 0);

    // The launch request's view: /proc path and heartbeat offset; heartbeats are seen by both.
    const auto ma = a.launch_mappings();
    REQUIRE(ma.size() == 1);
    CHECK(ma[0].va == va);
    CHECK(ma[0].bytes == 2 * kG);
    CHECK(ma[0].path.rfind("/proc/", 0) == 0);
    CHECK(ma[0].heartbeat_offset == 2 * kG + 16);
    const auto read_beat = [&](const LaunchMapping& m) {
      std::uint64_t v = 0;
      const int f = ::open(m.path.c_str(), O_RDONLY);
      REQUIRE(f >= 0);
      REQUIRE(::pread(f, &v, 8, static_cast<off_t>(m.heartbeat_offset)) == 8);
      ::close(f);
      return v;
    };
    const std::uint64_t before = read_beat(ma[0]);
    b.heartbeat();
    CHECK(read_beat(ma[0]) == before + 1);

    // A descriptor that is not exported device memory is refused.
    const int other = ::open((dir / "a" / "memory.bin").c_str(), O_RDONLY);
    CUmemGenericAllocationHandle bogus = 0;
    CHECK(b.import_fd(&bogus, other, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) == CUDA_ERROR_INVALID_VALUE);
    ::close(other);

    // Teardown in the Ipc heap's order; a reservation with a mapping in it cannot be freed.
    CHECK(a.free(va, 2 * kG) == CUDA_ERROR_INVALID_VALUE);
    CHECK(a.unmap(va, 2 * kG) == CUDA_SUCCESS);
    CHECK_FALSE(a.accessible(va, 4));
    CHECK(a.free(va, 2 * kG) == CUDA_SUCCESS);
    CHECK(a.release(h) == CUDA_SUCCESS);
    CHECK(a.release(h) == CUDA_ERROR_INVALID_VALUE);
    CHECK(a.created_bytes() == 0);
    // The other process still maps the memory and sees its bytes.
    CHECK(std::memcmp(arena_b.host(vb + 100), "weft", 4) == 0);
    CHECK(b.release(imported) == CUDA_SUCCESS);  // goes with the last mapping
    CHECK(std::memcmp(arena_b.host(vb + 100), "weft", 4) == 0);
    CHECK(b.unmap(vb, 2 * kG) == CUDA_SUCCESS);
    CHECK(b.free(vb, 2 * kG) == CUDA_SUCCESS);
  }
  std::filesystem::remove_all(dir);
}
