// MoE dispatch: every (token, k) with an expert goes to the rank that owns the expert, into the
// next free slot of that expert's region for this source rank. An opening rendezvous first says every
// rank has launched, so whatever its host wrote into its own recv / recv_count before the launch (in
// stream order) is done before any peer writes there. One warp per (token, k): lane 0
// takes a slot with an atomic on this rank's counter, the warp copies the token with 16-byte
// stores through the peer pointer. The last CTA to finish (a counter, not a grid barrier) sends
// each owner its per-expert counts, resets the counters, signals every rank, and waits until every
// rank has signalled it: after the kernel, `recv` and `recv_count` are complete on this rank.
#include "samples/kernels/comm/moe_layout.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_dispatch, isa::TargetSet::from_sm(80),
                "MoE all-to-all dispatch: tokens to the ranks owning their top-k experts (warp per copy)",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads)", 1, 32}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  KernelBuilder k{"moe_dispatch", target};
  comm::one_cta_per_sm(k, 32 * warps);
  comm::CommContext ctx(k);
  auto x = ctx.table("x").local<u32>();
  auto topk_idx = ctx.table("topk_idx").local<s32>();
  auto slot_map = ctx.table("slot_map").local<u32>();
  auto counters = ctx.table("counters").local<u32>();
  auto recv = ctx.table("recv");
  auto recv_count = ctx.table("recv_count");
  auto flags = ctx.table("flags");  // nranks words: flag s is set by source rank s
  auto entry_flags = ctx.table("entry_flags");  // comm::Rendezvous flags (phase 0)
  const auto [tokens, topk, local_experts, capacity, h16, epoch] = moe_scalars(k);
  auto experts = k.param<u32>("experts");  // `counters` holds experts + 1 words
  auto lane = k.laneid();
  auto nranks = ctx.nranks();

  comm::Rendezvous(k, ctx, entry_flags).arrive_and_wait(0, epoch);
  auto pair = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);  // (token, k) index
  auto pairs = tokens * topk;
  auto warps_in_grid = k.nctaid_x() * warps;
  k.while_([&] { return pair < pairs; }, [&] {
    auto e = k.ld(topk_idx + pair);
    k.if_(e >= 0, [&] {
      auto expert = bitcast<u32>(e);
      auto slot = k.let<u32>(0u);
      k.if_(lane == 0u, [&] {
        k.assign(slot, k.atom(q::add, counters + expert, 1u, {q::relaxed, q::gpu}));
        k.st(slot_map + pair, slot);
      });
      k.assign(slot, k.shfl(q::idx, slot, 0u));
      auto owner = expert / local_experts;
      auto dst = recv.peer<u32>(owner) + recv_row(expert % local_experts, ctx.rank(), slot, nranks, capacity, h16);
      auto src = x + (pair / topk) * h16 * 4u;
      auto j = k.let<u32>(lane);
      k.while_([&] { return j < h16; }, [&] {
        comm::store_packet(k, dst + j * 4u, comm::load_packet(k, src + j * 4u, /*peer=*/false), /*peer=*/true);
        k.assign(j, j + 32u);
      });
    });
    k.assign(pair, pair + warps_in_grid);
  });

  // The last CTA to finish publishes the counts. Its fence pairs with every other CTA's fence
  // before its increment, so it sees every slot they took and every token they stored.
  k.bar_sync();
  k.if_(k.tid_x() == 0u, [&] {
    k.fence({q::acq_rel, q::sys});
    auto finished = k.atom(q::add, counters + experts, 1u, {q::acq_rel, q::gpu});
    k.if_(finished == k.nctaid_x() - 1u, [&] {
      k.for_(0u, experts, 1u, [&](Reg<u32> e) {
        auto count = k.ld(counters + e, {q::relaxed, q::gpu});
        auto owner = e / local_experts;
        auto at = (e % local_experts) * nranks + ctx.rank();
        k.st(recv_count.peer<u32>(owner) + at, count, {q::relaxed, q::sys});
        k.st(counters + e, 0u, {q::relaxed, q::gpu});
      });
      k.st(counters + experts, 0u, {q::relaxed, q::gpu});
      k.fence({q::acq_rel, q::sys});
      k.for_(0u, nranks, 1u, [&](Reg<u32> p) { comm::signal(k, flags.peer<u32>(p) + ctx.rank(), epoch); });
      k.for_(0u, nranks, 1u, [&](Reg<u32> s) { comm::wait_flag(k, flags.local<u32>() + s, epoch, s); });
    });
  });
  return k.build();
}

}  // namespace weft::samples
