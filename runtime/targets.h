// Which PTX a device can run, and which PTX ISA a driver can JIT. Pure functions, tested on the CPU.
//
// Why here and not in codegen: the runtime must decide this from the text it is given (and the driver
// and device it finds), without the codegen that made the text. The rules:
//   sm_XY   (base)           runs on every device of compute capability >= X.Y (the driver JITs PTX
//                            forward);
//   sm_XYa  (arch-specific)  runs only on compute capability X.Y exactly;
//   sm_XYf  (family)         runs on compute capability X.Z with Z >= Y (same major).
// Preference when several fit: the exact `a` target, then the best `f`, then the highest base target.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace weft::rt {

struct PtxIsa {
  int major = 0;
  int minor = 0;
  auto operator<=>(const PtxIsa&) const = default;
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// The newest PTX ISA a driver of this version (cuDriverGetVersion: 13000 = 13.0) can JIT, from the
// table of CUDA releases (13.0 -> 9.0, 12.9 -> 8.8, 12.8 -> 8.7, 12.4 -> 8.4, ...). A version between
// two releases takes the older one; a driver older or newer than the table gives nullopt (unknown: the
// driver itself decides, and its error is still reported with both versions).
std::optional<PtxIsa> max_ptx_isa(int driver_version);

enum class TargetVariant { base, arch, family };  // sm_90, sm_90a, sm_100f

struct Target {
  int sm = 0;  // 90 for sm_90a, 100 for sm_100f, 103 for sm_103
  TargetVariant variant = TargetVariant::base;

  int cc_major() const { return sm / 10; }
  int cc_minor() const { return sm % 10; }
  std::string str() const;  // "sm_90a"
  // "sm_90", "sm_90a", "sm_100f" (also "compute_90a"); nullopt for anything else.
  static std::optional<Target> parse(std::string_view name);
  auto operator<=>(const Target&) const = default;
};

// The device's own base target from its compute capability (9, 0 -> sm_90).
inline int sm_of(int cc_major, int cc_minor) { return cc_major * 10 + cc_minor; }

// True when PTX for `t` can run on a device of compute capability sm (90 = 9.0); otherwise false and
// `why` receives the reason ("arch-specific code runs only on sm_90 (device is sm_100)").
bool target_runs_on(const Target& t, int device_sm, std::string* why = nullptr);

// One PTX text offered for loading: its target and `.version` (parsed from the text), and a name for
// messages (a file name, or "candidate 2").
struct TargetCandidate {
  std::string target;                 // as written: "sm_90a"
  std::optional<PtxIsa> ptx_version;  // nullopt: not known
  std::string origin;
};

// Picks the candidate to load on a device of compute capability `device_sm` whose driver JITs PTX up
// to `driver_max` (nullopt: no limit known). Returns its index. Throws Error listing every candidate
// and why it does not fit when none does; `driver_version` only makes the message precise.
std::size_t select_target(std::span<const TargetCandidate> candidates, int device_sm,
                          std::optional<PtxIsa> driver_max, int driver_version = 0);

}  // namespace weft::rt
