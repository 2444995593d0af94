// Per-CTA rendezvous between ranks over a symmetric flags buffer. CTA c of every rank tells CTA c
// of every other rank that it has reached `phase` of launch `epoch`, then waits for all of them.
// Collectives use it for "my input is ready" and "I have finished reading your buffers". Every rank
// must launch the same grid.x.
//
// Flag slot of (phase, source rank, CTA): (phase * nranks + source) * nctaid.x + ctaid.x, so a
// flags buffer needs phases * nranks * grid.x u32 (samples/apps/comm/collectives.cpp allocates two
// phases). Flags only grow, so kernels may share one buffer: a slot at a later epoch also satisfies
// an earlier wait for it.
#pragma once

#include "dsl/comm/context.h"

namespace weft::comm {

class Rendezvous {
 public:
  Rendezvous(KernelBuilder& k, const CommContext& ctx, PeerTable flags) : k_(&k), ctx_(ctx), flags_(flags) {}

  // bar.sync (the CTA's writes are done), then thread 0 orders them at system scope and stores the
  // epoch into this CTA's slot on every rank.
  void arrive(std::uint32_t phase, Src<u32> epoch, Loc loc = Loc::current());
  // Threads 0..nranks-1 wait for the slot of "their" source rank, then bar.sync: after it, every
  // thread of the CTA may read what the other ranks' CTAs wrote before they arrived.
  void wait(std::uint32_t phase, Src<u32> epoch, Loc loc = Loc::current());
  void arrive_and_wait(std::uint32_t phase, Src<u32> epoch, Loc loc = Loc::current()) {
    arrive(phase, epoch, loc);
    wait(phase, epoch, loc);
  }

 private:
  Reg<u32> slot(std::uint32_t phase, Reg<u32> source, Loc loc);

  KernelBuilder* k_;
  CommContext ctx_;
  PeerTable flags_;
};

}  // namespace weft::comm
