#include "dsl/async/mbarrier.h"

#include "codegen/isa/database.h"
#include "dsl/async/cluster.h"
#include "dsl/debug_wait.h"
#include "dsl/ops.h"

namespace weft {

namespace {
isa::Quals shared_space() {
  isa::Quals q;
  q.set(isa::QualKind::space, "shared");
  return q;
}
ir::Operand at(Reg<u32> a) { return ir::Operand::mem(a.id()); }
}  // namespace

void Mbarrier::init(Src<u32> arrivals, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  k_->emit("mbarrier.init", isa::Type::none, isa::Type::none, shared_space(), {at(addr_), arrivals.operand()},
           SourceLoc::from(loc));
}

void Mbarrier::arrive(Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  // The phase token is not needed (waits use parities); sm_90+ discards it with `_`.
  const auto& token_spec = isa::form("mbarrier.arrive").operands.front();
  const bool sink_ok = k_->target().sm >= token_spec.sink_min_sm;
  const ir::Operand token = sink_ok ? ir::Operand::sink() : ir::Operand::r(k_->fresh<b64>().id());
  k_->emit("mbarrier.arrive", isa::Type::none, isa::Type::none, shared_space(), {token, at(addr_)}, SourceLoc::from(loc));
}

void Mbarrier::arrive_cluster(Src<u32> rank, Loc loc) { arrive_remote("mbarrier.arrive.remote", rank, loc); }

void Mbarrier::arrive_cluster_release(Src<u32> rank, Loc loc) {
  arrive_remote("mbarrier.arrive.remote.release", rank, loc);
}

void Mbarrier::arrive_remote(const char* form, Src<u32> rank, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  auto remote = map_shared(*k_, addr_, rank, loc);
  k_->emit_form(form, isa::Type::none, isa::Type::none, {}, {ir::Operand::sink(), at(remote)}, SourceLoc::from(loc));
}

void Mbarrier::arrive_expect_tx(Src<u32> bytes, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  k_->emit("mbarrier.arrive.expect_tx", isa::Type::none, isa::Type::none, shared_space(),
           {ir::Operand::sink(), at(addr_), bytes.operand()}, SourceLoc::from(loc));
}

void Mbarrier::complete_tx(Src<u32> bytes, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  k_->emit_form("mbarrier.complete_tx", isa::Type::none, isa::Type::none, shared_space(), {at(addr_), bytes.operand()},
           SourceLoc::from(loc));
}

void Mbarrier::arrive_on_cp_async(Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  auto q = shared_space();
  q.set(isa::QualKind::noinc, "noinc");
  k_->emit("cp.async.mbarrier.arrive", isa::Type::none, isa::Type::none, q, {at(addr_)}, SourceLoc::from(loc));
}

void Mbarrier::inval(Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  k_->emit("mbarrier.inval", isa::Type::none, isa::Type::none, shared_space(), {at(addr_)}, SourceLoc::from(loc));
}

void Mbarrier::wait(Src<u32> parity, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  const auto l = SourceLoc::from(loc);
  // try_wait suspends in hardware for a while (sm_90+); test_wait only polls (sm_80/89).
  const bool can_try = isa::form("mbarrier.try_wait.parity").targets.contains(k_->target());
  const char* opcode = can_try ? "mbarrier.try_wait.parity" : "mbarrier.test_wait.parity";
  auto done = k_->fresh_pred();
  auto retry = k_->label("mbar_wait", loc);
  auto finished = k_->label("mbar_done", loc);
  if (!k_->target().debug_waits) {
    k_->place(retry, loc);
    k_->emit(opcode, isa::Type::none, isa::Type::none, shared_space(),
             {ir::Operand::r(done.id()), at(addr_), parity.operand()}, l);
    k_->bra_if(!done, retry, loc);
    k_->place(finished, loc);
    return;
  }
  // Bounded wait: after kWaitLimitNs of %globaltimer, report (first reporter wins) and trap.
  auto start = k_->globaltimer(loc);
  k_->place(retry, loc);
  k_->emit(opcode, isa::Type::none, isa::Type::none, shared_space(),
           {ir::Operand::r(done.id()), at(addr_), parity.operand()}, l);
  k_->bra_if(done, finished, loc);
  auto waited = k_->globaltimer(loc) - start;
  k_->bra_if(waited < debug_wait::kWaitLimitNs, retry, loc);
  detail::report_wait_timeout(*k_, debug_wait::Kind::mbarrier, id_, parity, 0u, l, loc);
  k_->place(finished, loc);
}

MbarrierArray::MbarrierArray(KernelBuilder& k, const std::string& name, std::uint32_t count, Loc loc)
    : k_(&k), name_(name), base_(k.shared<u64>(name, count, 8, loc)), count_(count), first_id_(k.next_id()) {
  for (std::uint32_t i = 1; i < count; ++i) k.next_id();
}

void MbarrierArray::init_all(std::uint32_t arrivals, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  k_->if_(k_->tid_x(loc) == 0u, [&] {
    for (std::uint32_t i = 0; i < count_; ++i) (*this)[i].init(arrivals, loc);
    if (isa::form("fence.mbarrier_init").targets.contains(k_->target()))
      k_->instr("fence.mbarrier_init.release.cluster", {}, {}, {}, loc);
  }, loc);
  k_->bar_sync(0, 0, loc);
}

Mbarrier MbarrierArray::operator[](std::uint32_t i) const {
  auto p = base_ + static_cast<std::int64_t>(i);
  auto a = p.offset() ? k_->let<u32>(p.base() + static_cast<std::uint32_t>(p.offset())) : p.base();
  return Mbarrier(k_, a, first_id_ + i, name_ + "[" + std::to_string(i) + "]");
}

Mbarrier MbarrierArray::at(Reg<u32> i, Loc loc) const {
  KernelBuilder::AtLine at_line(*k_, loc);
  auto a = fma(i, Src<u32>(8u, loc), Src<u32>(base_.base(), loc));
  return Mbarrier(k_, a, first_id_, name_ + "[i]");
}

}  // namespace weft
