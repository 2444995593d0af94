// Random DSL programs: generation (target-independent data), the interpreter that replays them
// through the public DSL (KernelBuilder, Reg<T>, operators, control flow, the raw layer), and the
// misuse injections of the mutation fuzzer. The interpreter skips a statement that the instruction
// database says the target lacks, unless the program is "unchecked" (then the verifier must refuse).
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>
#include <source_location>

#include "codegen/form_instances.h"
#include "codegen/isa/database.h"
#include "codegen/isa/special_registers.h"
#include "dsl/weft.h"
#include "tests/fuzz/fuzz.h"

namespace weft::fuzz {

namespace {

using isa::Type;

// ---- types ------------------------------------------------------------------------------------

template <class F>
void with_type(Ty t, F&& f) {
  switch (t) {
    case Ty::u16: return f(u16{});
    case Ty::s16: return f(s16{});
    case Ty::u32: return f(u32{});
    case Ty::s32: return f(s32{});
    case Ty::u64: return f(u64{});
    case Ty::s64: return f(s64{});
    case Ty::b16: return f(b16{});
    case Ty::b32: return f(b32{});
    case Ty::b64: return f(b64{});
    case Ty::f32: return f(f32{});
    case Ty::f64: return f(f64{});
    case Ty::f16: return f(f16{});
    case Ty::bf16: return f(bf16{});
    case Ty::f16x2: return f(f16x2{});
    case Ty::bf16x2: return f(bf16x2{});
    case Ty::pred: return;
  }
}

template <class T>
constexpr Ty ty_of() {
  constexpr Type t = T::type;
  if constexpr (t == Type::u16) return Ty::u16;
  else if constexpr (t == Type::s16) return Ty::s16;
  else if constexpr (t == Type::u32) return Ty::u32;
  else if constexpr (t == Type::s32) return Ty::s32;
  else if constexpr (t == Type::u64) return Ty::u64;
  else if constexpr (t == Type::s64) return Ty::s64;
  else if constexpr (t == Type::b16) return Ty::b16;
  else if constexpr (t == Type::b32) return Ty::b32;
  else if constexpr (t == Type::b64) return Ty::b64;
  else if constexpr (t == Type::f32) return Ty::f32;
  else if constexpr (t == Type::f64) return Ty::f64;
  else if constexpr (t == Type::f16) return Ty::f16;
  else if constexpr (t == Type::bf16) return Ty::bf16;
  else if constexpr (t == Type::f16x2) return Ty::f16x2;
  else return Ty::bf16x2;
}

template <class T>
constexpr bool has_imm = !std::is_same_v<typename T::host, weft::detail::NoImmediate>;

Type bits_of(Type t) {
  switch (isa::bits(t)) {
    case 16: return Type::b16;
    case 32: return Type::b32;
    case 64: return Type::b64;
    default: return t;
  }
}
bool is_float(Type t) { return isa::info(t).kind == isa::TypeKind::floating; }

// ---- qualifier menus ----------------------------------------------------------------------------

using QV = std::vector<q::Q>;
const std::vector<QV>& ld_global_menu() {
  static const std::vector<QV> m = {
      {}, {q::nc}, {q::nc, q::L1_no_allocate}, {q::nc, q::L1_evict_last}, {q::cg}, {q::cs}, {q::ca}, {q::lu},
      {q::cv}, {q::volatile_}, {q::relaxed, q::gpu}, {q::acquire, q::sys}, {q::acquire, q::cta},
      {q::relaxed, q::cluster}, {q::acquire, q::gpu, q::L1_evict_first}, {q::L1_evict_last}, {q::L2_256B},
      {q::cg, q::L2_64B}, {q::nc, q::L2_128B}, {q::relaxed, q::sys, q::L2_256B}, {q::L1_evict_unchanged},
      {q::ca, q::L2_128B}, {q::nc, q::cs}, {q::mmio, q::sys}, {q::relaxed, q::cta, q::L1_no_allocate, q::L2_64B}};
  return m;
}
const std::vector<QV>& st_global_menu() {
  static const std::vector<QV> m = {
      {}, {q::cg}, {q::cs}, {q::wb}, {q::wt}, {q::volatile_}, {q::relaxed, q::gpu}, {q::release, q::sys},
      {q::release, q::cta}, {q::relaxed, q::cluster}, {q::L1_evict_first}, {q::L1_no_allocate},
      {q::release, q::gpu, q::L1_evict_last}, {q::mmio, q::sys}, {q::L1_evict_normal}};
  return m;
}
const std::vector<QV>& shared_menu() {
  static const std::vector<QV> m = {{}, {q::volatile_}, {q::relaxed, q::cta}, {q::acquire, q::cta},
                                    {q::release, q::cta}, {q::relaxed, q::cluster}, {q::acquire, q::gpu},
                                    {q::release, q::sys}};
  return m;
}
const std::vector<QV>& atom_menu() {
  static const std::vector<QV> m = {{}, {q::relaxed, q::gpu}, {q::acq_rel, q::sys}, {q::acquire, q::cta},
                                    {q::release, q::cluster}, {q::relaxed, q::sys}, {q::gpu}, {q::cta},
                                    {q::relaxed, q::cluster}};
  return m;
}
const std::vector<QV>& fence_menu() {
  static const std::vector<QV> m = {{q::sc, q::cta},      {q::acq_rel, q::gpu}, {q::acq_rel, q::sys},
                                    {q::acq_rel, q::cluster}, {q::sc, q::cluster}, {q::sc, q::sys},
                                    {q::acq_rel, q::cta}, {q::sc, q::gpu}};
  return m;
}
const std::array<q::Q, 9>& atom_ops() {
  static const std::array<q::Q, 9> m = {q::add, q::min, q::max, q::inc, q::dec, q::op_and, q::op_or, q::op_xor, q::exch};
  return m;
}
const char* atom_op_name(std::uint32_t v) {
  static const char* n[] = {"add", "min", "max", "inc", "dec", "and", "or", "xor", "exch"};
  return n[v % 9];
}

// Calls f with an initializer list made from v (the DSL takes q::List, an initializer_list).
template <class F>
decltype(auto) with_list(const QV& v, F&& f) {
  switch (v.size()) {
    case 0: return f(q::List{});
    case 1: return f(q::List{v[0]});
    case 2: return f(q::List{v[0], v[1]});
    case 3: return f(q::List{v[0], v[1], v[2]});
    default: return f(q::List{v[0], v[1], v[2], v[3]});
  }
}

std::string list_text(const QV& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    isa::Quals qq;
    qq.set(v[i].kind, v[i].value);
    s += fmt::format("{}q::{}", i ? ", " : "", qq.spelling(v[i].kind));
  }
  return s + "}";
}

// ---- immediates --------------------------------------------------------------------------------

std::int64_t int_edge(Rng& r) {
  static const std::int64_t e[] = {0, 1, -1, 2, 7, 31, 32, 63, 255, 256, 0x7fff, 0x8000, 0xffff, -32768,
                                   0x7fffffff, static_cast<std::int64_t>(0x80000000u), 0xffffffffll,
                                   std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                                   -2147483648ll, 1000000007};
  if (r.chance(30)) return static_cast<std::int64_t>(r.next() >> r.below(64));
  return e[r.below(sizeof e / sizeof e[0])];
}
double float_edge(Rng& r) {
  static const double e[] = {0.0, -0.0, 1.0, -1.5, 0.1, 3.4e38, 1e39, 1e-45, 1e-300,
                             std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), 1e308, 5e-324, 65504.0, 2.5e-8};
  return e[r.below(sizeof e / sizeof e[0])];
}
// v clamped into what an immediate of type t may hold (the verifier's own rule, so checked programs
// stay valid; unchecked ones keep the raw value).
std::int64_t fit_to(std::int64_t v, Type t) {
  const unsigned b = isa::bits(t);
  if (b >= 64) return v;
  const std::int64_t lo = -(std::int64_t{1} << (b - 1));
  const std::int64_t hi = isa::info(t).kind == isa::TypeKind::signed_int ? (std::int64_t{1} << (b - 1)) - 1
                                                                         : (std::int64_t{1} << b) - 1;
  if (v < lo || v > hi) return lo + static_cast<std::int64_t>(static_cast<std::uint64_t>(v) % static_cast<std::uint64_t>(hi - lo + 1));
  return v;
}

