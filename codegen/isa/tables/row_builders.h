// Shorthands for writing instruction rows, so each table reads like the PTX manual's syntax boxes.
// Only the tables include this.
#pragma once

#include <initializer_list>
#include <vector>

#include "codegen/isa/form.h"

namespace weft::isa::rows {

using T = Type;

// Operands. Names follow the manual (d = destination, a/b/c = sources).
inline OperandSpec dst(std::string_view n = "d", TypeRef t = TypeRef::t0) {
  return {.name = n, .cls = OpClass::reg, .role = Role::write, .tref = t};
}
inline OperandSpec dst_fixed(Type ty, std::string_view n = "d") {
  return {.name = n, .cls = OpClass::reg, .role = Role::write, .tref = TypeRef::fixed, .fixed = ty};
}
inline OperandSpec src(std::string_view n, TypeRef t = TypeRef::t0) {
  return {.name = n, .cls = OpClass::reg_or_imm, .role = Role::read, .tref = t};
}
inline OperandSpec src_reg(std::string_view n, TypeRef t = TypeRef::t0) {
  return {.name = n, .cls = OpClass::reg, .role = Role::read, .tref = t};
}
inline OperandSpec src_fixed(Type ty, std::string_view n) {
  return {.name = n, .cls = OpClass::reg_or_imm, .role = Role::read, .tref = TypeRef::fixed, .fixed = ty};
}
inline OperandSpec imm(Type ty, std::string_view n, std::int64_t lo, std::int64_t hi) {
  return {.name = n, .cls = OpClass::imm, .role = Role::read, .tref = TypeRef::fixed, .fixed = ty,
          .imm_min = lo, .imm_max = hi};
}
inline OperandSpec pred_dst(std::string_view n = "p") {
  return {.name = n, .cls = OpClass::pred, .role = Role::write, .tref = TypeRef::fixed, .fixed = T::pred};
}
inline OperandSpec pred_src(std::string_view n = "c") {
  return {.name = n, .cls = OpClass::pred, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::pred,
          .negatable = true};
}
inline OperandSpec address(std::string_view n = "a") {
  return {.name = n, .cls = OpClass::mem, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::none};
}
inline OperandSpec label(std::string_view n = "target") {
  return {.name = n, .cls = OpClass::label, .role = Role::read, .tref = TypeRef::fixed};
}
inline OperandSpec membermask() { return src_fixed(T::b32, "membermask"); }
inline OperandSpec policy_operand() {  // the 64-bit cache policy of .L2::cache_hint
  return {.name = "cache_policy", .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed,
          .fixed = T::b64, .present_if = QualKind::l2hint};
}
// ld/st data: a register, or a {..} list under .v2/.v4; wider integer registers are fine.
inline OperandSpec data(Role r) {
  return {.name = r == Role::write ? "d" : "b", .cls = OpClass::reg, .role = r, .tref = TypeRef::t0,
          .vec = true, .may_widen = true};
}
inline OperandSpec with_present_if(OperandSpec o, QualKind k) {
  o.present_if = k;
  return o;
}

// Type lists. Constant-initialised (an initializer_list, not a vector): the instruction table is built
// on first use, which may come from another file's static initialiser (a kernel emitted before main),
// when a dynamically initialised list would still be empty.
inline constexpr std::initializer_list<Type> kInt16to64 = {T::s16, T::u16, T::s32, T::u32, T::s64, T::u64};
inline constexpr std::initializer_list<Type> kSigned = {T::s16, T::s32, T::s64};
inline constexpr std::initializer_list<Type> kUnsigned = {T::u16, T::u32, T::u64};
inline constexpr std::initializer_list<Type> kBits16to64 = {T::b16, T::b32, T::b64};
inline constexpr std::initializer_list<Type> kMemTypes = {T::b8,  T::b16, T::b32, T::b64, T::u8,  T::u16, T::u32,
                                                          T::u64, T::s8,  T::s16, T::s32, T::s64, T::f32, T::f64};

inline TargetSet all() { return TargetSet::all(); }
inline TargetSet sm(unsigned n) { return TargetSet::from_sm(n); }

}  // namespace weft::isa::rows
