// A communication flag that never reaches its epoch, emitted with Target::debug_waits, must trap
// instead of hanging, and the runtime must report the flag's id, the epoch, the last value read and
// the wait's source line. Its own binary: after a trap the context is unusable for the rest of the
// process. Skips without a driver (label gpu).
#include <doctest/doctest.h>

#include <vector>

#include "dsl/comm.h"
#include "dsl/weft.h"
#include "tests/runtime/gpu_common.h"

using namespace weft::rt;
using weft::rt::test::have_gpu;

TEST_CASE("a flag that never arrives under debug waits traps and reports id, epoch and line") {
  WEFT_REQUIRE_GPU();
  using namespace weft;
  auto t = *isa::parse_target(device_props(0).target()).target;
  t.debug_waits = true;
  KernelBuilder k{"lonely", t};
  k.reqntid(32);
  comm::CommContext ctx(k);
  auto flags = ctx.table("flags");
  auto epoch = k.param<u32>("epoch");
  int wait_line = 0;
  k.if_(k.tid_x() == 0u, [&] {
    comm::wait_flag(k, flags.local<u32>() + 2, epoch, 7u); wait_line = __LINE__;
  });
  Module m = Module::from_ptx(k.ptx());
  std::vector<std::uint32_t> words(4, 3u);  // the flag holds 3; the wait wants 5
  DeviceBuffer<std::uint32_t> flag_words{std::span<const std::uint32_t>(words)};
  std::vector<std::uint64_t> table_host{flag_words.raw()};
  DeviceBuffer<std::uint64_t> table{std::span<const std::uint64_t>(table_host)};
  m.kernel("lonely").launch(LaunchConfig{{1}, {32}}, 0u, 1u, table, 5u);
  CHECK_THROWS_AS(synchronize(), Error);
  const auto report = m.debug_wait_report();
  REQUIRE(report);
  MESSAGE(report->describe());
  CHECK(report->complete);  // every word written before the grid ended
  CHECK(report->kind == Module::DebugWaitReport::Kind::flag);
  CHECK(report->line == static_cast<std::uint32_t>(wait_line));
  CHECK(report->id == 7);
  CHECK(report->expected == 5);
  CHECK(report->observed == 3);
}
