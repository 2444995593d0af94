// Shared pieces of the collective samples (all_gather, reduce_scatter, all_reduce, all_reduce_multimem):
// the grid-stride walk over 16-byte packets, in batches so that several loads are in flight per
// thread (copy_vec16 walks its vectors with it too), and the pull-and-sum of packets from every rank.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "dsl/comm.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

// How many packets a CTA may hold in registers at once (unroll x block). Kernels that sum keep 8 f32
// per bf16 packet besides the packet: a 1024-thread CTA has 64 registers per thread, and sums of 4
// packets spill there (ptxas, with debug waits), so 2048. Kernels that only move packets (all_gather,
// moe_dispatch) hold 4 registers per packet: 4096, which lets a 1024-thread CTA keep 4 loads in
// flight per thread, what copy_vec16 does.
inline constexpr std::uint32_t kSumPackets = 2048, kMovePackets = 4096;

// The `unroll` kernel parameter of the collectives: packets per batch (a function, not a variable:
// the registry's static initialisers use it, in whatever order their files are initialised).
inline KernelParam unroll_param(std::uint32_t cap = kSumPackets) {
  return {"unroll", 0, "16-byte packets a thread loads before it stores or sums them (loads in flight per thread); "
                       "0: 4, or fewer where unroll x block would pass " + std::to_string(cap) +
                       "; unroll x block at most " + std::to_string(cap), 0, 4};
}

// The batch size a kernel uses: `unroll`, or its default for the block (4, or less so that unroll x
// block stays within `cap`; a larger explicit one is a diagnostic).
inline std::uint32_t packets_per_batch(KernelBuilder& k, const KernelParams& params, std::uint32_t block,
                                       std::uint32_t cap = kSumPackets) {
  const auto unroll = static_cast<std::uint32_t>(params["unroll"]);
  if (unroll == 0) return std::max(1u, std::min(4u, cap / block));
  if (unroll * block > cap)
    k.error("unroll " + std::to_string(unroll) + " x block " + std::to_string(block) + " is over " +
                std::to_string(cap) + ": a CTA of that many threads has too few registers per thread for the batch",
            "unroll=0 (4, or fewer so that unroll x block <= " + std::to_string(cap) + ") or a smaller block");
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