// ---- generation --------------------------------------------------------------------------------

struct Gen {
  Rng r;
  int budget;
  Ty any_ty() { return static_cast<Ty>(r.below(kDataTys)); }
  Ty int_ty() {
    static const Ty t[] = {Ty::u16, Ty::s16, Ty::u32, Ty::s32, Ty::u64, Ty::s64, Ty::b16, Ty::b32, Ty::b64};
    return t[r.below(9)];
  }
  Ty t32() {
    static const Ty t[] = {Ty::u32, Ty::s32, Ty::f32, Ty::b32};
    return t[r.below(4)];
  }

  Stmt leaf() {
    Stmt s;
    s.a = r.below(1000);
    s.b = r.below(1000);
    s.c = r.below(1000);
    s.variant = r.below(1 << 20);
    s.use_imm = r.chance(35);
    s.imm = int_edge(r);
    s.fimm = float_edge(r);
    s.t = any_ty();
    s.t2 = any_ty();
    // Weights: arithmetic and memory most, then warp operations and synchronisation.
    static const std::pair<Kind, int> w[] = {
        {Kind::binary, 22}, {Kind::unary, 6}, {Kind::fma, 5}, {Kind::compare, 7}, {Kind::pred_logic, 3},
        {Kind::select, 4}, {Kind::convert, 9}, {Kind::bitcast, 3}, {Kind::assign, 3}, {Kind::ld_global, 7},
        {Kind::st_global, 6}, {Kind::ld_vec, 2}, {Kind::st_vec, 2}, {Kind::ld_shared, 4}, {Kind::st_shared, 4},
        {Kind::atom, 5}, {Kind::red, 3}, {Kind::atom_cas, 2}, {Kind::shfl, 3}, {Kind::vote, 2}, {Kind::ballot, 1},
        {Kind::match_any, 1}, {Kind::redux, 2}, {Kind::elect, 1}, {Kind::activemask, 1}, {Kind::bar_sync, 2},
        {Kind::bar_arrive, 1}, {Kind::bar_warp_sync, 1}, {Kind::fence, 2}, {Kind::membar, 1}, {Kind::nanosleep, 1},
        {Kind::sreg, 4}, {Kind::call, 2}, {Kind::raw_lop3, 2}, {Kind::exit_, 1}};
    int total = 0;
    for (auto& [k, n] : w) total += n;
    int x = static_cast<int>(r.below(static_cast<std::uint32_t>(total)));
    for (auto& [k, n] : w) {
      if (x < n) {
        s.kind = k;
        break;
      }
      x -= n;
    }
    switch (s.kind) {
      case Kind::shfl: s.t = t32(); break;
      case Kind::match_any: s.t = r.chance(50) ? Ty::b32 : Ty::b64; break;
      case Kind::redux: s.t = r.chance(50) ? Ty::u32 : Ty::s32; break;
      case Kind::atom_cas: s.t = r.pick(std::vector<Ty>{Ty::u32, Ty::s32, Ty::u64, Ty::b32, Ty::b64, Ty::f32, Ty::u16}); break;
      case Kind::raw_lop3: s.imm = r.below(256); break;
      default: break;
    }
    return s;
  }

  std::vector<Stmt> block(int depth, int n) {
    std::vector<Stmt> out;
    for (int i = 0; i < n && budget > 0; ++i) {
      --budget;
      if (depth < 3 && r.chance(14)) {
        Stmt s = leaf();
        static const Kind cf[] = {Kind::if_, Kind::if_else, Kind::while_, Kind::for_, Kind::for_unrolled,
                                  Kind::skip_block, Kind::back_loop};
        s.kind = cf[r.below(7)];
        s.body = block(depth + 1, 1 + static_cast<int>(r.below(5)));
        if (s.kind == Kind::if_else) s.other = block(depth + 1, 1 + static_cast<int>(r.below(4)));
        out.push_back(std::move(s));
      } else {
        out.push_back(leaf());
      }
    }
    return out;
  }
};

}  // namespace

const char* ty_name(Ty t) {
  static const char* n[] = {"u16", "s16", "u32", "s32", "u64", "s64", "b16", "b32", "b64", "f32", "f64",
                            "f16", "bf16", "f16x2", "bf16x2", "pred"};
  return n[static_cast<int>(t)];
}

const char* misuse_name(Misuse m) {
  static const char* n[] = {"wrong type", "instruction illegal on the target", "bad qualifier combination",
                            "label branched to but never placed", "out-of-range immediate"};
  return n[static_cast<int>(m)];
}

std::size_t count_stmts(const std::vector<Stmt>& s) {
  std::size_t n = 0;
  for (const auto& x : s) n += 1 + count_stmts(x.body) + count_stmts(x.other);
  return n;
}

DslProgram generate_dsl(std::uint64_t seed, const isa::Target& t) {
  Gen g{Rng(seed), 0};
  DslProgram p;
  p.seed = seed;
  p.target = t;
  p.unchecked = g.r.chance(6);
  p.directives = g.r.below(1 << 16);
  g.budget = 4 + static_cast<int>(g.r.below(45));
  p.stmts = g.block(0, g.budget);
  return p;
}

// ---- the interpreter ---------------------------------------------------------------------------

namespace {

struct Interp {
  KernelBuilder& k;
  const DslProgram& p;
  const Injection* inj;
  InjectedAt* at;
  std::array<std::vector<ir::RegId>, 16> pool;
  std::array<std::optional<ir::RegId>, 16> gptr;  // global pointer base (u64) per element type
  ir::RegId shared_base = 0, dyn_base = 0;
  bool has_dyn = false;
  std::optional<KernelBuilder::Func<f32, f32, f32>> f_f32;
  std::optional<KernelBuilder::Func<u32, u32>> f_u32;
  std::optional<KernelBuilder::Func<u64, u64, u32>> f_u64;
  std::size_t top_index = 0;

  const isa::Target& target() const { return p.target; }

