// The async / tensor-core layer: every rule is a diagnostic with the author's line; what it emits
// assembles; the swizzle and descriptor arithmetic matches the hardware definitions.
#include <doctest/doctest.h>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "tests/support/dsl_diagnostics.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
bool at_line(const Diagnostic& d, int line) { return test::at_line(d, line, "async_test.cpp"); }
using test::diagnostics_of;
using test::target;
using test::check_assembles;
using test::contains;
}  // namespace

TEST_CASE("swizzled offsets XOR bits [4, 4+b) with bits [7, 7+b)") {
  SharedLayout l{.rows = 8, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  CHECK(l.row_bytes() == 128);
  CHECK(l.alignment() == 1024);
  CHECK(l.offset(0, 0) == 0);
  CHECK(l.offset(1, 0) == (128u ^ 16u));        // row 1: chunk 0 moves to chunk 1
  CHECK(l.offset(7, 8) == ((7u * 128 + 16) ^ (7u << 4)));
  SharedLayout l64{.rows = 8, .cols = 32, .elem = isa::Type::bf16, .swizzle = Swizzle::b64};
  CHECK(l64.offset(2, 0) == (128u ^ 16u));      // 64B: bits [7, 9) into [4, 6)
  SharedLayout none{.rows = 4, .cols = 4, .elem = isa::Type::f32};
  CHECK(none.offset(3, 2) == 3 * 16 + 8);
}

TEST_CASE("matrix descriptor fields") {
  SharedLayout l{.rows = 64, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const auto w = wgmma_descriptor_bits(0x400, l);
  CHECK((w & 0x3FFF) == 0x40);                 // start >> 4
  CHECK(((w >> 16) & 0x3FFF) == 1);            // leading byte offset (unused for swizzled K-major)
  CHECK(((w >> 32) & 0x3FFF) == 1024 / 16);    // 8 rows of 128 bytes
  CHECK((w >> 62) == 1);                       // 128B swizzle
  // MN-major (a K x N row-major B in panels of 64 columns x 64 K rows): spans 8 KB apart.
  const auto mn = wgmma_descriptor_bits_mn(0x400, l, 8192);
  CHECK((mn & 0x3FFF) == 0x40);
  CHECK(((mn >> 16) & 0x3FFF) == 8192 / 16);  // leading byte offset: the next 64 columns
  CHECK(((mn >> 32) & 0x3FFF) == 1024 / 16);  // stride byte offset: the next 8 K rows
  CHECK((mn >> 62) == 1);
  const auto t = tcgen05_descriptor_bits(0x400, l);
  CHECK(((t >> 46) & 3) == 1);                 // descriptor version
  CHECK((t >> 61) == 2);                       // 128B swizzle in the sm_100 encoding
  CHECK(tcgen05_idesc_bf16(128, 64) == ((1u << 4) | (1u << 7) | (1u << 10) | (8u << 17) | (8u << 24)));
}

TEST_CASE("a swizzle incompatible with the tile width") {
  KernelBuilder k{"t", target("sm_90a")};
  shared_tile(k, "a", {.rows = 64, .cols = 32, .elem = isa::Type::bf16, .swizzle = Swizzle::b128}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "tile 'a': a 128-byte swizzle needs rows of exactly 128 bytes, but 32 x bf16 is 64 bytes");
}

TEST_CASE("an illegal wgmma N and a wrong-size accumulator") {
  KernelBuilder k{"t", target("sm_90a")};
  auto tile = shared_tile(k, "a", {.rows = 64, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128});
  auto acc = wgmma_accumulator(k, 64);
  auto p = k.let_pred(true);
  wgmma_bf16(k, acc, 100, tile.wgmma_descriptor(), tile.wgmma_descriptor(), p); const int l1 = __LINE__;
  wgmma_bf16(k, acc, 128, tile.wgmma_descriptor(), tile.wgmma_descriptor(), p); const int l2 = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 2);
  CHECK(at_line(d[0], l1));
  CHECK(d[0].message == "wgmma: N = 100 is not a legal shape");
  CHECK(d[0].hint == "N is a multiple of 8 in [8, 256]");
  CHECK(at_line(d[1], l2));
  CHECK(d[1].message == "wgmma m64n128k16: the accumulator needs 64 registers, got 32");
}

TEST_CASE("wgmma on a target without it") {
  KernelBuilder k{"t", target("sm_100a")};
  auto tile = shared_tile(k, "a", {.rows = 64, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128});
  auto acc = wgmma_accumulator(k, 8);
  wgmma_bf16(k, acc, 8, tile.wgmma_descriptor(), tile.wgmma_descriptor(), k.let_pred(true)); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE_FALSE(d.empty());
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 needs sm_90a (target sm_100a)");
}

TEST_CASE("a fragment index out of range") {
  KernelBuilder k{"t", target("sm_80")};
  Fragment<f32, 4> f(k);
  f.at(4); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "fragment index 4 out of range (size 4)");
}

