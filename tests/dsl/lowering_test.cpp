// What the DSL emits: operators resolve to the database row for their type, control flow lowers to
// branches and labels, and the PTX header carries the right .version and signature.
#include <doctest/doctest.h>

#include "codegen/printer.h"
#include "codegen/signature.h"
#include "dsl/weft.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
using weft::test::contains;
isa::Target target(const char* name) { return *isa::parse_target(name).target; }
}  // namespace

TEST_CASE("operators pick the instruction form for their type") {
  KernelBuilder k{"ops", target("sm_90")};
  auto u = k.param<u32>("u");
  auto s = k.param<s32>("s");
  auto f = k.param<f32>("f");
  auto d = k.param<f64>("d");
  auto out = k.param_ptr<u32>("out");
  auto r1 = u * 3u;
  auto r2 = s >> 2u;
  auto r3 = f / 2.0f;
  auto r4 = convert<s32>(f);
  auto r5 = convert<f32>(d);
  auto r6 = u & 0xffu;
  auto r7 = fma(f, f, 1.0f);
  auto r8 = convert<u32>(bitcast<u32>(r7) + 1u);
  k.st(out, r1 + bitcast<u32>(r2) + bitcast<u32>(r4) + r6 + r8);
  k.st(out + 1, bitcast<u32>(r3 + r5));
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "mul.lo.u32 %r"));
  CHECK(contains(ptx, "shr.s32 %r"));
  CHECK(contains(ptx, "div.rn.f32 %f"));
  CHECK(contains(ptx, "cvt.rzi.s32.f32 %r"));
  CHECK(contains(ptx, "cvt.rn.f32.f64 %f"));
  CHECK(contains(ptx, "and.b32 %r"));
  CHECK(contains(ptx, "fma.rn.f32 %f"));
  CHECK(contains(ptx, "0f40000000"));  // 2.0f as PTX writes floats
  CHECK(contains(ptx, "st.global.u32 [%rd"));
  CHECK(contains(ptx, "+4], "));  // out + 1 folded into the address
}

TEST_CASE("the .version is the lowest the target and the instructions need") {
  auto version_of = [](const char* t, bool elect) {
    KernelBuilder k{"v", target(t)};
    if (elect) k.elect_sync();
    auto ptx = k.ptx();
    auto at = ptx.find(".version ");
    return ptx.substr(at + 9, 3);
  };
  CHECK(version_of("sm_80", false) == "7.0");
  CHECK(version_of("sm_90", false) == "7.8");
  CHECK(version_of("sm_90", true) == "8.0");  // elect.sync needs PTX 8.0
  CHECK(version_of("sm_100a", false) == "8.6");
  // cvt to e4m3x2 needs 8.1 on sm_89 but only the target's 7.8 on sm_90 (docs/ptx-facts.md).
  auto fp8 = [](const char* t) {
    KernelBuilder k{"v", target(t)};
    auto a = k.let<f32>(1.0f);
    auto d = k.reg<e4m3x2>();
    k.instr("cvt", {isa::Type::e4m3x2, isa::Type::f32}, {q::rn, q::satfinite}, {d, a, a});
    auto ptx = k.ptx();
    return ptx.substr(ptx.find(".version ") + 9, 3);
  };
  CHECK(fp8("sm_89") == "8.1");
  CHECK(fp8("sm_90") == "7.8");
}

TEST_CASE("the signature block describes the kernel and parses back") {
  KernelBuilder k{"sig", target("sm_90a")};
  k.reqntid(128);
  k.cluster_dims(2);
  k.param<u32>("n");
  k.param_ptr<f32>("x");
  k.param_bytes("tmap", 128, 64);
  k.shared<f32>("tile", 256);
  k.dynamic_shared<f32>("dyn", 128, 65536);
  const auto s = sig::parse(k.ptx());
  CHECK(s.target == "sm_90a");
  REQUIRE(s.kernels.size() == 1);
  const auto& kk = s.kernels[0];
  CHECK(kk.name == "sig");
  REQUIRE(kk.params.size() == 3);
  CHECK(kk.params[0].detail == "u32");
  CHECK(kk.params[1].kind == sig::ParamKind::pointer);
  CHECK(kk.params[1].pointee == "f32");
  CHECK(kk.params[2].kind == sig::ParamKind::bytes);
  CHECK(kk.params[2].size == 128);
  CHECK(kk.params[2].align == 64);
  CHECK(kk.reqntid[0] == 128);
  CHECK(kk.cluster[0] == 2);
  CHECK(kk.static_smem == 1024);
  CHECK(kk.uses_dynamic_smem);
  CHECK(kk.dynamic_smem == 65536 + 112);  // + the bytes a run-time rounding of the base to 128 may skip
}