  // What the database says about an instruction on this target (the verifier checks it again).
  bool ok(std::string_view opcode, Type t0, Type t1, const isa::Quals& q) const {
    if (p.unchecked) return true;
    const auto* f = isa::resolve(opcode, t0, t1, q);
    if (!f || !f->targets.contains(target())) return false;
    for (std::size_t i = 0; i < isa::kQualKinds; ++i) {
      const auto kind = static_cast<isa::QualKind>(i);
      if (q.has(kind) && !isa::qual_requirement(kind, q.get(kind)).targets.contains(target())) return false;
    }
    for (const auto& [a, b] : f->exclusive)
      if (q.has(a) && q.has(b)) return false;
    return true;
  }
  bool ok_form(std::string_view id, Type t0) const {
    if (p.unchecked) return true;
    const auto* f = isa::find_form(id);
    if (!f || !f->targets.contains(target())) return false;
    return f->types0.empty() || std::find(f->types0.begin(), f->types0.end(), t0) != f->types0.end();
  }

  template <class T>
  Reg<T> get(std::uint32_t i) {
    auto& v = pool[static_cast<int>(ty_of<T>())];
    return Reg<T>(&k, v[i % v.size()], 0);
  }
  Pred pred(std::uint32_t i, bool maybe_negate = true) {
    auto& v = pool[static_cast<int>(Ty::pred)];
    return Pred(&k, v[i % v.size()], 0, maybe_negate && (i & 1));
  }
  template <class T>
  void put(Reg<T> r) {
    pool[static_cast<int>(ty_of<T>())].push_back(r.id());
  }
  void put(Pred q) { pool[static_cast<int>(Ty::pred)].push_back(q.id()); }

  template <class T>
  Src<T> src(const Stmt& s, std::uint32_t pick) {
    if constexpr (has_imm<T>) {
      if (s.use_imm) {
        if constexpr (is_float_v<T>) return Src<T>(s.fimm);
        else return Src<T>(p.unchecked ? s.imm : fit_to(s.imm, T::type));
      }
    }
    return Src<T>(get<T>(pick));
  }

  // atom.cas is typed .bN: a float compare value must be a register (a float immediate is refused).
  template <class T>
  Src<T> cas_src(const Stmt& s) {
    if constexpr (is_float_v<T>) return Src<T>(get<T>(s.a));
    else return src<T>(s, s.a);
  }

  template <class T>
  Ptr<T, Global> global_ptr(const Stmt& s) {
    auto& slot = gptr[static_cast<int>(ty_of<T>())];
    if (!slot) slot = k.param_ptr<T>(fmt::format("g_{}", ty_name(ty_of<T>()))).base().id();
    Ptr<T, Global> base(Reg<u64>(&k, *slot, 0));
    switch (s.variant % 5) {
      case 0: return base;
      case 1: return base + (static_cast<std::int64_t>(s.c % 64) - 8);  // constant, may be negative
      case 2: return base + get<u32>(s.c);
      case 3: return base + get<s32>(s.c);
      default: return base + get<u64>(s.c);
    }
  }
  template <class T>
  Ptr<T, Shared> shared_ptr(const Stmt& s) {
    Ptr<b32, Shared> base(Reg<u32>(&k, has_dyn && (s.variant & 8) ? dyn_base : shared_base, 0));
    auto typed = base.as<T>();
    switch (s.variant % 3) {
      case 0: return typed + static_cast<std::int64_t>(s.c % 32);
      case 1: return typed + get<u32>(s.c);
      default: return typed;
    }
  }

  void prologue() {
    // Seed every pool with one value, so that any statement finds its operands.
    with_each([&](auto tag) {
      using T = decltype(tag);
      const auto name = fmt::format("p_{}", ty_name(ty_of<T>()));
      isa::Quals pq;
      pq.set(isa::QualKind::space, "param");
      if (isa::resolve("ld", T::type, Type::none, pq)) {
        put(k.param<T>(name));
      } else if constexpr (isa::bits(T::type) == 16) {
        put(bitcast<T>(k.param<b16>(name)));
      } else if constexpr (isa::bits(T::type) == 32) {
        put(bitcast<T>(k.param<b32>(name)));
      } else {
        put(bitcast<T>(k.param<b64>(name)));
      }
    });
    put(k.tid_x());
    put(k.global_index_x());
    put(get<u32>(0) < get<u32>(1));
    put(k.let_pred(true));
    shared_base = k.shared<b32>("sh", 64 + (p.directives & 0xff)).base().id();
    if (p.directives & 0x100) {
      dyn_base = k.dynamic_shared<b32>("dyn", 16, 1024).base().id();
      has_dyn = true;
    }
    const auto d = p.directives >> 9;
    switch (d % 4) {
      case 1: k.reqntid(32u << (d / 4 % 6), 1, 1); break;
      case 2: k.maxntid(64, 2, 2); break;
      default: break;
    }
    if (d & 0x10) k.minnctapersm(1 + d % 4);
    if (d & 0x20) k.maxnreg(16 + (d * 7) % 240);
    if ((d & 0x40) && (p.unchecked || target().sm >= 90)) k.cluster_dims(2, 1, 1);
  }

  template <class F>
  void with_each(F&& f) {
    for (int i = 0; i < kDataTys; ++i) with_type(static_cast<Ty>(i), f);
  }

  void run(const std::vector<Stmt>& ss, bool top) {
    for (const auto& s : ss) {
      if (s.kind == Kind::count_) {  // the injection marker
        if (inj && at) *at = inject(s);
        continue;
      }
      stmt(s);
      if (top) ++top_index;
    }
  }

