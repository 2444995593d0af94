// MoE combine: after the experts have written their outputs in place in `recv`, every token gathers
// its top-k results from the ranks that own the experts (ld.relaxed.sys through the peer pointers,
// at the slots dispatch recorded) and sums them with its weights in f32. A rendezvous first says
// every rank's expert outputs are ready; a second one says every rank has finished reading, so the
// next dispatch may overwrite `recv`. One warp per token, lanes over its 16-byte packets, `unroll` of
// them per lane at a time: each choice's loads of a batch are issued before they are summed.
#include "samples/kernels/comm/moe_layout.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_combine, isa::TargetSet::from_sm(80),
                "MoE all-to-all combine: weighted sum of each token's expert outputs, pulled from their owners",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads)", 1, 32}, unroll_param()}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  KernelBuilder k{"moe_combine", target};
  const auto unroll = packets_per_batch(k, params, 32 * warps);
  comm::one_cta_per_sm(k, 32 * warps);
  comm::CommContext ctx(k);
  auto topk_idx = ctx.table("topk_idx").local<s32>();
  auto topk_w = ctx.table("topk_w").local<f32>();
  auto slot_map = ctx.table("slot_map").local<u32>();
  auto recv = ctx.table("recv");
  auto out = ctx.table("out").local<u32>();
  auto flags = ctx.table("flags");  // 2 phases (comm::Rendezvous)
  const auto [tokens, topk, local_experts, capacity, h16, epoch] = moe_scalars(k);
  auto lane = k.laneid();
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);  // every rank's expert outputs are in its recv

  auto token = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  auto warps_in_grid = k.nctaid_x() * warps;
  k.while_([&] { return token < tokens; }, [&] {
    // Lane kk < topk reads the token's k-th choice once; the packet loop takes it by shuffle.
    auto expert = k.let<s32>(-1);
    auto row = k.let<u32>(0u);
    auto weight = k.let<f32>(0.0f);
    k.if_(lane < topk, [&] {
      auto pair = token * topk + lane;
      k.assign(expert, k.ld(topk_idx + pair));
      k.if_(expert >= 0, [&] {
        auto e = bitcast<u32>(expert);
        k.assign(row, recv_row(e % local_experts, ctx.rank(), k.ld(slot_map + pair), ctx.nranks(), capacity, h16));
        k.assign(expert, bitcast<s32>(e / local_experts));  // from here on: the owner rank
        k.assign(weight, k.ld(topk_w + pair));
      });
    });
    for_each_row_packet(k, h16, unroll, [&](const RowTrip& trip) {
      const auto& packets = trip.packets;
      std::vector<comm::PacketSum> sums;
      for (std::size_t u = 0; u < packets.size(); ++u) sums.emplace_back(k, comm::Elem::bf16);
      k.for_(0u, topk, 1u, [&](Reg<u32> kk) {
        auto owner = k.shfl(q::idx, expert, kk);
        auto at = k.shfl(q::idx, row, kk);
        auto w = k.shfl(q::idx, weight, kk);
        k.if_(owner >= 0, [&] {
          auto from = recv.peer<u32>(bitcast<u32>(owner)) + at;
          trip.in_row([&] {
            std::vector<comm::Packet> v;
            for (const auto& j : packets) v.push_back(comm::load_packet(k, from + j * 4u, /*peer=*/true));
            for (std::size_t u = 0; u < v.size(); ++u) sums[u].add(v[u], w);
          });
        });
      });
      trip.in_row([&] {
        for (std::size_t u = 0; u < packets.size(); ++u)
          comm::store_packet(k, out + (token * h16 + packets[u]) * 4u, sums[u].result(), /*peer=*/false);
      });
    });
    k.assign(token, token + warps_in_grid);
  });
  rendezvous.arrive_and_wait(1, epoch);  // nobody reads this rank's recv any more
  return k.build();
}

}  // namespace weft::samples
