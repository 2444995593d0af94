// Comparison and selection (PTX ISA §9.7.6 - §9.7.7): setp, selp, set.
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> compare() {
  const auto f = "compare";
  // setp p, a, b {, c}: the optional .and/.or/.xor combines the result with predicate c.
  const auto setp_ops = std::vector<OperandSpec>{
      pred_dst(), src_reg("a"), src("b"), with_present_if(pred_src("c"), QualKind::boolop)};
  const auto set_ops = std::vector<OperandSpec>{
      dst(), src_reg("a", TypeRef::t1), src("b", TypeRef::t1),
      with_present_if(pred_src("c"), QualKind::boolop)};
  const std::vector<Type> kSelpTypes = {T::b16, T::b32, T::b64, T::u16, T::u32, T::u64,
                                        T::s16, T::s32, T::s64, T::f32, T::f64};
  return {
      {.id = "setp.signed", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge}{boolop}{T}", .types0 = kSigned,
       .operands = setp_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "p = a <cmp> b (signed)"},
      {.id = "setp.unsigned", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge|lo|ls|hi|hs}{boolop}{T}",
       .types0 = kUnsigned, .operands = setp_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "p = a <cmp> b (unsigned)"},
      {.id = "setp.bits", .pattern = "setp{!cmp:eq|ne}{boolop}{T}", .types0 = kBits16to64,
       .operands = setp_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "p = a == b or a != b"},
      {.id = "setp.f32", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge|equ|neu|ltu|leu|gtu|geu|num|nan}{boolop}{ftz}{T}", .types0 = {T::f32},
       .operands = setp_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "p = a <cmp> b (ordered or unordered)"},
      {.id = "setp.f64", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge|equ|neu|ltu|leu|gtu|geu|num|nan}{boolop}{T}", .types0 = {T::f64},
       .operands = setp_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "p = a <cmp> b (ordered or unordered)"},
      {.id = "setp.f16", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge|equ|neu|ltu|leu|gtu|geu|num|nan}{boolop}{ftz}{T}", .types0 = {T::f16},
       .operands = setp_ops, .targets = all(), .min_ptx = 42, .family = f,
       .summary = "p = a <cmp> b (half precision)"},
      {.id = "setp.bf16", .pattern = "setp{!cmp:eq|ne|lt|le|gt|ge|equ|neu|ltu|leu|gtu|geu|num|nan}{boolop}{T}", .types0 = {T::bf16},
       .operands = setp_ops, .targets = sm(90), .min_ptx = 78, .family = f,
       .summary = "p = a <cmp> b (bfloat16)"},
      {.id = "selp", .pattern = "selp{T}", .types0 = kSelpTypes,
       .operands = {dst(), src("a"), src("b"), pred_src("c")}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "d = c ? a : b"},
      {.id = "set.int", .pattern = "set{!cmp:eq|ne|lt|le|gt|ge}{boolop}{T}{U}",
       .types0 = {T::u32, T::s32, T::f32}, .types1 = {T::s16, T::s32, T::s64, T::u16, T::u32, T::u64},
       .operands = set_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a <cmp> b ? all ones (1.0f for .f32) : 0"},
      {.id = "set.float", .pattern = "set{!cmp:eq|ne|lt|le|gt|ge|equ|neu|ltu|leu|gtu|geu|num|nan}{boolop}{ftz}{T}{U}", .types0 = {T::u32, T::s32, T::f32},
       .types1 = {T::f32}, .operands = set_ops, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "d = a <cmp> b ? all ones (1.0f for .f32) : 0"},
  };
}

}  // namespace weft::isa::tables