  InjectedAt inject(const Stmt& s);

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case Kind::binary: return with_type(s.t, [&](auto tag) { binary<decltype(tag)>(s); });
      case Kind::unary: return with_type(s.t, [&](auto tag) { unary<decltype(tag)>(s); });
      case Kind::fma:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          isa::Quals q;
          if (is_float(T::type)) q.set(isa::QualKind::rnd, "rn");
          else q.set(isa::QualKind::mulmode, "lo");
          if (ok(is_float(T::type) ? "fma" : "mad", T::type, Type::none, q))
            put(weft::fma(get<T>(s.a), src<T>(s, s.b), get<T>(s.c)));
        });
      case Kind::compare:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          static const char* cmps[] = {"lt", "le", "gt", "ge", "eq", "ne"};
          isa::Quals q;
          q.set(isa::QualKind::cmp, cmps[s.variant % 6]);
          if (!ok("setp", T::type, Type::none, q)) return;
          auto a = get<T>(s.a);
          auto b = src<T>(s, s.b);
          switch (s.variant % 6) {
            case 0: return put(a < b);
            case 1: return put(a <= b);
            case 2: return put(a > b);
            case 3: return put(a >= b);
            case 4: return put(a == b);
            default: return put(a != b);
          }
        });
      case Kind::pred_logic: {
        auto a = pred(s.a, false), b = pred(s.b, false);
        switch (s.variant % 3) {
          case 0: return put(a && b);
          case 1: return put(a || b);
          default: {
            auto d = k.pred();
            k.assign(d, !a);
            return put(d);
          }
        }
      }
      case Kind::select:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if (ok("selp", T::type, Type::none, {})) put(weft::select(pred(s.c), get<T>(s.a), src<T>(s, s.b)));
        });
      case Kind::convert:
        return with_type(s.t, [&](auto to) {
          with_type(s.t2, [&](auto from) {
            using To = decltype(to);
            using From = decltype(from);
            if constexpr (std::is_same_v<To, From>) {
              // Known bug 5: a same-type convert (a copy) of f16/bf16/f16x2/bf16x2 emits mov.f16, which
              // the database lacks (mov takes .b16/.b32 for them).
              if (!g_avoid_known_bugs || ok_form("mov", To::type)) put(convert<To>(get<From>(s.a)));
            } else {
              isa::Quals q;
              constexpr bool tf = is_float_v<To>, ff = is_float_v<From>;
              if (tf && !ff) q.set(isa::QualKind::rnd, "rn");
              if (!tf && ff) q.set(isa::QualKind::irnd, "rzi");
              if (tf && ff && isa::bits(To::type) < isa::bits(From::type)) q.set(isa::QualKind::rnd, "rn");
              if (ok("cvt", To::type, From::type, q)) put(convert<To>(get<From>(s.a)));
            }
          });
        });
      case Kind::bitcast:
        return with_type(s.t, [&](auto to) {
          with_type(s.t2, [&](auto from) {
            using To = decltype(to);
            using From = decltype(from);
            if constexpr (isa::bits(To::type) == isa::bits(From::type)) {
              if (ok_form("mov", bits_of(To::type))) put(bitcast<To>(get<From>(s.a)));
            }
          });
        });
      case Kind::assign:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if (ok_form("mov", T::type)) k.assign(get<T>(s.a), src<T>(s, s.b));
        });
      case Kind::ld_global:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          const auto& qs = ld_global_menu()[s.variant / 8 % ld_global_menu().size()];
          if (!mem_ok<T>("ld", "global", qs)) return;
          auto ptr = global_ptr<T>(s);
          put(with_list(qs, [&](q::List l) { return k.ld(ptr, l); }));
        });
      case Kind::st_global:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          const auto& qs = st_global_menu()[s.variant / 8 % st_global_menu().size()];
          if (!mem_ok<T>("st", "global", qs)) return;
          auto ptr = global_ptr<T>(s);
          auto v = src<T>(s, s.b);
          if (!v.is_reg() && !ok_form("mov", T::type)) return;
          with_list(qs, [&](q::List l) { k.st(ptr, v, l); });
        });
      case Kind::ld_vec:
      case Kind::st_vec:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          const bool four = s.variant & 16;
          if ((four ? 4 : 2) * isa::bits(T::type) > 128) return;
          const bool shared = s.variant & 32;
          const auto& qs = shared ? shared_menu()[s.variant / 64 % shared_menu().size()]
                                  : (s.kind == Kind::ld_vec ? ld_global_menu() : st_global_menu())[s.variant / 64 % 8];
          isa::Quals extra;
          extra.set(isa::QualKind::vec, four ? "v4" : "v2");
          if (!mem_ok<T>(s.kind == Kind::ld_vec ? "ld" : "st", shared ? "shared" : "global", qs, extra)) return;
          if (shared) vec_op<T>(s, shared_ptr<T>(s), qs, four);
          else vec_op<T>(s, global_ptr<T>(s), qs, four);
        });
      case Kind::ld_shared:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          const auto& qs = shared_menu()[s.variant / 8 % shared_menu().size()];
          if (!mem_ok<T>("ld", "shared", qs)) return;
          auto ptr = shared_ptr<T>(s);
          put(with_list(qs, [&](q::List l) { return k.ld(ptr, l); }));
        });
      case Kind::st_shared:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          const auto& qs = shared_menu()[s.variant / 8 % shared_menu().size()];
          if (!mem_ok<T>("st", "shared", qs)) return;
          auto ptr = shared_ptr<T>(s);
          auto v = src<T>(s, s.b);
          if (!v.is_reg() && !ok_form("mov", T::type)) return;
          with_list(qs, [&](q::List l) { k.st(ptr, v, l); });
        });
      case Kind::atom:
      case Kind::red:
        return with_type(s.t, [&](auto tag) { atomic<decltype(tag)>(s); });
      case Kind::atom_cas:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if (!ok_form("atom.cas", bits_of(T::type))) return;
          const auto& qs = atom_menu()[s.variant / 8 % atom_menu().size()];
          isa::Quals cq;
          for (auto x : qs) cq.set(x.kind, x.value);
          cq.set(isa::QualKind::space, (s.variant & 4) ? "shared" : "global");
          if (!p.unchecked) {
            const auto& f = isa::form("atom.cas");
            for (std::size_t i = 0; i < isa::kQualKinds; ++i) {
              const auto kind = static_cast<isa::QualKind>(i);
              if (!cq.has(kind)) continue;
              const auto* slot = f.slot(kind);
              if (!slot || !slot->allowed.test(cq.get(kind) - 1u)) return;
              if (!isa::qual_requirement(kind, cq.get(kind)).targets.contains(target())) return;
            }
          }
          if (s.variant & 4) {
            auto ptr = shared_ptr<T>(s);
            put(with_list(qs, [&](q::List l) { return k.atom_cas(ptr, cas_src<T>(s), get<T>(s.b), l); }));
          } else {
            auto ptr = global_ptr<T>(s);
            put(with_list(qs, [&](q::List l) { return k.atom_cas(ptr, cas_src<T>(s), get<T>(s.b), l); }));
          }
        });
      case Kind::shfl:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (isa::bits(T::type) == 32) {
            static const q::Q* modes[] = {&q::up, &q::down, &q::bfly, &q::idx};
            const q::Q mode = *modes[s.variant % 4];
            isa::Quals qq;
            qq.set(mode.kind, mode.value);
            if (!ok("shfl.sync", Type::b32, Type::none, qq)) return;
            const Src<u32> lane = s.use_imm ? Src<u32>(s.imm & 31) : Src<u32>(get<u32>(s.b));
            const std::uint32_t clamp = (s.variant % 4 == 0) ? 0 : 31 - (s.c % 32) % 2 * 15;
            const std::uint32_t mask = (s.variant & 64) ? 0xffffffffu : 0x0000ffffu;
            put(k.shfl(mode, get<T>(s.a), lane, clamp, mask));
          }
        });
      case Kind::vote: {
        static const q::Q* modes[] = {&q::vote_all, &q::vote_any, &q::vote_uni};
        const q::Q mode = *modes[s.variant % 3];
        isa::Quals qq;
        qq.set(mode.kind, mode.value);
        if (ok("vote.sync", Type::pred, Type::none, qq)) put(k.vote(mode, pred(s.a)));
        return;
      }
      case Kind::ballot: {
        isa::Quals qq;
        qq.set(isa::QualKind::vote, "ballot");
        if (ok("vote.sync", Type::b32, Type::none, qq)) put(k.ballot(pred(s.a), (s.variant & 1) ? 0xffffffffu : 0xf0f0f0f0u));
        return;
      }
      case Kind::match_any:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (isa::bits(T::type) == 32 || isa::bits(T::type) == 64) {
            if (ok("match.any.sync", bits_of(T::type), Type::none, {})) put(k.match_any(get<T>(s.a)));
          }
        });
      case Kind::redux:
        return with_type(s.t, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (std::is_same_v<T, u32> || std::is_same_v<T, s32>) {
            static const q::Q* ops[] = {&q::add, &q::min, &q::max, &q::op_and, &q::op_or, &q::op_xor};
            const q::Q op = *ops[s.variant % 6];
            isa::Quals qq;
            qq.set(op.kind, op.value);
            const bool bitwise = s.variant % 6 >= 3;
            if (ok("redux.sync", bitwise ? Type::b32 : T::type, Type::none, qq)) put(k.redux(op, get<T>(s.a)));
          }
        });
      case Kind::elect:
        if (ok("elect.sync", Type::none, Type::none, {})) put(k.elect_sync());
        return;
      case Kind::activemask:
        if (ok("activemask", Type::b32, Type::none, {})) put(k.activemask());
        return;
      case Kind::bar_sync:
        if (s.variant & 1) k.bar_sync(s.variant / 2 % 16, 32 * (1 + s.c % 32));
        else k.bar_sync(s.variant / 2 % 16);
        return;
      case Kind::bar_arrive: k.bar_arrive(s.variant % 16, 32 * (1 + s.c % 32)); return;
      case Kind::bar_warp_sync: k.bar_warp_sync((s.variant & 1) ? 0xffffffffu : static_cast<std::uint32_t>(s.imm | 1)); return;
      case Kind::fence: {
        const auto& qs = fence_menu()[s.variant % fence_menu().size()];
        isa::Quals fq;
        for (auto x : qs) fq.set(x.kind, x.value);
        if (ok("fence", Type::none, Type::none, fq)) with_list(qs, [&](q::List l) { k.fence(l); });
        return;
      }
      case Kind::membar: {
        static const q::Q* lv[] = {&q::membar_cta, &q::membar_gl, &q::membar_sys};
        k.membar(*lv[s.variant % 3]);
        return;
      }
      case Kind::nanosleep:
        if (!ok("nanosleep", Type::u32, Type::none, {})) return;
        if (s.use_imm) k.nanosleep(static_cast<std::uint32_t>(s.imm & 0xfffff));
        else k.nanosleep(get<u32>(s.a));
        return;
      case Kind::sreg: {
        std::vector<const isa::SpecialReg*> regs;
        for (const auto& r : isa::special_registers())
          if (p.unchecked || r.targets.contains(target())) regs.push_back(&r);
        if (regs.empty()) return;
        const auto* r = regs[s.variant % regs.size()];
        if (r->type == Type::u64) put(k.sreg64(r->name));
        else if (r->type == Type::u32) put(k.sreg32(r->name));
        return;
      }
      case Kind::call: return call(s);
      case Kind::raw_lop3: {
        if (!ok("lop3", Type::b32, Type::none, {})) return;
        auto d = k.reg<u32>();
        k.instr("lop3", {Type::b32}, {}, {d, get<u32>(s.a), get<b32>(s.b), get<s32>(s.c), static_cast<int>(s.imm & 0xff)});
        put(d);
        return;
      }
      case Kind::exit_:
        if (s.variant % 3 == 0) k.trap();
        else k.exit();
        return;
      case Kind::if_: k.if_(pred(s.a), [&] { run(s.body, false); }); return;
      case Kind::if_else:
        k.if_(pred(s.a), [&] { run(s.body, false); }).else_([&] { run(s.other, false); });
        return;
      case Kind::while_: {
        auto i = k.let<u32>(0u);
        const Src<u32> bound = s.use_imm ? Src<u32>(1 + s.variant % 4) : Src<u32>(get<u32>(s.b));
        k.while_([&] { return i < bound; },
                 [&] {
                   run(s.body, false);
                   k.assign(i, i + 1u);
                 });
        return;
      }
      case Kind::for_: {
        const Src<u32> begin = (s.variant & 1) ? Src<u32>(get<u32>(s.a)) : Src<u32>(s.variant % 3);
        const Src<u32> end = (s.variant & 2) ? Src<u32>(get<u32>(s.b)) : Src<u32>(4 + s.variant % 5);
        const Src<u32> step = (s.variant & 4) ? Src<u32>(get<u32>(s.c)) : Src<u32>(1 + s.variant % 3);
        k.for_(begin, end, step, [&](Reg<u32> i) {
          put(i);
          run(s.body, false);
        });
        return;
      }
      case Kind::for_unrolled:
        k.for_(0u, s.variant % 4, 1 + s.variant / 4 % 2, [&](Reg<u32> i) {
          put(i);
          run(s.body, false);
        }, Unroll::full);
        return;
      case Kind::skip_block: {
        auto l = k.label("skip");
        k.bra_if(pred(s.a), l);
        run(s.body, false);
        k.place(l);
        return;
      }
      case Kind::back_loop: {
        auto l = k.label("back");
        k.place(l);
        run(s.body, false);
        if (s.variant & 1) k.bra_if(pred(s.a), l);
        return;
      }
      case Kind::count_: return;
    }
  }

  template <class T>
  bool mem_ok(std::string_view op, std::string_view space, const QV& qs, isa::Quals q = {}) {
    q.set(isa::QualKind::space, space);
    for (auto x : qs) q.set(x.kind, x.value);
    return ok(op, T::type, Type::none, q);
  }

  template <class T, class P>
  void vec_op(const Stmt& s, P ptr, const QV& qs, bool four) {
    if (s.kind == Kind::ld_vec) {
      if (four) {
        auto v = with_list(qs, [&](q::List l) { return k.ld_vec<T, typename P::space_tag, 4>(ptr, l); });
        for (auto& r : v) put(r);
      } else {
        auto v = with_list(qs, [&](q::List l) { return k.ld_vec<T, typename P::space_tag, 2>(ptr, l); });
        for (auto& r : v) put(r);
      }
    } else if (four) {
      std::array<Reg<T>, 4> v{get<T>(s.a), get<T>(s.b), get<T>(s.c), get<T>(s.a + 1)};
      with_list(qs, [&](q::List l) { k.st_vec(ptr, v, l); });
    } else {
      std::array<Reg<T>, 2> v{get<T>(s.a), get<T>(s.b)};
      with_list(qs, [&](q::List l) { k.st_vec(ptr, v, l); });
    }
  }

  template <class T>
  void binary(const Stmt& s) {
    const Type t = T::type;
    const unsigned op = s.variant % 12;
    isa::Quals q;
    std::string_view opcode;
    Type rt = t;
    switch (op) {
      case 0: opcode = "add"; break;
      case 1: opcode = "sub"; break;
      case 2:
        opcode = "mul";
        if (!is_float(t)) q.set(isa::QualKind::mulmode, "lo");
        break;
      case 3:
        opcode = "div";
        if (is_float(t)) q.set(isa::QualKind::rnd, "rn");
        break;
      case 4: opcode = "rem"; break;
      case 5: opcode = "and"; rt = bits_of(t); break;
      case 6: opcode = "or"; rt = bits_of(t); break;
      case 7: opcode = "xor"; rt = bits_of(t); break;
      case 8: opcode = "shl"; rt = bits_of(t); break;
      case 9: opcode = "shr"; break;
      case 10: opcode = "min"; break;
      default: opcode = "max"; break;
    }
    if (!ok(opcode, rt, Type::none, q)) return;
    auto a = get<T>(s.a);
    if (op == 8 || op == 9) {
      const Src<u32> n = s.use_imm ? Src<u32>(s.imm & 127) : Src<u32>(get<u32>(s.b));
      return put(op == 8 ? a << n : a >> n);
    }
    // Bitwise operations on float registers take no float immediate (a diagnostic, not a bug).
    auto b = (op >= 5 && op <= 7 && is_float(t)) ? Src<T>(get<T>(s.b)) : src<T>(s, s.b);
    switch (op) {
      case 0: return put(a + b);
      case 1: return put(a - b);
      case 2: return put(a * b);
      case 3: return put(a / b);
      case 4: return put(a % b);
      case 5: return put(a & b);
      case 6: return put(a | b);
      case 7: return put(a ^ b);
      case 10: return put(weft::min(a, b));
      default: return put(weft::max(a, b));
    }
  }

  template <class T>
  void unary(const Stmt& s) {
    const Type t = T::type;
    const unsigned op = s.variant % 9;
    auto a = get<T>(s.a);
    isa::Quals q;
    switch (op) {
      case 0:
        if (ok("neg", t, Type::none, q)) put(-a);
        return;
      case 1:
        if (ok("not", bits_of(t), Type::none, q)) put(~a);
        return;
      case 2:
        if (ok("abs", t, Type::none, q)) put(weft::abs(a));
        return;
      case 3:
        q.set(isa::QualKind::rnd, "rn");
        if (ok("sqrt", t, Type::none, q)) put(weft::sqrt(a));
        return;
      default:
        if constexpr (std::is_same_v<T, f32>) {
          static const char* names[] = {"rsqrt", "ex2", "lg2", "rcp", "tanh"};
          q.set(isa::QualKind::prec, "approx");
          if (!ok(names[op - 4], t, Type::none, q)) return;
          switch (op) {
            case 4: return put(rsqrt_approx(a));
            case 5: return put(ex2_approx(a));
            case 6: return put(lg2_approx(a));
            case 7: return put(rcp_approx(a));
            default: return put(tanh_approx(a));
          }
        }
        return;
    }
  }

  template <class T>
  void atomic(const Stmt& s) {
    const std::uint32_t opi = s.variant % 9;
    const q::Q op = atom_ops()[opi];
    const auto& qs = atom_menu()[s.variant / 16 % atom_menu().size()];
    const bool shared = s.variant & 8;
    const bool bitwise = opi >= 5 && (opi <= 7 || s.kind == Kind::atom);  // and/or/xor (+exch for atom)
    if (s.kind == Kind::red && opi == 8) return;  // red has no exch
    isa::Quals aq;
    aq.set(isa::QualKind::space, shared ? "shared" : "global");
    for (auto x : qs) aq.set(x.kind, x.value);
    aq.set(op.kind, op.value);
    if (!ok(s.kind == Kind::atom ? "atom" : "red", bitwise ? bits_of(T::type) : T::type, Type::none, aq)) return;
    auto v = (bitwise && is_float(T::type)) ? Src<T>(get<T>(s.b)) : src<T>(s, s.b);
    if (shared) {
      auto ptr = shared_ptr<T>(s);
      if (s.kind == Kind::atom) put(with_list(qs, [&](q::List l) { return k.atom(op, ptr, v, l); }));
      else with_list(qs, [&](q::List l) { k.red(op, ptr, v, l); });
    } else {
      auto ptr = global_ptr<T>(s);
      if (s.kind == Kind::atom) put(with_list(qs, [&](q::List l) { return k.atom(op, ptr, v, l); }));
      else with_list(qs, [&](q::List l) { k.red(op, ptr, v, l); });
    }
  }

  void call(const Stmt& s) {
    const auto base = fmt::format("fz{}_f", p.seed);
    switch (s.variant % 3) {
      case 0:
        if (!f_f32) f_f32 = k.func<f32, f32, f32>(base + "0", [&](Reg<f32> a, Reg<f32> b) { return a * b + 1.5f; });
        put(k.call(*f_f32, get<f32>(s.a), src<f32>(s, s.b)));
        return;
      case 1:
        if (!f_u32) f_u32 = k.func<u32, u32>(base + "1", [&](Reg<u32> a) { return (a ^ 0x55u) + 3u; });
        put(k.call(*f_u32, src<u32>(s, s.a)));
        return;
      default:
        if (!f_u64)
          f_u64 = k.func<u64, u64, u32>(base + "2", [&](Reg<u64> a, Reg<u32> b) { return a + convert<u64>(b); });
        put(k.call(*f_u64, get<u64>(s.a), get<u32>(s.b)));
        return;
    }
  }
};

