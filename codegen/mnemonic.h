// The PTX spelling of an instruction's opcode with its qualifiers and types ("ld.global.nc.v4.u32"),
// built from the form's pattern. Used by the printer and by diagnostics.
#pragma once

#include <string>

#include "codegen/ir/module.h"

namespace weft {

std::string mnemonic(const isa::Form& form, const isa::Quals& q, isa::Type t0, isa::Type t1);
inline std::string mnemonic(const ir::Instr& i) { return mnemonic(*i.form, i.quals, i.t0, i.t1); }

// The type an operand of `spec` must have in `instr` (Type::none when the spec has no type).
isa::Type expected_type(const isa::OperandSpec& spec, isa::Type t0, isa::Type t1);

// Whether an operand of `spec` is present for these qualifiers (.L2::cache_hint adds one).
bool operand_present(const isa::OperandSpec& spec, const isa::Quals& q);

// How many registers (or tensor coordinates) an operand of `spec` holds with these qualifiers:
// 0 for a single register, else the list length (.v4 -> 4, fixed lists, counts from .x/.shape/.Nd).
unsigned operand_count(const isa::OperandSpec& spec, const isa::Quals& q);

}  // namespace weft
