#include "dsl/async/wgmma_fp8.h"

#include <fmt/format.h>

namespace weft {

void wgmma_fp8(KernelBuilder& k, std::vector<Reg<f32>>& acc, std::uint32_t n, Reg<u64> a_desc, Reg<u64> b_desc,
               Pred accumulate, Fp8 type, Loc loc) {
  const auto l = SourceLoc::from(loc);
  if (n < 8 || n > 256 || n % 8) {
    k.diagnose(l, fmt::format("wgmma: N = {} is not a legal shape", n), "N is a multiple of 8 in [8, 256]");
    return;
  }
  if (acc.size() != n / 2) {
    k.diagnose(l, fmt::format("wgmma m64n{}k32: the accumulator needs {} registers, got {}", n, n / 2, acc.size()));
    return;
  }
  isa::Quals q;
  q.set(isa::QualKind::wgshape, fmt::format("m64n{}k32", n));
  std::vector<ir::RegId> ids;
  for (const auto& r : acc) ids.push_back(r.id());
  // Operands: d, a-desc, b-desc, scale-d, imm-scale-a, imm-scale-b (8-bit types take no transposes).
  k.emit_form(type == Fp8::e4m3 ? "wgmma.e4m3.ss" : "wgmma.e5m2.ss", isa::Type::none, isa::Type::none, q,
              {ir::Operand::list(ids), ir::Operand::r(a_desc.id()), ir::Operand::r(b_desc.id()),
               ir::Operand::r(accumulate.id(), accumulate.negated()), ir::Operand::imm(1), ir::Operand::imm(1)},
              l);
}

}  // namespace weft
