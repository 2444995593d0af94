#include "dsl/async/cluster.h"

namespace weft {

Reg<u32> cluster_ctarank(KernelBuilder& k, Loc loc) { return k.sreg32("%cluster_ctarank", loc); }

Reg<u32> map_shared(KernelBuilder& k, Reg<u32> addr, Src<u32> rank, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  auto out = k.reg<u32>(loc);
  auto r = rank.is_reg() ? rank.reg() : k.let<u32>(rank, loc);
  k.instr("mapa", {isa::Type::u32}, {q::shared_cluster}, {out, addr, r}, loc);
  return out;
}

void cluster_sync(KernelBuilder& k, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  k.instr("barrier.cluster.arrive", {}, {q::release, q::aligned}, {}, loc);
  k.instr("barrier.cluster.wait", {}, {q::acquire, q::aligned}, {}, loc);
}

}  // namespace weft
