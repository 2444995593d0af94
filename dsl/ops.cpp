#include "dsl/ops.h"

namespace weft {

namespace {
Pred logic(const char* opcode, Pred a, Pred b) {
  auto* k = a.builder();
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
