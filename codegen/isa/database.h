// The instruction database: every form weft can emit, loaded once from the tables.
#pragma once

#include <span>
#include <string_view>

#include "codegen/isa/form.h"

namespace weft::isa {

std::span<const Form> forms();
// The form with this id ("add.f32"); nullptr if none.
const Form* find_form(std::string_view id);
// Like find_form, but a missing id is a programming error in weft (throws std::logic_error).
const Form& form(std::string_view id);

}  // namespace weft::isa

namespace weft::isa {

// The opcode of a form: its pattern's leading text up to the first qualifier ("ld", "cvta.to").
std::string_view opcode(const Form& f);

// The first form with this opcode that takes these types and qualifiers: every set qualifier has
// a slot allowing its value and every required slot is set. This is how the DSL picks a row
// ("add" on f32 -> add.f32, "ld" with .nc -> ld.nc) without knowing the table's layout.
const Form* resolve(std::string_view opcode, Type t0, Type t1, const Quals& q);

}  // namespace weft::isa
