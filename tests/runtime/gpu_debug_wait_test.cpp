// Debug waits on a real GPU: a deliberately wrong expect_tx, emitted with Target::debug_waits, must
// trap instead of hanging, and the runtime must report the wait's source line. Its own binary: after
// a trap the context is unusable for the rest of the process. Skips without a driver (label gpu).
#include <doctest/doctest.h>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "tests/runtime/gpu_common.h"

using namespace weft::rt;
using weft::rt::test::have_gpu;

TEST_CASE("a wrong expect_tx under debug waits traps and reports the wait's source line") {
  WEFT_REQUIRE_GPU();
  const auto p = device_props(0);
  if (p.sm() < 90) {
    MESSAGE("skipped: bulk copies need sm_90+");
    return;
  }
  using namespace weft;
  auto t = *isa::parse_target(p.target()).target;
  t.debug_waits = true;
  KernelBuilder k{"broken", t};
  k.reqntid(32);
  auto bytes = k.param<u32>("expect");  // run time: the static check cannot see it
  auto src = k.param_ptr<u8>("src");
  auto buf = k.shared<u8>("buf", 1024, 128);
  MbarrierArray bar(k, "bar", 1);
  auto tid = k.tid_x();
  bar.init_all(1);
  k.if_(tid == 0u, [&] {
    bar[0].arrive_expect_tx(bytes);  // expects more than the copy brings
    bulk_load(k, buf.base(), src, 1024u, bar[0]);
  });
  bar[0].wait(0u); const int wait_line = __LINE__;
  Module m = Module::from_ptx(k.ptx());
  DeviceBuffer<std::uint8_t> data(1024);
  m.kernel("broken").launch(LaunchConfig{{1}, {32}}, 2048u, data);
  CHECK_THROWS_AS(synchronize(), Error);
  const auto report = m.debug_wait_report();
  REQUIRE(report);
  MESSAGE(report->describe());
  CHECK(report->complete);  // every word written before the grid ended
  CHECK(report->line == static_cast<std::uint32_t>(wait_line));
  CHECK(report->kind == Module::DebugWaitReport::Kind::mbarrier);
  CHECK(report->expected == 0);  // the phase parity
}
