// The instruction tables, one function per family. database.cpp concatenates them.
#pragma once

#include <vector>

#include "codegen/isa/form.h"

namespace weft::isa::tables {
std::vector<Form> integer_arith();
std::vector<Form> float_arith();
std::vector<Form> logic();
std::vector<Form> compare();
std::vector<Form> convert();
std::vector<Form> memory();
std::vector<Form> atomic();
std::vector<Form> sync();
std::vector<Form> warp();
std::vector<Form> control();
std::vector<Form> async_copy();
std::vector<Form> matrix();
std::vector<Form> tcgen05();
}  // namespace weft::isa::tables