// ---- the mutation fuzzer's injections -------------------------------------------------------------
// Each misuse is one DSL call written on the line of its `Loc::current()`, so the expected
// diagnostic is exactly (this file, that line).

InjectedAt made(const std::source_location& l, std::string what) { return {l.file_name(), l.line(), std::move(what)}; }

// Forms that are not on target t and that k.instr resolves to exactly (so the call must be refused
// for the target, not resolved to another row), with their canonical instance.
struct IllegalForm {
  const isa::Form* form;
  ir::Instr canonical;
  ir::Function scratch_fn;
};
const std::vector<IllegalForm>& illegal_forms(const isa::Target& t) {
  static std::array<std::vector<IllegalForm>, 32> cache;
  static std::array<bool, 32> done{};
  const int i = t.index();
  if (!done[i]) {
    done[i] = true;
    FormScratch sc(t);
    for (const auto& f : isa::forms()) {
      if (f.targets.contains(t)) continue;
      auto in = form_instances(f, sc, Coverage::canonical).front();
      int nq = 0;
      for (std::size_t k = 0; k < isa::kQualKinds; ++k) nq += in.quals.has(static_cast<isa::QualKind>(k));
      if (nq > 4 || in.ops.size() > 8 || isa::resolve(isa::opcode(f), in.t0, in.t1, in.quals) != &f) continue;
      bool simple = true;  // operands the raw layer can express: registers, immediates, addresses
      for (const auto& o : in.ops)
        if (o.kind != ir::Operand::Kind::reg && o.kind != ir::Operand::Kind::imm_int &&
            o.kind != ir::Operand::Kind::mem_reg && o.kind != ir::Operand::Kind::sink)
          simple = false;
      if (simple) cache[i].push_back({&f, in, *sc.kernel});
    }
  }
  return cache[i];
}

