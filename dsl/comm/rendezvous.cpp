#include "dsl/comm/rendezvous.h"

#include "dsl/comm/flags.h"

namespace weft::comm {

Reg<u32> Rendezvous::slot(std::uint32_t phase, Reg<u32> source, Loc loc) {
  auto& k = *k_;
  auto row = fma(ctx_.nranks(), Src<u32>(phase, loc), Src<u32>(source, loc));  // phase * nranks + source
  return fma(row, Src<u32>(k.nctaid_x(loc), loc), Src<u32>(k.ctaid_x(loc), loc));
}

void Rendezvous::arrive(std::uint32_t phase, Src<u32> epoch, Loc loc) {
  auto& k = *k_;
  KernelBuilder::AtLine at(k, loc);
  k.bar_sync(0, 0, loc);
  k.if_(k.tid_x(loc) == 0u, [&] {
    k.fence({q::acq_rel, q::sys}, loc);
    auto mine = slot(phase, ctx_.rank(), loc);
    k.for_(0u, ctx_.nranks(), 1u, [&](Reg<u32> peer) {
      signal(k, flags_.peer<u32>(peer, loc) + mine, epoch, loc);
    }, Unroll::none, loc);
  }, loc);
}

void Rendezvous::wait(std::uint32_t phase, Src<u32> epoch, Loc loc) {
  auto& k = *k_;
  KernelBuilder::AtLine at(k, loc);
  auto source = k.tid_x(loc);
  k.if_(source < ctx_.nranks(), [&] {
    // Our own slots: other ranks store into them, we read with acquire at system scope.
    wait_flag(k, flags_.local<u32>(loc) + slot(phase, source, loc), epoch, source, loc);
  }, loc);
  k.bar_sync(0, 0, loc);
}

}  // namespace weft::comm
