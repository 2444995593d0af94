#include "runtime/targets.h"

#include <iterator>
#include <charconv>

#include "runtime/error.h"

namespace weft::rt {

namespace {

struct Release {
  int driver;  // cuDriverGetVersion
  PtxIsa isa;
};

// CUDA release -> the PTX ISA it introduced (release notes of each toolkit). Sorted by driver.
constexpr Release kReleases[] = {
    {11000, {7, 0}}, {11010, {7, 1}}, {11020, {7, 2}}, {11030, {7, 3}}, {11040, {7, 4}},
    {11050, {7, 5}}, {11060, {7, 6}}, {11070, {7, 7}}, {11080, {7, 8}}, {12000, {8, 0}},
    {12010, {8, 1}}, {12020, {8, 2}}, {12030, {8, 3}}, {12040, {8, 4}}, {12050, {8, 5}},
    {12060, {8, 5}}, {12080, {8, 7}}, {12090, {8, 8}}, {13000, {9, 0}},
};

std::string sm_name(int sm) { return "sm_" + std::to_string(sm); }

std::string cc_name(int sm) { return std::to_string(sm / 10) + "." + std::to_string(sm % 10); }

}  // namespace

std::optional<PtxIsa> max_ptx_isa(int driver_version) {
  if (driver_version < kReleases[0].driver) return std::nullopt;
  // Newer than the newest release we know: its limit is unknown to us (not "the newest we know").
  const int newest = std::end(kReleases)[-1].driver;
  if (driver_version / 10 > newest / 10) return std::nullopt;
  std::optional<PtxIsa> best;
  for (const auto& r : kReleases)
    if (r.driver <= driver_version) best = r.isa;
  return best;
}

std::string Target::str() const {
  std::string s = sm_name(sm);
  if (variant == TargetVariant::arch) s += 'a';
  if (variant == TargetVariant::family) s += 'f';
  return s;
}

std::optional<Target> Target::parse(std::string_view name) {
  if (name.starts_with("sm_")) {
    name.remove_prefix(3);
  } else if (name.starts_with("compute_")) {
    name.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  Target t;
  if (!name.empty() && (name.back() == 'a' || name.back() == 'f')) {
    t.variant = name.back() == 'a' ? TargetVariant::arch : TargetVariant::family;
    name.remove_suffix(1);
  }
  if (name.size() < 2 || name.size() > 3) return std::nullopt;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), t.sm);
  if (ec != std::errc{} || p != name.data() + name.size() || t.sm < 10) return std::nullopt;
  return t;
}

bool target_runs_on(const Target& t, int device_sm, std::string* why) {
  auto no = [&](std::string reason) {
    if (why) *why = std::move(reason) + " (device is " + sm_name(device_sm) + ")";
    return false;
  };
  switch (t.variant) {
    case TargetVariant::base:
      if (device_sm >= t.sm) return true;
      return no("needs compute capability " + cc_name(t.sm) + " or newer");
    case TargetVariant::arch:
      if (device_sm == t.sm) return true;
      return no("arch-specific code runs only on " + sm_name(t.sm));
    case TargetVariant::family:
      if (device_sm / 10 == t.sm / 10 && device_sm % 10 >= t.sm % 10) return true;
      return no("family code runs only on compute capability " + std::to_string(t.sm / 10) + ".x with x >= " +
                std::to_string(t.sm % 10));
  }
  return no("unknown target variant");
}

std::size_t select_target(std::span<const TargetCandidate> candidates, int device_sm,
                          std::optional<PtxIsa> driver_max, int driver_version) {
  // Rank: exact `a` beats `f` beats base; within a class the higher sm wins; ties keep list order.
  std::optional<std::size_t> best;
  std::pair<int, int> best_rank{-1, -1};
  std::string reasons;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    std::string why;
    auto t = Target::parse(c.target);
    if (!t) {
      why = "'" + c.target + "' is not a target name (expected sm_XY, sm_XYa or sm_XYf)";
    } else if (!target_runs_on(*t, device_sm, &why)) {
      // `why` is set
    } else if (driver_max && c.ptx_version && *c.ptx_version > *driver_max) {
      why = "PTX ISA " + c.ptx_version->str() + " is newer than the driver" +
            (driver_version ? " " + std::to_string(driver_version / 1000) + "." +
                                  std::to_string((driver_version % 1000) / 10)
                            : std::string()) +
            " supports (up to PTX ISA " + driver_max->str() + ")";
    } else {
      int cls = t->variant == TargetVariant::arch ? 2 : t->variant == TargetVariant::family ? 1 : 0;
      std::pair<int, int> rank{cls, t->sm};
      if (!best || rank > best_rank) {
        best = i;
        best_rank = rank;
      }
      continue;
    }
    reasons += "\n  " + c.target + (c.origin.empty() ? "" : " (" + c.origin + ")") + ": " + why;
  }
  if (best) return *best;
  std::string msg = "no PTX target fits this device (" + sm_name(device_sm) + ", compute capability " +
                    cc_name(device_sm);
  if (driver_max) msg += ", driver JITs PTX ISA up to " + driver_max->str();
  msg += ")";
  if (candidates.empty()) msg += ": no candidates were given";
  throw Error(msg + reasons);
}

}  // namespace weft::rt
