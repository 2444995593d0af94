// c[i] = a[i] + b[i]: the smallest complete kernel.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL(vector_add, "c[i] = a[i] + b[i] over n f32 elements",
            {{"block", 256, "threads per CTA (the launch must match)", 32, 1024}}) {
  KernelBuilder k{"vector_add", target};
  k.reqntid(static_cast<std::uint32_t>(params["block"]));
  auto n = k.param<u32>("n");
  auto a = k.param_ptr<f32>("a");
  auto b = k.param_ptr<f32>("b");
  auto c = k.param_ptr<f32>("c");
  auto i = k.global_index_x();
  k.if_(i < n, [&] { k.st(c + i, k.ld(a + i) + k.ld(b + i)); });
  return k.build();
}

}  // namespace weft::samples
