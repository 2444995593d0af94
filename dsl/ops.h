// C++ operators and math functions on DSL registers. Each emits one instruction, resolved from the
// instruction database by opcode and type (`a + b` on f32 is add.f32, on u32 add.u32), at the line
// where the expression is written.
#pragma once

#include "dsl/kernel_builder.h"

namespace weft {

namespace detail {

// The builder a value was made by. A value that was never given one (a default-constructed Reg, Pred
// or Ptr) has none to record a diagnostic in, so the build stops here with one at the author's line.
KernelBuilder* builder_of(KernelBuilder* k, SourceLoc loc);

template <DataType T>
Reg<T> binary(std::string_view opcode, Reg<T> a, const Src<T>& b, isa::Quals q = {}, isa::Type t = T::type) {
  auto* k = builder_of(a.builder(), b.loc());
  k->check_owner(a.function(), b.loc());
  if (b.is_reg()) k->check_owner(b.reg().function(), b.loc());
  auto r = k->template fresh<T>();
  k->emit(opcode, t, isa::Type::none, q, {ir::Operand::r(r.id()), ir::Operand::r(a.id()), b.operand()}, b.loc());
  return r;
}

template <DataType T>
Reg<T> unary(std::string_view opcode, Reg<T> a, SourceLoc loc, isa::Quals q = {}, isa::Type t = T::type) {
  auto* k = builder_of(a.builder(), loc);
  auto r = k->template fresh<T>();
  k->emit(opcode, t, isa::Type::none, q, {ir::Operand::r(r.id()), ir::Operand::r(a.id())}, loc);
  return r;
}

template <DataType T>
Pred compare(const char* cmp, Reg<T> a, const Src<T>& b) {
  auto* k = builder_of(a.builder(), b.loc());
  k->check_owner(a.function(), b.loc());
  if (b.is_reg()) k->check_owner(b.reg().function(), b.loc());
  auto p = k->fresh_pred();
  isa::Quals q;
  q.set(isa::QualKind::cmp, cmp);
  k->emit("setp", T::type, isa::Type::none, q, {ir::Operand::r(p.id()), ir::Operand::r(a.id()), b.operand()}, b.loc());
  return p;
}

inline isa::Quals with(isa::QualKind k, std::string_view v) {
  isa::Quals q;
  q.set(k, v);
  return q;
}

template <DataType T>
constexpr bool is_int_v = !is_float_v<T>;

}  // namespace detail

// Arithmetic. Integer * keeps the low half (mul.lo); float / is IEEE (div.rn).
template <DataType T> Reg<T> operator+(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::binary("add", a, b); }
template <DataType T> Reg<T> operator-(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::binary("sub", a, b); }
template <DataType T> Reg<T> operator*(Reg<T> a, std::type_identity_t<Src<T>> b) {
  if constexpr (is_float_v<T>) return detail::binary("mul", a, b);
  else return detail::binary("mul", a, b, detail::with(isa::QualKind::mulmode, "lo"));
}
template <DataType T> Reg<T> operator/(Reg<T> a, std::type_identity_t<Src<T>> b) {
  if constexpr (is_float_v<T>) return detail::binary("div", a, b, detail::with(isa::QualKind::rnd, "rn"));
  else return detail::binary("div", a, b);
}
template <DataType T> Reg<T> operator%(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::binary("rem", a, b); }
template <DataType T> Reg<T> operator-(Reg<T> a) { return detail::unary("neg", a, {}); }

// Bitwise operations (typed .bN in PTX) and shifts.
template <DataType T> Reg<T> operator&(Reg<T> a, std::type_identity_t<Src<T>> b) {
  return detail::binary("and", a, b, {}, detail::bits_type(T::type));
}
template <DataType T> Reg<T> operator|(Reg<T> a, std::type_identity_t<Src<T>> b) {
  return detail::binary("or", a, b, {}, detail::bits_type(T::type));
}
template <DataType T> Reg<T> operator^(Reg<T> a, std::type_identity_t<Src<T>> b) {
  return detail::binary("xor", a, b, {}, detail::bits_type(T::type));
}
template <DataType T> Reg<T> operator~(Reg<T> a) { return detail::unary("not", a, {}, {}, detail::bits_type(T::type)); }
template <DataType T> Reg<T> operator<<(Reg<T> a, Src<u32> b) {
  auto* k = detail::builder_of(a.builder(), b.loc());
  auto r = k->template fresh<T>();
  k->emit("shl", detail::bits_type(T::type), isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::r(a.id()), b.operand()}, b.loc());
  return r;
}
template <DataType T> Reg<T> operator>>(Reg<T> a, Src<u32> b) {  // arithmetic for signed types
  auto* k = detail::builder_of(a.builder(), b.loc());
  auto r = k->template fresh<T>();
  k->emit("shr", T::type, isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::r(a.id()), b.operand()}, b.loc());
  return r;
}

// Comparisons give predicates (ordered comparisons for floats: false on NaN).
template <DataType T> Pred operator<(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("lt", a, b); }
template <DataType T> Pred operator<=(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("le", a, b); }
template <DataType T> Pred operator>(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("gt", a, b); }
template <DataType T> Pred operator>=(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("ge", a, b); }
template <DataType T> Pred operator==(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("eq", a, b); }
template <DataType T> Pred operator!=(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::compare("ne", a, b); }

// Predicate logic.
Pred operator&&(Pred a, Pred b);
Pred operator||(Pred a, Pred b);

