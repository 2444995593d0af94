// Emitting a registered sample kernel for the GPU at hand, shared by the host apps, the benchmarks
// and the comm wrappers. Which kernel runs on which device is the registry's knowledge (each entry's
// target set, from the instruction database), so no program repeats "needs sm_90" checks of its own.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "codegen/printer.h"
#include "dsl/registry.h"

namespace weft::samples {

// The target to emit `e` for on a device of compute capability `device_sm` (90 for 9.0), in order of
// preference: the device's own base target (sm_90), its arch-specific one (sm_90a; for kernels written
// only for it, such as gemm_bf16_sm90, or devices without a base target, such as sm_103), then the
// highest base target below the device (its PTX is JIT-compiled forward: sm_120 on a 12.1 device).
// Only targets weft knows and the kernel is written for; nullopt when none fits.
inline std::optional<weft::isa::Target> target_for(const weft::KernelEntry& e, int device_sm) {
  using weft::isa::Target;
  using weft::isa::Variant;
  const auto known = weft::isa::known_targets();
  auto fits = [&](const Target& t) {
    for (const auto& k : known)
      if (k == t) return e.targets.contains(t);
    return false;
  };
  const auto sm = static_cast<std::uint16_t>(device_sm);
  if (Target t{sm, Variant::base}; fits(t)) return t;
  if (Target t{sm, Variant::arch_specific}; fits(t)) return t;
  std::optional<Target> best;
  for (const auto& k : known)
    if (k.variant == Variant::base && k.sm < sm && e.targets.contains(k) && (!best || k.sm > best->sm)) best = k;
  return best;
}

// One kernel emitted for this device: its PTX and the parameter values it was built with.
struct Emitted {
  std::string name;
  weft::isa::Target target;
  weft::KernelParams params;
  std::string ptx;
  double emit_ms = 0;  // registry build + verify + print
};

// Emits the registered kernel `name` for a device of compute capability `device_sm`, with the
// kernel's default parameters overridden by `settings` ("block=128"); `debug_waits`: bounded waits that
// trap and report instead of hanging (dsl/debug_wait.h). Throws std::runtime_error when the kernel is
// not registered, a setting is invalid, or no target fits the device.
inline Emitted emit(const std::string& name, int device_sm, const std::vector<std::string>& settings = {},
                    bool debug_waits = false) {
  const auto* e = weft::Registry::global().find(name);
  if (!e) throw std::runtime_error("kernel '" + name + "' is not registered");
  auto p = weft::parse_params(*e, settings);
  if (!p.params) throw std::runtime_error(name + ": " + p.error);
  auto t = target_for(*e, device_sm);
  if (!t)
    throw std::runtime_error(name + " is written for " + e->targets.describe() + ", none of which runs on sm_" +
                             std::to_string(device_sm));
  t->debug_waits = debug_waits;
  const auto t0 = std::chrono::steady_clock::now();
  std::string ptx = weft::emit_ptx(e->build(*t, *p.params));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return Emitted{name, *t, *p.params, std::move(ptx), ms};
}

// Whether the registered kernel `name` has a target that runs on a device of compute capability
// `device_sm` (false for an unknown kernel).
inline bool runs_on(const std::string& name, int device_sm) {
  const auto* e = weft::Registry::global().find(name);
  return e && target_for(*e, device_sm).has_value();
}

}  // namespace weft::samples
