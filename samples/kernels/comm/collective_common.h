// Shared pieces of the collective samples (all_gather, reduce_scatter, all_reduce, all_reduce_multimem):
// the grid-stride walk over 16-byte packets, in batches so that several loads are in flight per
// thread (copy_vec16 walks its vectors with it too), and the pull-and-sum of packets from every rank.
#pragma once

#include <functional>
#include <vector>

#include "dsl/comm.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

// The `unroll` kernel parameter of the collectives: packets per batch (a function, not a variable:
// the registry's static initialisers use it, in whatever order their files are initialised).
inline KernelParam unroll_param() {
  return {"unroll", 0, "16-byte packets a thread loads before it stores or sums them (loads in flight per thread); "
                       "0: 4 for CTAs of up to 512 threads, 2 above; unroll x block at most 2048", 0, 4};
}

// The batch size a kernel uses: `unroll`, or its default for the block. unroll x block is capped at
// 2048 because a 1024-thread CTA has 64 registers per thread, and bf16 sums of 4 packets (8 f32 each)
// spill there (ptxas, with debug waits); the cap keeps every combination spill-free.
inline std::uint32_t packets_per_batch(KernelBuilder& k, const KernelParams& params, std::uint32_t block) {
  const auto unroll = static_cast<std::uint32_t>(params["unroll"]);
  if (unroll == 0) return block <= 512 ? 4 : 2;
  if (unroll * block > 2048)
    k.error("unroll " + std::to_string(unroll) + " x block " + std::to_string(block) +
                " is over 2048: a CTA of that many threads has too few registers per thread for the batch",
            "unroll=0 (4 up to 512 threads, 2 above) or a smaller block");
  return unroll;
}

// Calls body(packets) for the packets in [0, n16) that this thread owns, CTA-strided across the
// grid's x dimension (the SM budget): `unroll` packets i, i + stride, ... per call while all of them
// exist, then one per call for the rest. A body issues all its loads before any store or sum, so a
// thread has `unroll` loads in flight: one 16-byte load at a time per thread leaves each SM far below
// its bandwidth (the first H200 run: an all-gather on 20 SMs per rank moved 846 GB/s of HBM traffic
// where one warp of bulk copies per SM moves about 100 GB/s per SM).
inline void for_each_packet(KernelBuilder& k, std::uint32_t block, Reg<u32> n16, std::uint32_t unroll,
                            const std::function<void(const std::vector<Reg<u32>>&)>& body) {
  auto i = k.let<u32>(k.ctaid_x() * block + k.tid_x());
  auto stride = k.nctaid_x() * block;
  if (unroll > 1) {
    auto batch_end = n16 - min(n16, stride * (unroll - 1));  // i below it: i + (unroll - 1) stride < n16
    k.while_([&] { return i < batch_end; }, [&] {
      std::vector<Reg<u32>> batch;
      for (std::uint32_t u = 0; u < unroll; ++u) batch.push_back(i + stride * u);
      body(batch);
      k.assign(i, i + stride * unroll);
    });
  }
  k.while_([&] { return i < n16; }, [&] {
    body({i});
    k.assign(i, i + stride);
  });
}

// The packets at `first + i` of `in` on this rank, for each i of `packets` (loads issued together).
inline std::vector<comm::Packet> load_packets(KernelBuilder& k, Ptr<u32, Global> in, Reg<u32> first,
                                              const std::vector<Reg<u32>>& packets, bool peer) {
  std::vector<comm::Packet> v;
  for (const auto& i : packets) v.push_back(comm::load_packet(k, in + (first + i) * 4u, peer));
  return v;
}

// For each i of `packets`, the sum over ranks p (starting at this rank, so ranks read different
// peers at once) of the packet at `first + i` of `in` on rank p, where `first` and `i` count
// packets. Per rank, the loads of every packet are issued before they are added.
inline std::vector<comm::Packet> pull_sum(KernelBuilder& k, const comm::CommContext& ctx, const comm::PeerTable& in,
                                          comm::Elem elem, Reg<u32> first, const std::vector<Reg<u32>>& packets) {
  std::vector<comm::PacketSum> sums;
  sums.reserve(packets.size());
  for (const auto& v : load_packets(k, in.peer<u32>(ctx.rank()), first, packets, /*peer=*/true))
    sums.emplace_back(k, elem, v);
  k.for_(1u, ctx.nranks(), 1u, [&](Reg<u32> j) {
    auto p = (ctx.rank() + j) % ctx.nranks();
    auto loaded = load_packets(k, in.peer<u32>(p), first, packets, /*peer=*/true);
    for (std::size_t u = 0; u < sums.size(); ++u) sums[u].add(loaded[u]);
  });
  std::vector<comm::Packet> out;
  for (const auto& s : sums) out.push_back(s.result());
  return out;
}

}  // namespace weft::samples
