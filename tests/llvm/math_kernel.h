// Test support: a kernel y[i] = f(x[i]) (f(x[i], z[i]) for powf) for one libdevice math function,
// shared by the CPU emission tests and the GPU accuracy test.
#pragma once

#include <fmt/format.h>

#include "codegen/llvm/math.h"
#include "dsl/weft.h"

namespace weft::test {

inline ir::Module math_kernel(const math::Function& fn, const isa::Target& t) {
  KernelBuilder k{fmt::format("math_{}", fn.name), t};
  k.reqntid(128);
  auto n = k.param<u32>("n");
  auto i = k.global_index_x();
  if (fn.f64) {
    auto x = k.param_ptr<f64>("x");
    auto y = k.param_ptr<f64>("y");
    k.if_(i < n, [&] {
      auto v = k.ld(x + i);
      k.st(y + i, fn.name == "exp" ? math::exp(k, v) : math::log(k, v));
    });
  } else {
    auto x = k.param_ptr<f32>("x");
    auto z = k.param_ptr<f32>("z");
    auto y = k.param_ptr<f32>("y");
    k.if_(i < n, [&] {
      auto v = k.ld(x + i);
      Reg<f32> r;
      if (fn.name == "expf") r = math::expf(k, v);
      else if (fn.name == "logf") r = math::logf(k, v);
      else if (fn.name == "erff") r = math::erff(k, v);
      else if (fn.name == "tanhf") r = math::tanhf(k, v);
      else if (fn.name == "sinf") r = math::sinf(k, v);
      else if (fn.name == "cosf") r = math::cosf(k, v);
      else if (fn.name == "rsqrtf") r = math::rsqrtf(k, v);
      else r = math::powf(k, v, k.ld(z + i));
      k.st(y + i, r);
    });
  }
  return k.build();
}

}  // namespace weft::test
