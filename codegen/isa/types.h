// PTX fundamental types, and the rules for which register may stand where an instruction expects a
// type. One list drives the printer, the verifier and the DSL's `Reg<T>`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace weft::isa {

enum class Type : std::uint8_t {
  none,
  pred,
  b8, b16, b32, b64, b128,
  u8, u16, u32, u64,
  s8, s16, s32, s64,
  f16, f16x2, bf16, bf16x2, tf32, f32, f64,
  e4m3, e5m2, e4m3x2, e5m2x2,
};

enum class TypeKind : std::uint8_t { none, pred, bits, unsigned_int, signed_int, floating, fp8 };

struct TypeInfo {
  Type type;
  std::string_view name;  // PTX spelling without the dot: "u32"
  std::uint8_t bits;      // storage size; 0 for pred
  TypeKind kind;
};

namespace detail {
using K = TypeKind;
inline constexpr std::array kTypeTable = {
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
}  // namespace detail
constexpr const TypeInfo& info(Type t) { return detail::kTypeTable[static_cast<std::size_t>(t)]; }
inline std::string_view name(Type t) { return info(t).name; }
constexpr unsigned bits(Type t) { return info(t).bits; }
constexpr unsigned bytes(Type t) { return (info(t).bits + 7) / 8; }
std::optional<Type> type_from_name(std::string_view s);

// The register class a value of type `t` lives in. PTX has no 8-bit registers worth using, so 8-bit
// values live in 16-bit registers; f16/bf16 live in .b16, packed pairs and tf32 in .b32.
Type storage_type(Type t);

// May a register holding `reg` be an operand where an instruction of type `expected` wants one?
// PTX's rule: same type; or same size with one side untyped (.bN); or signed/unsigned of one size.
// `may_widen`: ld/st/cvt accept an integer register wider than the instruction type.
bool operand_compatible(Type expected, Type reg, bool may_widen = false);

// The type with twice the bits, for mul.wide / mad.wide (u16 -> u32, s32 -> s64).
std::optional<Type> widened(Type t);

}  // namespace weft::isa
