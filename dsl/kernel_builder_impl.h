// Template members of KernelBuilder (included at the end of kernel_builder.h).
#pragma once

#include <algorithm>
#include <tuple>

#include "codegen/isa/database.h"

namespace weft {

namespace detail {
inline isa::Type bits_type(isa::Type t) {
  switch (isa::bits(t)) {
    case 16: return isa::Type::b16;
    case 32: return isa::Type::b32;
    case 64: return isa::Type::b64;
    default: return t;
  }
}
template <Space S>
inline void set_space(isa::Quals& q) {
  if constexpr (S == Space::global) q.set(isa::QualKind::space, "global");
  if constexpr (S == Space::shared) q.set(isa::QualKind::space, "shared");
  if constexpr (S == Space::local) q.set(isa::QualKind::space, "local");
  if constexpr (S == Space::constant) q.set(isa::QualKind::space, "const");
}
// The qualifiers of a memory instruction on a pointer into space S: its space, then the author's.
template <Space S>
inline isa::Quals space_quals(q::List quals) {
  isa::Quals q;
  set_space<S>(q);
  return q::apply(q, quals);
}
// atom/red: bitwise operations and exchange are typed .bN in PTX, the others by the value's type.
inline isa::Type atomic_type(isa::Type t, const isa::Quals& q) {
  const auto op = q.spelling(isa::QualKind::atomop);
  return op == "and" || op == "or" || op == "xor" || op == "exch" ? bits_type(t) : t;
}
// Memory instructions on 8-bit types use 16-bit registers; the DSL's Reg<u8> is such a register.
template <DataType T>
constexpr isa::Type reg_type() {
  if constexpr (isa::bits(T::type) == 8) return isa::info(T::type).kind == isa::TypeKind::signed_int ? isa::Type::s16 : isa::Type::u16;
  return T::type;
}
}  // namespace detail

template <DataType T>
Reg<T> KernelBuilder::param(std::string name, Loc loc) {
  auto& p = add_param(name, SourceLoc::from(loc));
  p.type = T::type;
  p.size = isa::bytes(T::type);
  p.align = p.size;
  auto r = fresh<T>();
  isa::Quals q;
  q.set(isa::QualKind::space, "param");
  emit("ld", T::type, isa::Type::none, q, {ir::Operand::r(r.id()), ir::Operand::mem(name)}, SourceLoc::from(loc));
  return r;
}

template <DataType T>
Ptr<T, Global> KernelBuilder::param_ptr(std::string name, Loc loc) {
  auto& p = add_param(name, SourceLoc::from(loc));
  p.kind = sig::ParamKind::pointer;
  p.type = isa::Type::u64;
  p.size = 8;
  p.align = 8;
  p.space = "global";
  p.pointee = std::string(isa::name(T::type));
  const auto l = SourceLoc::from(loc);
  auto raw = fresh<u64>();
  isa::Quals q;
  q.set(isa::QualKind::space, "param");
  emit("ld", isa::Type::u64, isa::Type::none, q, {ir::Operand::r(raw.id()), ir::Operand::mem(name)}, l);
  auto g = fresh<u64>();
  isa::Quals cq;
  cq.set(isa::QualKind::space, "global");
  emit("cvta.to", isa::Type::u64, isa::Type::none, cq, {ir::Operand::r(g.id()), ir::Operand::r(raw.id())}, l);
  return Ptr<T, Global>(g);
}

template <DataType T>
Reg<T> KernelBuilder::reg(Loc) {
  return fresh<T>();
}

template <DataType T>
Reg<T> KernelBuilder::let(std::type_identity_t<Src<T>> v, Loc loc) {
  auto r = fresh<T>();
  assign(r, v, loc);
  return r;
}

template <DataType T>
void KernelBuilder::assign(Reg<T> dst, std::type_identity_t<Src<T>> v, Loc loc) {
  check_owner(dst.function(), SourceLoc::from(loc));
  // mov has no half-precision or packed types: those copy as bits (mov.b16 / mov.b32).
  const auto& movs = isa::form("mov").types0;
  const bool direct = std::find(movs.begin(), movs.end(), T::type) != movs.end();
  emit_form("mov", direct ? T::type : detail::bits_type(T::type), isa::Type::none, {},
            {ir::Operand::r(dst.id()), v.operand()}, SourceLoc::from(loc));
}

template <DataType T>
Ptr<T, Shared> KernelBuilder::shared(std::string name, std::uint32_t count, std::uint32_t align, Loc loc) {
  const auto l = SourceLoc::from(loc);
  fn().shared.push_back({name, count * static_cast<std::uint32_t>(isa::bytes(T::type)), align, false, l});
  auto a = fresh<u32>();
  emit_form("mov.symbol", isa::Type::u32, isa::Type::none, {}, {ir::Operand::r(a.id()), ir::Operand::sym(name)}, l);
  return Ptr<T, Shared>(a);
}

template <DataType T>
Ptr<T, Shared> KernelBuilder::dynamic_shared(std::string name, std::uint32_t align, std::uint32_t bytes_hint, Loc loc) {
  const auto l = SourceLoc::from(loc);
  fn().shared.push_back({name, 0, align, true, l});
  // Dynamic shared memory follows the static shared variables, and `.extern .shared .align N` does not
  // make its base N-aligned: on an H200 a 128B-swizzled TMA box into it faulted with a misaligned
  // shared address when 96 bytes of static barriers came first, and rounding the base up here fixed
  // it. Only 16 bytes are assumed; the signature asks for the bytes the rounding may skip.
  const std::uint32_t pad = dynamic_shared_pad(align);
  fn().directives.dynamic_smem = bytes_hint ? bytes_hint + pad : 0;
  auto a = fresh<u32>();
  emit_form("mov.symbol", isa::Type::u32, isa::Type::none, {}, {ir::Operand::r(a.id()), ir::Operand::sym(name)}, l);
  if (pad == 0) return Ptr<T, Shared>(a);
  auto rounded = fresh<u32>(), aligned = fresh<u32>();
  emit_form("add.int", isa::Type::u32, isa::Type::none, {},
            {ir::Operand::r(rounded.id()), ir::Operand::r(a.id()), ir::Operand::imm(align - 1)}, l);
  emit_form("and", isa::Type::b32, isa::Type::none, {},
            {ir::Operand::r(aligned.id()), ir::Operand::r(rounded.id()), ir::Operand::imm(~(align - 1))}, l);
  return Ptr<T, Shared>(aligned);
}

template <DataType T, class S, DataType I>
Ptr<T, S> KernelBuilder::index(Ptr<T, S> p, std::type_identity_t<Src<I>> i, Loc) {
  const auto l = i.loc();
  constexpr auto size = static_cast<std::int64_t>(isa::bytes(T::type));
  if (!i.is_reg()) return p + i.value();
  using A = typename Ptr<T, S>::addr_type;
  auto addr = fresh<A>();
  if constexpr (std::is_same_v<A, u64> && isa::bits(I::type) == 32) {
    // 64-bit address from a 32-bit index: one mad.wide (sign-extending for signed indices).
    isa::Quals q;
    q.set(isa::QualKind::mulmode, "wide");
    emit("mad", I::type, isa::Type::none, q,
         {ir::Operand::r(addr.id()), i.operand(), ir::Operand::imm(size), ir::Operand::r(p.base().id())}, l);
  } else {
    static_assert(isa::bits(I::type) == isa::bits(A::type) || std::is_same_v<A, u32>,
                  "index width must match the pointer (or be 32-bit)");
    isa::Quals q;
    q.set(isa::QualKind::mulmode, "lo");
    emit("mad", A::type, isa::Type::none, q,
         {ir::Operand::r(addr.id()), i.operand(), ir::Operand::imm(size), ir::Operand::r(p.base().id())}, l);
  }
  return Ptr<T, S>(addr, p.offset());
}

template <DataType T, class S>
Reg<T> KernelBuilder::ld(Ptr<T, S> p, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  check_owner(p.base().function(), l);
  auto q = detail::space_quals<S::space>(quals);
  Reg<T> r(this, fn().new_reg(detail::reg_type<T>()), current_);
  emit("ld", T::type, isa::Type::none, q, {ir::Operand::r(r.id()), p.operand()}, l);
  return r;
}

template <DataType T, class S>
void KernelBuilder::ld_to(Reg<T> dst, Ptr<T, S> p, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  check_owner(p.base().function(), l);
  check_owner(dst.function(), l);
  auto q = detail::space_quals<S::space>(quals);
  emit("ld", T::type, isa::Type::none, q, {ir::Operand::r(dst.id()), p.operand()}, l);
}

template <DataType T, class S>
void KernelBuilder::st(Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  check_owner(p.base().function(), l);
  auto q = detail::space_quals<S::space>(quals);
  // st takes registers only: an immediate goes through a mov first.
  const ir::Operand value = v.is_reg() ? v.operand() : ir::Operand::r(let<T>(v, loc).id());
  emit("st", T::type, isa::Type::none, q, {p.operand(), value}, l);
}

template <DataType T, class S, std::size_t N>
std::array<Reg<T>, N> KernelBuilder::ld_vec(Ptr<T, S> p, q::List quals, Loc loc) {
  static_assert(N == 2 || N == 4, "PTX vectors have 2 or 4 elements");
  const auto l = SourceLoc::from(loc);
  auto q = detail::space_quals<S::space>(quals);
  q.set(isa::QualKind::vec, N == 2 ? "v2" : "v4");
  std::array<Reg<T>, N> out;
  std::vector<ir::RegId> ids;
  for (auto& r : out) {
    r = Reg<T>(this, fn().new_reg(detail::reg_type<T>()), current_);
    ids.push_back(r.id());
  }
  emit("ld", T::type, isa::Type::none, q, {ir::Operand::list(ids), p.operand()}, l);
  return out;
}

template <DataType T, class S, std::size_t N>
void KernelBuilder::st_vec(Ptr<T, S> p, const std::array<Reg<T>, N>& v, q::List quals, Loc loc) {
  static_assert(N == 2 || N == 4, "PTX vectors have 2 or 4 elements");
  const auto l = SourceLoc::from(loc);
  auto q = detail::space_quals<S::space>(quals);
  q.set(isa::QualKind::vec, N == 2 ? "v2" : "v4");
  std::vector<ir::RegId> ids;
  for (const auto& r : v) ids.push_back(r.id());
  emit("st", T::type, isa::Type::none, q, {p.operand(), ir::Operand::list(ids)}, l);
}

template <DataType T, class S>
Reg<T> KernelBuilder::atom(q::Q op, Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto q = detail::space_quals<S::space>(quals);
  q.set(op.kind, op.value);
  auto r = fresh<T>();
  emit("atom", detail::atomic_type(T::type, q), isa::Type::none, q,
       {ir::Operand::r(r.id()), p.operand(), v.operand()}, l);
  return r;
}

template <DataType T, class S>
Reg<T> KernelBuilder::atom_cas(Ptr<T, S> p, std::type_identity_t<Src<T>> compare, std::type_identity_t<Src<T>> value, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto q = detail::space_quals<S::space>(quals);
  auto r = fresh<T>();
  emit_form("atom.cas", detail::bits_type(T::type), isa::Type::none, q,
            {ir::Operand::r(r.id()), p.operand(), compare.operand(), value.operand()}, l);
  return r;
}

template <DataType T, class S>
void KernelBuilder::red(q::Q op, Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals, Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto q = detail::space_quals<S::space>(quals);
  q.set(op.kind, op.value);
  emit("red", detail::atomic_type(T::type, q), isa::Type::none, q, {p.operand(), v.operand()}, l);
}

template <DataType T>
Reg<T> KernelBuilder::shfl(q::Q mode, Reg<T> v, Src<u32> lane, std::uint32_t clamp, std::uint32_t mask, Loc loc) {
  static_assert(isa::bits(T::type) == 32, "shfl.sync moves 32-bit values");
  const auto l = SourceLoc::from(loc);
  isa::Quals q;
  q.set(mode.kind, mode.value);
  auto r = fresh<T>();
  emit("shfl.sync", isa::Type::b32, isa::Type::none, q,
       {ir::Operand::r(r.id()), ir::Operand::r(v.id()), lane.operand(), ir::Operand::imm(clamp),
        ir::Operand::imm(static_cast<std::int64_t>(mask))},
       l);
  return r;
}

template <DataType T>
Reg<u32> KernelBuilder::match_any(Reg<T> v, std::uint32_t mask, Loc loc) {
  auto r = fresh<u32>();
  emit("match.any.sync", detail::bits_type(T::type), isa::Type::none, {},
       {ir::Operand::r(r.id()), ir::Operand::r(v.id()), ir::Operand::imm(static_cast<std::int64_t>(mask))},
       SourceLoc::from(loc));
  return r;
}

template <DataType T>
Reg<T> KernelBuilder::redux(q::Q op, Reg<T> v, std::uint32_t mask, Loc loc) {
  isa::Quals q;
  q.set(op.kind, op.value);
  auto r = fresh<T>();
  emit("redux.sync", detail::atomic_type(T::type, q), isa::Type::none, q,
       {ir::Operand::r(r.id()), ir::Operand::r(v.id()), ir::Operand::imm(static_cast<std::int64_t>(mask))},
       SourceLoc::from(loc));
  return r;
}

template <DataType R, DataType... A, class F>
KernelBuilder::Func<R, A...> KernelBuilder::func(std::string name, F body, Loc loc) {
  const auto l = SourceLoc::from(loc);
  ir::Function f;
  f.name = name;
  f.entry = false;
  f.loc = l;
  f.ret = ir::Param{name + "_ret", sig::ParamKind::scalar, R::type, isa::bytes(R::type), isa::bytes(R::type), "", "", l};
  // Built into its own function; build() prints device functions before the kernel.
  const auto saved = current_;
  module_.functions.push_back(std::move(f));
  current_ = static_cast<std::uint32_t>(module_.functions.size() - 1);
  std::tuple<Reg<A>...> args;
  std::size_t n = 0;
  std::apply([&](auto&... a) {
    ((a = [&] {
        using T = typename std::remove_reference_t<decltype(a)>::type;
        const std::string pname = name + "_arg" + std::to_string(n++);
        fn().params.push_back({pname, sig::ParamKind::scalar, T::type, isa::bytes(T::type), isa::bytes(T::type), "", "", l});
        auto r = fresh<T>();
        isa::Quals q;
        q.set(isa::QualKind::space, "param");
        emit("ld", T::type, isa::Type::none, q, {ir::Operand::r(r.id()), ir::Operand::mem(pname)}, l);
        return r;
      }()), ...);
  }, args);
  Reg<R> result = std::apply(body, args);
  isa::Quals q;
  q.set(isa::QualKind::space, "param");
  emit("st", R::type, isa::Type::none, q, {ir::Operand::mem(name + "_ret"), ir::Operand::r(result.id())}, l);
  emit_form("ret", isa::Type::none, isa::Type::none, {}, {}, l);
  current_ = saved;
  return Func<R, A...>{name};
}

template <DataType R, DataType... A>
Reg<R> KernelBuilder::call(const Func<R, A...>& f, std::type_identity_t<Src<A>>... args) {
  const auto id = call_count_++;
  std::vector<std::string> arg_names;
  SourceLoc l{};
  std::size_t n = 0;
  isa::Quals q;
  q.set(isa::QualKind::space, "param");
  (
      [&] {
        using T = A;
        const std::string pname = "weft_call" + std::to_string(id) + "_arg" + std::to_string(n++);
        fn().call_params.push_back({pname, sig::ParamKind::scalar, T::type, isa::bytes(T::type), isa::bytes(T::type)});
        l = args.loc();
        // st takes registers only: an immediate argument goes through a mov first.
        const ir::Operand value = args.is_reg() ? args.operand() : ir::Operand::r(let<T>(args).id());
        emit("st", T::type, isa::Type::none, q, {ir::Operand::mem(pname), value}, l);
        arg_names.push_back(pname);
      }(),
      ...);
  const std::string ret = "weft_call" + std::to_string(id) + "_ret";
  fn().call_params.push_back({ret, sig::ParamKind::scalar, R::type, isa::bytes(R::type), isa::bytes(R::type)});
  isa::Quals cq;
  cq.set(isa::QualKind::uni, "uni");
  emit_form("call", isa::Type::none, isa::Type::none, cq,
            {ir::Operand::symbols({ret}), ir::Operand::sym(f.name), ir::Operand::symbols(arg_names)}, l);
  auto r = fresh<R>();
  emit("ld", R::type, isa::Type::none, q, {ir::Operand::r(r.id()), ir::Operand::mem(ret)}, l);
  return r;
}

}  // namespace weft
