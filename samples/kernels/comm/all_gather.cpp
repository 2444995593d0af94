// All-gather over a peer table: rank r's input lands in slot r of `out` on every rank. A first
// rendezvous says every rank's `out` is free (whatever read it before this launch, in stream order on
// its rank, has finished); each thread then loads `unroll` 16-byte packets of its input at once and
// pushes them to every rank (st.relaxed.sys through the peer pointers); a second rendezvous says every rank has
// pushed, so when the kernel ends this rank holds every slot. The grid's x dimension is the SM
// budget: any grid.x works, the same on every rank.
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL_FOR(all_gather, isa::TargetSet::from_sm(80),
                "out[r] = in of rank r on every rank; packets pushed to peers between two rendezvous",
                {{"block", 512, "threads per CTA (the launch must match)", 64, 1024}, unroll_param(kMovePackets)}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  KernelBuilder k{"all_gather", target};
  const auto unroll = packets_per_batch(k, params, block, kMovePackets);
  comm::one_cta_per_sm(k, block);
  comm::CommContext ctx(k);
  auto in = ctx.table("in");        // n16 packets per rank
  auto out = ctx.table("out");      // nranks * n16 packets per rank
  auto flags = ctx.table("flags");  // 2 phases (comm::Rendezvous)
  auto n16 = k.param<u32>("n16");   // packets (16 bytes) per rank
  auto epoch = k.param<u32>("epoch");
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);  // every rank's `out` may be written
  auto zero = k.let<u32>(0u);
  auto slot = ctx.rank() * n16;  // this rank's slot in `out`, in packets
  for_each_packet(k, block, n16, unroll, [&](const std::vector<Reg<u32>>& packets) {
    auto v = load_packets(k, in.local<u32>(), zero, packets, /*peer=*/false);
    k.for_(0u, ctx.nranks(), 1u, [&](Reg<u32> j) {
      auto to = out.peer<u32>((ctx.rank() + j) % ctx.nranks());
      for (std::size_t u = 0; u < packets.size(); ++u)
        comm::store_packet(k, to + (slot + packets[u]) * 4u, v[u], /*peer=*/true);
    });
  });
  rendezvous.arrive_and_wait(1, epoch);  // every rank has pushed its slot
  return k.build();
}

}  // namespace weft::samples