TEST_CASE("warp roles: budgets, coverage and the register file") {
  auto body = [](const RoleContext&) {};
  SUBCASE("budget not a multiple of 8") {
    KernelBuilder k{"t", target("sm_90a")};
    warp_roles(k, {{.name = "p", .warpgroups = 1, .registers = 100, .body = body}}); const int line = __LINE__;
    auto d = diagnostics_of(k);
    REQUIRE(d.size() == 1);
    CHECK(at_line(d[0], line));
    CHECK(d[0].message == "register budget 100 of role 'p' is not a multiple of 8 in [24, 256]");
  }
  SUBCASE("roles that do not cover the block") {
    KernelBuilder k{"t", target("sm_90a")};
    k.reqntid(256);
    warp_roles(k, {{.name = "p", .warpgroups = 1, .body = body}, {.name = "c", .warpgroups = 2, .body = body}}); const int line = __LINE__;
    auto d = diagnostics_of(k);
    REQUIRE(d.size() == 1);
    CHECK(at_line(d[0], line));
    CHECK(d[0].message == "the roles cover 384 threads but the block has 256");
  }
  SUBCASE("budgets over the register file") {
    KernelBuilder k{"t", target("sm_90a")};
    const int line = __LINE__ + 1;  // a call over two lines reports its first
    warp_roles(k, {{.name = "p", .warpgroups = 1, .registers = 256, .body = body},
                   {.name = "c", .warpgroups = 2, .registers = 232, .body = body}});
    auto d = diagnostics_of(k);
    REQUIRE(d.size() == 1);
    CHECK(at_line(d[0], line));
    CHECK(d[0].message == "the roles' budgets need 92160 registers, over the 65536 of the register file");
  }
}

TEST_CASE("warp roles emit setmaxnreg with launch bounds ptxas honours") {
  KernelBuilder k{"roles", target("sm_90a")};
  auto out = k.param_ptr<u32>("out");
  warp_roles(k, {{.name = "producer", .warpgroups = 1, .registers = 40,
                  .body = [&](const RoleContext& r) { k.if_(r.thread == 0u, [&] { k.st(out, 1u); }); }},
                 {.name = "consumer", .warpgroups = 2, .registers = 232,
                  .body = [&](const RoleContext& r) {
                    r.sync();
                    k.if_(r.thread == 0u, [&] { k.st(out + 1, 2u); });
                    r.sync_warpgroup();
                    k.if_(r.thread == 128u, [&] { k.st(out + 2, 3u); });
                  }}});
  const auto ptx = k.ptx();
  // A warpgroup's own barrier: ids 3 and 4 (after the roles' 1 and 2), computed from the warpgroup.
  CHECK(contains(ptx, ", 3;"));
  CHECK(contains(ptx, ", 128;"));
  CHECK(contains(ptx, "bar.sync %r"));
  CHECK(contains(ptx, ".maxntid 384, 1, 1"));
  CHECK(contains(ptx, ".minnctapersm 1"));
  CHECK(contains(ptx, "setmaxnreg.dec.sync.aligned.u32 40;"));
  CHECK(contains(ptx, "setmaxnreg.inc.sync.aligned.u32 232;"));
  CHECK(contains(ptx, "bar.sync 2, 256;"));  // the consumer role's own barrier
  check_assembles(ptx, "sm_90a", "roles");
  // The same source on sm_90 (no setmaxnreg there): budgets are checked but not emitted.
  KernelBuilder k90{"roles", target("sm_90")};
  warp_roles(k90, {{.name = "producer", .warpgroups = 1, .registers = 40, .body = [](const RoleContext&) {}}});
  CHECK_FALSE(contains(k90.ptx(), "setmaxnreg"));
}