template <class F>
void with_args(const std::vector<Arg>& a, F&& f) {
  switch (a.size()) {
    case 0: return f({});
    case 1: return f({a[0]});
    case 2: return f({a[0], a[1]});
    case 3: return f({a[0], a[1], a[2]});
    case 4: return f({a[0], a[1], a[2], a[3]});
    case 5: return f({a[0], a[1], a[2], a[3], a[4]});
    case 6: return f({a[0], a[1], a[2], a[3], a[4], a[5]});
    case 7: return f({a[0], a[1], a[2], a[3], a[4], a[5], a[6]});
    default: return f({a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]});
  }
}

InjectedAt Interp::inject(const Stmt& s) {
  const auto v = s.variant;
  switch (static_cast<Misuse>(s.imm)) {
    case Misuse::wrong_type: {
      auto d = k.reg<u32>();
      switch (v % 3) {
        case 0: {
          const auto here = Loc::current(); k.instr("add", {Type::f32}, {}, {d, get<u32>(s.a), get<u32>(s.b)}, here);
          return made(here, "add.f32 on u32 registers");
        }
        case 1: {
          const auto here = Loc::current(); k.instr("mul", {Type::s32}, {q::mul_lo}, {d, get<f64>(s.a), get<s32>(s.b)}, here);
          return made(here, "mul.lo.s32 with an f64 operand");
        }
        default: {
          const auto here = Loc::current(); k.instr("setp", {Type::s32}, {q::lt}, {d, get<s32>(s.a), get<s32>(s.b)}, here);
          return made(here, "setp.lt.s32 into a u32 register");
        }
      }
    }
    case Misuse::wrong_target: {
      const auto& cands = illegal_forms(target());
      const auto& c = cands[v % cands.size()];
      // The canonical operands, re-made as registers of this kernel.
      std::vector<Arg> args;
      for (const auto& o : c.canonical.ops) {
        ir::Operand n = o;
        if (o.kind == ir::Operand::Kind::reg || o.kind == ir::Operand::Kind::mem_reg)
          n.reg = k.fn().new_reg(c.scratch_fn.regs[o.reg]);
        args.emplace_back(n);
      }
      QV qs;
      for (std::size_t i = 0; i < isa::kQualKinds; ++i)
        if (c.canonical.quals.has(static_cast<isa::QualKind>(i)))
          qs.push_back({static_cast<isa::QualKind>(i), c.canonical.quals.get(static_cast<isa::QualKind>(i))});
      std::vector<Type> types;
      if (c.canonical.t0 != Type::none) types.push_back(c.canonical.t0);
      if (c.canonical.t1 != Type::none) types.push_back(c.canonical.t1);
      const auto op = isa::opcode(*c.form);
      std::uint32_t line = 0;
      const char* file = "";
      with_list(qs, [&](q::List ql) {
        with_args(args, [&](std::initializer_list<Arg> al) {
          if (types.empty()) {
            const auto here = Loc::current(); k.instr(op, {}, ql, al, here);
            line = here.line(), file = here.file_name();
          } else if (types.size() == 1) {
            const auto here = Loc::current(); k.instr(op, {types[0]}, ql, al, here);
            line = here.line(), file = here.file_name();
          } else {
            const auto here = Loc::current(); k.instr(op, {types[0], types[1]}, ql, al, here);
            line = here.line(), file = here.file_name();
          }
        });
      });
      return {file, line, fmt::format("{} ({}) on {}", c.form->id, c.form->targets.describe(), target().name())};
    }
    case Misuse::bad_qualifiers:
      switch (v % 4) {
        case 0: {
          auto ptr = global_ptr<u32>(s);
          const auto here = Loc::current(); put(k.ld(ptr, {q::cg, q::L1_evict_last}, here));
          return made(here, "ld.global.cg.L1::evict_last");
        }
        case 1: {
          auto ptr = shared_ptr<f32>(s);
          const auto here = Loc::current(); put(k.ld(ptr, {q::nc}, here));
          return made(here, "ld.shared.nc");
        }
        case 2: {
          auto ptr = global_ptr<f32>(s);
          const auto here = Loc::current(); k.st(ptr, get<f32>(s.a), {q::acquire, q::gpu}, here);
          return made(here, "st.acquire.gpu");
        }
        default: {
          auto ptr = global_ptr<s32>(s);
          const auto here = Loc::current(); k.st(ptr, get<s32>(s.a), {q::nc}, here);
          return made(here, "st.global.nc");
        }
      }
    case Misuse::unplaced_label: {
      auto l = k.label("never_placed");
      if (v & 1) {
        const auto here = Loc::current(); k.bra_if(pred(s.a), l, here);
        return made(here, "@p bra to a label never placed");
      }
      const auto here = Loc::current(); k.bra(l, here);
      return made(here, "bra.uni to a label never placed");
    }
    case Misuse::bad_immediate:
    case Misuse::count_:
      switch (v % 5) {
        case 0: {
          const auto here = Loc::current(); k.bar_sync(16, 0, here);
          return made(here, "bar.sync 16");
        }
        case 1: {
          const auto here = Loc::current(); k.bar_sync(1, 33, here);
          return made(here, "bar.sync 1, 33");
        }
        case 2: {
          const auto here = Loc::current(); k.bar_arrive(200, 64, here);
          return made(here, "bar.arrive 200, 64");
        }
        case 3: {
          auto d = k.reg<u32>();
          const auto here = Loc::current(); k.instr("lop3", {Type::b32}, {}, {d, get<u32>(s.a), get<u32>(s.b), get<u32>(s.c), 256}, here);
          return made(here, "lop3 with table 256");
        }
        default: {
          auto d = k.reg<u32>();
          const auto here = Loc::current(); k.instr("lop3", {Type::b32}, {}, {d, get<u32>(s.a), get<u32>(s.b), get<u32>(s.c), -1}, here);
          return made(here, "lop3 with table -1");
        }
      }
  }
  return {};
}

