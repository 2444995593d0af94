// Data-type tags for the DSL: `Reg<f32>`, `k.param<u32>("n")`. Each tag names its PTX type and the
// host type of its immediates; tags without a host type (f16, bf16, ...) take no immediates.
#pragma once

#include <cstdint>

#include "codegen/isa/types.h"

namespace weft {

namespace detail {
template <isa::Type T, class Host>
struct Tag {
  static constexpr isa::Type type = T;
  using host = Host;
};
struct NoImmediate {};
}  // namespace detail

struct u16 : detail::Tag<isa::Type::u16, std::uint16_t> {};
struct s16 : detail::Tag<isa::Type::s16, std::int16_t> {};
struct u32 : detail::Tag<isa::Type::u32, std::uint32_t> {};
struct s32 : detail::Tag<isa::Type::s32, std::int32_t> {};
struct u64 : detail::Tag<isa::Type::u64, std::uint64_t> {};
struct s64 : detail::Tag<isa::Type::s64, std::int64_t> {};
struct b16 : detail::Tag<isa::Type::b16, std::uint16_t> {};
struct b32 : detail::Tag<isa::Type::b32, std::uint32_t> {};
struct b64 : detail::Tag<isa::Type::b64, std::uint64_t> {};
struct f32 : detail::Tag<isa::Type::f32, float> {};
struct f64 : detail::Tag<isa::Type::f64, double> {};
struct f16 : detail::Tag<isa::Type::f16, detail::NoImmediate> {};
struct bf16 : detail::Tag<isa::Type::bf16, detail::NoImmediate> {};
struct f16x2 : detail::Tag<isa::Type::f16x2, detail::NoImmediate> {};
struct bf16x2 : detail::Tag<isa::Type::bf16x2, detail::NoImmediate> {};
struct e4m3x2 : detail::Tag<isa::Type::e4m3x2, detail::NoImmediate> {};
struct e5m2x2 : detail::Tag<isa::Type::e5m2x2, detail::NoImmediate> {};
// 8-bit memory types: loaded into and stored from 16-bit registers.
struct u8 : detail::Tag<isa::Type::u8, std::uint8_t> {};
struct s8 : detail::Tag<isa::Type::s8, std::int8_t> {};

template <class T>
concept DataType = requires { T::type; typename T::host; };

template <class T>
inline constexpr bool is_float_v = isa::info(T::type).kind == isa::TypeKind::floating;
template <class T>
inline constexpr bool is_signed_v = isa::info(T::type).kind == isa::TypeKind::signed_int;

// State spaces a pointer can address. Shared pointers are 32-bit (.shared window offsets).
enum class Space { global, shared, local, constant, generic };
struct Global { static constexpr Space space = Space::global; };
struct Shared { static constexpr Space space = Space::shared; };
struct Local { static constexpr Space space = Space::local; };
struct Const { static constexpr Space space = Space::constant; };
struct Generic { static constexpr Space space = Space::generic; };

}  // namespace weft
