// The fp8 wgmma atom (dsl/async/wgmma_fp8.h): what it emits assembles for sm_90a, and its shape and
// target rules are diagnostics at the author's line.
#include <doctest/doctest.h>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "tests/support/dsl_diagnostics.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
bool at_line(const Diagnostic& d, int line) { return test::at_line(d, line, "wgmma_fp8_test.cpp"); }
using test::check_assembles;
using test::contains;
using test::diagnostics_of;
using test::target;
}  // namespace

TEST_CASE("wgmma_fp8 emits m64nNk32 for e4m3 and e5m2, K-major without transposes, and assembles") {
  for (auto type : {Fp8::e4m3, Fp8::e5m2}) {
    const char* name = type == Fp8::e4m3 ? "e4m3" : "e5m2";
    INFO(name);
    KernelBuilder k{"fp8_tile", target("sm_90a")};
    k.reqntid(128);
    auto out = k.param_ptr<f32>("out");
    const SharedLayout l{.rows = 64, .cols = 128, .elem = type == Fp8::e4m3 ? isa::Type::e4m3 : isa::Type::e5m2,
                         .swizzle = Swizzle::b128};
    auto a = shared_tile(k, "a", l);
    auto b = shared_tile(k, "b", l);
    auto acc = wgmma_accumulator(k, 64);
    wgmma_fence(k);
    for (std::uint32_t kk = 0; kk < 4; ++kk)
      wgmma_fp8(k, acc, 64, a.wgmma_descriptor(kk * 32), b.wgmma_descriptor(kk * 32), k.let_pred(kk != 0), type);
    wgmma_commit(k);
    wgmma_wait(k, 0);
    for (std::uint32_t j = 0; j < acc.size(); ++j) k.st(out + (k.tid_x() * 32u + j), acc[j]);
    const auto ptx = k.ptx();
    CHECK(contains(ptx, std::string("wgmma.mma_async.sync.aligned.m64n64k32.f32.") + name + "." + name));
    check_assembles(ptx, "sm_90a", std::string("wgmma_fp8_") + name);
  }
}

TEST_CASE("wgmma_fp8: an illegal N, a wrong-size accumulator, and a target without wgmma") {
  {
    KernelBuilder k{"t", target("sm_90a")};
    auto tile = shared_tile(k, "a", {.rows = 64, .cols = 128, .elem = isa::Type::e4m3, .swizzle = Swizzle::b128});
    auto acc = wgmma_accumulator(k, 64);
    auto p = k.let_pred(true);
    wgmma_fp8(k, acc, 100, tile.wgmma_descriptor(), tile.wgmma_descriptor(), p); const int l1 = __LINE__;
    wgmma_fp8(k, acc, 256, tile.wgmma_descriptor(), tile.wgmma_descriptor(), p); const int l2 = __LINE__;
    auto d = diagnostics_of(k);
    REQUIRE(d.size() == 2);
    CHECK(at_line(d[0], l1));
    CHECK(d[0].message == "wgmma: N = 100 is not a legal shape");
    CHECK(d[0].hint == "N is a multiple of 8 in [8, 256]");
    CHECK(at_line(d[1], l2));
    CHECK(d[1].message == "wgmma m64n256k32: the accumulator needs 128 registers, got 32");
  }
  {
    KernelBuilder k{"t", target("sm_100a")};
    auto tile = shared_tile(k, "a", {.rows = 64, .cols = 128, .elem = isa::Type::e4m3, .swizzle = Swizzle::b128});
    auto acc = wgmma_accumulator(k, 8);
    wgmma_fp8(k, acc, 8, tile.wgmma_descriptor(), tile.wgmma_descriptor(), k.let_pred(true)); const int line = __LINE__;
    auto d = diagnostics_of(k);
    REQUIRE_FALSE(d.empty());
    CHECK(at_line(d[0], line));
    CHECK(d[0].message == "wgmma.mma_async.sync.aligned.m64n8k32.f32.e4m3.e4m3 needs sm_90a (target sm_100a)");
  }
}
