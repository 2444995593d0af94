#include "codegen/verify_peer.h"

#include <fmt/format.h>

#include "codegen/isa/database.h"
#include "codegen/mnemonic.h"

namespace weft {

namespace {

using OK = ir::Operand::Kind;

bool is_scoped_access(std::string_view op) { return op == "ld" || op == "st" || op == "atom" || op == "red"; }

// The registers that hold (or are computed from) a peer address. Registers are reassigned in loops,
// so the marking runs to a fixed point over the whole body: a register tainted anywhere counts as a
// peer address everywhere (conservative; an author who reuses a register for both is told to split).
std::vector<bool> peer_registers(const ir::Function& fn) {
  std::vector<bool> peer(fn.regs.size(), false);
  for (auto r : fn.peer_roots)
    if (r < peer.size()) peer[r] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& in : fn.body) {
      if (!in.form || is_scoped_access(isa::opcode(*in.form))) continue;
      bool reads_peer = false;
      for (std::size_t i = 0; i < in.ops.size() && i < in.form->operands.size(); ++i) {
        const auto& o = in.ops[i];
        if (in.form->operands[i].role != isa::Role::write && o.kind == OK::reg && o.reg < peer.size() && peer[o.reg])
          reads_peer = true;
      }
      if (!reads_peer) continue;
      for (std::size_t i = 0; i < in.ops.size() && i < in.form->operands.size(); ++i) {
        const auto& o = in.ops[i];
        if (in.form->operands[i].role != isa::Role::read && o.kind == OK::reg && o.reg < peer.size() && !peer[o.reg]) {
          peer[o.reg] = true;
          changed = true;
        }
      }
    }
  }
  return peer;
}

}  // namespace

void check_peer_accesses(const ir::Function& fn, std::vector<Diagnostic>& out) {
  if (fn.peer_roots.empty()) return;
  const auto peer = peer_registers(fn);
  for (const auto& in : fn.body) {
    if (!in.form || !is_scoped_access(isa::opcode(*in.form))) continue;
    for (const auto& o : in.ops) {
      if (o.kind != OK::mem_reg || o.reg >= peer.size() || !peer[o.reg]) continue;
      if (in.quals.spelling(isa::QualKind::scope) == "sys") break;
      out.push_back({in.loc,
                     fmt::format("{}: the address is in another GPU's memory (a peer pointer), so the access "
                                 "needs .sys scope",
                                 mnemonic(in)),
                     in.form->takes(isa::QualKind::scope)
                         ? "add q::sys (with q::relaxed, q::acquire or q::release for ld/st)"
                         : "use a form with a memory order and scope: {q::relaxed, q::sys} for data, "
                           "{q::acquire, q::sys} / {q::release, q::sys} for flags"});
      break;
    }
  }
}

}  // namespace weft
