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
