#include "codegen/isa/target.h"

#include <array>
#include <cctype>
#include <stdexcept>

namespace weft::isa {

namespace {
struct KnownTarget {
  Target target;
  PtxVersion min_ptx;  // PTX_FACTS table 1, checked with ptxas 13.0
  // Shared memory one CTA may use, static and dynamic together, in KiB: the CUDA programming guide's
  // "maximum amount of shared memory per thread block" per compute capability (with the opt-in
  // attribute beyond 48 KiB). The H200 reports 232448 bytes (227 KiB).
  std::uint32_t max_shared_kib;
};
constexpr std::array<KnownTarget, 11> kKnown = {{
    {{80, Variant::base}, 70, 163},
    {{86, Variant::base}, 71, 99},
    {{89, Variant::base}, 78, 99},
    {{90, Variant::base}, 78, 227},
    {{90, Variant::arch_specific}, 80, 227},
    {{100, Variant::base}, 86, 227},
    {{100, Variant::arch_specific}, 86, 227},
    {{103, Variant::arch_specific}, 88, 227},
    {{110, Variant::arch_specific}, 90, 227},
    {{120, Variant::base}, 87, 99},
    {{120, Variant::arch_specific}, 87, 99},
}};
}  // namespace

std::string format_ptx_version(PtxVersion v) {
  return std::to_string(v / 10) + "." + std::to_string(v % 10);
}

std::string Target::name() const {
  return "sm_" + std::to_string(sm) + (variant == Variant::arch_specific ? "a" : "");
}

int Target::index() const {
  for (size_t i = 0; i < kKnown.size(); ++i)
    if (kKnown[i].target == *this) return static_cast<int>(i);
  throw std::logic_error("weft: target " + name() + " is not a known target");
}

PtxVersion Target::min_ptx_version() const { return kKnown[index()].min_ptx; }

std::uint32_t Target::max_shared_per_cta() const { return kKnown[index()].max_shared_kib * 1024; }

std::span<const Target> known_targets() {
  static const auto list = [] {
    std::array<Target, kKnown.size()> a{};
    for (size_t i = 0; i < kKnown.size(); ++i) a[i] = kKnown[i].target;
    return a;
  }();
  return list;
}

std::string known_target_list() {
  std::string s;
  for (const auto& t : known_targets()) s += (s.empty() ? "" : ", ") + t.name();
  return s;
}

TargetParse parse_target(std::string_view s) {
  const std::string shown(s);
  if (s.substr(0, 3) != "sm_") {
    if (s.substr(0, 2) == "sm" && s.size() > 2 && std::isdigit(static_cast<unsigned char>(s[2])))
      return {std::nullopt, "malformed target '" + shown + "': write sm_" + std::string(s.substr(2)) +
                                " (known targets: " + known_target_list() + ")"};
    if (s.substr(0, 8) == "compute_")
      return {std::nullopt, "'" + shown + "' is a virtual architecture; weft emits for real targets (sm_XX)"};
    return {std::nullopt, "malformed target '" + shown + "': expected sm_<number>[a] (known targets: " +
                              known_target_list() + ")"};
  }
  for (const auto& t : known_targets())
    if (t.name() == s) return {t, ""};
  return {std::nullopt,
          "unknown target '" + shown + "' (known targets: " + known_target_list() + ")"};
}

TargetSet TargetSet::all() { return TargetSet((1u << kKnown.size()) - 1); }

TargetSet TargetSet::from_sm(unsigned sm) {
  std::uint32_t b = 0;
  for (size_t i = 0; i < kKnown.size(); ++i)
    if (kKnown[i].target.sm >= sm) b |= 1u << i;
  return TargetSet(b);
}

TargetSet TargetSet::arch_specific_from(unsigned sm) {
  std::uint32_t b = 0;
  for (size_t i = 0; i < kKnown.size(); ++i)
    if (kKnown[i].target.sm >= sm && kKnown[i].target.variant == Variant::arch_specific)
      b |= 1u << i;
  return TargetSet(b);
}

TargetSet TargetSet::only(std::initializer_list<std::string_view> names) {
  std::uint32_t b = 0;
  for (auto n : names) {
    auto p = parse_target(n);
    if (!p.target) throw std::logic_error("weft: instruction table names " + p.error);
    b |= 1u << p.target->index();
  }
  return TargetSet(b);
}

std::string TargetSet::describe() const {
  // A generation gate reads as "sm_80+"; anything else is listed.
  for (const auto& t : known_targets()) {
    if (t.variant != Variant::base) continue;
    if (bits_ == from_sm(t.sm).bits_) return t.name() + "+";
  }
  for (const auto& t : known_targets()) {
    if (bits_ == arch_specific_from(t.sm).bits_ && t.variant == Variant::arch_specific)
      return "sm_" + std::to_string(t.sm) + "a+ (arch-specific targets only)";
  }
  std::string s;
  for (const auto& t : known_targets())
    if (contains(t)) s += (s.empty() ? "" : ", ") + t.name();
  return s.empty() ? "no target" : s;
}

}  // namespace weft::isa

namespace weft::isa {

const DirectiveRequirement& directive_requirement(std::string_view name) {
  static const DirectiveRequirement table[] = {
      {".maxntid", TargetSet::all(), 10},
      {".reqntid", TargetSet::all(), 21},
      {".minnctapersm", TargetSet::all(), 20},
      {".maxnreg", TargetSet::all(), 13},
      {".reqnctapercluster", TargetSet::from_sm(90), 78},
  };
  for (const auto& d : table)
    if (d.name == name) return d;
  throw std::logic_error("weft: unknown directive " + std::string(name));
}

}  // namespace weft::isa
