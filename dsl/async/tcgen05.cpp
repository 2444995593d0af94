#include "dsl/async/tcgen05.h"

#include <fmt/format.h>

#include "dsl/ops.h"

namespace weft {

namespace {
q::Q cta_group_1() { return q::make(isa::QualKind::ctagroup, "cta_group::1"); }
bool pow2(std::uint32_t v) { return v && (v & (v - 1)) == 0; }
}  // namespace

std::string tcgen05_f16_problem(const Tcgen05F16Desc& d) {
  if (d.ab != isa::Type::bf16 && d.ab != isa::Type::f16)
    return fmt::format("kind::f16 takes bf16 or f16 inputs, not {}", isa::name(d.ab));
  if (d.d != isa::Type::f32 && d.d != isa::Type::f16)
    return fmt::format("kind::f16 accumulates in f32 or f16, not {}", isa::name(d.d));
  if (d.m != 64 && d.m != 128) return fmt::format("M = {} (cta_group::1 takes M = 64 or 128)", d.m);
  const std::uint32_t step = d.m == 64 ? 8 : 16;
  if (d.n < step || d.n > 256 || d.n % step)
    return fmt::format("N = {} with M = {} (N is a multiple of {} in [{}, 256])", d.n, d.m, step, step);
  return "";
}

std::uint32_t tcgen05_idesc_f16(const Tcgen05F16Desc& d) {
  const std::uint32_t dtype = d.d == isa::Type::f32 ? 1 : 0;
  const std::uint32_t abtype = d.ab == isa::Type::bf16 ? 1 : 0;
  return (dtype << 4) | (abtype << 7) | (abtype << 10) | (std::uint32_t{d.negate_a} << 13) |
         (std::uint32_t{d.negate_b} << 14) | (std::uint32_t{d.transpose_a} << 15) |
         (std::uint32_t{d.transpose_b} << 16) | (((d.n >> 3) & 0x3Fu) << 17) | (((d.m >> 4) & 0x1Fu) << 24);
}

TensorMemory::TensorMemory(KernelBuilder& k, std::string name, std::uint32_t columns, Loc loc)
    : k_(&k), name_(std::move(name)), columns_(columns) {
  KernelBuilder::AtLine at_line(k, loc);
  if (!pow2(columns) || columns < 32 || columns > 512)
    k.diagnose(SourceLoc::from(loc),
               fmt::format("tensor memory '{}': {} columns (a power of two in [32, 512])", name_, columns),
               "tcgen05.alloc allocates 32, 64, 128, 256 or 512 columns");
  slot_ = k.shared<u32>(name_ + "_addr", 1, 16, loc);
}

Reg<u32> TensorMemory::allocate(Pred owner, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  const auto cols = static_cast<std::int64_t>(columns_);
  k_->if_(owner, [&] {
    k_->instr("tcgen05.alloc", {}, {cta_group_1()}, {slot_, cols}, loc);
    k_->instr("tcgen05.relinquish_alloc_permit", {}, {cta_group_1()}, {}, loc);
  }, loc);
  tcgen05_fence_before_sync(*k_, loc);
  k_->bar_sync(0, 0, loc);
  tcgen05_fence_after_sync(*k_, loc);
  base_ = k_->ld(slot_, {}, loc);
  return base_;
}

void TensorMemory::deallocate(Pred owner, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  tcgen05_fence_before_sync(*k_, loc);
  k_->bar_sync(0, 0, loc);
  tcgen05_fence_after_sync(*k_, loc);
  k_->if_(owner, [&] {
    k_->instr("tcgen05.dealloc", {}, {cta_group_1()}, {base_, static_cast<std::int64_t>(columns_)}, loc);
  }, loc);
}

void tcgen05_commit(KernelBuilder& k, const Mbarrier& bar, Loc loc) {
  k.instr("tcgen05.commit", {}, {cta_group_1()}, {Ptr<u64, Shared>(bar.address())}, loc);
}

void tcgen05_fence_before_sync(KernelBuilder& k, Loc loc) { k.instr("tcgen05.fence::before_thread_sync", {}, {}, {}, loc); }
void tcgen05_fence_after_sync(KernelBuilder& k, Loc loc) { k.instr("tcgen05.fence::after_thread_sync", {}, {}, {}, loc); }

void tcgen05_ld_32x32b(KernelBuilder& k, const std::vector<ir::RegId>& dst, Reg<u32> taddr, Loc loc) {
  if (!pow2(static_cast<std::uint32_t>(dst.size())) || dst.size() > 128) {
    k.diagnose(SourceLoc::from(loc), fmt::format("tcgen05.ld .32x32b: {} registers (1, 2, 4, ..., 128)", dst.size()));
    return;
  }
  k.instr("tcgen05.ld.sync.aligned", {},
          {q::make(isa::QualKind::tmshape, "32x32b"), q::make(isa::QualKind::num, fmt::format("x{}", dst.size()))},
          {Arg(ir::Operand::list(dst)), Ptr<u32, Shared>(taddr)}, loc);
}

void tcgen05_wait_ld(KernelBuilder& k, Loc loc) { k.instr("tcgen05.wait::ld.sync.aligned", {}, {}, {}, loc); }

}  // namespace weft
