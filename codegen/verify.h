// The verifier: checks a module against the instruction database for its target, and picks the
// PTX ISA version the module needs. Every problem becomes a Diagnostic with the author's line.
#pragma once

#include <vector>

#include "codegen/diagnostic.h"
#include "codegen/ir/module.h"

namespace weft {

std::vector<Diagnostic> verify(const ir::Module& m);

// Problems of one instruction in function `f` (the ptxas matrix uses it to skip instances that
// weft itself rejects).
std::vector<Diagnostic> verify_instr(const ir::Function& f, const ir::Instr& i, const isa::Target& t);

// The lowest `.version` that the target and everything the module uses need.
isa::PtxVersion required_ptx_version(const ir::Module& m);

}  // namespace weft
