// MoE dispatch: every (token, k) with an expert goes to the rank that owns the expert, into the
// next free slot of that expert's region for this source rank. An opening rendezvous first says every
// rank has launched, so whatever its host wrote into its own recv / recv_count before the launch (in
// stream order) is done before any peer writes there. One warp per token: lane kk < topk takes the
// slot of the token's k-th choice with an atomic on this rank's counter, then the warp reads the token
// once, `unroll` 16-byte packets per lane at a time, and stores each batch to every chosen expert's
// slot through the peer pointers. The last CTA to finish (a counter, not a grid barrier) sends each
// owner its per-expert counts, resets the counters, signals every rank, and waits until every rank
// has signalled it: after the kernel, `recv` and `recv_count` are complete on this rank.
//
// bulk=1 (sm_90+): the row goes through shared memory instead of registers. Lane 0 of the warp loads
// the whole row with one cp.async.bulk into its buffer (`row_bytes` per warp: the kernel is built for
// one row size), waits on its mbarrier, and issues one bulk store per chosen expert, so a warp keeps a
// whole row on its way instead of 32 x unroll packets. The bulk stores reach the peers in the async
// proxy: each lane 0 waits for them to complete and fences the proxies before the CTA's counts are
// published with the usual .sys release.
//
// scales=1 (the fp8 MoE layer): the rows are e4m3 tokens (moe_quantize) and each carries
// `scale_blocks` f32 block scales, x_scales[sb * tokens + token]; they go to
// recv_scales[sb * recv_rows + recv row] on the owner, beside the row, in the layout the experts'
// block-scaled GEMM reads (a_scales). The lanes take the scales 32 at a time, in warp-uniform trips
// (the owners and rows come by shuffle), and store them with the rows' .sys stores, so the counts'
// release publishes them too.
#include <optional>

