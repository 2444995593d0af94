// Qualifiers as typed constants: `k.ld(p, {q::nc, q::L1_no_allocate})`, `k.fence(q::acq_rel, q::gpu)`.
// Each constant is a (kind, value) pair of the instruction database's qualifier table; the builder
// checks it against the form the call resolves to, so a misplaced qualifier is a diagnostic with
// the author's line, never invalid PTX. Names that clash with C++ keywords or with each other get
// a kind prefix (op_and for atom, bool_and for setp).
#pragma once

#include <initializer_list>
#include <string_view>

#include "codegen/isa/qualifier.h"

namespace weft::q {

struct Q {
  isa::QualKind kind;
  std::uint8_t value;
};
// Looks the spelling up in the table; an unknown spelling is a bug in this header (the unit test
// instantiates every constant).
Q make(isa::QualKind kind, std::string_view spelling);

using K = isa::QualKind;
// Rounding
inline const Q rn = make(K::rnd, "rn"), rz = make(K::rnd, "rz"), rm = make(K::rnd, "rm"),
               rp = make(K::rnd, "rp"), rna = make(K::rnd, "rna");
inline const Q rni = make(K::irnd, "rni"), rzi = make(K::irnd, "rzi"), rmi = make(K::irnd, "rmi"),
               rpi = make(K::irnd, "rpi");
inline const Q ftz = make(K::ftz, "ftz"), sat = make(K::sat, "sat"), satfinite = make(K::satfinite, "satfinite"),
               relu = make(K::relu, "relu"), approx = make(K::prec, "approx"), full = make(K::prec, "full");
// Comparison and predicate combination
inline const Q eq = make(K::cmp, "eq"), ne = make(K::cmp, "ne"), lt = make(K::cmp, "lt"), le = make(K::cmp, "le"),
               gt = make(K::cmp, "gt"), ge = make(K::cmp, "ge"), lo = make(K::cmp, "lo"), ls = make(K::cmp, "ls"),
               hi = make(K::cmp, "hi"), hs = make(K::cmp, "hs"), equ = make(K::cmp, "equ"), neu = make(K::cmp, "neu"),
               ltu = make(K::cmp, "ltu"), leu = make(K::cmp, "leu"), gtu = make(K::cmp, "gtu"),
               geu = make(K::cmp, "geu"), num = make(K::cmp, "num"), nan = make(K::cmp, "nan");
inline const Q bool_and = make(K::boolop, "and"), bool_or = make(K::boolop, "or"), bool_xor = make(K::boolop, "xor");
// Memory order, scope and state space
inline const Q relaxed = make(K::sem, "relaxed"), acquire = make(K::sem, "acquire"), release = make(K::sem, "release"),
               acq_rel = make(K::sem, "acq_rel"), sc = make(K::sem, "sc"), volatile_ = make(K::sem, "volatile"),
               mmio = make(K::sem, "mmio");
inline const Q cta = make(K::scope, "cta"), cluster = make(K::scope, "cluster"), gpu = make(K::scope, "gpu"),
               sys = make(K::scope, "sys");
inline const Q global = make(K::space, "global"), shared = make(K::space, "shared"),
               shared_cta = make(K::space, "shared::cta"), shared_cluster = make(K::space, "shared::cluster"),
               local = make(K::space, "local"), const_ = make(K::space, "const"), param = make(K::space, "param");
// Caching
inline const Q ca = make(K::cop, "ca"), cg = make(K::cop, "cg"), cs = make(K::cop, "cs"), lu = make(K::cop, "lu"),
               cv = make(K::cop, "cv"), wb = make(K::cop, "wb"), wt = make(K::cop, "wt");
inline const Q nc = make(K::nc, "nc");
inline const Q L1_evict_normal = make(K::l1evict, "L1::evict_normal"),
               L1_evict_unchanged = make(K::l1evict, "L1::evict_unchanged"),
               L1_evict_first = make(K::l1evict, "L1::evict_first"),
               L1_evict_last = make(K::l1evict, "L1::evict_last"),
               L1_no_allocate = make(K::l1evict, "L1::no_allocate");
inline const Q L2_cache_hint = make(K::l2hint, "L2::cache_hint");
inline const Q L2_64B = make(K::prefetch, "L2::64B"), L2_128B = make(K::prefetch, "L2::128B"),
               L2_256B = make(K::prefetch, "L2::256B");
inline const Q L2_evict_last = make(K::policy, "L2::evict_last"), L2_evict_normal = make(K::policy, "L2::evict_normal"),
               L2_evict_first = make(K::policy, "L2::evict_first"),
               L2_evict_unchanged = make(K::policy, "L2::evict_unchanged"),
               fractional = make(K::fraction, "fractional");
inline const Q v2 = make(K::vec, "v2"), v4 = make(K::vec, "v4");
inline const Q acc_f32 = make(K::acc, "acc::f32");  // multimem: half-precision sums accumulated in f32
// Atomic and reduction operations
inline const Q op_and = make(K::atomop, "and"), op_or = make(K::atomop, "or"), op_xor = make(K::atomop, "xor"),
               exch = make(K::atomop, "exch"), add = make(K::atomop, "add"), inc = make(K::atomop, "inc"),
               dec = make(K::atomop, "dec"), min = make(K::atomop, "min"), max = make(K::atomop, "max");
// Warp operations
inline const Q up = make(K::shfl, "up"), down = make(K::shfl, "down"), bfly = make(K::shfl, "bfly"),
               idx = make(K::shfl, "idx");
inline const Q vote_all = make(K::vote, "all"), vote_any = make(K::vote, "any"), vote_uni = make(K::vote, "uni"),
               ballot = make(K::vote, "ballot");
// Multiplication width, permute modes, barriers, branches, funnel shifts
inline const Q mul_lo = make(K::mulmode, "lo"), mul_hi = make(K::mulmode, "hi"), mul_wide = make(K::mulmode, "wide");
inline const Q f4e = make(K::prmt, "f4e"), b4e = make(K::prmt, "b4e"), rc8 = make(K::prmt, "rc8"),
               ecl = make(K::prmt, "ecl"), ecr = make(K::prmt, "ecr"), rc16 = make(K::prmt, "rc16");
inline const Q membar_cta = make(K::membar, "cta"), membar_gl = make(K::membar, "gl"), membar_sys = make(K::membar, "sys");
inline const Q aligned = make(K::aligned, "aligned"), uni = make(K::uni, "uni");
inline const Q clamp = make(K::shift, "clamp"), wrap = make(K::shift, "wrap");

using List = std::initializer_list<Q>;

// Applies a list to a Quals; a second value of one kind replaces the first.
inline isa::Quals apply(isa::Quals base, List l) {
  for (const auto& x : l) base.set(x.kind, x.value);
  return base;
}

}  // namespace weft::q
