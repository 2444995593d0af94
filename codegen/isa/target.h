// SM targets and the PTX ISA versions they need (facts from ptxas 13.0, see docs/ptx-facts.md).
//
// A target is an SM number and a variant: base (sm_90: features carry forward to later GPUs), `a`
// (sm_90a: arch-specific features such as wgmma, which run only on that exact GPU family member).
// Instruction availability is an explicit set of targets (TargetSet), never "sm >= N" in code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace weft::isa {

// PTX ISA version as major*10+minor (8.6 -> 86).
using PtxVersion = std::uint16_t;
std::string format_ptx_version(PtxVersion v);  // 86 -> "8.6"

// The newest .version ptxas 13.0 accepts.
inline constexpr PtxVersion kMaxPtxVersion = 90;

enum class Variant : std::uint8_t { base, arch_specific };

struct Target {
  std::uint16_t sm = 0;
  Variant variant = Variant::base;
  // Build option carried with the target: every mbarrier wait becomes a bounded wait that records
  // the barrier, phase and source line in `weft_debug_wait` and traps (weft emit --debug-waits).
  bool debug_waits = false;

  std::string name() const;           // "sm_90a"
  PtxVersion min_ptx_version() const;  // the lowest .version that accepts `.target name()`
  int index() const;                   // position in known_targets()
  // Shared memory one CTA may use on this target, static and dynamic together, in bytes (227 KiB on
  // sm_90 and sm_100, 163 KiB on sm_80, 99 KiB on sm_86, sm_89 and sm_120).
  std::uint32_t max_shared_per_cta() const;
  // Shared memory of one SM, in bytes: every resident CTA also takes kSharedReservedPerCta of it for
  // the system, so the SM holds the per-CTA ceiling plus that (228 KiB on sm_90, 164 on sm_80).
  static constexpr std::uint32_t kSharedReservedPerCta = 1024;
  std::uint32_t max_shared_per_sm() const { return max_shared_per_cta() + kSharedReservedPerCta; }
  // Targets are equal when they name the same GPU target; build options do not matter.
  friend bool operator==(const Target& a, const Target& b) { return a.sm == b.sm && a.variant == b.variant; }
  // Whether setmaxnreg-style arch-specific features exist (an `a` target).
  bool arch_specific() const { return variant == Variant::arch_specific; }
};

// Every target weft claims, oldest first.
std::span<const Target> known_targets();

// Parses "sm_90a". The error says why ("sm90": missing '_'; "sm_99": not a known target) and
// lists the known targets.
struct TargetParse {
  std::optional<Target> target;
  std::string error;
};
TargetParse parse_target(std::string_view s);
std::string known_target_list();  // "sm_80, sm_86, ..."

// An exact set of targets, as a bitmask over known_targets().
class TargetSet {
 public:
  constexpr TargetSet() = default;
  static TargetSet all();
  // Every known target with sm >= `sm`, base and `a` alike: a generation gate.
  static TargetSet from_sm(unsigned sm);
  // Every `a` target with sm >= `sm`: an arch-specific gate such as setmaxnreg.
  static TargetSet arch_specific_from(unsigned sm);
  // Exactly these targets, by name ("sm_90a"); unknown names are a programming error (throws).
  static TargetSet only(std::initializer_list<std::string_view> names);

  bool contains(const Target& t) const { return (bits_ >> t.index()) & 1u; }
  bool empty() const { return bits_ == 0; }
  TargetSet operator&(TargetSet o) const { return TargetSet(bits_ & o.bits_); }
  TargetSet operator|(TargetSet o) const { return TargetSet(bits_ | o.bits_); }
  std::string describe() const;  // "sm_80+" / "sm_90a" / "sm_90a, sm_100a"
  std::uint32_t bits() const { return bits_; }

 private:
  constexpr explicit TargetSet(std::uint32_t b) : bits_(b) {}
  std::uint32_t bits_ = 0;
};

}  // namespace weft::isa

namespace weft::isa {

// Static (.shared, not .extern) memory per CTA that every target accepts: 48 KiB. More needs
// dynamic shared memory and the launch's opt-in attribute.
inline constexpr std::uint32_t kMaxStaticSharedBytes = 48 * 1024;
// The shared memory a CTA may opt in to is per target: Target::max_shared_per_cta().

// Kernel directives that have their own target/version needs (PTX ISA §11.4).
struct DirectiveRequirement {
  std::string_view name;
  TargetSet targets;
  PtxVersion min_ptx;
};
const DirectiveRequirement& directive_requirement(std::string_view name);  // ".reqnctapercluster"

}  // namespace weft::isa
