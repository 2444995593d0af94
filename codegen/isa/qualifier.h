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
  num,       // .x1 .x2 .x4 ... .x128           (ldmatrix/stmatrix/tcgen05.ld matrix counts)
  trans,     // .trans
  wgshape,   // .m64n8k16 ... .m64n256k32        (wgmma shapes: every legal N for K = 16, 8, 32)
  dim,       // .1d .2d .3d .4d .5d             (tensor copies)
  multicast, // .multicast::cluster (adds a 16-bit CTA mask operand)
  read,      // .read                           (bulk wait_group: wait until sources may be reused)
  noinc,     // .noinc
  ctagroup,  // .cta_group::1 .cta_group::2
  tckind,    // .kind::f16 .kind::tf32 .kind::f8f6f4 .kind::i8
  tmshape,   // .16x64b .16x128b .16x256b .32x32b   (tcgen05.ld/st)
  tcshape,   // .128x256b .4x256b .128x128b         (tcgen05.cp)
  acc,       // .acc::f32                           (multimem half-precision reductions in f32)
  count_
};
inline constexpr std::size_t kQualKinds = static_cast<std::size_t>(QualKind::count_);
inline constexpr std::size_t kMaxQualValues = 128;  // the wgmma shapes have 96

// The number a value carries, for operand lists whose length follows it: .v4 -> 4, .x2 -> 2,
// .m64n128k16 -> 128 (N), .3d -> 3. 0 for values that carry none.
unsigned qual_number(QualKind k, std::uint8_t value);

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
