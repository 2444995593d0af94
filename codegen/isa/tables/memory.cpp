// Data movement (PTX ISA §9.7.9): mov, ld, st, cvta, prefetch, createpolicy.
// ld/st come in the shapes the manual gives: weak (cache operators or eviction priorities), .nc,
// with memory order and scope, .volatile, .mmio, and .param for call arguments.
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> memory() {
  const auto f = "memory";
  const auto ld_ops = std::vector<OperandSpec>{data(Role::write), address(), policy_operand()};
  const auto st_ops = std::vector<OperandSpec>{address(), data(Role::read), policy_operand()};
  const std::vector<Type> kMovTypes = {T::pred, T::b16, T::b32, T::b64, T::u16, T::u32, T::u64,
                                       T::s16, T::s32, T::s64, T::f32, T::f64};
  const std::vector<Type> kAddr = {T::u32, T::u64};
  auto sreg = OperandSpec{.name = "sreg", .cls = OpClass::sreg, .role = Role::read};
  auto sym = OperandSpec{.name = "symbol", .cls = OpClass::symbol, .role = Role::read,
                         .tref = TypeRef::fixed};
  auto halves = [](Role r, std::string_view n) {
    return OperandSpec{.name = n, .cls = OpClass::reg, .role = r, .tref = TypeRef::t0_half, .list = 2};
  };
  const auto cop_vs_evict = std::vector<std::pair<QualKind, QualKind>>{{QualKind::cop, QualKind::l1evict}};
  return {
      {.id = "mov", .pattern = "mov{T}", .types0 = kMovTypes, .operands = {dst(), src("a")},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = a"},
      {.id = "mov.sreg", .pattern = "mov{T}", .types0 = kAddr, .operands = {dst(), sreg},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = a special register"},
      {.id = "mov.symbol", .pattern = "mov{T}", .types0 = kAddr, .operands = {dst(), sym},
       .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = address of a variable (shared array, kernel parameter)"},
      {.id = "mov.pack", .pattern = "mov{T}", .types0 = {T::b32, T::b64},
       .operands = {dst(), halves(Role::read, "a")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = {a.lo, a.hi}: pack two halves"},
      {.id = "mov.unpack", .pattern = "mov{T}", .types0 = {T::b32, T::b64},
       .operands = {halves(Role::write, "d"), src_reg("a")}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "{d.lo, d.hi} = a: split into two halves"},
      // Cache operators, eviction priorities, cache hints and prefetch sizes apply to global memory
      // (and generic addresses); ptxas refuses them on .shared, .local and .const.
      {.id = "ld", .pattern = "ld{space:global}{cop:ca|cg|cs|lu|cv}{l1evict}{l2hint}{prefetch}{vec}{T}",
       .types0 = kMemTypes, .operands = ld_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "weak load from global or generic memory, with a cache operator or an L1 eviction priority",
       .exclusive = cop_vs_evict},
      {.id = "ld.space", .pattern = "ld{!space:shared|shared::cta|shared::cluster|local|const}{vec}{T}",
       .types0 = kMemTypes, .operands = {data(Role::write), address()}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "weak load from shared, local or constant memory"},
      {.id = "ld.nc", .pattern = "ld{!space:global}{cop:ca|cg|cs}{!nc}{l1evict}{l2hint}{prefetch}{vec}{T}",
       .types0 = kMemTypes, .operands = ld_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "load through the non-coherent (read-only) path; the data must not change during the kernel",
       .exclusive = cop_vs_evict},
      {.id = "ld.sem", .pattern = "ld{!sem:relaxed|acquire}{!scope}{space:global}{l1evict}{l2hint}{prefetch}{vec}{T}",
       .types0 = kMemTypes, .operands = ld_ops, .targets = all(), .min_ptx = 60, .family = f,
       .summary = "load with memory order (.relaxed/.acquire) at a scope, from global or generic memory"},
      {.id = "ld.sem.shared", .pattern = "ld{!sem:relaxed|acquire}{!scope}{!space:shared|shared::cta|shared::cluster}{vec}{T}",
       .types0 = kMemTypes, .operands = {data(Role::write), address()}, .targets = all(), .min_ptx = 60,
       .family = f, .summary = "load with memory order (.relaxed/.acquire) at a scope, from shared memory"},
      {.id = "ld.volatile", .pattern = "ld{!sem:volatile}{space:global|shared}{vec}{T}",
       .types0 = kMemTypes, .operands = {data(Role::write), address()}, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "volatile load (not cached in registers)"},
      {.id = "ld.mmio", .pattern = "ld{!sem:mmio}.relaxed{!scope:sys}{!space:global}{T}",
       .types0 = kMemTypes, .operands = {data(Role::write), address()}, .targets = all(),
       .min_ptx = 82, .family = f, .summary = "memory-mapped I/O load, performed exactly once"},
      {.id = "ld.param", .pattern = "ld{!space:param}{vec}{T}", .types0 = kMemTypes,
       .operands = {data(Role::write), address()}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "load a kernel or function parameter", .guardable = false},
      {.id = "st", .pattern = "st{space:global}{cop:wb|cg|cs|wt}{l1evict}{l2hint}{vec}{T}",
       .types0 = kMemTypes, .operands = st_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "weak store to global or generic memory, with a cache operator or an L1 eviction priority",
       .exclusive = cop_vs_evict},
      {.id = "st.space", .pattern = "st{!space:shared|shared::cta|shared::cluster|local}{vec}{T}",
       .types0 = kMemTypes, .operands = {address(), data(Role::read)}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "weak store to shared or local memory"},
      {.id = "st.sem", .pattern = "st{!sem:relaxed|release}{!scope}{space:global}{l1evict}{l2hint}{vec}{T}",
       .types0 = kMemTypes, .operands = st_ops, .targets = all(), .min_ptx = 60, .family = f,
       .summary = "store with memory order (.relaxed/.release) at a scope, to global or generic memory"},
      {.id = "st.sem.shared", .pattern = "st{!sem:relaxed|release}{!scope}{!space:shared|shared::cta|shared::cluster}{vec}{T}",
       .types0 = kMemTypes, .operands = {address(), data(Role::read)}, .targets = all(), .min_ptx = 60,
       .family = f, .summary = "store with memory order (.relaxed/.release) at a scope, to shared memory"},
      {.id = "st.volatile", .pattern = "st{!sem:volatile}{space:global|shared}{vec}{T}",
       .types0 = kMemTypes, .operands = {address(), data(Role::read)}, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "volatile store"},
      {.id = "st.mmio", .pattern = "st{!sem:mmio}.relaxed{!scope:sys}{!space:global}{T}",
       .types0 = kMemTypes, .operands = {address(), data(Role::read)}, .targets = all(),
       .min_ptx = 82, .family = f, .summary = "memory-mapped I/O store, performed exactly once"},
      {.id = "st.param", .pattern = "st{!space:param}{vec}{T}", .types0 = kMemTypes,
       .operands = {address(), data(Role::read)}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "store a call argument", .guardable = false},
      {.id = "cvta", .pattern = "cvta{!space:global|shared|local|const}{T}", .types0 = {T::u64},
       .operands = {dst(), src_reg("a")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = generic address of the state-space address a"},
      {.id = "cvta.param", .pattern = "cvta{!space:param}{T}", .types0 = {T::u64},
       .operands = {dst(), src_reg("a")}, .targets = all(), .min_ptx = 77, .family = f,
       .summary = "d = generic address of the kernel parameter at .param address a (a TMA map's operand)"},
      {.id = "cvta.to", .pattern = "cvta.to{!space:global|shared|local|const}{T}", .types0 = {T::u64},
       .operands = {dst(), src_reg("a")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = state-space address of the generic address a"},
      {.id = "prefetch.L1", .pattern = "prefetch{space:global|local}.L1", .operands = {address()},
       .targets = all(), .min_ptx = 20, .family = f, .summary = "bring the line at a into L1"},
      {.id = "prefetch.L2", .pattern = "prefetch{space:global|local}.L2", .operands = {address()},
       .targets = all(), .min_ptx = 20, .family = f, .summary = "bring the line at a into L2"},
      {.id = "prefetch.L2.evict", .pattern = "prefetch.global{!policy:L2::evict_last|L2::evict_normal}",
       .operands = {address()}, .targets = all(), .min_ptx = 74, .family = f,
       .summary = "bring the line at a into L2 with an eviction priority"},
      {.id = "createpolicy", .pattern = "createpolicy{!fraction}{!policy}{T}", .types0 = {T::b64},
       .operands = {dst()}, .targets = all(), .min_ptx = 74, .family = f,
       .summary = "d = an L2 cache policy for .L2::cache_hint (evict_last keeps data in L2)"},
  };
}

}  // namespace weft::isa::tables