std::string stmt_text(const Stmt& s, int depth) {
  const std::string ind(2 * (depth + 1), ' ');
  std::string body;
  auto sub = [&](const std::vector<Stmt>& ss) {
    std::string out;
    for (const auto& x : ss) out += stmt_text(x, depth + 1);
    return out;
  };
  static const char* bin[] = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "min", "max"};
  static const char* un[] = {"-", "~", "abs", "sqrt", "rsqrt_approx", "ex2_approx", "lg2_approx", "rcp_approx", "tanh_approx"};
  const std::string b = s.use_imm ? fmt::format("imm({}|{})", s.imm, s.fimm) : fmt::format("{}[{}]", ty_name(s.t), s.b);
  std::string line;
  switch (s.kind) {
    case Kind::binary: line = fmt::format("{0}[{1}] {2} {3}", ty_name(s.t), s.a, bin[s.variant % 12], b); break;
    case Kind::unary: line = fmt::format("{}({}[{}])", un[s.variant % 9], ty_name(s.t), s.a); break;
    case Kind::fma: line = fmt::format("fma({0}[{1}], {2}, {0}[{3}])", ty_name(s.t), s.a, b, s.c); break;
    case Kind::compare: line = fmt::format("{}[{}] cmp#{} {}", ty_name(s.t), s.a, s.variant % 6, b); break;
    case Kind::pred_logic: line = fmt::format("pred[{}] logic#{} pred[{}]", s.a, s.variant % 3, s.b); break;
    case Kind::select: line = fmt::format("select(pred[{}], {}[{}], {})", s.c, ty_name(s.t), s.a, b); break;
    case Kind::convert: line = fmt::format("convert<{}>({}[{}])", ty_name(s.t), ty_name(s.t2), s.a); break;
    case Kind::bitcast: line = fmt::format("bitcast<{}>({}[{}])", ty_name(s.t), ty_name(s.t2), s.a); break;
    case Kind::assign: line = fmt::format("k.assign({}[{}], {})", ty_name(s.t), s.a, b); break;
    case Kind::ld_global:
      line = fmt::format("k.ld(global {} ptr#{}, {})", ty_name(s.t), s.variant % 5, list_text(ld_global_menu()[s.variant / 8 % ld_global_menu().size()]));
      break;
    case Kind::st_global:
      line = fmt::format("k.st(global {} ptr#{}, {}, {})", ty_name(s.t), s.variant % 5, b, list_text(st_global_menu()[s.variant / 8 % st_global_menu().size()]));
      break;
    case Kind::ld_vec: line = fmt::format("k.ld_vec<{}, {}, {}>(variant {})", ty_name(s.t), (s.variant & 32) ? "Shared" : "Global", (s.variant & 16) ? 4 : 2, s.variant); break;
    case Kind::st_vec: line = fmt::format("k.st_vec<{}, {}, {}>(variant {})", ty_name(s.t), (s.variant & 32) ? "Shared" : "Global", (s.variant & 16) ? 4 : 2, s.variant); break;
    case Kind::ld_shared: line = fmt::format("k.ld(shared {} ptr#{}, {})", ty_name(s.t), s.variant % 3, list_text(shared_menu()[s.variant / 8 % shared_menu().size()])); break;
    case Kind::st_shared: line = fmt::format("k.st(shared {} ptr#{}, {}, {})", ty_name(s.t), s.variant % 3, b, list_text(shared_menu()[s.variant / 8 % shared_menu().size()])); break;
    case Kind::atom:
    case Kind::red:
      line = fmt::format("k.{}(q::{}, {} {} ptr, {}, {})", s.kind == Kind::atom ? "atom" : "red", atom_op_name(s.variant % 9),
                         (s.variant & 8) ? "shared" : "global", ty_name(s.t), b, list_text(atom_menu()[s.variant / 16 % atom_menu().size()]));
      break;
    case Kind::atom_cas: line = fmt::format("k.atom_cas({} {} ptr, ..., {})", (s.variant & 4) ? "shared" : "global", ty_name(s.t), list_text(atom_menu()[s.variant / 8 % atom_menu().size()])); break;
    case Kind::shfl: line = fmt::format("k.shfl(mode#{}, {}[{}], ...)", s.variant % 4, ty_name(s.t), s.a); break;
    case Kind::vote: line = fmt::format("k.vote(mode#{}, pred[{}])", s.variant % 3, s.a); break;
    case Kind::ballot: line = fmt::format("k.ballot(pred[{}])", s.a); break;
    case Kind::match_any: line = fmt::format("k.match_any({}[{}])", ty_name(s.t), s.a); break;
    case Kind::redux: line = fmt::format("k.redux(op#{}, {}[{}])", s.variant % 6, ty_name(s.t), s.a); break;
    case Kind::elect: line = "k.elect_sync()"; break;
    case Kind::activemask: line = "k.activemask()"; break;
    case Kind::bar_sync: line = fmt::format("k.bar_sync(variant {})", s.variant); break;
    case Kind::bar_arrive: line = fmt::format("k.bar_arrive({}, {})", s.variant % 16, 32 * (1 + s.c % 32)); break;
    case Kind::bar_warp_sync: line = "k.bar_warp_sync(...)"; break;
    case Kind::fence: line = fmt::format("k.fence({})", list_text(fence_menu()[s.variant % fence_menu().size()])); break;
    case Kind::membar: line = fmt::format("k.membar(level#{})", s.variant % 3); break;
    case Kind::nanosleep: line = "k.nanosleep(...)"; break;
    case Kind::sreg: line = fmt::format("k.sreg(#{})", s.variant); break;
    case Kind::call: line = fmt::format("k.call(func#{})", s.variant % 3); break;
    case Kind::raw_lop3: line = fmt::format("k.instr(\"lop3\", b32, ..., {})", s.imm & 0xff); break;
    case Kind::exit_: line = s.variant % 3 == 0 ? "k.trap()" : "k.exit()"; break;
    case Kind::if_: return fmt::format("{}k.if_(pred[{}]) {{\n{}{}}}\n", ind, s.a, sub(s.body), ind);
    case Kind::if_else:
      return fmt::format("{}k.if_(pred[{}]) {{\n{}{}}}.else_ {{\n{}{}}}\n", ind, s.a, sub(s.body), ind, sub(s.other), ind);
    case Kind::while_: return fmt::format("{}k.while_(i < ...) {{\n{}{}}}\n", ind, sub(s.body), ind);
    case Kind::for_: return fmt::format("{}k.for_(variant {}) {{\n{}{}}}\n", ind, s.variant % 8, sub(s.body), ind);
    case Kind::for_unrolled: return fmt::format("{}k.for_(0, {}, {}, full) {{\n{}{}}}\n", ind, s.variant % 4, 1 + s.variant / 4 % 2, sub(s.body), ind);
    case Kind::skip_block: return fmt::format("{}k.bra_if(pred[{}], L); {{\n{}{}}} k.place(L)\n", ind, s.a, sub(s.body), ind);
    case Kind::back_loop: return fmt::format("{}k.place(L); {{\n{}{}}} k.bra_if(pred[{}], L)\n", ind, sub(s.body), ind, s.a);
    case Kind::count_: line = fmt::format("<injected: {}, variant {}>", misuse_name(static_cast<Misuse>(s.imm)), s.variant); break;
  }
  return ind + line + ";\n";
}

}  // namespace

