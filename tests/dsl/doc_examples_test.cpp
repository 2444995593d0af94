// The snippets of docs/dsl.md and README.md, built and assembled: documentation that compiles.
#include <doctest/doctest.h>

#include "dsl/weft.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

using weft::test::check_assembles;
using weft::test::contains;

TEST_CASE("docs/dsl.md: memory, synchronisation and warp operations") {
  KernelBuilder k{"doc_memory", *isa::parse_target("sm_90a").target};
  auto p = k.param_ptr<f32>("p");
  auto flag = k.param_ptr<u32>("flag");
  auto counter = k.param_ptr<u32>("counter");
  auto sum = k.param_ptr<f32>("sum");
  auto lock = k.param_ptr<u32>("lock");
  auto v = k.ld(p);
  auto v2 = k.ld(p, {q::nc, q::L1_no_allocate});
  auto v3 = k.ld(flag, {q::acquire, q::gpu});
  k.st(p, v + v2, {q::release, q::sys});
  k.ld_to(v, p + 1);
  auto quad = k.ld_vec<f32, Global, 4>(p);
  k.st_vec(p, quad);
  auto old = k.atom(q::add, counter, 1u);
  k.red(q::add, sum, v, {q::relaxed, q::gpu});
  auto prev = k.atom_cas(lock, 0u, 1u);
  auto tile = k.shared<f32>("tile", 32 * 33);
  auto dyn = k.dynamic_shared<f32>("smem", 16, 65536);
  k.st(tile, v);
  k.st(dyn, v);
  k.bar_sync();
  k.fence({q::acq_rel, q::gpu});
  k.membar(q::membar_gl);
  k.nanosleep(100u);
  auto lane_sum = k.shfl(q::bfly, v, 1u);
  auto any = k.vote(q::vote_any, old == prev);
  auto bits = k.ballot(!any);
  auto total = k.redux(q::add, bits + v3);
  k.if_(k.elect_sync(), [&] { k.st(counter, total); });
  k.st(p + 1, lane_sum);
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "ld.global.nc.L1::no_allocate.f32"));
  CHECK(contains(ptx, "ld.acquire.gpu.global.u32"));
  CHECK(contains(ptx, "st.release.sys.global.f32"));
  CHECK(contains(ptx, "ld.global.v4.f32 {"));
  CHECK(contains(ptx, "atom.global.add.u32"));
  CHECK(contains(ptx, "red.relaxed.gpu.global.add.f32"));
  CHECK(contains(ptx, "atom.global.cas.b32"));
  CHECK(contains(ptx, ".extern .shared .align 16 .b8 smem[];"));
  CHECK(contains(ptx, "fence.acq_rel.gpu;"));
  CHECK(contains(ptx, "shfl.sync.bfly.b32"));
  CHECK(contains(ptx, "vote.sync.ballot.b32"));
  CHECK(contains(ptx, "redux.sync.add.u32"));
  CHECK(contains(ptx, "elect.sync _|%p"));
  check_assembles(ptx, "sm_90a", "doc_sm_90a");
}

TEST_CASE("docs/dsl.md: the raw instruction layer") {
  KernelBuilder k{"doc_raw", *isa::parse_target("sm_90").target};
  auto ptr = k.param_ptr<u32>("ptr");
  auto a = k.let<u32>(1u), b = k.let<u32>(2u), c = k.let<u32>(3u);
  auto d = k.reg<u32>();
  k.instr("lop3", {isa::Type::b32}, {}, {d, a, b, c, 0x96});
  auto hi = k.let<f32>(1.0f), lo = k.let<f32>(2.0f);
  auto f8 = k.reg<e4m3x2>();
  k.instr("cvt", {isa::Type::e4m3x2, isa::Type::f32}, {q::rn, q::satfinite}, {f8, hi, lo});
  auto p = d == 7u;
  auto one = k.let<u32>(1u);
  k.instr_if(p, "red", {isa::Type::u32}, {q::release, q::sys, q::global, q::add}, {ptr, one});
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "lop3.b32 %r"));
  CHECK(contains(ptx, ", 150;"));
  CHECK(contains(ptx, "cvt.rn.satfinite.e4m3x2.f32 %rs"));
  CHECK(contains(ptx, "red.release.sys.global.add.u32 [%rd"));
  check_assembles(ptx, "sm_90", "doc_sm_90");
}
