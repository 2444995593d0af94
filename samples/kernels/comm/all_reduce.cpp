// All-reduce over a peer table, in two designs:
//  - one-shot (shots=1): every rank pulls the whole buffer from every rank and sums it. N-1 reads
//    per element and rank: the lowest latency for small messages.
//  - two-shot (shots=2): rank r sums segment r (a reduce-scatter) and pushes the result into
//    segment r of `out` on every rank (an all-gather). 2(N-1)/N traffic: better for large ones.
// Sums are in f32 whatever the element type; both end with a rendezvous after which inputs may be
// overwritten and `out` is complete on every rank.
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL_FOR(all_reduce, isa::TargetSet::from_sm(80),
                "out = sum over ranks of in (f32 or bf16, f32 sums); one-shot pull or two-shot reduce-scatter + push",
                {{"block", 512, "threads per CTA (the launch must match)", 64, 1024},
                 {"bf16", 0, "element type: 0 f32, 1 bf16 (summed in f32)", 0, 1},
                 {"shots", 1, "1: every rank sums everything; 2: reduce-scatter then all-gather", 1, 2},
                 unroll_param()}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  const auto elem = params["bf16"] ? comm::Elem::bf16 : comm::Elem::f32;
  const bool two_shot = params["shots"] == 2;
  KernelBuilder k{"all_reduce", target};
  const auto unroll = packets_per_batch(k, params, block);
  comm::one_cta_per_sm(k, block);
  comm::CommContext ctx(k);
  auto in = ctx.table("in");        // nranks * n16 packets per rank
  auto out = ctx.table("out");      // nranks * n16 packets per rank
  auto flags = ctx.table("flags");  // 2 phases
  auto n16 = k.param<u32>("n16");   // packets per segment (the buffer is nranks segments)
  auto epoch = k.param<u32>("epoch");
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);
  if (!two_shot) {
    auto zero = k.let<u32>(0u);
    auto dst = out.local<u32>();
    for_each_packet(k, block, n16 * ctx.nranks(), unroll, [&](const std::vector<Reg<u32>>& packets) {
      auto sums = pull_sum(k, ctx, in, elem, zero, packets);
      for (std::size_t u = 0; u < packets.size(); ++u) comm::store_packet(k, dst + packets[u] * 4u, sums[u], /*peer=*/false);
    });
  } else {
    auto first = ctx.rank() * n16;
    for_each_packet(k, block, n16, unroll, [&](const std::vector<Reg<u32>>& packets) {
      auto sums = pull_sum(k, ctx, in, elem, first, packets);
      k.for_(0u, ctx.nranks(), 1u, [&](Reg<u32> j) {
        auto to = out.peer<u32>((ctx.rank() + j) % ctx.nranks());
        for (std::size_t u = 0; u < packets.size(); ++u)
          comm::store_packet(k, to + (first + packets[u]) * 4u, sums[u], /*peer=*/true);
      });
    });
  }
  rendezvous.arrive_and_wait(1, epoch);
  return k.build();
}

}  // namespace weft::samples
