#include "dsl/ops.h"

namespace weft {

KernelBuilder* detail::builder_of(KernelBuilder* k, SourceLoc loc) {
  if (k) return k;
  throw DiagnosticError({Diagnostic{loc, "an operand is a value that was never given one (a default-constructed Reg, "
                                         "Pred or Ptr)",
                                    "assign the variable (k.let, a parameter, a load, ...) before using it"}});
}

namespace {
Pred logic(const char* opcode, Pred a, Pred b) {
  auto* k = detail::builder_of(a.builder() ? a.builder() : b.builder(), SourceLoc{});
  // and/or take no negated operands: materialise a negation first.
  auto plain = [&](Pred p) {
    if (!p.negated()) return p;
    auto n = k->fresh_pred();
    k->assign(n, p);
    return n;
  };
  a = plain(a);
  b = plain(b);
  auto r = k->fresh_pred();
  k->emit(opcode, isa::Type::pred, isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::r(a.id()), ir::Operand::r(b.id())},
          k->fn().body.empty() ? SourceLoc{} : k->fn().body.back().loc);
  return r;
}
}  // namespace

Pred operator&&(Pred a, Pred b) { return logic("and", a, b); }
Pred operator||(Pred a, Pred b) { return logic("or", a, b); }

}  // namespace weft
