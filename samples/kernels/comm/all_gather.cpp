// All-gather over a peer table: rank r's input lands in slot r of `out` on every rank. A first
// rendezvous says every rank's `out` is free (whatever read it before this launch, in stream order on
// its rank, has finished); each thread then loads a 16-byte packet of its input once and pushes it
// to every rank (st.relaxed.sys through the peer pointers); a second rendezvous says every rank has
// pushed, so when the kernel ends this rank holds every slot. The grid's x dimension is the SM
// budget: any grid.x works, the same on every rank.
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL_FOR(all_gather, isa::TargetSet::from_sm(80),
                "out[r] = in of rank r on every rank; packets pushed to peers between two rendezvous",
                {{"block", 512, "threads per CTA (the launch must match)", 64, 1024}}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  KernelBuilder k{"all_gather", target};
  comm::one_cta_per_sm(k, block);
  comm::CommContext ctx(k);
  auto in = ctx.table("in");        // n16 packets per rank
  auto out = ctx.table("out");      // nranks * n16 packets per rank
  auto flags = ctx.table("flags");  // 2 phases (comm::Rendezvous)
  auto n16 = k.param<u32>("n16");   // packets (16 bytes) per rank
  auto epoch = k.param<u32>("epoch");
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);  // every rank's `out` may be written
  auto mine = in.local<u32>();
  auto slot = ctx.rank() * n16 * 4u;  // this rank's slot in `out`, in u32 words
  for_each_packet(k, block, n16, [&](Reg<u32> i) {
    auto v = comm::load_packet(k, mine + i * 4u, /*peer=*/false);
    auto at = slot + i * 4u;
    k.for_(0u, ctx.nranks(), 1u, [&](Reg<u32> j) {
      auto p = (ctx.rank() + j) % ctx.nranks();
      comm::store_packet(k, out.peer<u32>(p) + at, v, /*peer=*/true);
    });
  });
  rendezvous.arrive_and_wait(1, epoch);  // every rank has pushed its slot
  return k.build();
}

}  // namespace weft::samples
