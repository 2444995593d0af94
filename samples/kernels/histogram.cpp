// 256-bin histogram of n bytes: each CTA counts into shared memory with shared atomics, then adds
// its non-zero bins to the global histogram with one reduction each.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL(histogram, "hist[b] += count of bytes equal to b (shared-memory atomics, 256 bins)",
            {{"block", 256, "threads per CTA (the launch must match)", 32, 1024}}) {
  constexpr std::uint32_t bins = 256;
  const auto block = static_cast<std::uint32_t>(params["block"]);
  KernelBuilder k{"histogram", target};
  k.reqntid(block);
  auto n = k.param<u32>("n");
  auto data = k.param_ptr<u8>("data");
  auto hist = k.param_ptr<u32>("hist");
  auto counts = k.shared<u32>("counts", bins, 16);
  auto tid = k.tid_x();

  k.for_(tid, bins, block, [&](Reg<u32> b) { k.st(counts + b, 0u); });
  k.bar_sync();
  auto i = k.global_index_x();
  auto stride = k.nctaid_x() * block;
  k.while_([&] { return i < n; },
           [&] {
             auto byte = convert<u32>(k.ld(data + i, {q::nc}));
             k.red(q::add, counts + byte, 1u);
             k.assign(i, i + stride);
           });
  k.bar_sync();
  k.for_(tid, bins, block, [&](Reg<u32> b) {
    auto c = k.ld(counts + b);
    k.if_(c != 0u, [&] { k.red(q::add, hist + b, c); });
  });
  return k.build();
}

}  // namespace weft::samples