// Pointer + runtime index: one mad (mad.wide.u32 / .s32 for 64-bit pointers). Src captures the
// line of the expression; a constant index folds into the address offset instead (Ptr::operator+).
template <DataType T, class S>
Ptr<T, S> operator+(Ptr<T, S> p, Src<u32> i) {
  return detail::builder_of(p.builder(), i.loc())->template index<T, S, u32>(p, i);
}
template <DataType T, class S>
Ptr<T, S> operator+(Ptr<T, S> p, Src<s32> i) {
  return detail::builder_of(p.builder(), i.loc())->template index<T, S, s32>(p, i);
}
template <DataType T, class S>
Ptr<T, S> operator+(Ptr<T, S> p, Src<u64> i) {
  return detail::builder_of(p.builder(), i.loc())->template index<T, S, u64>(p, i);
}

// Math. fma is fused with round-to-nearest; min/max/abs follow PTX; sqrt is IEEE for f32/f64.
template <DataType T> Reg<T> fma(Reg<T> a, std::type_identity_t<Src<T>> b, std::type_identity_t<Src<T>> c) {
  auto* k = detail::builder_of(a.builder(), b.loc());
  auto r = k->template fresh<T>();
  isa::Quals q;
  if constexpr (is_float_v<T>) q.set(isa::QualKind::rnd, "rn");
  else q.set(isa::QualKind::mulmode, "lo");
  k->emit(is_float_v<T> ? "fma" : "mad", T::type, isa::Type::none, q,
          {ir::Operand::r(r.id()), ir::Operand::r(a.id()), b.operand(), c.operand()}, b.loc());
  return r;
}
template <DataType T> Reg<T> min(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::binary("min", a, b); }
template <DataType T> Reg<T> max(Reg<T> a, std::type_identity_t<Src<T>> b) { return detail::binary("max", a, b); }
template <DataType T> Reg<T> abs(Reg<T> a, Loc loc = Loc::current()) { return detail::unary("abs", a, SourceLoc::from(loc)); }
template <DataType T> Reg<T> sqrt(Reg<T> a, Loc loc = Loc::current()) {
  return detail::unary("sqrt", a, SourceLoc::from(loc), detail::with(isa::QualKind::rnd, "rn"));
}
// Fast approximations (the special function unit).
inline Reg<f32> rsqrt_approx(Reg<f32> a, Loc loc = Loc::current()) {
  return detail::unary("rsqrt", a, SourceLoc::from(loc), detail::with(isa::QualKind::prec, "approx"));
}
inline Reg<f32> ex2_approx(Reg<f32> a, Loc loc = Loc::current()) {
  return detail::unary("ex2", a, SourceLoc::from(loc), detail::with(isa::QualKind::prec, "approx"));
}
inline Reg<f32> lg2_approx(Reg<f32> a, Loc loc = Loc::current()) {
  return detail::unary("lg2", a, SourceLoc::from(loc), detail::with(isa::QualKind::prec, "approx"));
}
inline Reg<f32> rcp_approx(Reg<f32> a, Loc loc = Loc::current()) {
  return detail::unary("rcp", a, SourceLoc::from(loc), detail::with(isa::QualKind::prec, "approx"));
}
inline Reg<f32> tanh_approx(Reg<f32> a, Loc loc = Loc::current()) {
  return detail::unary("tanh", a, SourceLoc::from(loc), detail::with(isa::QualKind::prec, "approx"));
}

// c ? a : b
template <DataType T> Reg<T> select(Pred c, Reg<T> a, std::type_identity_t<Src<T>> b) {
  auto* k = detail::builder_of(a.builder(), b.loc());
  auto r = k->template fresh<T>();
  k->emit("selp", T::type, isa::Type::none, {},
          {ir::Operand::r(r.id()), ir::Operand::r(a.id()), b.operand(), ir::Operand::r(c.id(), c.negated())}, b.loc());
  return r;
}

// Conversion with C++'s rounding: float to integer truncates (.rzi), integer to float and float
// narrowing round to nearest (.rn); widening is exact. Same type: a copy.
template <DataType To, DataType From>
Reg<To> convert(Reg<From> a, Loc loc = Loc::current()) {
  auto* k = detail::builder_of(a.builder(), SourceLoc::from(loc));
  const auto l = SourceLoc::from(loc);
  if constexpr (std::is_same_v<To, From>) {
    return k->template let<To>(Src<To>(a, loc), loc);
  } else {
    auto r = Reg<To>(k, k->fn().new_reg(detail::reg_type<To>()), a.function());
    isa::Quals q;
    constexpr bool to_f = is_float_v<To>, from_f = is_float_v<From>;
    if constexpr (to_f && !from_f) q.set(isa::QualKind::rnd, "rn");
    if constexpr (!to_f && from_f) q.set(isa::QualKind::irnd, "rzi");
    if constexpr (to_f && from_f && isa::bits(To::type) < isa::bits(From::type)) q.set(isa::QualKind::rnd, "rn");
    k->emit("cvt", To::type, From::type, q, {ir::Operand::r(r.id()), ir::Operand::r(a.id())}, l);
    return r;
  }
}

// Same bits, another type (mov.bN): f32 <-> u32, f16x2 <-> b32, ...
template <DataType To, DataType From>
Reg<To> bitcast(Reg<From> a, Loc loc = Loc::current()) {
  static_assert(isa::bits(To::type) == isa::bits(From::type), "bitcast needs types of one size");
  auto* k = detail::builder_of(a.builder(), SourceLoc::from(loc));
  auto r = k->template fresh<To>();
  k->emit_form("mov", detail::bits_type(To::type), isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::r(a.id())},
               SourceLoc::from(loc));
  return r;
}

}  // namespace weft
