// Block-wide inclusive prefix sum of u32: each CTA scans its `block` elements (warp scans with
// shfl.up, then a scan of the warp totals in shared memory) and writes its total to block_sums,
// which a second pass (or the host) scans to join the blocks.
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

namespace {
// Inclusive scan across the warp: after it, lane l holds the sum of lanes 0..l.
Reg<u32> warp_scan(KernelBuilder& k, Reg<u32> v, Reg<u32> lane) {
  for (std::uint32_t offset = 1; offset < 32; offset *= 2) {
    auto up = k.shfl(q::up, v, offset, 0);
    v = select(lane >= offset, v + up, v);
  }
  return v;
}
}  // namespace

WEFT_KERNEL(scan, "out[i] = in[0] + ... + in[i] within each CTA's segment; block_sums[cta] = its total",
            {{"block", 256, "threads per CTA = elements per segment, a multiple of 32", 64, 1024, true}}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  KernelBuilder k{"scan", target};
  k.reqntid(block);
  auto n = k.param<u32>("n");
  auto in = k.param_ptr<u32>("in");
  auto out = k.param_ptr<u32>("out");
  auto block_sums = k.param_ptr<u32>("block_sums");
  auto warp_totals = k.shared<u32>("warp_totals", block / 32, 16);

  auto tid = k.tid_x();
  auto lane = tid & 31u;
  auto warp = tid >> 5;
  auto i = k.global_index_x();
  auto v = k.let<u32>(0u);
  k.if_(i < n, [&] { k.assign(v, k.ld(in + i, {q::nc})); });
  auto x = warp_scan(k, v, lane);
  k.if_(lane == 31u, [&] { k.st(warp_totals + warp, x); });
  k.bar_sync();
  k.if_(warp == 0u, [&] {
    auto t = k.let<u32>(0u);
    k.if_(lane < block / 32, [&] { k.assign(t, k.ld(warp_totals + lane)); });
    auto scanned = warp_scan(k, t, lane);
    k.if_(lane < block / 32, [&] { k.st(warp_totals + lane, scanned); });
  });
  k.bar_sync();
  auto result = k.let<u32>(x);
  k.if_(warp > 0u, [&] { k.assign(result, x + k.ld(warp_totals + (warp - 1u))); });
  k.if_(i < n, [&] { k.st(out + i, result); });
  k.if_(tid == block - 1, [&] { k.st(block_sums + k.ctaid_x(), result); });
  return k.build();
}

}  // namespace weft::samples
