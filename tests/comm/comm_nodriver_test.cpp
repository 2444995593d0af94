// Without a driver (or NCCL) the heaps throw weft::rt::Error with a clear message, never crash. This
// binary forces both missing with WEFT_LIBCUDA and WEFT_NCCL_LIBRARY before their first use (test_comm
// makes no other driver or process-wide NCCL call), so it tests the same thing on a GPU machine.
#include <doctest/doctest.h>

#include <cstdlib>

#include "runtime/comm/comm.h"
#include "runtime/error.h"

using namespace weft::rt;
using namespace weft::rt::comm;

namespace {

const bool forced = [] {
  ::setenv("WEFT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
  ::setenv("WEFT_NCCL_LIBRARY", "/nonexistent/libnccl.so.2", 1);
  return true;
}();

const char* kNoDriver = "no CUDA driver found: /nonexistent/libcuda.so.1 (";

}  // namespace

TEST_CASE("LocalSim and Ipc without a driver: a clear Error") {
  REQUIRE(forced);
  CHECK_THROWS_WITH_AS(LocalSim(4, 0), doctest::Contains(kNoDriver), Error);
  SingleProcessBootstrap boot;
  CHECK_THROWS_WITH_AS(Ipc(boot, 0), doctest::Contains(kNoDriver), Error);
  CHECK_THROWS_WITH_AS(LocalSim(0, 0), doctest::Contains("nranks must be at least 1"), Error);
}

TEST_CASE("Nccl without NCCL: a clear Error naming the path tried") {
  REQUIRE(forced);
  CHECK_THROWS_WITH_AS(nccl(), doctest::Contains("NCCL not found"), Error);
  CHECK_THROWS_WITH_AS(nccl(), doctest::Contains("tried /nonexistent/libnccl.so.2 ("), Error);
  SingleProcessBootstrap boot;
  CHECK_THROWS_WITH_AS(Nccl(boot, 0), doctest::Contains("tried /nonexistent/libnccl.so.2 ("), Error);
  CHECK_THROWS_WITH_AS(Nccl(static_cast<ncclComm*>(nullptr), 0), doctest::Contains("the communicator is null"), Error);
}
