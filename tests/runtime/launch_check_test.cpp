// Launch argument and shape checks against the signature block (pure; no GPU).
#include <doctest/doctest.h>

#include <vector>

#include "runtime/error.h"
#include "runtime/launch_args.h"
#include "runtime/launch_check.h"
#include "runtime/tensor_map.h"
#include "tests/runtime/test_kernels.h"

using namespace weft::rt;

namespace {

template <class... Args>
void check(const weft::sig::Kernel& k, const Args&... args) {
  const std::vector<ArgInfo> infos{arg_info_of(args)...};
  check_args(k, infos);
}

struct Half {  // a user's 2-byte value type
  unsigned short bits;
};

}  // namespace

TEST_CASE("arg_info classifies C++ argument types") {
  CHECK(arg_info<float>().kind == ArgKind::scalar);
  CHECK(arg_info<float>().cls == ScalarClass::floating);
  CHECK(arg_info<int>().cls == ScalarClass::signed_int);
  CHECK(arg_info<unsigned>().type_name == "uint32");
  CHECK(arg_info<long long>().type_name == "int64");
  CHECK(arg_info<double>().type_name == "double");
  CHECK(arg_info<CUdeviceptr>().kind == ArgKind::scalar);  // an integer to C++
  CHECK(arg_info<DevicePtr<float>>().kind == ArgKind::pointer);
  CHECK(arg_info<DevicePtr<float>>().pointee_size == 4);
  CHECK(arg_info<DevicePtr<std::byte>>().pointee_size == 0);
  CHECK(arg_info<DeviceBuffer<double>>().kind == ArgKind::pointer);
  CHECK(arg_info<DeviceBuffer<double>>().pointee_size == 8);
  CHECK(arg_info<const float*>().kind == ArgKind::pointer);
  CHECK(arg_info<void*>().pointee_size == 0);
  CHECK(arg_info<TensorMap>().kind == ArgKind::bytes);
  CHECK(arg_info<TensorMap>().size == 128);
  CHECK(arg_info<Half>().kind == ArgKind::bytes);
  CHECK(param_value(DevicePtr<float>(0x1000)) == CUdeviceptr(0x1000));
}

TEST_CASE("check_args accepts matching arguments") {
  const auto k = test::saxpy_signature();
  DevicePtr<float> x(0x1000), y(0x2000);
  CHECK_NOTHROW(check(k, 1024u, 2.0f, x, y));
  CHECK_NOTHROW(check(k, 1024, 2.0f, x, y));  // int for u32: same size, both integers
  const float* raw = nullptr;
  CHECK_NOTHROW(check(k, 1024u, 2.0f, raw, y));  // raw pointers (e.g. from another library) pass
  CHECK_NOTHROW(check(test::tmap_echo_signature(), TensorMap{}, DevicePtr<std::uint64_t>(0x10)));
  CHECK_NOTHROW(check(test::tmap_echo_signature(), TensorMap{}, DevicePtr<std::byte>(0x10)));
}

TEST_CASE("ArgList: arguments assembled at run time keep their values and are checked alike") {
  const auto k = test::saxpy_signature();
  DevicePtr<float> x(0x1000);
  DeviceBuffer<float> none;  // an empty buffer is a null pointer, still a pointer argument
  ArgList args;
  args.push(1024u).push(2.0f).push(x);
  CHECK_THROWS_WITH_AS(check_args(k, args.infos()), "kernel 'saxpy' takes 4 arguments (n, a, x, y), the launch passes 3",
                       Error);
  args.push(none);
  CHECK_NOTHROW(check_args(k, args.infos()));
  REQUIRE(args.size() == 4);
  auto p = args.pointers();
  REQUIRE(p.size() == 5);
  CHECK(p[4] == nullptr);
  CHECK(*static_cast<const std::uint32_t*>(p[0]) == 1024u);
  CHECK(*static_cast<const float*>(p[1]) == 2.0f);
  CHECK(*static_cast<const CUdeviceptr*>(p[2]) == 0x1000);  // a typed pointer becomes its address
  CHECK(*static_cast<const CUdeviceptr*>(p[3]) == 0);
  ArgList wrong;
  wrong.push(1024u).push(2).push(x).push(x);
  CHECK_THROWS_WITH_AS(check_args(k, wrong.infos()), doctest::Contains("argument 2 'a'"), Error);
}

