// Each DSL misuse is a diagnostic with the author's file and line and a hint, never an assertion
// or invalid PTX; several are reported per build.
#include <doctest/doctest.h>

#include "dsl/weft.h"
#include "tests/support/dsl_diagnostics.h"

using namespace weft;

namespace {

bool at_line(const Diagnostic& d, int line) { return test::at_line(d, line, "diagnostics_test.cpp"); }
using test::diagnostics_of;
using test::target;
}  // namespace

TEST_CASE("an instruction illegal on the target names the target, the file and the line") {
  KernelBuilder k{"t", target("sm_80")};
  k.elect_sync(); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "elect.sync needs sm_90+ (target sm_80)");
  CHECK_FALSE(d[0].hint.empty());
  CHECK(d[0].format().find("diagnostics_test.cpp:" + std::to_string(line) + ": error: elect.sync needs sm_90+") !=
        std::string::npos);
}

TEST_CASE("a special register of a later architecture is rejected") {
  KernelBuilder k{"t", target("sm_89")};
  k.sreg32("%cluster_ctarank"); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "%cluster_ctarank needs sm_90+ (target sm_89)");
}

TEST_CASE("a type mismatch in the raw instruction layer names the operand and both types") {
  KernelBuilder k{"t", target("sm_90")};
  auto a = k.reg<u32>();
  auto b = k.reg<u32>();
  auto d = k.reg<u32>();
  k.instr("add", {isa::Type::f32}, {}, {d, a, b}); const int line = __LINE__;
  auto diags = diagnostics_of(k);
  REQUIRE(diags.size() == 3);  // d, a and b are all the wrong type
  for (const auto& x : diags) CHECK(at_line(x, line));
  CHECK(diags[0].message == "add.f32: operand 'd' expects a register of type f32, got a u32 register");
  CHECK(diags[0].hint.find("cvt") != std::string::npos);
}

TEST_CASE("a qualifier no form takes lists the legal shapes") {
  KernelBuilder k{"t", target("sm_90")};
  auto p = k.param_ptr<f32>("p");
  k.ld(p, {q::wb}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "no form of 'ld' takes ld.global.wb.f32");
  CHECK(d[0].hint.find("the forms are:") != std::string::npos);
}

TEST_CASE("exclusive qualifiers are refused") {
  KernelBuilder k{"t", target("sm_90")};
  auto p = k.param_ptr<u32>("p");
  auto a = k.reg<u32>();
  k.instr("ld", {isa::Type::u32}, {q::global, q::cg, q::L1_evict_last}, {a, p}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "ld.global.cg.L1::evict_last.u32: .cg and .L1::evict_last cannot be combined");
}

TEST_CASE("a branch to a label that is never placed") {
  KernelBuilder k{"t", target("sm_80")};
  auto l = k.label("missing");
  k.bra(l); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "branch to label 'missing', which is never placed");
  CHECK(d[0].hint == "place it with KernelBuilder::place(label)");
}

TEST_CASE("a label placed twice") {
  KernelBuilder k{"t", target("sm_80")};
  auto l = k.label("twice");
  k.place(l);
  k.place(l); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "label 'twice' is placed twice");
}

TEST_CASE("static shared memory over 48 KiB points at the allocation that crossed the limit") {
  KernelBuilder k{"t", target("sm_90a")};
  k.shared<f32>("a", 8192);   // 32 KiB
  k.shared<f32>("b", 8192); const int line = __LINE__;  // 64 KiB in all
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message.find("brings static shared memory of 't' to 65536 bytes, over the 49152-byte limit") !=
        std::string::npos);
  CHECK(d[0].hint.find("dynamic_shared") != std::string::npos);
}

