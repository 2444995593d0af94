// Conversions (PTX ISA §9.7.9.21, cvt). Rows are split so that every combination of the listed
// types and qualifiers is legal: the ptxas matrix assembles each of them.
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> convert() {
  const auto f = "convert";
  const std::vector<Type> kInts = {T::u8, T::u16, T::u32, T::u64, T::s8, T::s16, T::s32, T::s64};
  auto d = dst();
  d.may_widen = true;
  auto a = src_reg("a", TypeRef::t1);
  a.may_widen = true;
  const auto un = std::vector<OperandSpec>{d, a};
  const auto pair = std::vector<OperandSpec>{dst(), src_reg("a", TypeRef::t1), src_reg("b", TypeRef::t1)};
  return {
      {.id = "cvt.int.int", .pattern = "cvt{T}{U}", .types0 = kInts, .types1 = kInts,
       .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "integer to integer, sign- or zero-extending or truncating"},
      {.id = "cvt.int.f32", .pattern = "cvt{!irnd}{ftz}{sat}{T}{U}", .types0 = kInts, .types1 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "f32 to integer with an integer rounding mode (saturates on overflow)"},
      {.id = "cvt.int.float", .pattern = "cvt{!irnd}{sat}{T}{U}", .types0 = kInts,
       .types1 = {T::f16, T::f64}, .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "f16/f64 to integer with an integer rounding mode"},
      {.id = "cvt.float.int", .pattern = "cvt{!rnd:rn|rz|rm|rp}{T}{U}", .types0 = {T::f16, T::f32, T::f64},
       .types1 = kInts, .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "integer to float with a rounding mode"},
      {.id = "cvt.f32.f64", .pattern = "cvt{!rnd:rn|rz|rm|rp}{ftz}{sat}{T}{U}", .types0 = {T::f32},
       .types1 = {T::f64}, .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "f64 to f32 with a rounding mode"},
      {.id = "cvt.f16.f32", .pattern = "cvt{!rnd:rn|rz|rm|rp}{ftz}{sat}{T}{U}", .types0 = {T::f16},
       .types1 = {T::f32}, .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "f32 to f16 with a rounding mode"},
      {.id = "cvt.bf16.f32", .pattern = "cvt{!rnd:rn|rz}{relu}{satfinite}{T}{U}", .types0 = {T::bf16},
       .types1 = {T::f32}, .operands = un, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "f32 to bf16 (.relu clamps negatives to 0)",
       .qual_min_ptx = {{QualKind::satfinite, 81}}},
      {.id = "cvt.f64.f32", .pattern = "cvt{ftz}{sat}{T}{U}", .types0 = {T::f64}, .types1 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = f, .summary = "f32 to f64 (exact)"},
      {.id = "cvt.f32.f16", .pattern = "cvt{ftz}{sat}{T}{U}", .types0 = {T::f32}, .types1 = {T::f16},
       .operands = un, .targets = all(), .min_ptx = 10, .family = f, .summary = "f16 to f32 (exact)"},
      {.id = "cvt.f32.bf16", .pattern = "cvt{T}{U}", .types0 = {T::f32}, .types1 = {T::bf16},
       .operands = un, .targets = sm(90), .min_ptx = 78, .family = f, .summary = "bf16 to f32 (exact)"},
      {.id = "cvt.rint.f32", .pattern = "cvt{!irnd}{ftz}{sat}{T}{U}", .types0 = {T::f32},
       .types1 = {T::f32}, .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "round f32 to an integral f32"},
      {.id = "cvt.rint.f64", .pattern = "cvt{!irnd}{sat}{T}{U}", .types0 = {T::f64}, .types1 = {T::f64},
       .operands = un, .targets = all(), .min_ptx = 10, .family = f,
       .summary = "round f64 to an integral f64"},
      {.id = "cvt.pack.half2", .pattern = "cvt{!rnd:rn|rz}{relu}{satfinite}{T}{U}",
       .types0 = {T::f16x2, T::bf16x2}, .types1 = {T::f32}, .operands = pair, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "pack two f32 into f16x2/bf16x2: d = {a (high), b (low)}",
       .qual_min_ptx = {{QualKind::satfinite, 81}}},
      {.id = "cvt.tf32.f32", .pattern = "cvt{!rnd:rna}{satfinite}{T}{U}", .types0 = {T::tf32},
       .types1 = {T::f32}, .operands = un, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "f32 to tf32 (round to nearest, ties away from zero)",
       .qual_min_ptx = {{QualKind::satfinite, 81}}},
      {.id = "cvt.fp8x2.f32", .pattern = "cvt{!rnd:rn}{!satfinite}{relu}{T}{U}",
       .types0 = {T::e4m3x2, T::e5m2x2}, .types1 = {T::f32}, .operands = pair, .targets = sm(89),
       .min_ptx = 78, .family = f, .summary = "pack two f32 into two fp8: d = {a (high), b (low)}",
       .ptx_on_target = {{"sm_89", 81}}},
      {.id = "cvt.fp8x2.f16x2", .pattern = "cvt{!rnd:rn}{!satfinite}{relu}{T}{U}",
       .types0 = {T::e4m3x2, T::e5m2x2}, .types1 = {T::f16x2}, .operands = un, .targets = sm(89),
       .min_ptx = 78, .family = f, .summary = "f16x2 to two fp8", .ptx_on_target = {{"sm_89", 81}}},
      {.id = "cvt.f16x2.fp8x2", .pattern = "cvt{!rnd:rn}{relu}{T}{U}", .types0 = {T::f16x2},
       .types1 = {T::e4m3x2, T::e5m2x2}, .operands = un, .targets = sm(89), .min_ptx = 78,
       .family = f, .summary = "two fp8 to f16x2 (exact)", .ptx_on_target = {{"sm_89", 81}}},
  };
}

}  // namespace weft::isa::tables
