#include "dsl/comm/context.h"

namespace weft::comm {

Reg<u64> PeerTable::entry(Src<u32> r, bool peer, Loc loc) const {
  KernelBuilder::AtLine at(*k_, loc);
  // The table is written by the host before the launch and never changes during it: a read-only
  // (non-coherent) load is safe and keeps it in the read-only cache.
  auto base = k_->ld(table_ + Src<u32>(row_first_ + r, loc), {q::nc}, loc);
  if (peer) k_->mark_peer(base);
  return base;
}

CommContext::CommContext(KernelBuilder& k, Loc loc) : k_(&k) {
  KernelBuilder::AtLine at(k, loc);
  auto rank_base = k.param<u32>("rank_base", loc);
  nranks_ = k.param<u32>("nranks", loc);
  row_ = k.ctaid_y(loc);
  rank_ = rank_base + Src<u32>(row_, loc);
  row_first_ = row_ * Src<u32>(nranks_, loc);
}

PeerTable CommContext::table(const std::string& name, Loc loc) {
  return PeerTable(*k_, k_->param_ptr<u64>(name, loc), row_first_, rank_);
}

}  // namespace weft::comm
