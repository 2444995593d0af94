// Qualifier kinds and their PTX spellings. An instruction instance records, per kind, which value
// it uses (0 = absent). A form's pattern says which kinds it takes, in which order they print, and
// which values are allowed; so one table decides what is legal and how it is spelled.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace weft::isa {

enum class QualKind : std::uint8_t {
  rnd,       // .rn .rz .rm .rp .rna                    (float rounding)
  irnd,      // .rni .rzi .rmi .rpi                     (round to integer)
  ftz,       // .ftz
  sat,       // .sat
  satfinite, // .satfinite
  relu,      // .relu
  prec,      // .approx .full
  cmp,       // .eq .ne .lt .le .gt .ge .lo .ls .hi .hs .equ .neu .ltu .leu .gtu .geu .num .nan
  boolop,    // .and .or .xor
  sem,       // .relaxed .acquire .release .acq_rel .sc .volatile .mmio .weak
  scope,     // .cta .cluster .gpu .sys
  space,     // .global .shared .shared::cta .shared::cluster .local .const .param
  cop,       // .ca .cg .cs .lu .cv .wb .wt
  nc,        // .nc
  l1evict,   // .L1::evict_normal .L1::evict_unchanged .L1::evict_first .L1::evict_last .L1::no_allocate
  l2hint,    // .L2::cache_hint (adds a 64-bit cache-policy operand)
  prefetch,  // .L2::64B .L2::128B .L2::256B
  vec,       // .v2 .v4
  atomop,    // .and .or .xor .exch .add .inc .dec .min .max
  shfl,      // .up .down .bfly .idx
  vote,      // .all .any .uni .ballot
  mulmode,   // .lo .hi .wide
  prmt,      // .f4e .b4e .rc8 .ecl .ecr .rc16
  membar,    // .cta .gl .sys
  aligned,   // .aligned
  uni,       // .uni
  policy,    // .L2::evict_last .L2::evict_normal .L2::evict_first .L2::evict_unchanged
  fraction,  // .fractional
  shift,     // .clamp .wrap
  count_
};
inline constexpr std::size_t kQualKinds = static_cast<std::size_t>(QualKind::count_);

// Values per kind: index 0 is "absent"; index i>0 spells `values(kind)[i-1]`.
std::span<const std::string_view> qual_values(QualKind k);
std::string_view qual_kind_name(QualKind k);  // "rnd"
std::optional<QualKind> qual_kind_from_name(std::string_view s);
// 1-based value index of `spelling` (without the dot) in kind `k`, or 0.
std::uint8_t qual_value_index(QualKind k, std::string_view spelling);

// The qualifiers an instruction instance uses: one value index per kind.
struct Quals {
  std::array<std::uint8_t, kQualKinds> v{};
  std::uint8_t get(QualKind k) const { return v[static_cast<std::size_t>(k)]; }
  bool has(QualKind k) const { return get(k) != 0; }
  Quals& set(QualKind k, std::uint8_t value) {
    v[static_cast<std::size_t>(k)] = value;
    return *this;
  }
  // Sets by spelling ("rn"); throws std::logic_error for a spelling the kind lacks.
  Quals& set(QualKind k, std::string_view spelling);
  std::string_view spelling(QualKind k) const;  // "" when absent
  friend bool operator==(const Quals&, const Quals&) = default;
};

}  // namespace weft::isa
