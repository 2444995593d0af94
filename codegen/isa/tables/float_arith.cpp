// Floating-point arithmetic and the approximate math unit (PTX ISA §9.7.3 - §9.7.5).
// Rows are split by type where the legal qualifiers differ (.ftz/.sat exist for f32, not f64).
#include <deque>
#include <string>

#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
constexpr std::initializer_list<Type> kF16 = {T::f16, T::f16x2};
constexpr std::initializer_list<Type> kBF16 = {T::bf16, T::bf16x2};

// add/sub/mul share their shape: one row per type family.
void binary(std::vector<Form>& out, std::string_view op, std::string_view id_f32,
            std::string_view id_f64, std::string_view id_f16, std::string_view id_bf16,
            std::string_view what) {
  auto ops = std::vector<OperandSpec>{dst(), src_reg("a"), src("b")};
  const auto f = "float";
  auto pat = [&](std::string_view quals) { return std::string(op) + std::string(quals); };
  // Patterns must outlive the table; a deque never moves its elements.
  static std::deque<std::string> keep;
  keep.push_back(pat("{rnd:rn|rz|rm|rp}{ftz}{sat}{T}"));
  out.push_back({.id = id_f32, .pattern = keep.back(), .types0 = {T::f32}, .operands = ops,
                 .targets = all(), .min_ptx = 10, .family = f, .summary = what});
  keep.push_back(pat("{rnd:rn|rz|rm|rp}{T}"));
  out.push_back({.id = id_f64, .pattern = keep.back(), .types0 = {T::f64}, .operands = ops,
                 .targets = all(), .min_ptx = 10, .family = f, .summary = what});
  keep.push_back(pat("{rnd:rn}{ftz}{sat}{T}"));
  out.push_back({.id = id_f16, .pattern = keep.back(), .types0 = kF16, .operands = ops,
                 .targets = all(), .min_ptx = 42, .family = f, .summary = what});
  keep.push_back(pat("{rnd:rn}{T}"));
  out.push_back({.id = id_bf16, .pattern = keep.back(), .types0 = kBF16, .operands = ops,
                 .targets = sm(90), .min_ptx = 78, .family = f, .summary = what});
}
}  // namespace