TEST_CASE("shared memory over the target's per-CTA ceiling is an emit error at the dynamic window") {
  // 100 KiB of dynamic shared memory (plus 1 KiB of static) fits sm_90a's 227 KiB and sm_80's 163 KiB,
  // not sm_89's or sm_120a's 99 KiB: ptxas does not know the launch's dynamic bytes, the verifier does.
  for (const char* t : {"sm_80", "sm_90a", "sm_100a", "sm_89", "sm_120a"}) {
    CAPTURE(t);
    KernelBuilder k{"t", target(t)};
    k.shared<u8>("barriers", 1024);
    k.dynamic_shared<u8>("window", 16, 100 * 1024); const int line = __LINE__;
    auto d = diagnostics_of(k);
    const bool fits = std::string(t) != "sm_89" && std::string(t) != "sm_120a";
    if (fits) {
      CHECK(d.empty());
      continue;
    }
    REQUIRE(d.size() == 1);
    CHECK(at_line(d[0], line));
    CHECK(d[0].message == "kernel 't' needs 103424 bytes of shared memory per CTA (1024 static + 102400 dynamic), "
                          "over the 101376 bytes a CTA may use on " + std::string(t));
  }
  CHECK(target("sm_80").max_shared_per_cta() == 163 * 1024);
  CHECK(target("sm_90a").max_shared_per_cta() == 232448);  // what an H200 reports
  CHECK(target("sm_120").max_shared_per_cta() == 99 * 1024);
}

TEST_CASE("immediates out of range: barrier id and thread count") {
  KernelBuilder k{"t", target("sm_80")};
  k.bar_sync(16); const int l1 = __LINE__;
  k.bar_sync(1, 100); const int l2 = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 2);  // both reported, not just the first
  CHECK(at_line(d[0], l1));
  CHECK(d[0].message == "bar.sync: immediate 16 for operand 'id' is out of range [0, 15]");
  CHECK(at_line(d[1], l2));
  CHECK(d[1].message == "bar.sync: immediate 100 for operand 'count' must be a multiple of 32");
}

TEST_CASE("a value of the kernel used inside a device function") {
  KernelBuilder k{"t", target("sm_80")};
  auto outside = k.let<u32>(7u);
  int line = 0;
  auto f = k.func<u32, u32>("f", [&](Reg<u32> a) {
    auto r = a + outside; line = __LINE__;
    return r;
  });
  (void)f;
  auto d = diagnostics_of(k);
  REQUIRE_FALSE(d.empty());
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "a value of function 't' is used in 'f'");
}

TEST_CASE("else_ must follow its if_ directly") {
  KernelBuilder k{"t", target("sm_80")};
  auto x = k.tid_x();
  auto chain = k.if_(x < 4u, [&] { k.bar_sync(); });
  k.bar_sync();
  chain.else_([&] {}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "else_ must directly follow its if_");
}

TEST_CASE("a fully unrolled loop needs constant bounds") {
  KernelBuilder k{"t", target("sm_80")};
  auto n = k.param<u32>("n");
  k.for_(0u, n, 1u, [&](Reg<u32>) {}, Unroll::full); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "for_ with Unroll::full needs immediate bounds and step");
}

TEST_CASE("kernel directives are checked") {
  KernelBuilder k{"t", target("sm_80")};
  k.reqntid(64, 32);  // 2048 threads
  k.cluster_dims(2);  // clusters need sm_90
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 2);
  CHECK(d[0].message == "kernel 't': 2048 threads per CTA is over the limit of 1024");
  CHECK(d[1].message == "kernel 't': thread-block clusters need sm_90+ (target sm_80)");
}

TEST_CASE("two parameters with one name") {
  KernelBuilder k{"t", target("sm_80")};
  k.param<u32>("n");
  k.param<u32>("n"); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "kernel 't': two parameters are named 'n'");
}

