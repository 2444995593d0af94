#include "dsl/async/mma.h"

#include <fmt/format.h>

namespace weft {

namespace {
ir::Operand list(const std::vector<ir::RegId>& ids) { return ir::Operand::list(ids); }
}  // namespace

void mma_m16n8k16_bf16(KernelBuilder& k, Fragment<f32, 4>& d, const Fragment<b32, 4>& a, const Fragment<b32, 2>& b,
                       const Fragment<f32, 4>& c, Loc loc) {
  k.emit_form("mma.m16n8k16.bf16", isa::Type::none, isa::Type::none, {},
              {list(d.ids()), list(a.ids()), list(b.ids()), list(c.ids())}, SourceLoc::from(loc));
}

void mma_m16n8k32_e4m3(KernelBuilder& k, Fragment<f32, 4>& d, const Fragment<b32, 4>& a, const Fragment<b32, 2>& b,
                       const Fragment<f32, 4>& c, Loc loc) {
  k.emit_form("mma.m16n8k32.e4m3", isa::Type::none, isa::Type::none, {},
              {list(d.ids()), list(a.ids()), list(b.ids()), list(c.ids())}, SourceLoc::from(loc));
}

void ldmatrix_x4(KernelBuilder& k, Fragment<b32, 4>& d, Reg<u32> addr, bool trans, Loc loc) {
  isa::Quals q;
  q.set(isa::QualKind::num, "x4");
  q.set(isa::QualKind::space, "shared");
  if (trans) q.set(isa::QualKind::trans, "trans");
  k.emit("ldmatrix.sync.aligned.m8n8", isa::Type::none, isa::Type::none, q, {list(d.ids()), ir::Operand::mem(addr.id())},
         SourceLoc::from(loc));
}

void stmatrix_x4(KernelBuilder& k, Reg<u32> addr, const Fragment<b32, 4>& s, bool trans, Loc loc) {
  isa::Quals q;
  q.set(isa::QualKind::num, "x4");
  q.set(isa::QualKind::space, "shared");
  if (trans) q.set(isa::QualKind::trans, "trans");
  k.emit("stmatrix.sync.aligned.m8n8", isa::Type::none, isa::Type::none, q, {ir::Operand::mem(addr.id()), list(s.ids())},
         SourceLoc::from(loc));
}

std::vector<Reg<f32>> wgmma_accumulator(KernelBuilder& k, std::uint32_t n, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  std::vector<Reg<f32>> acc(n / 2);
  for (auto& r : acc) r = k.let<f32>(0.0f, loc);
  return acc;
}

namespace detail {
void wgmma_ss(KernelBuilder& k, const char* form, std::uint32_t k_depth, std::vector<Reg<f32>>& acc, std::uint32_t n,
              Reg<u64> a_desc, Reg<u64> b_desc, Pred accumulate, const std::vector<std::int64_t>& imms, SourceLoc l) {
  if (n < 8 || n > 256 || n % 8) {
    k.diagnose(l, fmt::format("wgmma: N = {} is not a legal shape", n), "N is a multiple of 8 in [8, 256]");
    return;
  }
  if (acc.size() != n / 2) {
    k.diagnose(l, fmt::format("wgmma m64n{}k{}: the accumulator needs {} registers, got {}", n, k_depth, n / 2,
                              acc.size()));
    return;
  }
  isa::Quals q;
  q.set(isa::QualKind::wgshape, fmt::format("m64n{}k{}", n, k_depth));
  std::vector<ir::RegId> ids;
  for (const auto& r : acc) ids.push_back(r.id());
  std::vector<ir::Operand> ops{list(ids), ir::Operand::r(a_desc.id()), ir::Operand::r(b_desc.id()),
                               ir::Operand::r(accumulate.id(), accumulate.negated())};
  for (auto v : imms) ops.push_back(ir::Operand::imm(v));
  k.emit_form(form, isa::Type::none, isa::Type::none, q, std::move(ops), l);
}
}  // namespace detail

void wgmma_bf16(KernelBuilder& k, std::vector<Reg<f32>>& acc, std::uint32_t n, Reg<u64> a_desc, Reg<u64> b_desc,
                Pred accumulate, bool transpose_b, Loc loc) {
  // imm-scale-a, imm-scale-b, imm-trans-a (A K-major), imm-trans-b.
  detail::wgmma_ss(k, "wgmma.bf16.ss", 16, acc, n, a_desc, b_desc, accumulate, {1, 1, 0, transpose_b ? 1 : 0},
                   SourceLoc::from(loc));
}

void wgmma_fence(KernelBuilder& k, Loc loc) { k.instr("wgmma.fence.sync.aligned", {}, {}, {}, loc); }
void wgmma_commit(KernelBuilder& k, Loc loc) { k.instr("wgmma.commit_group.sync.aligned", {}, {}, {}, loc); }
void wgmma_wait(KernelBuilder& k, std::uint32_t pending, Loc loc) {
  k.instr("wgmma.wait_group.sync.aligned", {}, {}, {static_cast<std::int64_t>(pending)}, loc);
}

void tcgen05_mma_f16(KernelBuilder& k, Reg<u32> d_tmem, Reg<u64> a_desc, Reg<u64> b_desc, Src<u32> idesc,
                     Pred accumulate, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  isa::Quals q;
  q.set(isa::QualKind::ctagroup, "cta_group::1");
  q.set(isa::QualKind::tckind, "kind::f16");
  auto id = idesc.is_reg() ? idesc.reg() : k.let<u32>(idesc, loc);
  k.emit("tcgen05.mma", isa::Type::none, isa::Type::none, q,
         {ir::Operand::mem(d_tmem.id()), ir::Operand::r(a_desc.id()), ir::Operand::r(b_desc.id()), ir::Operand::r(id.id()),
          ir::Operand::r(accumulate.id(), accumulate.negated())},
         SourceLoc::from(loc));
}

std::uint32_t tcgen05_idesc_bf16(std::uint32_t m, std::uint32_t n) {
  // kind::f16 instruction descriptor (PTX ISA, "Instruction descriptor"): D format f32 (1) in
  // [4, 6), A and B format bf16 (1) in [7, 10) and [10, 13), K-major A and B (bits 15, 16 clear),
  // N >> 3 in [17, 23), M >> 4 in [24, 29).
  return (1u << 4) | (1u << 7) | (1u << 10) | ((n >> 3) << 17) | ((m >> 4) << 24);
}

}  // namespace weft
