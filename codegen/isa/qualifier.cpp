#include "codegen/isa/qualifier.h"

#include <array>
#include <stdexcept>
#include <string>

namespace weft::isa {

namespace {
using SV = std::string_view;
// Spellings per kind, in QualKind order. Kept here, once; the forms refer to them by name.
constexpr SV kRnd[] = {"rn", "rz", "rm", "rp", "rna"};
constexpr SV kIrnd[] = {"rni", "rzi", "rmi", "rpi"};
constexpr SV kFtz[] = {"ftz"};
constexpr SV kSat[] = {"sat"};
constexpr SV kSatfinite[] = {"satfinite"};
constexpr SV kRelu[] = {"relu"};
constexpr SV kPrec[] = {"approx", "full"};
constexpr SV kCmp[] = {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs",
                       "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"};
constexpr SV kBoolop[] = {"and", "or", "xor"};
constexpr SV kSem[] = {"relaxed", "acquire", "release", "acq_rel", "sc", "volatile", "mmio", "weak"};
constexpr SV kScope[] = {"cta", "cluster", "gpu", "sys"};
constexpr SV kSpace[] = {"global", "shared", "shared::cta", "shared::cluster", "local", "const", "param"};
constexpr SV kCop[] = {"ca", "cg", "cs", "lu", "cv", "wb", "wt"};
constexpr SV kNc[] = {"nc"};
constexpr SV kL1evict[] = {"L1::evict_normal", "L1::evict_unchanged", "L1::evict_first",
                           "L1::evict_last", "L1::no_allocate"};
constexpr SV kL2hint[] = {"L2::cache_hint"};
constexpr SV kPrefetch[] = {"L2::64B", "L2::128B", "L2::256B"};
constexpr SV kVec[] = {"v2", "v4"};
constexpr SV kAtomop[] = {"and", "or", "xor", "exch", "add", "inc", "dec", "min", "max"};
constexpr SV kShfl[] = {"up", "down", "bfly", "idx"};
constexpr SV kVote[] = {"all", "any", "uni", "ballot"};
constexpr SV kMulmode[] = {"lo", "hi", "wide"};
constexpr SV kPrmt[] = {"f4e", "b4e", "rc8", "ecl", "ecr", "rc16"};
constexpr SV kMembar[] = {"cta", "gl", "sys"};
constexpr SV kAligned[] = {"aligned"};
constexpr SV kUni[] = {"uni"};
constexpr SV kPolicy[] = {"L2::evict_last", "L2::evict_normal", "L2::evict_first", "L2::evict_unchanged"};
constexpr SV kFraction[] = {"fractional"};
constexpr SV kShift[] = {"clamp", "wrap"};
constexpr SV kNum[] = {"x1", "x2", "x4", "x8", "x16", "x32", "x64", "x128"};
constexpr SV kTrans[] = {"trans"};
constexpr SV kDim[] = {"1d", "2d", "3d", "4d", "5d"};
constexpr SV kMulticast[] = {"multicast::cluster"};
constexpr SV kRead[] = {"read"};
constexpr SV kNoinc[] = {"noinc"};
constexpr SV kCtagroup[] = {"cta_group::1", "cta_group::2"};
constexpr SV kTckind[] = {"kind::f16", "kind::tf32", "kind::f8f6f4", "kind::i8"};
constexpr SV kTmshape[] = {"16x64b", "16x128b", "16x256b", "32x32b"};
constexpr SV kTcshape[] = {"128x256b", "4x256b", "128x128b"};
constexpr SV kAcc[] = {"acc::f32"};

// wgmma shapes: m64nNkK for N = 8, 16, ..., 256 and K = 16 (f16/bf16), 8 (tf32), 32 (fp8).
// Built once into static storage; the values are the exact spellings.
std::span<const SV> wgmma_shapes() {
  static const auto table = [] {
    static std::array<std::string, 96> text;
    std::array<SV, 96> views{};
    std::size_t i = 0;
    for (int k : {16, 8, 32})
      for (int n = 8; n <= 256; n += 8) {
        text[i] = "m64n" + std::to_string(n) + "k" + std::to_string(k);
        views[i] = text[i];
        ++i;
      }
    return views;
  }();
  return table;
}

struct KindRow {
  SV name;
  std::span<const SV> values;
};
constexpr KindRow kKinds[kQualKinds] = {
    {"rnd", kRnd},         {"irnd", kIrnd},         {"ftz", kFtz},          {"sat", kSat},
    {"satfinite", kSatfinite}, {"relu", kRelu},     {"prec", kPrec},        {"cmp", kCmp},
    {"boolop", kBoolop},   {"sem", kSem},           {"scope", kScope},      {"space", kSpace},
    {"cop", kCop},         {"nc", kNc},             {"l1evict", kL1evict},  {"l2hint", kL2hint},
    {"prefetch", kPrefetch}, {"vec", kVec},         {"atomop", kAtomop},    {"shfl", kShfl},
    {"vote", kVote},       {"mulmode", kMulmode},   {"prmt", kPrmt},        {"membar", kMembar},
    {"aligned", kAligned}, {"uni", kUni},           {"policy", kPolicy},    {"fraction", kFraction},
    {"shift", kShift},     {"num", kNum},           {"trans", kTrans},      {"wgshape", {}},
    {"dim", kDim},         {"multicast", kMulticast}, {"read", kRead},      {"noinc", kNoinc},
    {"ctagroup", kCtagroup}, {"tckind", kTckind},   {"tmshape", kTmshape},  {"tcshape", kTcshape},
    {"acc", kAcc},
};
}  // namespace

std::span<const std::string_view> qual_values(QualKind k) {
  if (k == QualKind::wgshape) return wgmma_shapes();
  return kKinds[static_cast<std::size_t>(k)].values;
}

unsigned qual_number(QualKind k, std::uint8_t value) {
  if (value == 0) return 0;
  const std::string_view v = qual_values(k)[value - 1];
  auto digits = [](std::string_view s) {
    unsigned n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') break;
      n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n;
  };
  switch (k) {
    case QualKind::vec: return digits(v.substr(1));      // v2
    case QualKind::num: return digits(v.substr(1));      // x4
    case QualKind::dim: return digits(v);                // 3d
    case QualKind::wgshape: return digits(v.substr(4));  // m64n128k16 -> 128
    default: return 0;
  }
}
std::string_view qual_kind_name(QualKind k) { return kKinds[static_cast<std::size_t>(k)].name; }

std::optional<QualKind> qual_kind_from_name(std::string_view s) {
  for (std::size_t i = 0; i < kQualKinds; ++i)
    if (kKinds[i].name == s) return static_cast<QualKind>(i);
  return std::nullopt;
}

std::uint8_t qual_value_index(QualKind k, std::string_view spelling) {
  auto vals = qual_values(k);
  for (std::size_t i = 0; i < vals.size(); ++i)
    if (vals[i] == spelling) return static_cast<std::uint8_t>(i + 1);
  return 0;
}

Quals& Quals::set(QualKind k, std::string_view spelling) {
  auto idx = qual_value_index(k, spelling);
  if (idx == 0)
    throw std::logic_error("weft: qualifier kind '" + std::string(qual_kind_name(k)) +
                           "' has no value '" + std::string(spelling) + "'");
  return set(k, idx);
}

std::string_view Quals::spelling(QualKind k) const {
  auto i = get(k);
  return i == 0 ? std::string_view{} : qual_values(k)[i - 1];
}

}  // namespace weft::isa
