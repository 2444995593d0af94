// Logic, shifts and bit manipulation (PTX ISA §9.7.7 - §9.7.8).
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
// bfe/bfi take a bit position and length in 0..255 (ptxas refuses larger immediates).
OperandSpec bit_field(std::string_view n) {
  auto o = src_fixed(T::u32, n);
  o.imm_min = 0;
  o.imm_max = 255;
  return o;
}
}  // namespace

std::vector<Form> logic() {
  const auto f = "logic";
  const std::vector<Type> kLogicTypes = {T::pred, T::b16, T::b32, T::b64};
  const auto bin = std::vector<OperandSpec>{dst(), src_reg("a"), src("b")};
  const auto shift = std::vector<OperandSpec>{dst(), src_reg("a"), src_fixed(T::u32, "b")};
  const auto count = std::vector<OperandSpec>{dst_fixed(T::u32), src_reg("a")};
  return {
      {.id = "and", .pattern = "and{T}", .types0 = kLogicTypes, .operands = bin, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = a & b"},
      {.id = "or", .pattern = "or{T}", .types0 = kLogicTypes, .operands = bin, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = a | b"},
      {.id = "xor", .pattern = "xor{T}", .types0 = kLogicTypes, .operands = bin, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = a ^ b"},
      {.id = "not", .pattern = "not{T}", .types0 = kLogicTypes, .operands = {dst(), src_reg("a")},
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = ~a"},
      {.id = "shl", .pattern = "shl{T}", .types0 = kBits16to64, .operands = shift, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = a << b (b >= width gives 0)"},
      {.id = "shr", .pattern = "shr{T}",
       .types0 = {T::b16, T::b32, T::b64, T::u16, T::u32, T::u64, T::s16, T::s32, T::s64},
       .operands = shift, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a >> b (arithmetic for .s types)"},
      {.id = "shf.l", .pattern = "shf.l{!shift}{T}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), src_reg("b"), src_fixed(T::u32, "c")}, .targets = all(),
       .min_ptx = 31, .family = f, .summary = "funnel shift (.l or .r): d = the shifted window of (b:a) by c"},
      {.id = "shf.r", .pattern = "shf.r{!shift}{T}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), src_reg("b"), src_fixed(T::u32, "c")}, .targets = all(),
       .min_ptx = 31, .family = f, .summary = "funnel shift (.l or .r): d = the shifted window of (b:a) by c"},
      {.id = "lop3", .pattern = "lop3{T}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), src("b"), src("c"), imm(T::b32, "immLut", 0, 255)},
       .targets = all(), .min_ptx = 43, .family = f,
       .summary = "d = any 3-input logic function of a, b, c, given by its truth table immLut"},
      {.id = "prmt", .pattern = "prmt{T}{prmt}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), src("b"), src("c")}, .targets = all(), .min_ptx = 20,
       .family = f, .summary = "d = bytes of (b:a) selected by c (or a fixed mode)"},
      {.id = "bfe", .pattern = "bfe{T}", .types0 = {T::u32, T::u64, T::s32, T::s64},
       .operands = {dst(), src_reg("a"), bit_field("pos"), bit_field("len")},
       .targets = all(), .min_ptx = 20, .family = f, .summary = "d = bit field of a at pos, len bits"},
      {.id = "bfi", .pattern = "bfi{T}", .types0 = {T::b32, T::b64},
       .operands = {dst(), src_reg("f"), src("b"), bit_field("pos"), bit_field("len")},
       .targets = all(), .min_ptx = 20, .family = f, .summary = "d = b with bits [pos, pos+len) from f"},
      {.id = "popc", .pattern = "popc{T}", .types0 = {T::b32, T::b64}, .operands = count,
       .targets = all(), .min_ptx = 20, .family = f, .summary = "d = number of set bits in a"},
      {.id = "clz", .pattern = "clz{T}", .types0 = {T::b32, T::b64}, .operands = count,
       .targets = all(), .min_ptx = 20, .family = f, .summary = "d = leading zero bits of a"},
      {.id = "brev", .pattern = "brev{T}", .types0 = {T::b32, T::b64},
       .operands = {dst(), src_reg("a")}, .targets = all(), .min_ptx = 20, .family = f,
       .summary = "d = a with its bits reversed"},
      {.id = "bfind", .pattern = "bfind{T}", .types0 = {T::u32, T::u64, T::s32, T::s64},
       .operands = count, .targets = all(), .min_ptx = 20, .family = f,
       .summary = "d = position of the most significant non-sign bit (0xffffffff if none)"},
  };
}

}  // namespace weft::isa::tables
