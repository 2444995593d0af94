#include "codegen/isa/types.h"

#include <array>

namespace weft::isa {

namespace {
using K = TypeKind;

bool is_int(Type t) {
  auto k = info(t).kind;
  return k == K::unsigned_int || k == K::signed_int || k == K::bits;
}
}  // namespace


std::optional<Type> type_from_name(std::string_view s) {
  for (const auto& i : detail::kTypeTable)
    if (i.name == s && i.type != Type::none) return i.type;
  return std::nullopt;
}

Type storage_type(Type t) {
  switch (t) {
    case Type::pred: return Type::pred;
    case Type::f32: return Type::f32;
    case Type::f64: return Type::f64;
    case Type::none: return Type::none;
    default: break;
  }
  switch (bits(t)) {
    case 8:
    case 16: return Type::b16;
    case 32: return Type::b32;
    case 64: return Type::b64;
    default: return Type::b128;
  }
}

bool operand_compatible(Type expected, Type reg, bool may_widen) {
  if (expected == reg) return true;
  const auto& e = info(expected);
  const auto& r = info(reg);
  if (e.kind == K::pred || r.kind == K::pred) return false;
  if (e.bits == r.bits) {
    if (e.kind == K::bits || r.kind == K::bits) return true;
    if (is_int(expected) && is_int(reg)) return true;
    return false;
  }
  // ld/st/cvt: an integer register wider than the instruction's integer type.
  return may_widen && is_int(expected) && is_int(reg) && r.bits > e.bits;
}

std::optional<Type> widened(Type t) {
  switch (t) {
    case Type::u16: return Type::u32;
    case Type::u32: return Type::u64;
    case Type::s16: return Type::s32;
    case Type::s32: return Type::s64;
    default: return std::nullopt;
  }
}

}  // namespace weft::isa