std::vector<Form> float_arith() {
  std::vector<Form> v;
  binary(v, "add", "add.f32", "add.f64", "add.f16", "add.bf16", "d = a + b");
  binary(v, "sub", "sub.f32", "sub.f64", "sub.f16", "sub.bf16", "d = a - b");
  binary(v, "mul", "mul.f32", "mul.f64", "mul.f16", "mul.bf16", "d = a * b");
  const auto f = "float";
  const auto un = std::vector<OperandSpec>{dst(), src_reg("a")};
  const auto bin = std::vector<OperandSpec>{dst(), src_reg("a"), src("b")};
  const auto tri = std::vector<OperandSpec>{dst(), src_reg("a"), src("b"), src("c")};
  const auto mth = "math";
  std::vector<Form> rows = {
      {.id = "fma.f32", .pattern = "fma{!rnd:rn|rz|rm|rp}{ftz}{sat}{T}", .types0 = {T::f32},
       .operands = tri, .targets = all(), .min_ptx = 20, .family = f, .summary = "d = a * b + c, one rounding"},
      {.id = "fma.f64", .pattern = "fma{!rnd:rn|rz|rm|rp}{T}", .types0 = {T::f64}, .operands = tri,
       .targets = all(), .min_ptx = 14, .family = f, .summary = "d = a * b + c, one rounding"},
      {.id = "fma.f16", .pattern = "fma{!rnd:rn}{ftz}{sat}{T}", .types0 = kF16, .operands = tri,
       .targets = all(), .min_ptx = 42, .family = f, .summary = "d = a * b + c (half precision)"},
      {.id = "fma.relu.f16", .pattern = "fma{!rnd:rn}{ftz}{!relu}{T}", .types0 = kF16, .operands = tri,
       .targets = all(), .min_ptx = 70, .family = f, .summary = "d = max(a * b + c, 0)"},
      {.id = "fma.bf16", .pattern = "fma{!rnd:rn}{relu}{T}", .types0 = kBF16, .operands = tri,
       .targets = all(), .min_ptx = 70, .family = f, .summary = "d = a * b + c (bfloat16)"},
      {.id = "div.approx.f32", .pattern = "div{!prec}{ftz}{T}", .types0 = {T::f32}, .operands = bin,
       .targets = all(), .min_ptx = 14, .family = f, .summary = "d = a / b, approximate (.approx) or 2 ulp (.full)"},
      {.id = "div.rnd.f32", .pattern = "div{!rnd:rn|rz|rm|rp}{ftz}{T}", .types0 = {T::f32},
       .operands = bin, .targets = all(), .min_ptx = 20, .family = f, .summary = "d = a / b, IEEE rounding"},
      {.id = "div.f64", .pattern = "div{!rnd:rn|rz|rm|rp}{T}", .types0 = {T::f64}, .operands = bin,
       .targets = all(), .min_ptx = 14, .family = f, .summary = "d = a / b, IEEE rounding"},
      {.id = "min.f32", .pattern = "min{ftz}{T}", .types0 = {T::f32}, .operands = bin,
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = min(a, b)"},
      {.id = "max.f32", .pattern = "max{ftz}{T}", .types0 = {T::f32}, .operands = bin,
       .targets = all(), .min_ptx = 10, .family = f, .summary = "d = max(a, b)"},
      {.id = "min.f64", .pattern = "min{T}", .types0 = {T::f64}, .operands = bin, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = min(a, b)"},
      {.id = "max.f64", .pattern = "max{T}", .types0 = {T::f64}, .operands = bin, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = max(a, b)"},
      {.id = "min.f16", .pattern = "min{ftz}{T}", .types0 = kF16, .operands = bin, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = min(a, b)"},
      {.id = "max.f16", .pattern = "max{ftz}{T}", .types0 = kF16, .operands = bin, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = max(a, b)"},
      {.id = "min.bf16", .pattern = "min{T}", .types0 = kBF16, .operands = bin, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = min(a, b)"},
      {.id = "max.bf16", .pattern = "max{T}", .types0 = kBF16, .operands = bin, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = max(a, b)"},
      {.id = "abs.f32", .pattern = "abs{ftz}{T}", .types0 = {T::f32}, .operands = un, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = |a|"},
      {.id = "abs.f64", .pattern = "abs{T}", .types0 = {T::f64}, .operands = un, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = |a|"},
      {.id = "neg.f32", .pattern = "neg{ftz}{T}", .types0 = {T::f32}, .operands = un, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = -a"},
      {.id = "neg.f64", .pattern = "neg{T}", .types0 = {T::f64}, .operands = un, .targets = all(),
       .min_ptx = 10, .family = f, .summary = "d = -a"},
      {.id = "abs.f16", .pattern = "abs{ftz}{T}", .types0 = kF16, .operands = un, .targets = all(),
       .min_ptx = 65, .family = f, .summary = "d = |a|"},
      {.id = "neg.f16", .pattern = "neg{ftz}{T}", .types0 = kF16, .operands = un, .targets = all(),
       .min_ptx = 60, .family = f, .summary = "d = -a"},
      {.id = "abs.bf16", .pattern = "abs{T}", .types0 = kBF16, .operands = un, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = |a|"},
      {.id = "neg.bf16", .pattern = "neg{T}", .types0 = kBF16, .operands = un, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "d = -a"},
      // The special function unit and IEEE square roots / reciprocals.
      {.id = "rcp.approx.f32", .pattern = "rcp{!prec:approx}{ftz}{T}", .types0 = {T::f32}, .operands = un,
       .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ 1 / a"},
      {.id = "rcp.rnd.f32", .pattern = "rcp{!rnd:rn|rz|rm|rp}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 20, .family = mth, .summary = "d = 1 / a, IEEE rounding"},
      {.id = "rcp.f64", .pattern = "rcp{!rnd:rn|rz|rm|rp}{T}", .types0 = {T::f64}, .operands = un,
       .targets = all(), .min_ptx = 14, .family = mth, .summary = "d = 1 / a, IEEE rounding"},
      {.id = "sqrt.approx.f32", .pattern = "sqrt{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ sqrt(a)"},
      {.id = "sqrt.rnd.f32", .pattern = "sqrt{!rnd:rn|rz|rm|rp}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 20, .family = mth, .summary = "d = sqrt(a), IEEE rounding"},
      {.id = "sqrt.f64", .pattern = "sqrt{!rnd:rn|rz|rm|rp}{T}", .types0 = {T::f64}, .operands = un,
       .targets = all(), .min_ptx = 14, .family = mth, .summary = "d = sqrt(a), IEEE rounding"},
      {.id = "rsqrt.approx.f32", .pattern = "rsqrt{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ 1 / sqrt(a)"},
      {.id = "rsqrt.approx.f64", .pattern = "rsqrt{!prec:approx}{T}", .types0 = {T::f64},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ 1 / sqrt(a)"},
      {.id = "sin.approx.f32", .pattern = "sin{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ sin(a)"},
      {.id = "cos.approx.f32", .pattern = "cos{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ cos(a)"},
      {.id = "lg2.approx.f32", .pattern = "lg2{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ log2(a)"},
      {.id = "ex2.approx.f32", .pattern = "ex2{!prec:approx}{ftz}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 10, .family = mth, .summary = "d ~ 2^a"},
      {.id = "ex2.approx.f16", .pattern = "ex2{!prec:approx}{T}", .types0 = kF16, .operands = un,
       .targets = all(), .min_ptx = 70, .family = mth, .summary = "d ~ 2^a (half precision)"},
      {.id = "ex2.approx.bf16", .pattern = "ex2{!prec:approx}{!ftz}{T}", .types0 = kBF16,
       .operands = un, .targets = sm(90), .min_ptx = 78, .family = mth, .summary = "d ~ 2^a (bfloat16)"},
      {.id = "tanh.approx.f32", .pattern = "tanh{!prec:approx}{T}", .types0 = {T::f32},
       .operands = un, .targets = all(), .min_ptx = 70, .family = mth, .summary = "d ~ tanh(a)"},
      {.id = "tanh.approx.f16", .pattern = "tanh{!prec:approx}{T}", .types0 = kF16, .operands = un,
       .targets = all(), .min_ptx = 70, .family = mth, .summary = "d ~ tanh(a) (half precision)"},
      {.id = "tanh.approx.bf16", .pattern = "tanh{!prec:approx}{T}", .types0 = kBF16, .operands = un,
       .targets = sm(90), .min_ptx = 78, .family = mth, .summary = "d ~ tanh(a) (bfloat16)"},
  };
  for (auto& r : rows) v.push_back(std::move(r));
  return v;
}

}  // namespace weft::isa::tables