TEST_CASE("check_args names the kernel and parameter of a mismatch") {
  const auto k = test::saxpy_signature();
  DevicePtr<float> x(0x1000), y(0x2000);
  CHECK_THROWS_WITH_AS(check(k, 1024u, 2.0f, x),
                       "kernel 'saxpy' takes 4 arguments (n, a, x, y), the launch passes 3", Error);
  CHECK_THROWS_WITH_AS(check(k, 1024u, 2.0f, x, y, y),
                       "kernel 'saxpy' takes 4 arguments (n, a, x, y), the launch passes 5", Error);
  CHECK_THROWS_WITH_AS(
      check(k, 1024u, 2.0f, CUdeviceptr(0x1000), y),
      "kernel 'saxpy', argument 3 'x': the parameter is a pointer (global, f32) but the launch passes "
      "uint64 (an 8-byte scalar); pass a DevicePtr<T> or DeviceBuffer<T> (a raw CUdeviceptr is an "
      "integer to C++)",
      Error);
  CHECK_THROWS_WITH_AS(check(k, 1024u, 2, x, y),
                       doctest::Contains("argument 2 'a': the parameter is a f32 scalar (4 bytes) but the "
                                         "launch passes int32 (a 4-byte scalar); an integer for a "
                                         "floating-point parameter"),
                       Error);
  CHECK_THROWS_WITH_AS(check(k, 1024ull, 2.0f, x, y),
                       doctest::Contains("argument 1 'n': the parameter is a u32 scalar (4 bytes) but the "
                                         "launch passes uint64 (an 8-byte scalar); the sizes differ"),
                       Error);
  CHECK_THROWS_WITH_AS(check(k, 1024u, 2.0, x, y),
                       doctest::Contains("argument 2 'a'"), Error);  // double for f32: size
  CHECK_THROWS_WITH_AS(check(k, 1.0f, 2.0f, x, y),
                       doctest::Contains("a floating-point value for an integer parameter"), Error);
  CHECK_THROWS_WITH_AS(check(k, x, 2.0f, x, y),
                       doctest::Contains("argument 1 'n': the parameter is a u32 scalar"), Error);
  CHECK_THROWS_WITH_AS(check(k, 1024u, 2.0f, DevicePtr<double>(0x10), y),
                       doctest::Contains("argument 3 'x': the parameter is a pointer (global, f32) but the launch passes DevicePtr<8-byte elements> (a pointer) whose elements are 8 bytes, not 4"),
                       Error);
  const auto t = test::tmap_echo_signature();
  CHECK_THROWS_WITH_AS(check(t, Half{}, DevicePtr<std::uint64_t>(0x10)),
                       doctest::Contains("argument 1 'tmap': the parameter is a 128-byte value (passed by value, e.g. a tensor map) but the launch passes 2-byte struct (a 2-byte value); the sizes differ"), Error);
  CHECK_THROWS_WITH_AS(check(t, DevicePtr<std::uint64_t>(0x10), DevicePtr<std::uint64_t>(0x10)),
                       doctest::Contains("argument 1 'tmap'"), Error);
}

TEST_CASE("check_args: a tensor map must have the box the kernel's copies expect") {
  // The parameter as tma_param declares it: bf16 boxes of 64 x 128, 128-byte swizzle.
  auto k = test::tmap_echo_signature();
  auto want = TmaDesc::packed(TmaDtype::bf16, {4096, 4096}, {64, 128});
  want.swizzle = TmaSwizzle::b128;
  k.params[0].tma_box = tma_box_key(want);
  CHECK(k.params[0].tma_box == "bf16:64x128:128B");
  const DevicePtr<std::uint64_t> out(0x10);
  CHECK_NOTHROW(check(k, TensorMap{.desc = want}, out));
  auto half_box = want;  // what a host that missed a kernel option's smaller A box would pass
  half_box.box_dims[1] = 64;
  CHECK_THROWS_WITH_AS(check(k, TensorMap{.desc = half_box}, out),
                       doctest::Contains("argument 1 'tmap': the parameter is a tensor map for boxes bf16:64x128:128B "
                                         "but the launch passes TensorMap (a 128-byte value) encoded for boxes "
                                         "bf16:64x64:128B (element type:box, innermost dimension first:swizzle); "
                                         "its copies would bring another layout or byte count than the kernel "
                                         "expects"),
                       Error);
  auto unswizzled = want;
  unswizzled.swizzle = TmaSwizzle::none;
  CHECK_THROWS_WITH_AS(check(k, TensorMap{.desc = unswizzled}, out), doctest::Contains("bf16:64x128:none"), Error);
  auto other_type = want;
  other_type.dtype = TmaDtype::u16;
  CHECK_THROWS_WITH_AS(check(k, TensorMap{.desc = other_type}, out), doctest::Contains("u16:64x128:128B"), Error);
  // Where either side does not know the box, nothing is compared: a bare CUtensorMap (from another
  // library), a TensorMap without a description, a parameter of a signature without boxes.
  CHECK_NOTHROW(check(k, CUtensorMap{}, out));
  CHECK_NOTHROW(check(k, TensorMap{}, out));
  CHECK_NOTHROW(check(test::tmap_echo_signature(), TensorMap{.desc = half_box}, out));
  // ArgList keeps the box too.
  ArgList args;
  args.push(TensorMap{.desc = half_box}).push(out);
  CHECK_THROWS_WITH_AS(check_args(k, args.infos()), doctest::Contains("encoded for boxes bf16:64x64:128B"), Error);
}

