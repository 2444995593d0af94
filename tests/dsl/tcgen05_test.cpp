// The tcgen05 atoms (dsl/async/tcgen05.h): the kind::f16 instruction descriptor against the bit table
// of the PTX ISA (§9.7.16.4.2), the shape rules, tensor memory allocation, and a small kernel that
// uses each atom and assembles for sm_100a.
#include <doctest/doctest.h>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "tests/support/dsl_diagnostics.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
using test::diagnostics_of;
using test::target;
bool at_line(const Diagnostic& d, int line) { return test::at_line(d, line, "tcgen05_test.cpp"); }
bool has(const std::string& s, const std::string& t) { return s.find(t) != std::string::npos; }
std::uint32_t field(std::uint32_t v, int lo, int bits) { return (v >> lo) & ((1u << bits) - 1); }
}  // namespace

TEST_CASE("tcgen05 kind::f16 instruction descriptor: each field where the PTX ISA puts it") {
  // The GEMM's descriptor: bf16 x bf16 -> f32, K-major A and B, M = 128, N = 256:
  // D f32 (1) << 4 | A bf16 (1) << 7 | B bf16 (1) << 10 | (256 >> 3) << 17 | (128 >> 4) << 24.
  CHECK(tcgen05_idesc_f16({.m = 128, .n = 256}) == 0x08400490u);
  CHECK(tcgen05_idesc_f16({.m = 128, .n = 128}) == 0x08200490u);

  // Every other field, set one at a time.
  const auto x = tcgen05_idesc_f16({.m = 64, .n = 8, .ab = isa::Type::f16, .d = isa::Type::f16,
                                    .transpose_a = true, .negate_b = true});
  CHECK(field(x, 0, 2) == 0);   // sparsity selector
  CHECK(field(x, 2, 1) == 0);   // dense
  CHECK(field(x, 3, 1) == 0);   // no saturate
  CHECK(field(x, 4, 2) == 0);   // D: F16 = 0
  CHECK(field(x, 7, 3) == 0);   // A: F16 = 0
  CHECK(field(x, 10, 3) == 0);  // B: F16 = 0
  CHECK(field(x, 13, 1) == 0);  // negate A
  CHECK(field(x, 14, 1) == 1);  // negate B
  CHECK(field(x, 15, 1) == 1);  // transpose A (M-major)
  CHECK(field(x, 16, 1) == 0);  // transpose B
  CHECK(field(x, 17, 6) == 1);  // N >> 3
  CHECK(field(x, 24, 5) == 4);  // M >> 4
  CHECK(tcgen05_idesc_f16({.transpose_b = true, .negate_a = true}) ==
        (tcgen05_idesc_f16({}) | (1u << 13) | (1u << 16)));

  // Every legal dense shape: N and M round-trip, the reserved bits (6, 23, 29) and the .ws shift
  // (30-31) stay clear, and bf16 -> f32 agrees with the older encoder in dsl/async/mma.h.
  std::size_t shapes = 0;
  for (std::uint32_t m : {64u, 128u})
    for (std::uint32_t n = 8; n <= 256; n += 8) {
      const Tcgen05F16Desc d{.m = m, .n = n};
      if (!tcgen05_f16_problem(d).empty()) continue;
      const auto v = tcgen05_idesc_f16(d);
      INFO("m = " << m << ", n = " << n);
      CHECK((field(v, 17, 6) << 3) == n);
      CHECK((field(v, 24, 5) << 4) == m);
      CHECK(field(v, 6, 1) == 0);
      CHECK(field(v, 23, 1) == 0);
      CHECK(field(v, 29, 3) == 0);
      CHECK(v == tcgen05_idesc_bf16(m, n));
      ++shapes;
    }
  CHECK(shapes == 32 + 16);  // M = 64: N = 8..256 by 8; M = 128: N = 16..256 by 16
}

