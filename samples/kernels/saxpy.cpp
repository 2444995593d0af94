// y[i] = a * x[i] + y[i]. x is read through the non-coherent path without L1 allocation: it is
// read once and never written by this kernel.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL(saxpy, "y = a*x + y over n f32 elements (x read once, no L1 allocation)",
            {{"block", 256, "threads per CTA (the launch must match)", 32, 1024}}) {
  KernelBuilder k{"saxpy", target};
  k.reqntid(static_cast<std::uint32_t>(params["block"]));
  auto n = k.param<u32>("n");
  auto a = k.param<f32>("a");
  auto x = k.param_ptr<f32>("x");
  auto y = k.param_ptr<f32>("y");
  auto i = k.global_index_x();
  k.if_(i < n, [&] {
    auto xi = k.ld(x + i, {q::nc, q::L1_no_allocate});
    auto yp = y + i;
    k.st(yp, fma(a, xi, k.ld(yp)));
  });
  return k.build();
}

}  // namespace weft::samples
