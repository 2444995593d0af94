// Launch checks against a kernel's signature block (DESIGN.md decision 7). Pure: no driver calls, so
// every rule here is tested on the CPU.
//
// Why: a launch with a wrong argument list does not fail in the driver, it runs with garbage and
// faults (or worse, does not). The signature block says what each parameter is; check_args() compares
// the C++ arguments with it and names the parameter and kernel that do not match. check_launch()
// does the same for the block shape (.reqntid/.maxntid), cluster shape and shared memory.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <span>
#include <string>

#include "codegen/signature.h"

namespace weft::rt {

enum class ArgKind { scalar, pointer, bytes };
enum class ScalarClass { signed_int, unsigned_int, floating, boolean, other };

// What one C++ launch argument is (made by arg_info<T>() in launch.h).
struct ArgInfo {
  ArgKind kind = ArgKind::scalar;
  std::uint32_t size = 0;           // bytes passed
  ScalarClass cls = ScalarClass::other;  // scalars only
  std::uint32_t pointee_size = 0;   // pointers: element bytes, 0 when unknown or untyped
  std::string type_name;            // for messages: "float", "int32", "DevicePtr<4-byte>", ...
  std::string tma_box;              // a TensorMap: the box it was encoded for (rt::tma_box_key), else empty
};

// Throws Error naming the kernel and the first parameter that does not match (or the counts).
//  - counts must match;
//  - a pointer parameter takes a pointer argument (DevicePtr<T>, DeviceBuffer<T>, T*), never a raw
//    integer; a typed pointer's element size must match the parameter's pointee type if both are known;
//  - a scalar parameter takes a scalar (or a trivially copyable value type) of the same size, and a
//    floating-point parameter of 4 or 8 bytes does not take an integer (nor an integer parameter a
//    float); f16/bf16/fp8 parameters take integers of their size as raw bits;
//  - a bytes parameter (a by-value array such as a tensor map) takes a value of exactly its size;
//  - a tensor-map parameter takes a map of the box its copies expect (element type, box, swizzle),
//    where both are known: a map of another box brings other bytes than the kernel's barriers wait
//    for, and the kernel hangs or reads the wrong elements.
void check_args(const sig::Kernel& k, std::span<const ArgInfo> args);

struct Dim3 {
  std::uint32_t x = 1, y = 1, z = 1;
  std::uint64_t total() const { return std::uint64_t(x) * y * z; }
  bool operator==(const Dim3&) const = default;
  std::string str() const;  // "128x1x1"
};

struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  std::uint32_t dynamic_smem = 0;  // bytes; 0: the signature's default
  Dim3 cluster;                    // {1,1,1}: the kernel's own (compiled) cluster shape, if any
  CUstream stream = nullptr;
  bool pdl = false;                // programmatic dependent launch (sm_90+)
};

// What the device allows (from DeviceProps); 0 means "unknown, do not check".
struct LaunchLimits {
  std::uint32_t max_threads_per_block = 1024;
  std::uint32_t max_smem_per_block_optin = 0;
  bool cluster_launch = true;
};

// What the launch will use after defaults are applied.
struct ResolvedLaunch {
  std::uint32_t dynamic_smem = 0;
  Dim3 cluster;
  bool set_cluster_attribute = false;  // launch-time cluster shape (the kernel has none compiled in)
  bool needs_smem_optin = false;       // dynamic smem above 48 KB: raise the function's limit first
};

// Throws Error naming the kernel and the rule broken (block vs .reqntid/.maxntid, grid/cluster
// divisibility, shared memory vs the device's per-block maximum).
ResolvedLaunch check_launch(const sig::Kernel& k, const LaunchConfig& cfg, const LaunchLimits& limits);

}  // namespace weft::rt