#include "dsl/async.h"
#include "samples/kernels/comm/moe_layout.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_dispatch, isa::TargetSet::from_sm(80),
                "MoE all-to-all dispatch: tokens to the ranks owning their top-k experts (warp per token)",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads)", 1, 32}, unroll_param(kMovePackets),
                 {"bulk", 0, "1 (sm_90+): rows move by bulk copies through shared memory (one load, one store per "
                             "chosen expert, from lane 0), not through registers", 0, 1},
                 {"row_bytes", 14336, "bulk=1: bytes of a token row (hidden x 2, a multiple of 16), the shared "
                                      "memory each warp holds; the launch's h16 x 16 must equal it", 16, 65536},
                 {"scales", 0, "1: each row carries f32 block scales (x_scales to recv_scales; fp8 tokens)", 0, 1}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  const bool bulk = params["bulk"] != 0;
  const bool scales = params["scales"] != 0;
  const auto row_bytes = static_cast<std::uint32_t>(params["row_bytes"]);
  KernelBuilder k{"moe_dispatch", target};
  const auto unroll = packets_per_batch(k, params, 32 * warps, kMovePackets);
  if (bulk && !moe_bulk_supported(target))
    k.error("moe_dispatch: bulk=1 moves rows with cp.async.bulk, which " + target.name() + " does not have",
            "bulk=0 (registers) on this target, or an sm_90+ target");
  // (warps x row_bytes within the target's shared memory is the verifier's check, at the buffers' line.)
  if (bulk && row_bytes % 16)
    k.error("moe_dispatch: bulk=1 needs row_bytes a multiple of 16 (bulk copies move 16-byte units), not " +
                std::to_string(row_bytes),
            "row_bytes = hidden x 2 of a hidden size that is a multiple of 8, or bulk=0");
  if (!k.diagnostics().empty()) return k.build();  // throws with the problems above
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
  std::optional<comm::PeerTable> x_scales, recv_scales;
  std::optional<Reg<u32>> scale_blocks;
  if (scales) {
    x_scales = ctx.table("x_scales");
    recv_scales = ctx.table("recv_scales");
    scale_blocks = k.param<u32>("scale_blocks");
  }
  auto lane = k.laneid();
  auto nranks = ctx.nranks();

  // bulk=1: a row buffer and an mbarrier per warp; `phase`, the parity of this warp's next wait.
  Ptr<u8, Shared> rows;
  std::optional<MbarrierArray> row_full;
  auto warp = k.tid_x() / 32u;
  auto phase = k.let<u32>(0u);
  if (bulk) {
    rows = k.dynamic_shared<u8>("rows", 128, warps * row_bytes);
    row_full.emplace(k, "row_full", warps);
    row_full->init_all(1u);
    k.if_(h16 * 16u != row_bytes, [&] { k.trap(); });  // a row of another size than the build's
  }

  comm::Rendezvous(k, ctx, entry_flags).arrive_and_wait(0, epoch);
  auto token = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  auto warps_in_grid = k.nctaid_x() * warps;
  k.while_([&] { return token < tokens; }, [&] {
    // Lane kk < topk takes the slot of the k-th choice; the packet loop takes the owner and the
    // row by shuffle (-1: no expert).
    auto owner = k.let<s32>(-1);
    auto slot_row = k.let<u32>(0u);  // the row's index in the owner's recv
    k.if_(lane < topk, [&] {
      auto pair = token * topk + lane;
      auto e = k.ld(topk_idx + pair);
      k.if_(e >= 0, [&] {
        auto expert = bitcast<u32>(e);
        auto slot = k.atom(q::add, counters + expert, 1u, {q::relaxed, q::gpu});
        k.st(slot_map + pair, slot);
        k.assign(slot_row, recv_slot(expert % local_experts, ctx.rank(), slot, nranks, capacity));
        k.assign(owner, bitcast<s32>(expert / local_experts));
      });
    });
    auto row = k.let<u32>(slot_row * h16 * 4u);
    if (scales) {
      auto recv_rows = local_experts * nranks * capacity;
      k.for_(0u, *scale_blocks, 32u, [&](Reg<u32> first) {
        auto sb = first + lane;
        auto value = k.let<f32>(0.0f);
        k.if_(sb < *scale_blocks, [&] { k.assign(value, k.ld(x_scales->local<f32>() + sb * tokens + token)); });
        k.for_(0u, topk, 1u, [&](Reg<u32> kk) {
          auto to = k.shfl(q::idx, owner, kk);
          auto at = k.shfl(q::idx, slot_row, kk);
          k.if_(to >= 0 && sb < *scale_blocks, [&] {
            k.st(recv_scales->peer<f32>(bitcast<u32>(to)) + sb * recv_rows + at, value, {q::relaxed, q::sys});
          });
        });
      });
    }
    auto src = x + token * h16 * 4u;
    if (bulk) {
      auto buffer = rows.base() + warp * row_bytes;
      auto full = row_full->at(warp);
      k.if_(lane == 0u, [&] {
        full.arrive_expect_tx(row_bytes);
        bulk_load(k, buffer, src.as<u8>(), row_bytes, full);
        full.wait(phase);
      });
      k.assign(phase, phase ^ 1u);
      k.for_(0u, topk, 1u, [&](Reg<u32> kk) {
        auto to = k.shfl(q::idx, owner, kk);
        auto at = k.shfl(q::idx, row, kk);
        k.if_(lane == 0u && to >= 0, [&] {
          bulk_store(k, (recv.peer<u32>(bitcast<u32>(to)) + at).as<u8>(), buffer, row_bytes);
        });
      });
      k.if_(lane == 0u, [&] {
        bulk_commit(k);
        bulk_wait(k, 0, /*read_only=*/true);  // the buffer is read: the next row may land there
      });
      k.assign(token, token + warps_in_grid);
      return;
    }
    for_each_row_packet(k, h16, unroll, [&](const RowTrip& trip) {
      const auto& packets = trip.packets;
      std::vector<comm::Packet> v(packets.size());
      if (trip.whole) {
        for (std::size_t u = 0; u < packets.size(); ++u) v[u] = comm::load_packet(k, src + packets[u] * 4u, false);
      } else {  // the value must outlive the bounds test: a register set inside it
        for (auto& w : v[0]) w = k.let<u32>(0u);
        trip.in_row([&] {
          auto got = comm::load_packet(k, src + packets[0] * 4u, false);
          for (std::size_t w = 0; w < 4; ++w) k.assign(v[0][w], got[w]);
        });
      }
      k.for_(0u, topk, 1u, [&](Reg<u32> kk) {
        auto to = k.shfl(q::idx, owner, kk);
        auto at = k.shfl(q::idx, row, kk);
        k.if_(to >= 0, [&] {
          auto dst = recv.peer<u32>(bitcast<u32>(to)) + at;
          trip.in_row([&] {
            for (std::size_t u = 0; u < packets.size(); ++u)
              comm::store_packet(k, dst + packets[u] * 4u, v[u], /*peer=*/true);
          });
        });
      });
    });
    k.assign(token, token + warps_in_grid);
  });

  // The last CTA to finish publishes the counts. Its fence pairs with every other CTA's fence
  // before its increment, so it sees every slot they took and every token they stored.
  if (bulk)  // the bulk stores complete, then ordered before the generic-proxy release below
    k.if_(lane == 0u, [&] {
      bulk_wait(k, 0);
      fence_proxy_async_global(k);
    });
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
