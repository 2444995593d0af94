// Control flow (PTX ISA §9.7.12).
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> control() {
  const auto f = "control";
  auto func = OperandSpec{.name = "func", .cls = OpClass::symbol, .role = Role::read, .tref = TypeRef::fixed};
  auto rets = OperandSpec{.name = "ret", .cls = OpClass::symbol, .role = Role::write,
                          .tref = TypeRef::fixed, .optional = true, .paren = true};
  auto args = OperandSpec{.name = "args", .cls = OpClass::symbol, .role = Role::read,
                          .tref = TypeRef::fixed, .optional = true, .paren = true};
  return {
      {.id = "bra", .pattern = "bra{uni}", .operands = {label()}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "branch (.uni: every active thread takes it)"},
      {.id = "call", .pattern = "call{uni}", .operands = {rets, func, args}, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "call a .func with .param arguments"},
      {.id = "ret", .pattern = "ret{uni}", .targets = all(), .min_ptx = 10, .family = f,
       .summary = "return from a .func"},
      {.id = "exit", .pattern = "exit", .targets = all(), .min_ptx = 10, .family = f,
       .summary = "end the thread"},
      {.id = "trap", .pattern = "trap", .targets = all(), .min_ptx = 10, .family = f,
       .summary = "abort the kernel with an error the host sees"},
  };
}

}  // namespace weft::isa::tables