TEST_CASE("tcgen05 kind::f16 shapes and types that cta_group::1 does not have") {
  CHECK(tcgen05_f16_problem({.m = 128, .n = 256}).empty());
  CHECK(tcgen05_f16_problem({.m = 64, .n = 8}).empty());
  CHECK(tcgen05_f16_problem({.m = 128, .n = 24}) == "N = 24 with M = 128 (N is a multiple of 16 in [16, 256])");
  CHECK(tcgen05_f16_problem({.m = 64, .n = 264}) == "N = 264 with M = 64 (N is a multiple of 8 in [8, 256])");
  CHECK(tcgen05_f16_problem({.m = 256, .n = 128}) == "M = 256 (cta_group::1 takes M = 64 or 128)");
  CHECK(tcgen05_f16_problem({.ab = isa::Type::f32}) == "kind::f16 takes bf16 or f16 inputs, not f32");
  CHECK(tcgen05_f16_problem({.d = isa::Type::bf16}) == "kind::f16 accumulates in f32 or f16, not bf16");
}

TEST_CASE("tensor memory: a column count tcgen05.alloc cannot take") {
  KernelBuilder k{"t", target("sm_100a")};
  TensorMemory tmem(k, "acc", 96); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "tensor memory 'acc': 96 columns (a power of two in [32, 512])");
}

TEST_CASE("tcgen05 atoms on a target without tensor memory") {
  KernelBuilder k{"t", target("sm_90a")};
  k.reqntid(128);
  TensorMemory tmem(k, "acc", 32);
  auto warp = k.tid_x() >> 5u;
  tmem.allocate(warp == 0u); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE_FALSE(d.empty());
  CHECK(at_line(d[0], line));
  CHECK(has(d[0].message, "tcgen05.alloc"));
  CHECK(has(d[0].message, "sm_100a"));
}

TEST_CASE("a pipeline's empty barrier from the wrong role") {
  KernelBuilder k{"t", target("sm_100a")};
  Pipeline p(k, "ab", {.stages = 2, .consumer_arrivals = 1, .producer_role = "tma", .consumer_role = "mma"});
  auto st = p.state();
  k.set_role("tma");
  p.empty(st); const int line = __LINE__;
  k.set_role("");
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "pipeline 'ab': empty called from role 'tma', but the consumer role is 'mma'");
}

TEST_CASE("tensor memory, commit to a pipeline stage and tcgen05.ld assemble for sm_100a") {
  for (const char* arch : {"sm_100a", "sm_103a", "sm_110a"}) {
    KernelBuilder k{"tmem_roundtrip", target(arch)};
    k.reqntid(128);
    auto out = k.param_ptr<u32>("out");
    const SharedLayout l{.rows = 128, .cols = 64, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
    auto tile = shared_tile(k, "tile", l);
    Pipeline p(k, "p", {.stages = 1, .consumer_arrivals = 1});
    auto tid = k.tid_x();
    auto warp = tid >> 5u;
    TensorMemory tmem(k, "acc", 64);
    auto base = tmem.allocate(warp == 0u);
    auto st = p.state();
    k.if_(tid == 0u, [&] {
      tcgen05_mma_f16(k, base, tile.tcgen05_descriptor(), tile.tcgen05_descriptor(),
                      tcgen05_idesc_f16({.m = 128, .n = 64}), k.let_pred(false));
      tcgen05_commit(k, p.empty(st));
    });
    p.empty(st).wait(0u);
    tcgen05_fence_after_sync(k);
    auto cols = tcgen05_ld_32x32b<16>(k, base + ((warp * 32u) << 16u));
    tcgen05_wait_ld(k);
    for (std::size_t j = 0; j < cols.size(); ++j) k.st(out + (tid * 16u + static_cast<std::uint32_t>(j)), bitcast<u32>(cols.at(j)));
    tmem.deallocate(warp == 0u);
    const auto ptx = k.ptx();
    CHECK(has(ptx, "tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32"));
    CHECK(has(ptx, "tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned;"));
    CHECK(has(ptx, "tcgen05.mma.cta_group::1.kind::f16"));
    CHECK(has(ptx, "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64"));
    CHECK(has(ptx, "tcgen05.ld.sync.aligned.32x32b.x16.b32"));
    CHECK(has(ptx, "tcgen05.wait::ld.sync.aligned;"));
    CHECK(has(ptx, "tcgen05.dealloc.cta_group::1.sync.aligned.b32"));
    auto ptxas = test::ptxas_or_skip();
    if (!ptxas) continue;
    auto r = ptxas::assemble(*ptxas, test::write_file(std::string("tmem_roundtrip.") + arch + ".ptx", ptx), arch);
    INFO(r.output);
    CHECK(r.ok());
  }
}
