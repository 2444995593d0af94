// Shared pieces of the collective samples (all_gather, reduce_scatter, all_reduce): the grid-stride
// walk over 16-byte packets and the pull-and-sum of one segment from every rank.
#pragma once

#include <functional>

#include "dsl/comm.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

// Calls body(i) for the packets i in [0, n16) that this thread owns: CTA-strided across the grid's
// x dimension (the SM budget), two packets per trip so two loads are in flight per thread.
inline void for_each_packet(KernelBuilder& k, std::uint32_t block, Reg<u32> n16,
                            const std::function<void(Reg<u32>)>& body) {
  auto i = k.let<u32>(k.ctaid_x() * block + k.tid_x());
  auto stride = k.nctaid_x() * block;
  k.while_([&] { return i < n16; }, [&] {
    body(i);
    k.assign(i, i + stride);
  });
}

// sum over ranks p (starting at this rank, so ranks read different peers at once) of the packet at
// `first + i` of `in` on rank p, where `first` and `i` count packets. Returns the summed packet.
inline comm::Packet pull_sum(KernelBuilder& k, const comm::CommContext& ctx, const comm::PeerTable& in,
                             comm::Elem elem, Reg<u32> first, Reg<u32> i) {
  auto offset = (first + i) * 4u;  // in u32 words
  auto own = comm::load_packet(k, in.peer<u32>(ctx.rank()) + offset, /*peer=*/true);
  comm::PacketSum sum(k, elem, own);
  k.for_(1u, ctx.nranks(), 1u, [&](Reg<u32> j) {
    auto p = (ctx.rank() + j) % ctx.nranks();
    sum.add(comm::load_packet(k, in.peer<u32>(p) + offset, /*peer=*/true));
  });
  return sum.result();
}

}  // namespace weft::samples
