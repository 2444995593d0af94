// x[i] *= a, written with weft's DSL. Registered with WEFT_KERNEL, so the project-local CLI
// (scale_kernels_weft) can list and emit it.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace example {
using namespace weft;

WEFT_KERNEL(scale, "x[i] *= a over n f32 elements", {{"block", 128, "threads per CTA", 32, 1024}}) {
  KernelBuilder k{"scale", target};
  k.reqntid(static_cast<std::uint32_t>(params["block"]));
  auto n = k.param<u32>("n");
  auto a = k.param<f32>("a");
  auto x = k.param_ptr<f32>("x");
  auto i = k.global_index_x();
  k.if_(i < n, [&] {
    auto p = x + i;
    k.st(p, k.ld(p) * a);
  });
  return k.build();
}

}  // namespace example