TEST_CASE("a pipeline used from the wrong role, and an expect_tx mismatch") {
  KernelBuilder k{"t", target("sm_90a")};
  auto in = k.param_ptr<u8>("in");
  auto ring = k.shared<u8>("ring", 2 * 4096, 128);
  Pipeline pipe(k, "p", {.stages = 2, .consumer_arrivals = 128, .tx_bytes = 4096, .producer_role = "producer",
                         .consumer_role = "consumer"});
  int wrong_role = 0, commit_line = 0;
  warp_roles(k, {{.name = "producer", .warpgroups = 1, .body = [&](const RoleContext&) {
                    auto st = pipe.state();
                    pipe.producer_acquire(st);
                    bulk_load(k, ring.base(), in, 2048u, pipe.full(st), &pipe);
                    pipe.producer_commit(st); commit_line = __LINE__;
                  }},
                 {.name = "consumer", .warpgroups = 1, .body = [&](const RoleContext&) {
                    auto st = pipe.state();
                    pipe.producer_acquire(st); wrong_role = __LINE__;
                  }}});
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 2);
  CHECK(at_line(d[0], commit_line));
  CHECK(contains(d[0].message, "pipeline 'p': the stage expects 4096 bytes (expect_tx at line "));
  CHECK(contains(d[0].message, "but the copies issued on it move 2048 bytes (line "));
  CHECK(at_line(d[1], wrong_role));
  CHECK(d[1].message == "pipeline 'p': producer_acquire called from role 'consumer', but the producer role is 'producer'");
}

// A 128-row stage tile in two 64-row boxes: the first always copied, the second through
// copy_or_complete, which says it stands for `claimed` bytes (the box is 8 KB); *call_line: its line.
static void build_half_boxes(KernelBuilder& k, std::uint32_t claimed, int* call_line) {
  const SharedLayout half{.rows = 64, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  auto map = tma_param(k, "a", half);
  auto rows = k.param<u32>("rows");
  auto ring = k.shared<u8>("ring", 2 * 2 * half.bytes(), 1024);
  Pipeline pipe(k, "p", {.stages = 2, .tx_bytes = 2 * half.bytes(), .producer_role = "producer", .consumer_role = "consumer"});
  warp_roles(k, {{.name = "producer", .warpgroups = 1, .body = [&](const RoleContext& r) {
                    k.if_(r.thread < 32u, [&] {
                      auto st = pipe.state();
                      pipe.producer_acquire(st);
                      k.if_(k.elect_sync(), [&] {
                        auto stage = ring.base() + st.stage * (2 * half.bytes());
                        tma_load(k, map, stage, {0, 0}, pipe.full(st), &pipe);
                        *call_line = __LINE__ + 1;
                        pipe.copy_or_complete(st, rows > 64u, claimed, [&] {
                          tma_load(k, map, stage + half.bytes(), {0, 64}, pipe.full(st), &pipe);
                        });
                      });
                      pipe.producer_commit(st);
                    });
                  }},
                 {.name = "consumer", .warpgroups = 1, .body = [&](const RoleContext&) {
                    auto st = pipe.state();
                    pipe.consumer_wait(st);
                  }}});
}

TEST_CASE("copy_or_complete emits the copy under its predicate and mbarrier.complete_tx otherwise") {
  KernelBuilder k{"t", target("sm_90a")};
  int line = 0;
  build_half_boxes(k, 8192, &line);  // 8 KB + 8 KB (copied or completed): the stage's 16 KB
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "mbarrier.complete_tx.relaxed.cta.shared.b64 [%r"));
  CHECK(contains(ptx, "], 8192;"));
  std::size_t loads = 0;
  for (auto at = ptx.find("cp.async.bulk.tensor.2d"); at != std::string::npos; at = ptx.find("cp.async.bulk.tensor.2d", at + 1))
    ++loads;
  CHECK(loads == 2);
  // The signature names the box the map must have.
  CHECK(contains(ptx, "//! param a bytes tma 128 64 bf16:64x64:128B\n"));
  check_assembles(ptx, "sm_90a", "copy_or_complete");
}

TEST_CASE("copy_or_complete refuses a copy of other bytes than it stands for") {
  KernelBuilder k{"t", target("sm_90a")};
  int line = 0;
  build_half_boxes(k, 4096, &line);  // the 8 KB box said to stand for 4 KB
  auto d = diagnostics_of(k);
  // Its own mismatch, and the stage's total (8 + 4 KB counted against 16 KB).
  REQUIRE(d.size() == 2);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "pipeline 'p': copy_or_complete completes 4096 bytes where its copy is skipped, but the copy "
                        "moves 8192 bytes");
  CHECK(contains(d[1].message, "the stage expects 16384 bytes"));
  CHECK(contains(d[1].message, "move 12288 bytes"));
}

