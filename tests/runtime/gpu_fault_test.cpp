// A faulting kernel is reported by the next synchronisation with the driver's error name. In its own
// binary: after the fault the context is unusable, so no other test may share the process.
#include <doctest/doctest.h>

#include "tests/runtime/gpu_common.h"
#include "tests/runtime/test_kernels.h"

using namespace weft::rt;
namespace sig = weft::sig;

namespace {

std::string fault_module() {
  sig::Signature s;
  s.target = "sm_80";
  sig::Kernel k;
  k.name = "store_to_null";
  k.params = {test::scalar("v", "u32", 4)};
  s.kernels = {k};
  return sig::format(s) + R"(.version 8.0
.target sm_80
.address_size 64
.visible .entry store_to_null(.param .u32 v)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<2>;
  ld.param.u32 %r1, [v];
  mov.u64 %rd1, 0;
  st.global.u32 [%rd1], %r1;
  ret;
}
)";
}

}  // namespace

TEST_CASE("a kernel fault surfaces at Stream::synchronize with its name") {
  WEFT_REQUIRE_GPU();
  LoadOptions o;
  o.use_cache = false;
  Module m = Module::from_ptx(fault_module(), o);
  Stream s;
  m.kernel("store_to_null").launch(LaunchConfig{{1}, {32}, 0, {}, s}, 7u);
  try {
    s.synchronize();
    FAIL("expected the fault to be reported");
  } catch (const Error& e) {
    MESSAGE(e.what());
    CHECK(e.call() == "cuStreamSynchronize");
    CHECK(e.result_name() == "CUDA_ERROR_ILLEGAL_ADDRESS");
    CHECK(std::string(e.what()).find("an earlier kernel or copy on this stream failed") != std::string::npos);
  }
}