TEST_CASE("check_args: value types of the right size pass for scalar parameters") {
  weft::sig::Kernel k;
  k.name = "h";
  k.params = {test::scalar("h", "f16", 2), test::scalar("b", "b32", 4)};
  CHECK_NOTHROW(check(k, Half{}, 1.0f));       // b32 takes any 4 bytes
  CHECK_NOTHROW(check(k, std::uint16_t{0}, 7));  // f16 bits as a 16-bit integer (no C++ half type)
}

TEST_CASE("check_launch enforces .reqntid, .maxntid, clusters and shared memory") {
  const LaunchLimits h100{1024, 227 * 1024, true};
  LaunchConfig c;
  c.grid = {64};
  c.block = {256};
  CHECK_NOTHROW(check_launch(test::saxpy_signature(), c, h100));
  c.block = {512};
  CHECK_THROWS_WITH_AS(check_launch(test::saxpy_signature(), c, h100),
                       "kernel 'saxpy': it allows at most 256 threads per block (.maxntid 256x1x1) but the "
                       "launch uses 512x1x1",
                       Error);
  c.block = {2048};
  CHECK_THROWS_WITH_AS(check_launch(test::saxpy_signature(), c, h100),
                       doctest::Contains("has 2048 threads; the device allows 1024"), Error);
  c.block = {64};
  CHECK_THROWS_WITH_AS(check_launch(test::smem_echo_signature(), c, h100),
                       "kernel 'smem_echo': it requires a block of 128x1x1 (.reqntid) but the launch uses "
                       "64x1x1",
                       Error);
  c.block = {128};
  auto r = check_launch(test::smem_echo_signature(), c, h100);
  CHECK(r.dynamic_smem == 96 * 1024);  // the signature's default
  CHECK(r.needs_smem_optin);
  c.dynamic_smem = 300 * 1024;
  CHECK_THROWS_WITH_AS(check_launch(test::smem_echo_signature(), c, h100),
                       doctest::Contains("needs 307200 bytes of shared memory per block (307200 dynamic + 0 "
                                         "static); the device allows at most 232448"),
                       Error);
  c.dynamic_smem = 1024;
  r = check_launch(test::smem_echo_signature(), c, h100);
  CHECK(r.dynamic_smem == 1024);
  CHECK_FALSE(r.needs_smem_optin);

  c.grid = {0};
  CHECK_THROWS_WITH_AS(check_launch(test::smem_echo_signature(), c, h100),
                       doctest::Contains("the grid 0x1x1 is empty"), Error);
}

TEST_CASE("check_launch: clusters") {
  const LaunchLimits h100{1024, 227 * 1024, true};
  weft::sig::Kernel k;
  k.name = "clustered";
  LaunchConfig c;
  c.grid = {8};
  c.block = {128};
  c.cluster = {2};
  auto r = check_launch(k, c, h100);
  CHECK(r.set_cluster_attribute);
  CHECK(r.cluster == Dim3{2});
  c.grid = {7};
  CHECK_THROWS_WITH_AS(check_launch(k, c, h100),
                       doctest::Contains("the grid 7x1x1 is not a multiple of the cluster 2x1x1"), Error);
  c.grid = {32};
  c.cluster = {16};
  CHECK_THROWS_WITH_AS(check_launch(k, c, h100), doctest::Contains("above the portable maximum of 8"), Error);
  c.cluster = {2};
  CHECK_THROWS_WITH_AS(check_launch(k, c, LaunchLimits{1024, 0, false}),
                       doctest::Contains("does not support thread block clusters"), Error);

  k.cluster = {4, 1, 1};  // compiled in (.reqnctapercluster)
  c.cluster = {};
  r = check_launch(k, c, h100);
  CHECK_FALSE(r.set_cluster_attribute);
  CHECK(r.cluster == Dim3{4});
  c.cluster = {4};
  CHECK_NOTHROW(check_launch(k, c, h100));
  c.cluster = {2};
  CHECK_THROWS_WITH_AS(check_launch(k, c, h100),
                       doctest::Contains("its cluster shape is compiled in as 4x1x1 but the launch asks for "
                                         "2x1x1"),
                       Error);
}
