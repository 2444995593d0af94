#include "codegen/isa/types.h"

#include <array>

namespace weft::isa {

namespace {
using K = TypeKind;
constexpr std::array kTypes = {
    TypeInfo{Type::none, "none", 0, K::none},
    TypeInfo{Type::pred, "pred", 0, K::pred},
    TypeInfo{Type::b8, "b8", 8, K::bits},
    TypeInfo{Type::b16, "b16", 16, K::bits},
    TypeInfo{Type::b32, "b32", 32, K::bits},
    TypeInfo{Type::b64, "b64", 64, K::bits},
    TypeInfo{Type::b128, "b128", 128, K::bits},
    TypeInfo{Type::u8, "u8", 8, K::unsigned_int},
    TypeInfo{Type::u16, "u16", 16, K::unsigned_int},
    TypeInfo{Type::u32, "u32", 32, K::unsigned_int},
    TypeInfo{Type::u64, "u64", 64, K::unsigned_int},
    TypeInfo{Type::s8, "s8", 8, K::signed_int},
    TypeInfo{Type::s16, "s16", 16, K::signed_int},
    TypeInfo{Type::s32, "s32", 32, K::signed_int},
    TypeInfo{Type::s64, "s64", 64, K::signed_int},
    TypeInfo{Type::f16, "f16", 16, K::floating},
    TypeInfo{Type::f16x2, "f16x2", 32, K::floating},
    TypeInfo{Type::bf16, "bf16", 16, K::floating},
    TypeInfo{Type::bf16x2, "bf16x2", 32, K::floating},
    TypeInfo{Type::tf32, "tf32", 32, K::floating},
    TypeInfo{Type::f32, "f32", 32, K::floating},
    TypeInfo{Type::f64, "f64", 64, K::floating},
    TypeInfo{Type::e4m3, "e4m3", 8, K::fp8},
    TypeInfo{Type::e5m2, "e5m2", 8, K::fp8},
    TypeInfo{Type::e4m3x2, "e4m3x2", 16, K::fp8},
    TypeInfo{Type::e5m2x2, "e5m2x2", 16, K::fp8},
};

bool is_int(Type t) {
  auto k = info(t).kind;
  return k == K::unsigned_int || k == K::signed_int || k == K::bits;
}
}  // namespace

const TypeInfo& info(Type t) { return kTypes[static_cast<size_t>(t)]; }

std::optional<Type> type_from_name(std::string_view s) {
  for (const auto& i : kTypes)
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
