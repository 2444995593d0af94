// The communication layer: peer pointers must be accessed at .sys scope (the verifier follows them
// through address arithmetic and names the author's line), flags lower to release/acquire at system
// scope with back-off, and bounded debug waits record the flag's id and epoch.
#include <doctest/doctest.h>

#include "dsl/comm.h"
#include "dsl/weft.h"
#include "tests/support/dsl_diagnostics.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
bool at_line(const Diagnostic& d, int line) { return test::at_line(d, line, "comm_test.cpp"); }
using test::diagnostics_of;
using test::target;
using test::check_assembles;
using test::contains;
}  // namespace

TEST_CASE("a weak load through a peer pointer is refused at the author's line") {
  KernelBuilder k{"t", target("sm_90a")};
  comm::CommContext ctx(k);
  auto buf = ctx.table("buf");
  auto peer = buf.peer<u32>(1u);
  k.ld(peer); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(contains(d[0].message, "another GPU's memory"));
  CHECK(contains(d[0].message, ".sys scope"));
  CHECK_FALSE(d[0].hint.empty());
}

TEST_CASE("the peer rule follows address arithmetic, loops and every access kind") {
  KernelBuilder k{"t", target("sm_90a")};
  comm::CommContext ctx(k);
  auto buf = ctx.table("buf");
  auto peer = buf.peer<u32>(ctx.rank());
  int lines[4];
  k.for_(0u, 4u, 1u, [&](Reg<u32> i) {
    auto p = peer + i * 8u;  // mad.wide from the peer base
    k.st(p, i, {q::relaxed, q::gpu}); lines[0] = __LINE__;   // wrong scope
    k.red(q::add, p + 1, 1u, {q::relaxed, q::gpu}); lines[1] = __LINE__;
    k.atom(q::add, p + 2, 1u); lines[2] = __LINE__;           // no scope at all (defaults to .gpu)
    k.ld_vec<u32, Global, 4>(p, {q::nc}); lines[3] = __LINE__;  // .nc has no scope
  });
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(at_line(d[i], lines[i]));
}

TEST_CASE("peer accesses at .sys scope, local accesses and bulk copies pass") {
  KernelBuilder k{"t", target("sm_90a")};
  comm::CommContext ctx(k);
  auto buf = ctx.table("buf");
  auto peer = buf.peer<u32>(0u);
  auto mine = buf.local<u32>();
  auto v = k.ld(peer + k.tid_x(), {q::relaxed, q::sys});
  k.st(peer + 4, v, {q::release, q::sys});
  k.atom(q::add, peer + 8, 1u, {q::relaxed, q::sys});
  k.st(mine, v);  // own memory: a weak store is fine
  const auto ptx = k.ptx();
  CHECK(diagnostics_of(k).empty());
  CHECK(contains(ptx, "ld.relaxed.sys.global.u32"));
  CHECK(contains(ptx, "ld.global.nc.u64"));  // the peer table itself is read-only
  check_assembles(ptx, "sm_90a", "peer_ok");
}

TEST_CASE("flags: release/acquire at system scope with back-off; debug waits record id and epoch") {
  auto build = [](isa::Target t) {
    KernelBuilder k{"flags", t};
    comm::CommContext ctx(k);
    auto flags = ctx.table("flags");
    auto epoch = k.param<u32>("epoch");
    comm::signal(k, flags.peer<u32>(1u) + 3, epoch);
    comm::wait_flag(k, flags.local<u32>() + 3, epoch, 1u);
    return k.ptx();
  };
  const auto plain = build(target("sm_80"));
  CHECK(contains(plain, "st.release.sys.global.u32"));
  CHECK(contains(plain, "ld.acquire.sys.global.u32"));
  CHECK(contains(plain, "nanosleep.u32"));
  CHECK_FALSE(contains(plain, "trap;"));
  check_assembles(plain, "sm_80", "flags80");
  auto debug = target("sm_90a");
  debug.debug_waits = true;
  const auto dbg = build(debug);
  CHECK(contains(dbg, "weft_debug_wait"));
  CHECK(contains(dbg, "trap;"));
  check_assembles(dbg, "sm_90a", "flags_debug");
}

TEST_CASE("a rendezvous assembles on every communication target") {
  for (const char* arch : {"sm_80", "sm_90a", "sm_100a"}) {
    KernelBuilder k{"rz", target(arch)};
    k.reqntid(128);
    comm::CommContext ctx(k);
    comm::Rendezvous rz(k, ctx, ctx.table("flags"));
    rz.arrive_and_wait(0, k.param<u32>("epoch"));
    const auto ptx = k.ptx();
    CHECK(diagnostics_of(k).empty());
    CHECK(contains(ptx, "fence.acq_rel.sys"));
    check_assembles(ptx, arch, (std::string("rz_") + arch).c_str());
  }
}
