// How C++ launch arguments become kernel parameters: ArgInfo (for check_args) and the value whose
// address goes into cuLaunchKernelEx's parameter array.
//
// Why compile-time classification: the C++ type says whether an argument is a pointer (DevicePtr<T>,
// DeviceBuffer<T>, T*), a scalar (and which kind) or a by-value blob (a tensor map); the check against
// the signature then needs no guessing. No driver calls here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/launch_check.h"
#include "runtime/memory.h"
#include "runtime/tensor_map.h"

namespace weft::rt {

namespace detail {

// The element type of DevicePtr<T> and DeviceBuffer<T>; `value` is false for every other type.
template <class T> struct device_element : std::false_type {};
template <class T> struct device_element<DevicePtr<T>> : std::true_type {
  using type = T;
  static constexpr const char* name = "DevicePtr";
};
template <class T> struct device_element<DeviceBuffer<T>> : std::true_type {
  using type = T;
  static constexpr const char* name = "DeviceBuffer";
};

// Element bytes of a typed pointer; 0 for untyped (void, bytes), which match any pointee.
template <class E>
constexpr std::uint32_t pointee_bytes() {
  using U = std::remove_cv_t<E>;
  if constexpr (std::is_void_v<U> || std::is_same_v<U, std::byte> || std::is_same_v<U, char> ||
                std::is_same_v<U, unsigned char> || std::is_same_v<U, signed char>)
    return 0;
  else
    return sizeof(U);
}

template <class T>
std::string scalar_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_floating_point_v<T>) return sizeof(T) == 4 ? "float" : sizeof(T) == 8 ? "double" : "long double";
  else if constexpr (std::is_signed_v<T>) return "int" + std::to_string(8 * sizeof(T));
  else return "uint" + std::to_string(8 * sizeof(T));
}

}  // namespace detail

template <class T>
ArgInfo arg_info() {
  using U = std::remove_cvref_t<T>;
  ArgInfo a;
  if constexpr (detail::device_element<U>::value) {
    a.kind = ArgKind::pointer;
    a.size = sizeof(CUdeviceptr);
    a.pointee_size = detail::pointee_bytes<typename detail::device_element<U>::type>();
    a.type_name = std::string(detail::device_element<U>::name) + "<" +
                  (a.pointee_size ? std::to_string(a.pointee_size) + "-byte elements" : "bytes") + ">";
  } else if constexpr (std::is_same_v<U, TensorMap>) {  // passes its CUtensorMap (param_value)
    a.kind = ArgKind::bytes;
    a.size = sizeof(CUtensorMap);
    a.type_name = "TensorMap";
  } else if constexpr (std::is_pointer_v<U>) {
    a.kind = ArgKind::pointer;
    a.size = sizeof(void*);
    a.pointee_size = detail::pointee_bytes<std::remove_pointer_t<U>>();
    a.type_name = "a raw pointer";
  } else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U>) {
    using S = typename std::conditional_t<std::is_enum_v<U>, std::underlying_type<U>, std::type_identity<U>>::type;
    a.kind = ArgKind::scalar;
    a.size = sizeof(U);
    a.cls = std::is_same_v<S, bool>       ? ScalarClass::boolean
            : std::is_floating_point_v<S> ? ScalarClass::floating
            : std::is_signed_v<S>         ? ScalarClass::signed_int
                                          : ScalarClass::unsigned_int;
    a.type_name = detail::scalar_name<S>();
  } else {
    static_assert(std::is_trivially_copyable_v<U>, "kernel arguments must be trivially copyable");
    a.kind = ArgKind::bytes;
    a.size = sizeof(U);
    a.type_name = std::to_string(sizeof(U)) + "-byte struct";
  }
  return a;
}

// What one argument value is: arg_info<T>(), and for a TensorMap the box it was encoded for.
template <class T>
ArgInfo arg_info_of(const T& v) {
  ArgInfo a = arg_info<T>();
  if constexpr (std::is_same_v<std::remove_cvref_t<T>, TensorMap>) a.tma_box = tma_box_key(v.desc);
  return a;
}

// The value stored for the launch: buffers and typed pointers become their CUdeviceptr, a TensorMap
// its CUtensorMap.
template <class T>
auto param_value(const T& v) {
  using U = std::remove_cvref_t<T>;
  if constexpr (detail::device_element<U>::value)
    return static_cast<CUdeviceptr>(v.raw());
  else if constexpr (std::is_same_v<U, TensorMap>)
    return v.map;
  else
    return v;
}

// Arguments assembled at run time, for a kernel whose parameter list depends on how it was built
// (optional parameters): each push keeps the value's bytes and its ArgInfo, and
// Kernel::launch(cfg, list) checks them against the signature like launch(cfg, args...).
//
//   ArgList args;
//   args.push(m).push(n).push(a_buffer);
//   if (with_bias) args.push(bias_ptr);
//   kernel.launch(cfg, args);
class ArgList {
 public:
  template <class T>
  ArgList& push(const T& v) {
    const auto value = param_value(v);
    static_assert(std::is_trivially_copyable_v<decltype(value)>, "kernel arguments must be trivially copyable");
    infos_.push_back(arg_info_of(v));
    auto& bytes = values_.emplace_back(sizeof(value));
    std::memcpy(bytes.data(), &value, sizeof(value));
    return *this;
  }
  std::size_t size() const { return infos_.size(); }
  const std::vector<ArgInfo>& infos() const { return infos_; }
  // cuLaunchKernelEx's parameter array: one pointer per argument, then a null.
  std::vector<void*> pointers() {
    std::vector<void*> p;
    for (auto& v : values_) p.push_back(v.data());
    p.push_back(nullptr);
    return p;
  }

 private:
  std::vector<ArgInfo> infos_;
  std::vector<std::vector<std::byte>> values_;  // each argument's own buffer: stable while the list grows
};

}  // namespace weft::rt
