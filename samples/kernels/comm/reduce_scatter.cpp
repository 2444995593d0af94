// Reduce-scatter over a peer table: `in` holds nranks segments on every rank; rank r's `out` gets
// the sum over ranks of segment r. A rendezvous says every input is ready, each thread pulls its
// packets of segment r from every rank (ld.relaxed.sys) and sums them in f32, and a second
// rendezvous says every rank has finished reading, so inputs may be overwritten after the kernel.
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL_FOR(reduce_scatter, isa::TargetSet::from_sm(80),
                "out = sum over ranks of segment `rank` of in (f32 or bf16, f32 sums); pull, two rendezvous",
                {{"block", 512, "threads per CTA (the launch must match)", 64, 1024},
                 {"bf16", 0, "element type: 0 f32, 1 bf16 (summed in f32)", 0, 1}, unroll_param()}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  const auto elem = params["bf16"] ? comm::Elem::bf16 : comm::Elem::f32;
  KernelBuilder k{"reduce_scatter", target};
  const auto unroll = packets_per_batch(k, params, block);
  comm::one_cta_per_sm(k, block);
  comm::CommContext ctx(k);
  auto in = ctx.table("in");        // nranks * n16 packets per rank
  auto out = ctx.table("out");      // n16 packets per rank
  auto flags = ctx.table("flags");  // 2 phases
  auto n16 = k.param<u32>("n16");   // packets per segment
  auto epoch = k.param<u32>("epoch");
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);  // every rank's input is in place
  auto first = ctx.rank() * n16;
  auto dst = out.local<u32>();
  for_each_packet(k, block, n16, unroll, [&](const std::vector<Reg<u32>>& packets) {
    auto sums = pull_sum(k, ctx, in, elem, first, packets);
    for (std::size_t u = 0; u < packets.size(); ++u) comm::store_packet(k, dst + packets[u] * 4u, sums[u], /*peer=*/false);
  });
  rendezvous.arrive_and_wait(1, epoch);  // nobody reads this rank's input any more
  return k.build();
}

}  // namespace weft::samples