bool misuse_possible(Misuse m, const isa::Target& t) {
  if (m == Misuse::wrong_target) return !illegal_forms(t).empty();
  return true;
}

ir::Module build_dsl(const DslProgram& p, const Injection* inj, InjectedAt* at) {
  KernelBuilder k{fmt::format("fz{}", p.seed), p.target};
  Interp in{k, p, inj, at};
  in.prologue();
  if (inj) {
    // The injection becomes a marker statement at its top-level position.
    std::vector<Stmt> ss = p.stmts;
    Stmt mark;
    mark.kind = Kind::count_;
    mark.imm = static_cast<std::int64_t>(inj->kind);
    mark.variant = inj->variant;
    mark.a = inj->variant * 7 + 1;
    mark.b = inj->variant * 13 + 2;
    mark.c = inj->variant * 3;
    ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(std::min(inj->at, ss.size())), mark);
    in.run(ss, true);
  } else {
    in.run(p.stmts, true);
  }
  return k.build();
}

std::string describe(const DslProgram& p) {
  std::string s = fmt::format("// DSL program, seed {}, target {}{}, directives 0x{:x}\n", p.seed, p.target.name(),
                              p.unchecked ? " (unchecked)" : "", p.directives);
  for (const auto& x : p.stmts) s += stmt_text(x, 0);
  return s;
}

}  // namespace weft::fuzz
