// Without a driver every runtime call throws weft::rt::Error with the same clear message, and nothing
// crashes. This binary forces the path with WEFT_LIBCUDA before the first driver call, so it tests the
// same thing on a GPU machine as on a CPU-only one.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "runtime/weft_rt.h"
#include "tests/runtime/test_kernels.h"

using namespace weft::rt;

namespace {

// Runs before doctest's main: the process-wide driver is loaded once, on first use.
const bool forced = [] {
  ::setenv("WEFT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
  return true;
}();

const char* kExpected = "no CUDA driver found: /nonexistent/libcuda.so.1 (";

}  // namespace

TEST_CASE("every runtime entry throws the no-driver error") {
  REQUIRE(forced);
  std::string why;
  CHECK_FALSE(driver_available(&why));
  CHECK(why.starts_with(kExpected));

  CHECK_THROWS_WITH_AS(driver(), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(device_count(), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(device_props(0), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(ensure_context(), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(synchronize(), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(Module::from_ptx(test::test_module()), doctest::Contains(kExpected), Error);
  std::vector<std::string> texts{test::test_module()};
  CHECK_THROWS_WITH_AS(Module::from_best_ptx(texts), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(DeviceBuffer<float>(16), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(PinnedBuffer<float>(16), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(Stream(), doctest::Contains(kExpected), Error);
  CHECK_THROWS_WITH_AS(Event(), doctest::Contains(kExpected), Error);
  auto d = TmaDesc::packed(TmaDtype::f32, {64, 64}, {16, 16});
  CHECK_THROWS_WITH_AS(encode_tma(d, CUdeviceptr(0x10000)), doctest::Contains(kExpected), Error);
  // A bad description is reported before the driver is needed.
  CHECK_THROWS_WITH_AS(encode_tma(d, CUdeviceptr(0x10008)), doctest::Contains("not 16-byte aligned"), Error);
  // Empty buffers need no driver; destroying them is safe.
  CHECK_NOTHROW(DeviceBuffer<float>());
  CHECK_NOTHROW(PinnedBuffer<float>());
  // ... and so do their copies and fills, which move nothing (a null pointer is never handed to the
  // driver: an app building optional operands as empty buffers works the same everywhere).
  DeviceBuffer<float> empty(std::vector<float>{});
  CHECK_NOTHROW(empty.fill_bytes(0xFF));
  CHECK(empty.to_vector().empty());
  // A non-empty copy still needs the driver.
  CHECK_THROWS_WITH_AS(DeviceBuffer<float>(std::vector<float>{1.0f}), doctest::Contains(kExpected), Error);
}

TEST_CASE("the no-driver error is the same on every call") {
  std::string first, second;
  try { device_count(); } catch (const Error& e) { first = e.what(); }
  try { device_count(); } catch (const Error& e) { second = e.what(); }
  CHECK(first == second);
  CHECK_FALSE(first.empty());
}
