// Blackwell's fifth-generation tensor cores (tcgen05, sm_100a/103a/110a): tensor memory
// allocation, MMA into tensor memory, copies between registers, shared and tensor memory.
// PTX ISA §9.7.16.
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
// A tensor-memory address lives in a .b32 register (ptxas refuses .u32 here: docs/ptx-facts.md).
OperandSpec taddr_mem(std::string_view n) {
  return {.name = n, .cls = OpClass::mem, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b32};
}
OperandSpec taddr_reg() {
  return {.name = "taddr", .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b32};
}
OperandSpec b64(std::string_view n) {
  return {.name = n, .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b64};
}
OperandSpec shared_dst() {
  auto o = address("dst");
  o.shared_address = true;
  return o;
}
OperandSpec cols() {
  auto o = imm(T::u32, "nCols", 32, 512);
  o.imm_values = {32, 64, 128, 256, 512};
  return o;
}
OperandSpec regs(Role r, std::uint16_t mul) {
  return {.name = "r", .cls = OpClass::reg, .role = r, .tref = TypeRef::fixed, .fixed = T::b32,
          .count_from = QualKind::num, .count_mul = mul};
}
}  // namespace

std::vector<Form> tcgen05() {
  const auto f = "tcgen05";
  const auto bw = TargetSet::only({"sm_100a", "sm_103a", "sm_110a"});
  auto mbar = address("mbar");
  mbar.fixed = T::u32;  // a 32-bit shared::cluster address
  std::vector<Form> v = {
      {.id = "tcgen05.alloc", .pattern = "tcgen05.alloc{!ctagroup}.sync.aligned.shared::cta.b32",
       .operands = {shared_dst(), cols()}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "allocate nCols tensor-memory columns; the address is written to shared memory at dst"},
      {.id = "tcgen05.dealloc", .pattern = "tcgen05.dealloc{!ctagroup}.sync.aligned.b32",
       .operands = {taddr_reg(), cols()}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "free tensor-memory columns"},
      {.id = "tcgen05.relinquish_alloc_permit", .pattern = "tcgen05.relinquish_alloc_permit{!ctagroup}.sync.aligned",
       .targets = bw, .min_ptx = 86, .family = f, .summary = "this CTA will allocate no more tensor memory"},
      {.id = "tcgen05.mma", .pattern = "tcgen05.mma{!ctagroup}{!tckind:kind::f16|kind::tf32|kind::f8f6f4}",
       .operands = {taddr_mem("d-tmem"), b64("a-desc"), b64("b-desc"),
                    {.name = "idesc", .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b32},
                    {.name = "enable-input-d", .cls = OpClass::pred, .role = Role::read, .tref = TypeRef::fixed,
                     .fixed = T::pred}},
       .targets = bw, .min_ptx = 86, .family = f,
       .summary = "D(tensor memory) (+)= A(shared) * B(shared), issued by one thread for the CTA"},
      {.id = "tcgen05.commit", .pattern = "tcgen05.commit{!ctagroup}.mbarrier::arrive::one.shared::cluster.b64",
       .operands = {mbar}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "arrive on the mbarrier when this thread's prior tcgen05 operations complete"},
      {.id = "tcgen05.ld", .pattern = "tcgen05.ld.sync.aligned{!tmshape:32x32b|16x64b}{!num}.b32",
       .operands = {regs(Role::write, 1), taddr_mem("taddr")}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "load from tensor memory into registers (N registers for .xN)"},
      {.id = "tcgen05.ld.16x128b", .pattern = "tcgen05.ld.sync.aligned{!tmshape:16x128b}{!num:x1|x2|x4|x8|x16|x32|x64}.b32",
       .operands = {regs(Role::write, 2), taddr_mem("taddr")}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "load from tensor memory into registers (2N registers for .xN)"},
      {.id = "tcgen05.ld.16x256b", .pattern = "tcgen05.ld.sync.aligned{!tmshape:16x256b}{!num:x1|x2|x4|x8|x16|x32}.b32",
       .operands = {regs(Role::write, 4), taddr_mem("taddr")}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "load from tensor memory into registers (4N registers for .xN)"},
      {.id = "tcgen05.st", .pattern = "tcgen05.st.sync.aligned{!tmshape:32x32b|16x64b}{!num}.b32",
       .operands = {taddr_mem("taddr"), regs(Role::read, 1)}, .targets = bw, .min_ptx = 86, .family = f,
       .summary = "store registers into tensor memory (N registers for .xN)"},
      {.id = "tcgen05.wait::ld", .pattern = "tcgen05.wait::ld.sync.aligned", .targets = bw, .min_ptx = 86,
       .family = f, .summary = "wait for this thread's prior tcgen05.ld"},
      {.id = "tcgen05.wait::st", .pattern = "tcgen05.wait::st.sync.aligned", .targets = bw, .min_ptx = 86,
       .family = f, .summary = "wait for this thread's prior tcgen05.st"},
      {.id = "tcgen05.cp", .pattern = "tcgen05.cp{!ctagroup}{!tcshape}", .operands = {taddr_mem("taddr"), b64("s-desc")},
       .targets = bw, .min_ptx = 86, .family = f, .summary = "copy a matrix from shared memory (descriptor) into tensor memory"},
      {.id = "tcgen05.fence::before_thread_sync", .pattern = "tcgen05.fence::before_thread_sync", .targets = bw,
       .min_ptx = 86, .family = f, .summary = "order prior tcgen05 operations before a following thread sync"},
      {.id = "tcgen05.fence::after_thread_sync", .pattern = "tcgen05.fence::after_thread_sync", .targets = bw,
       .min_ptx = 86, .family = f, .summary = "order following tcgen05 operations after a preceding thread sync"},
  };
  // One function uses one CTA group: ptxas refuses a function that mixes .cta_group::1 and ::2.
  for (auto& form : v)
    if (std::string_view(form.pattern).find("{!ctagroup}") != std::string_view::npos)
      form.uniform_in_function = QualKind::ctagroup;
  return v;
}

}  // namespace weft::isa::tables
