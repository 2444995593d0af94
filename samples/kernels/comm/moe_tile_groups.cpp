// MoE glue between dispatch and the experts' grouped GEMM, on the device so that no count has to
// come back to the host: dispatch leaves this rank's received tokens in `recv`, regions of
// `capacity` rows per (local expert, source rank) with recv_count[le][src] of them filled
// (moe_layout.h). The Hopper GEMM with groups=1 multiplies each 128-row tile row of A by the B of
// the group its tile_groups entry names; this kernel writes those entries for A = recv: the region's
// local expert where the tile row starts inside the filled rows, -1 (padding: not loaded, multiplied
// or stored) where it starts past them. capacity must be a multiple of 128 (the host checks it), so
// no tile row spans two regions. One thread per tile row.
#include "samples/kernels/comm/moe_layout.h"
#include "samples/kernels/gemm/group_rows.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_tile_groups, isa::TargetSet::from_sm(80),
                "MoE: the grouped GEMM's tile_groups for dispatch's recv buffer, from recv_count (-1: padding)",
                {{"block", 128, "threads per CTA (the launch must match)", 32, 1024}}) {
  KernelBuilder k{"moe_tile_groups", target};
  k.reqntid(static_cast<std::uint32_t>(params["block"]));
  auto recv_count = k.param_ptr<u32>("recv_count");     // [local_experts][nranks]
  auto tile_groups = k.param_ptr<s32>("tile_groups");   // [local_experts * nranks * capacity / 128]
  auto local_experts = k.param<u32>("local_experts");
  auto nranks = k.param<u32>("nranks");
  auto capacity = k.param<u32>("capacity");             // rows per (expert, source) region
  auto per_region = capacity / kGroupRows;
  auto t = k.global_index_x();
  k.if_(t < local_experts * nranks * per_region, [&] {
    auto region = t / per_region;  // le * nranks + src
    auto filled = k.ld(recv_count + region);
    auto first_row = (t - region * per_region) * kGroupRows;
    k.st(tile_groups + t, select(first_row < filled, bitcast<s32>(region / nranks), k.let<s32>(-1)));
  });
  return k.build();
}

}  // namespace weft::samples
