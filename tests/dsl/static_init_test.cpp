// A kernel built before main (from a static initialiser, as a host program or a spawned test rank
// may do) is the kernel built after it: the instruction table must not depend on the order in which
// the files' static initialisers run. This file's initialiser runs before the library's.
#include <doctest/doctest.h>

#include <string>

#include "dsl/weft.h"

using namespace weft;

namespace {

std::string build_saxpy_like() {
  try {
    KernelBuilder k{"static_init", *isa::parse_target("sm_90a").target};
    auto x = k.param_ptr<f32>("x");
    auto y = k.param_ptr<f32>("y");
    auto n = k.param<u32>("n");
    auto a = k.param<f32>("a");
    auto i = k.global_index_x();
    k.if_(i < n, [&] {
      auto yp = y + i;
      k.st(yp, fma(a, k.ld(x + i), k.ld(yp)));  // add, mul, fma, ld, st, setp: rows of several tables
    });
    return k.ptx();
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

const std::string before_main = build_saxpy_like();

}  // namespace

TEST_CASE("a kernel built by a static initialiser, before main, is the kernel built after it") {
  REQUIRE(before_main.rfind("error: ", 0) == std::string::npos);
  CHECK(before_main == build_saxpy_like());
}
