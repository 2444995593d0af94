// Integer arithmetic (PTX ISA §9.7.1).
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> integer_arith() {
  const auto f = "int";
  return {
      {.id = "add.int", .pattern = "add{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a + b (wrapping)"},
      {.id = "add.sat.s32", .pattern = "add{!sat}{T}", .types0 = {T::s32},
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a + b, saturated to the s32 range"},
      {.id = "sub.int", .pattern = "sub{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a - b (wrapping)"},
      {.id = "sub.sat.s32", .pattern = "sub{!sat}{T}", .types0 = {T::s32},
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a - b, saturated to the s32 range"},
      {.id = "mul.int", .pattern = "mul{!mulmode:lo|hi}{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = low or high half of a * b"},
      {.id = "mul.wide", .pattern = "mul{!mulmode:wide}{T}", .types0 = {T::s16, T::u16, T::s32, T::u32},
       .operands = {dst("d", TypeRef::t0_wide), src_reg("a"), src("b")}, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d (twice as wide) = a * b"},
      {.id = "mad.int", .pattern = "mad{!mulmode:lo|hi}{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b"), src("c")}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "d = (low or high half of a * b) + c"},
      {.id = "mad.wide", .pattern = "mad{!mulmode:wide}{T}", .types0 = {T::s16, T::u16, T::s32, T::u32},
       .operands = {dst("d", TypeRef::t0_wide), src_reg("a"), src("b"), src("c", TypeRef::t0_wide)},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d (twice as wide) = a * b + c"},
      {.id = "div.int", .pattern = "div{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a / b (truncating)"},
      {.id = "rem.int", .pattern = "rem{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a % b"},
      {.id = "min.int", .pattern = "min{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = min(a, b)"},
      {.id = "max.int", .pattern = "max{T}", .types0 = kInt16to64,
       .operands = {dst(), src_reg("a"), src("b")}, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = max(a, b)"},
      {.id = "abs.int", .pattern = "abs{T}", .types0 = kSigned, .operands = {dst(), src_reg("a")},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = |a|"},
      {.id = "neg.int", .pattern = "neg{T}", .types0 = kSigned, .operands = {dst(), src_reg("a")},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = -a"},
  };
}

}  // namespace weft::isa::tables
