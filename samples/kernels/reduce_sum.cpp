// Sum of n floats: a grid-stride loop per thread, a butterfly shuffle reduction per warp, the warp
// sums through shared memory, and one red.global.add per CTA into *out (which the caller zeroes).
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

namespace {
// Every lane ends with the sum of the warp's 32 values.
Reg<f32> warp_sum(KernelBuilder& k, Reg<f32> v) {
  for (std::uint32_t offset = 16; offset > 0; offset /= 2) v = v + k.shfl(q::bfly, v, offset);
  return v;
}
}  // namespace

WEFT_KERNEL(reduce_sum, "*out += sum of n f32 (warp shuffles + shared memory + one atomic per CTA)",
            {{"block", 256, "threads per CTA, a multiple of 32 (the launch must match)", 64, 1024, true}}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  KernelBuilder k{"reduce_sum", target};
  k.reqntid(block);
  auto n = k.param<u32>("n");
  auto in = k.param_ptr<f32>("in");
  auto out = k.param_ptr<f32>("out");

  auto tid = k.tid_x();
  auto i = k.global_index_x();
  auto stride = k.nctaid_x() * block;
  auto sum = k.let<f32>(0.0f);
  k.while_([&] { return i < n; },
           [&] {
             k.assign(sum, sum + k.ld(in + i, {q::nc}));
             k.assign(i, i + stride);
           });
  sum = warp_sum(k, sum);

  auto lane = tid & 31u;
  auto warp = tid >> 5;
  auto warp_sums = k.shared<f32>("warp_sums", block / 32, 16);
  k.if_(lane == 0u, [&] { k.st(warp_sums + warp, sum); });
  k.bar_sync();
  k.if_(warp == 0u, [&] {
    auto v = k.let<f32>(0.0f);
    k.if_(lane < block / 32, [&] { k.assign(v, k.ld(warp_sums + lane)); });
    auto total = warp_sum(k, v);
    k.if_(lane == 0u, [&] { k.red(q::add, out, total); });
  });
  return k.build();
}

}  // namespace weft::samples