TEST_CASE("static shared memory counts as ptxas lays it out: rounded up to the dynamic window's alignment") {
  // 96 bytes of barriers before a `.extern .align 1024` window: ptxas reports 1024 bytes of static
  // shared memory, and a launch needs those 1024 plus its dynamic bytes.
  KernelBuilder k{"rounded", target("sm_90a")};
  k.shared<u64>("barriers", 12);
  k.dynamic_shared<u8>("window", 1024, 4096);
  const auto ptx = k.ptx();
  CHECK(sig::parse(ptx).kernels.at(0).static_smem == 1024);
  // Without a dynamic window nothing is rounded.
  KernelBuilder plain{"plain", target("sm_90a")};
  plain.shared<u64>("barriers", 12);
  CHECK(sig::parse(plain.ptx()).kernels.at(0).static_smem == 96);
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto r = ptxas::assemble(*ptxas, test::write_file("rounded.ptx", ptx), "sm_90a");
  INFO(r.output);
  REQUIRE(r.ok());
  REQUIRE(r.kernels.size() == 1);
  CHECK(r.kernels[0].smem == 1024);  // what the signature says
}

TEST_CASE(".loc directives point at the author's lines") {
  KernelBuilder k{"loc", target("sm_80")};
  auto x = k.tid_x(); const int line = __LINE__;
  (void)x;
  const auto ptx = k.ptx();
  CHECK(contains(ptx, ".file 1 \""));
  CHECK(contains(ptx, "lowering_test.cpp\""));
  CHECK(contains(ptx, ".loc 1 " + std::to_string(line) + " "));
}

TEST_CASE("control flow lowers to guarded branches and labels, and assembles") {
  KernelBuilder k{"flow", target("sm_80")};
  auto n = k.param<u32>("n");
  auto out = k.param_ptr<u32>("out");
  auto acc = k.let<u32>(0u);
  k.for_(0u, n, 1u, [&](Reg<u32> i) { k.assign(acc, acc + i); });
  auto j = k.let<u32>(0u);
  k.while_([&] { return j < 10u; }, [&] { k.assign(j, j + 3u); });
  k.if_(acc > 100u, [&] { k.st(out, acc); }).else_([&] { k.st(out, j); });
  k.for_(0u, 4u, 1u, [&](Reg<u32> i) { k.st(out + 1, i); }, Unroll::full);
  const auto ptx = k.ptx();
  CHECK(contains(ptx, "bra.uni $L_"));
  CHECK(contains(ptx, "@!%p"));
  CHECK(contains(ptx, "$L_0_for:"));
  CHECK(contains(ptx, "_endelse:"));
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto file = test::write_file("flow.ptx", ptx);
  auto r = ptxas::assemble(*ptxas, file, "sm_80");
  INFO(r.output);
  CHECK(r.ok());
}

TEST_CASE("ld_to loads into the register it is given, with no mov after the load") {
  // A loop that loads the next iteration's value into a carried register (software pipelining).
  KernelBuilder k{"ahead", target("sm_90a")};
  auto n = k.param<u32>("n");
  auto x = k.param_ptr<f32>("x");
  auto out = k.param_ptr<f32>("out");
  auto next = k.let<f32>(0.0f);
  auto sum = k.let<f32>(0.0f);
  k.ld_to(next, x, {q::nc});
  k.for_(0u, n, 1u, [&](Reg<u32> i) {
    auto now = k.let<f32>(next);                  // loaded one iteration ago
    k.ld_to(next, x + min(i + 1u, n - 1u), {q::nc});  // the next one, in flight across this iteration
    k.assign(sum, sum + now);
  });
  k.st(out, sum);
  const auto ptx = k.ptx();
  INFO(ptx);
  // Both loads write `next` itself: the printer names it the same in each.
  const auto first = ptx.find("ld.global.nc.f32 ");
  REQUIRE(first != std::string::npos);
  const auto dst = ptx.substr(first + 17, ptx.find(',', first) - first - 17);
  CHECK(ptx.find("ld.global.nc.f32 " + dst + ",", first + 1) != std::string::npos);
  CHECK(ptx.find("mov.f32 " + dst + ",", first) == std::string::npos);  // never a mov into it after a load
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto r = ptxas::assemble(*ptxas, test::write_file("ahead.ptx", ptx), "sm_90a");
  INFO(r.output);
  CHECK(r.ok());
}

TEST_CASE("device functions are printed before the kernel and called through .param") {
  KernelBuilder k{"caller", target("sm_90")};
  auto square_plus = k.func<f32, f32, f32>("square_plus", [&](Reg<f32> a, Reg<f32> b) { return a * a + b; });
  auto x = k.param<f32>("x");
  auto out = k.param_ptr<f32>("out");
  k.st(out, k.call(square_plus, x, 1.0f));
  const auto ptx = k.ptx();
  const auto f = ptx.find(".func (.param .f32 square_plus_ret) square_plus(");
  const auto e = ptx.find(".entry caller(");
  REQUIRE(f != std::string::npos);
  REQUIRE(e != std::string::npos);
  CHECK(f < e);
  CHECK(contains(ptx, "call.uni (weft_call0_ret), square_plus, (weft_call0_arg0, weft_call0_arg1);"));
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto r = ptxas::assemble(*ptxas, test::write_file("call.ptx", ptx), "sm_90");
  INFO(r.output);
  CHECK(r.ok());
}
