// libdevice math with both backends: the LLVM backend links and inlines the needed functions; the
// direct printer includes them as .func bodies LLVM compiles at emit time. Both assemble.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cstdlib>

#include "codegen/llvm/backend.h"
#include "codegen/llvm/math.h"
#include "codegen/printer.h"
#include "dsl/weft.h"
#include "tests/llvm/math_kernel.h"
#include "tests/support/ptxas_env.h"

using namespace weft;
using weft::test::math_kernel;

namespace {
isa::Target target(const char* name) { return *isa::parse_target(name).target; }

}  // namespace

TEST_CASE("every math function: both backends emit and assemble (sm_80, sm_90a; direct also sm_100a)") {
  auto ptxas = test::ptxas_or_skip();
  REQUIRE(math::functions().size() == 10);
  for (const auto& fn : math::functions()) {
    for (const char* tn : {"sm_80", "sm_90a", "sm_100a"}) {
      INFO(std::string(fn.name) << " for " << std::string(tn));
      const auto t = target(tn);
      const auto m = math_kernel(fn, t);
      const auto direct = emit_ptx(m);
      CHECK(direct.find(fmt::format(".func  (.param .b{} func_retval0) weft_{}__math_{}", fn.f64 ? 64 : 32, fn.name,
                                    fn.name)) != std::string::npos);
      CHECK(direct.find("__nvvm_reflect") == std::string::npos);
      std::string llvm;
      if (llvm_backend::supports(t)) {
        llvm = llvm_backend::emit_ptx(m);
        CHECK(llvm.find("call.uni") == std::string::npos);  // inlined
        CHECK(llvm.find("__nvvm_reflect") == std::string::npos);
      }
      if (!ptxas) continue;
      for (const auto& [which, text] : {std::pair{"direct", direct}, std::pair{"llvm", llvm}}) {
        if (text.empty()) continue;
        INFO(which);
        auto r = ptxas::assemble(*ptxas, test::write_file(fmt::format("math_{}.{}.{}.ptx", fn.name, tn, which), text),
                                 t.name());
        INFO(r.output);
        REQUIRE(r.ok());
        CHECK(r.kernels.at(0).spill_stores == 0);
      }
    }
  }
}

TEST_CASE("two calls of one function in one kernel share its device function") {
  KernelBuilder k{"twice", target("sm_80")};
  auto x = k.param_ptr<f32>("x");
  auto a = k.ld(x);
  auto b = math::expf(k, a);
  auto c = math::expf(k, b);
  k.st(x, math::logf(k, c));
  const auto m = k.build();
  int expf_fns = 0;
  for (const auto& f : m.functions) expf_fns += f.libdevice == "__nv_expf";
  CHECK(expf_fns == 1);
  CHECK(m.functions.size() == 3);  // expf, logf, the kernel
  const auto ptx = emit_ptx(m);
  CHECK(ptx.find("weft_logf__twice") != std::string::npos);
}

TEST_CASE("math inside a device function") {
  KernelBuilder k{"in_func", target("sm_90a")};
  auto gelu = k.func<f32, f32>("gelu", [&](Reg<f32> v) {
    return v * (math::erff(k, v * 0.70710678f) + 1.0f) * 0.5f;
  });
  auto x = k.param_ptr<f32>("x");
  auto v = k.ld(x);
  k.st(x, k.call(gelu, v) + math::erff(k, v));  // the kernel's own erff: another device function
  const auto m = k.build();
  const auto direct = emit_ptx(m);
  const auto llvm = llvm_backend::emit_ptx(m);
  if (auto ptxas = test::ptxas_or_skip()) {
    for (const auto& text : {direct, llvm}) {
      auto r = ptxas::assemble(*ptxas, test::write_file("in_func.ptx", text), "sm_90a");
      INFO(text);
      INFO(r.output);
      CHECK(r.ok());
    }
  }
}

TEST_CASE("a missing libdevice names the path searched") {
  ::setenv("WEFT_LIBDEVICE", "/nonexistent/libdevice.10.bc", 1);
  try {
    (void)llvm_backend::find_libdevice();
    FAIL("expected an error");
  } catch (const DiagnosticError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/libdevice.10.bc") != std::string::npos);
  }
  ::unsetenv("WEFT_LIBDEVICE");
  CHECK(std::filesystem::exists(llvm_backend::find_libdevice()));
}