TEST_CASE("a pipeline shared by a 2-CTA cluster: multicast bytes, releases in both CTAs, cluster barriers") {
  KernelBuilder k{"t", target("sm_90a")};
  k.cluster_dims(2);
  const SharedLayout tile{.rows = 64, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  auto map = tma_param(k, "b", tile);  // each CTA loads half of the 128-row stage tile
  auto ring = k.shared<u8>("ring", 2 * 2 * tile.bytes(), 1024);
  Pipeline pipe(k, "p", {.stages = 2, .consumer_arrivals = 4, .tx_bytes = 2 * tile.bytes(), .producer_role = "producer",
                         .consumer_role = "consumer", .cluster_ctas = 2});
  auto rank = cluster_ctarank(k);
  warp_roles(k, {{.name = "producer", .warpgroups = 1, .body = [&](const RoleContext& r) {
                    k.if_(r.thread < 32u, [&] {
                      auto st = pipe.state();
                      pipe.producer_acquire(st);
                      k.if_(k.elect_sync(), [&] {
                        auto dst = ring.base() + st.stage * (2 * tile.bytes()) + rank * tile.bytes();
                        tma_load_multicast(k, map, dst, {0, bitcast<s32>(rank * 64u)}, pipe.full(st), 3u, &pipe);
                      });
                      pipe.producer_commit(st);  // 2 x 8 KB arrive per CTA: no mismatch
                    });
                  }},
                 {.name = "consumer", .warpgroups = 1, .body = [&](const RoleContext& r) {
                    auto st = pipe.state();
                    pipe.consumer_wait(st);
                    k.if_((r.thread & 31u) == 0u, [&] { pipe.consumer_release(st); });
                  }}});
  cluster_sync(k);
  const auto ptx = k.ptx();
  CHECK(contains(ptx, ".reqnctapercluster 2, 1, 1"));
  CHECK(contains(ptx, "mbarrier.init.shared.b64 [%r"));
  // Two remote arrivals per release (rank 0 and rank 1), each through mapa.
  std::size_t arrives = 0, mapas = 0;
  // A stage release signals without a cluster-scope release (which costs a memory barrier).
  for (auto at = ptx.find("mbarrier.arrive.shared::cluster.b64 _, ["); at != std::string::npos;
       at = ptx.find("mbarrier.arrive.shared::cluster.b64 _, [", at + 1))
    ++arrives;
  CHECK_FALSE(contains(ptx, "mbarrier.arrive.release.cluster"));
  for (auto at = ptx.find("mapa.shared::cluster.u32"); at != std::string::npos; at = ptx.find("mapa.shared::cluster.u32", at + 1))
    ++mapas;
  CHECK(arrives == 2);
  CHECK(mapas == 2);
  // The barriers' initialisation and the end: two cluster barriers, each arrive + wait.
  std::size_t syncs = 0;
  for (auto at = ptx.find("barrier.cluster.wait.acquire.aligned"); at != std::string::npos;
       at = ptx.find("barrier.cluster.wait.acquire.aligned", at + 1))
    ++syncs;
  CHECK(syncs == 2);
  check_assembles(ptx, "sm_90a", "cluster_pipeline");
}

TEST_CASE("a pipeline's cluster size out of range") {
  KernelBuilder k{"t", target("sm_90a")};
  Pipeline pipe(k, "p", {.stages = 2, .consumer_arrivals = 1, .cluster_ctas = 0}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "pipeline 'p': cluster_ctas = 0 (1..16)");
}

TEST_CASE("a tensor map with a box over 256 elements") {
  KernelBuilder k{"t", target("sm_90a")};
  rt::TmaDesc desc;
  desc.dtype = rt::TmaDtype::f32;
  desc.rank = 2;
  desc.box_dims = {512, 8, 1, 1, 1};
  tma_param(k, "m", desc); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(contains(d[0].message, "tensor map 'm':"));
  CHECK(contains(d[0].message, "256"));
}

TEST_CASE("mbarrier waits: try_wait on sm_90, test_wait on sm_80, bounded with debug waits") {
  auto build = [](isa::Target t) {
    KernelBuilder k{"waits", t};
    MbarrierArray bars(k, "b", 2);
    k.if_(k.tid_x() == 0u, [&] { bars[0].init(1u); });
    k.bar_sync();
    bars[0].arrive();
    bars[0].wait(0u);
    return k.ptx();
  };
  const auto sm80 = build(target("sm_80"));
  CHECK(contains(sm80, "mbarrier.test_wait.parity.shared.b64"));
  CHECK(contains(sm80, "mbarrier.arrive.shared.b64 %rd"));  // no sink before sm_90
  check_assembles(sm80, "sm_80", "waits80");
  const auto sm90 = build(target("sm_90"));
  CHECK(contains(sm90, "mbarrier.try_wait.parity.shared.b64"));
  CHECK(contains(sm90, "mbarrier.arrive.shared.b64 _, [%r"));
  auto debug = target("sm_90");
  debug.debug_waits = true;
  const auto dbg = build(debug);
  CHECK(contains(dbg, ".visible .global .align 8 .b8 weft_debug_wait[8];"));
  CHECK(contains(dbg, "atom.relaxed.sys.cas.b32"));
  CHECK(contains(dbg, "trap;"));
  check_assembles(dbg, "sm_90", "waits_debug");
}

TEST_CASE("every instruction of an async call carries the author's line") {
  KernelBuilder k{"lines", target("sm_90")};
  MbarrierArray bars(k, "b", 1);
  bars[0].wait(0u); const int line = __LINE__;
  const auto ptx = k.ptx();
  const auto at = ptx.find("mbarrier.try_wait");
  REQUIRE(at != std::string::npos);
  const auto loc = ptx.rfind(".loc", at);
  CHECK(ptx.substr(loc, ptx.find('\n', loc) - loc).find(" " + std::to_string(line) + " ") != std::string::npos);
}

TEST_CASE("one function mixing tcgen05 CTA groups is refused") {
  KernelBuilder k{"t", target("sm_100a")};
  auto slot = k.shared<u32>("slot", 1);
  k.instr("tcgen05.alloc", {}, {q::make(isa::QualKind::ctagroup, "cta_group::1")}, {slot, 32});
  k.instr("tcgen05.relinquish_alloc_permit", {}, {q::make(isa::QualKind::ctagroup, "cta_group::2")}, {}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message.find(".cta_group::2 here, but line") != std::string::npos);
}

TEST_CASE("a pipeline forced to cp.async groups on sm_90, and the e4m3 mma.sync atom") {
  auto build = [](isa::Target t) {
    KernelBuilder k{"groups", t};
    k.reqntid(32);
    auto in = k.param_ptr<u8>("in");
    auto out = k.param_ptr<f32>("out");
    auto tile = k.shared<u8>("tile", 2 * 512, 128);
    Pipeline pipe(k, "p", {.stages = 2, .cp_async_groups = true});
    CHECK(pipe.kind() == Pipeline::Kind::cp_async_groups);
    auto st = pipe.state();
    auto lane = k.laneid();
    cp_async_16(k, tile.base() + lane * 16u, in + lane * 16u, Src<u32>(16u));
    pipe.producer_commit(st);
    pipe.consumer_wait(st);
    Fragment<b32, 4> a(k);
    ldmatrix_x4(k, a, tile.base() + lane * 16u);
    Fragment<b32, 2> b(std::array{a.get<0>(), a.get<1>()});
    Fragment<f32, 4> acc(k);
    acc.fill(k, 0.0f);
    mma_m16n8k32_e4m3(k, acc, a, b, acc);
    k.st(out + lane, acc.get<0>());
    return k.ptx();
  };
  for (const char* arch : {"sm_89", "sm_90a"}) {
    const auto ptx = build(target(arch));
    CHECK(contains(ptx, "cp.async.commit_group;"));
    CHECK(contains(ptx, "cp.async.wait_group 0;"));
    CHECK_FALSE(contains(ptx, "mbarrier"));  // no ring, although sm_90 has transaction counts
    CHECK(contains(ptx, "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32"));
    CHECK(contains(ptx, ".version 8.4"));
    check_assembles(ptx, arch, arch == std::string("sm_89") ? "groups89" : "groups90a");
  }
  // Without the flag, sm_90 gets the mbarrier ring.
  KernelBuilder k{"ring", target("sm_90")};
  Pipeline ring(k, "r", {.stages = 2});
  CHECK(ring.kind() == Pipeline::Kind::mbarrier_ring);
  // e4m3 mma.sync needs sm_89.
  KernelBuilder k80{"fp8_on_80", target("sm_80")};
  Fragment<b32, 4> a(k80);
  Fragment<b32, 2> b(k80);
  Fragment<f32, 4> acc(k80);
  mma_m16n8k32_e4m3(k80, acc, a, b, acc); const int line = __LINE__;
  auto d = diagnostics_of(k80);
  REQUIRE(d.size() >= 1);
  CHECK(at_line(d[0], line));
  CHECK(contains(d[0].message, "sm_89"));
}

TEST_CASE("L2 cache policies: createpolicy for each priority, carried by bulk loads and stores") {
  const std::pair<q::Q, const char*> priorities[] = {{q::L2_evict_first, "L2::evict_first"},
                                                     {q::L2_evict_normal, "L2::evict_normal"},
                                                     {q::L2_evict_last, "L2::evict_last"},
                                                     {q::L2_evict_unchanged, "L2::evict_unchanged"}};
  for (const auto& [priority, spelling] : priorities) {
    INFO(spelling);
    KernelBuilder k{"hint", target("sm_90a")};
    auto src = k.param_ptr<u8>("src");
    auto dst = k.param_ptr<u8>("dst");
    auto buf = k.shared<u8>("buf", 1024, 128);
    MbarrierArray bar(k, "b", 1);
    k.if_(k.tid_x() == 0u, [&] {
      bar[0].init(1u);
      auto policy = l2_policy(k, priority);
      bar[0].arrive_expect_tx(1024u);
      bulk_load(k, buf.base(), src, 1024u, bar[0], nullptr, policy);
      bar[0].wait(0u);
      bulk_store(k, dst, buf.base(), 1024u, policy);
      bulk_commit(k);
      bulk_wait(k, 0);
    });
    const auto ptx = k.ptx();
    CHECK(contains(ptx, std::string("createpolicy.fractional.") + spelling + ".b64 %rd"));
    CHECK(contains(ptx, "mbarrier::complete_tx::bytes.L2::cache_hint ["));
    CHECK(contains(ptx, "cp.async.bulk.global.shared::cta.bulk_group.L2::cache_hint ["));
    check_assembles(ptx, "sm_90a", "hint_" + std::to_string(priority.value));
  }
  // Without a policy, no hint.
  KernelBuilder k{"plain", target("sm_90a")};
  auto dst = k.param_ptr<u8>("dst");
  auto buf = k.shared<u8>("buf", 1024, 128);
  bulk_store(k, dst, buf.base(), 1024u);
  CHECK_FALSE(contains(k.ptx(), "cache_hint"));
  // A qualifier that is not an eviction priority: the database's createpolicy row refuses it here.
  KernelBuilder bad{"bad", target("sm_90a")};
  l2_policy(bad, q::rn); const int line = __LINE__;
  auto d = diagnostics_of(bad);
  REQUIRE(!d.empty());
  CHECK(at_line(d[0], line));
}

TEST_CASE("stmatrix .x4 stores four fragments on sm_90 and is refused on sm_80") {
  KernelBuilder k{"stm", target("sm_90a")};
  auto tile = k.shared<u8>("tile", 512, 16);
  std::array<Reg<b32>, 4> regs;
  for (std::uint32_t q = 0; q < 4; ++q) regs[q] = bitcast<b32>(k.tid_x() + q);
  stmatrix_x4(k, tile.base() + (k.laneid() << 4u), Fragment<b32, 4>(regs));
  stmatrix_x4(k, tile.base() + (k.laneid() << 4u), Fragment<b32, 4>(regs), /*trans=*/true);
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "stmatrix.sync.aligned.m8n8.x4.shared.b16 [%r"));
  CHECK(contains(ptx, "stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%r"));
  check_assembles(ptx, "sm_90a", "stmatrix");

  KernelBuilder k80{"stm80", target("sm_80")};
  auto tile80 = k80.shared<u8>("tile", 512, 16);
  std::array<Reg<b32>, 4> r80;
  for (auto& r : r80) r = bitcast<b32>(k80.tid_x());
  stmatrix_x4(k80, tile80.base(), Fragment<b32, 4>(r80)); const int line = __LINE__;
  auto d = diagnostics_of(k80);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(contains(d[0].message, "stmatrix"));
}