TEST_CASE("every qualifier constant names a value of the table") {
  // qualifiers.h builds its constants at start-up with q::make, which throws for a bad spelling;
  // reaching this test means they all resolved. Check a few land where they should.
  CHECK(q::L1_no_allocate.kind == isa::QualKind::l1evict);
  CHECK(isa::qual_values(q::L1_no_allocate.kind)[q::L1_no_allocate.value - 1] == "L1::no_allocate");
  CHECK(isa::qual_values(q::shared_cluster.kind)[q::shared_cluster.value - 1] == "shared::cluster");
  CHECK_THROWS_AS(q::make(isa::QualKind::rnd, "rq"), std::logic_error);
}

// Rules the program fuzzer found (docs/reliability.md): each is refused by weft, not by ptxas.
TEST_CASE("a predicated st.param is refused") {
  KernelBuilder k{"t", target("sm_90")};
  auto p = k.tid_x() == 0u;
  auto v = k.let<u32>(1u);
  k.fn().call_params.push_back({"arg", sig::ParamKind::scalar, isa::Type::u32, 4, 4});
  k.instr_if(p, "st", {isa::Type::u32}, {q::param}, {Arg(ir::Operand::mem(std::string("arg"))), v}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "st.param.u32 cannot be predicated");
}

TEST_CASE("a 32-bit address outside shared memory is refused") {
  KernelBuilder k{"t", target("sm_90")};
  auto smem = k.shared<u32>("s", 4);
  auto d32 = k.reg<u32>();
  k.instr("ld", {isa::Type::u32}, {q::global}, {d32, smem}); const int line = __LINE__;
  k.instr("ld", {isa::Type::u32}, {q::shared}, {d32, smem});  // fine: a shared window offset
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], line));
  CHECK(d[0].message == "ld.global.u32: a 32-bit address for operand 'a' outside shared memory");
}

TEST_CASE("bit-field positions over 255 are refused") {
  KernelBuilder k{"t", target("sm_80")};
  auto a = k.let<u32>(1u);
  auto r = k.reg<u32>();
  k.instr("bfe", {isa::Type::u32}, {}, {r, a, std::int64_t{4294967295}, 3}); const int line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE_FALSE(d.empty());
  CHECK(at_line(d[0], line));
  CHECK(d[0].message.find("out of range [0, 255]") != std::string::npos);
}

TEST_CASE("half-precision copies are bit moves") {
  KernelBuilder k{"t", target("sm_90")};
  auto h = k.reg<f16>();
  auto h2 = k.let<f16>(h);
  auto p = k.reg<bf16x2>();
  k.assign(k.reg<bf16x2>(), p);
  (void)h2;
  const auto ptx = k.ptx();
  CHECK(ptx.find("mov.b16 %rs") != std::string::npos);
  CHECK(ptx.find("mov.b32 %r") != std::string::npos);
}

// A Ptr or Reg declared for a configuration that never assigned it (the stream-K GEMM's first build
// stored through such a pointer) used to print a register nobody wrote, or crash in an operator; it is
// refused at the author's line.
TEST_CASE("a value that was never given one is refused at the instruction that uses it") {
  KernelBuilder k{"t", target("sm_90")};
  Ptr<u32, Shared> never;
  auto v = k.let<u32>(1u);
  k.st(never, v); const int store_line = __LINE__;
  auto d = diagnostics_of(k);
  REQUIRE(d.size() == 1);
  CHECK(at_line(d[0], store_line));
  CHECK(d[0].message == "'st' uses a value that was never given one (a default-constructed Reg, Pred or Ptr)");
  CHECK_FALSE(d[0].hint.empty());
}

TEST_CASE("an operator on a value that was never given one stops the build at the line") {
  KernelBuilder k{"t", target("sm_90")};
  Reg<u32> unset;
  auto v = k.let<u32>(1u);
  int line = 0;
  try {
    line = __LINE__; (void)(unset + v);
    FAIL("no error");
  } catch (const DiagnosticError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(at_line(e.diagnostics()[0], line));
    CHECK(e.diagnostics()[0].message.find("never given one") != std::string::npos);
  }
  Ptr<u32, Global> nowhere;
  CHECK_THROWS_AS((void)(nowhere + v), DiagnosticError);
}
