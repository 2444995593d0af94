// KernelBuilder: what authors write kernels with.
//
//   weft::KernelBuilder k{"saxpy", target};
//   auto n = k.param<u32>("n");
//   auto x = k.param_ptr<f32>("x");
//   auto i = k.global_index_x();
//   k.if_(i < n, [&] { k.st(y + i, fma(a, k.ld(x + i), k.ld(y + i))); });
//   std::string ptx = k.ptx();
//
// Every call records the caller's source line (std::source_location), so diagnostics and the
// PTX's .loc directives point at the author's C++. Problems are collected, never asserted:
// `build()` throws one DiagnosticError listing all of them.
#pragma once

#include <array>
#include <functional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/diagnostic.h"
#include "codegen/ir/module.h"
#include "codegen/isa/target.h"
#include "dsl/qualifiers.h"
#include "dsl/values.h"

namespace weft {

using Loc = std::source_location;

enum class Unroll { none, full };

// The bytes a dynamic_shared window aligned to `align` may skip when its base is rounded up at run
// time (only 16-byte alignment is assumed): the signature asks the launch for them too.
constexpr std::uint32_t dynamic_shared_pad(std::uint32_t align) { return align > 16 ? align - 16 : 0; }
// The bytes such a window may hold on target t beside `static_bytes` of static shared memory: the
// target's per-CTA ceiling, less the static memory as ptxas lays it out (rounded up to the window's
// alignment) and the window's pad. What a kernel sizing its stages to fit should divide.
inline std::uint32_t dynamic_shared_room(const isa::Target& t, std::uint32_t align, std::uint32_t static_bytes) {
  const std::uint32_t rounded = align > 1 ? (static_bytes + align - 1) / align * align : static_bytes;
  const std::uint32_t used = rounded + dynamic_shared_pad(align);
  return t.max_shared_per_cta() > used ? t.max_shared_per_cta() - used : 0;
}

// One operand of the raw instruction layer (`k.instr`).
struct Arg {
  ir::Operand op;
  template <DataType T>
  Arg(Reg<T> r) : op(ir::Operand::r(r.id())) {}
  Arg(Pred p) : op(ir::Operand::r(p.id(), p.negated())) {}
  template <DataType T, class S>
  Arg(Ptr<T, S> p) : op(p.operand()) {}
  Arg(Label l) : op(ir::Operand::lab(l.id)) {}
  Arg(std::int64_t v) : op(ir::Operand::imm(v)) {}
  Arg(int v) : op(ir::Operand::imm(v)) {}
  Arg(double v) : op(ir::Operand::fimm(v)) {}
  explicit Arg(ir::Operand o) : op(std::move(o)) {}
};

class KernelBuilder {
 public:
  KernelBuilder(std::string name, const isa::Target& target, Loc loc = Loc::current());
  KernelBuilder(const KernelBuilder&) = delete;
  KernelBuilder& operator=(const KernelBuilder&) = delete;

  const isa::Target& target() const { return module_.target; }

  // ---- Parameters (loaded from .param at the point of declaration) ----
  template <DataType T>
  Reg<T> param(std::string name, Loc loc = Loc::current());
  // A pointer parameter into global memory (converted with cvta.to.global).
  template <DataType T>
  Ptr<T, Global> param_ptr(std::string name, Loc loc = Loc::current());
  // An aligned byte-array parameter (a TMA descriptor: 128 bytes, align 64). Its generic address.
  Reg<u64> param_bytes(std::string name, std::uint32_t size, std::uint32_t align, Loc loc = Loc::current());
  // A TMA descriptor parameter (128 bytes, align 64) whose copies expect boxes `box_key`
  // (rt::tma_box_key): the signature records it, and a launch refuses a map of another box.
  Reg<u64> param_tensor_map(std::string name, std::string box_key, Loc loc = Loc::current());

  // ---- Registers ----
  template <DataType T>
  Reg<T> reg(Loc loc = Loc::current());  // uninitialised
  template <DataType T>
  Reg<T> let(std::type_identity_t<Src<T>> v, Loc loc = Loc::current());  // a new register holding v
  template <DataType T>
  void assign(Reg<T> dst, std::type_identity_t<Src<T>> v, Loc loc = Loc::current());  // mov into an existing register
  Pred pred(Loc loc = Loc::current());
  Pred let_pred(bool v, Loc loc = Loc::current());
  void assign(Pred dst, Pred v, Loc loc = Loc::current());

  // ---- Special registers ----
  Reg<u32> sreg32(std::string_view name, Loc loc = Loc::current());  // "%smid"
  Reg<u64> sreg64(std::string_view name, Loc loc = Loc::current());  // "%clock64"
  Reg<u32> tid_x(Loc l = Loc::current()) { return sreg32("%tid.x", l); }
  Reg<u32> tid_y(Loc l = Loc::current()) { return sreg32("%tid.y", l); }
  Reg<u32> tid_z(Loc l = Loc::current()) { return sreg32("%tid.z", l); }
  Reg<u32> ntid_x(Loc l = Loc::current()) { return sreg32("%ntid.x", l); }
  Reg<u32> ntid_y(Loc l = Loc::current()) { return sreg32("%ntid.y", l); }
  Reg<u32> ctaid_x(Loc l = Loc::current()) { return sreg32("%ctaid.x", l); }
  Reg<u32> ctaid_y(Loc l = Loc::current()) { return sreg32("%ctaid.y", l); }
  Reg<u32> nctaid_x(Loc l = Loc::current()) { return sreg32("%nctaid.x", l); }
  Reg<u32> nctaid_y(Loc l = Loc::current()) { return sreg32("%nctaid.y", l); }
  Reg<u32> laneid(Loc l = Loc::current()) { return sreg32("%laneid", l); }
  Reg<u32> warpid(Loc l = Loc::current()) { return sreg32("%warpid", l); }
  Reg<u32> smid(Loc l = Loc::current()) { return sreg32("%smid", l); }
  Reg<u32> nsmid(Loc l = Loc::current()) { return sreg32("%nsmid", l); }
  Reg<u64> clock64(Loc l = Loc::current()) { return sreg64("%clock64", l); }
  Reg<u64> globaltimer(Loc l = Loc::current()) { return sreg64("%globaltimer", l); }
  Reg<u32> dynamic_smem_size(Loc l = Loc::current()) { return sreg32("%dynamic_smem_size", l); }
  // ctaid.x * ntid.x + tid.x
  Reg<u32> global_index_x(Loc loc = Loc::current());
  // The warp index in the CTA (tid.x / 32), and this thread's lane (tid.x % 32), from tid.x.
  Reg<u32> warp_index(Loc loc = Loc::current());

  // ---- Shared memory ----
  template <DataType T>
  Ptr<T, Shared> shared(std::string name, std::uint32_t count, std::uint32_t align = 16, Loc loc = Loc::current());
  // The dynamic shared memory window (sized at launch); `bytes_hint` goes into the signature.
  template <DataType T>
  Ptr<T, Shared> dynamic_shared(std::string name, std::uint32_t align = 16, std::uint32_t bytes_hint = 0,
                                Loc loc = Loc::current());

  // ---- Address arithmetic: base + index * sizeof(T) ----
  template <DataType T, class S, DataType I>
  Ptr<T, S> index(Ptr<T, S> p, std::type_identity_t<Src<I>> i, Loc loc = Loc::current());

  // ---- Memory ----
  template <DataType T, class S>
  Reg<T> ld(Ptr<T, S> p, q::List quals = {}, Loc loc = Loc::current());
  // The same load into an existing register: a loop that loads the next iteration's value keeps the
  // load in flight across the iteration, where `assign(dst, ld(p))` puts a mov right after the load,
  // which waits for it unless ptxas folds the two.
  template <DataType T, class S>
  void ld_to(Reg<T> dst, Ptr<T, S> p, q::List quals = {}, Loc loc = Loc::current());
  template <DataType T, class S>
  void st(Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals = {}, Loc loc = Loc::current());
  template <DataType T, class S, std::size_t N>
  std::array<Reg<T>, N> ld_vec(Ptr<T, S> p, q::List quals = {}, Loc loc = Loc::current());
  template <DataType T, class S, std::size_t N>
  void st_vec(Ptr<T, S> p, const std::array<Reg<T>, N>& v, q::List quals = {}, Loc loc = Loc::current());
  // atom: returns the old value. `op` is q::add, q::min, q::exch, ...; quals add order and scope.
  template <DataType T, class S>
  Reg<T> atom(q::Q op, Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals = {}, Loc loc = Loc::current());
  template <DataType T, class S>
  Reg<T> atom_cas(Ptr<T, S> p, std::type_identity_t<Src<T>> compare, std::type_identity_t<Src<T>> value, q::List quals = {}, Loc loc = Loc::current());
  template <DataType T, class S>
  void red(q::Q op, Ptr<T, S> p, std::type_identity_t<Src<T>> v, q::List quals = {}, Loc loc = Loc::current());

  // ---- Synchronisation ----
  void bar_sync(std::uint32_t id = 0, std::uint32_t threads = 0, Loc loc = Loc::current());
  // A named barrier whose id is computed (e.g. one per warpgroup: base + warpgroup index).
  void bar_sync(Reg<u32> id, std::uint32_t threads, Loc loc = Loc::current());
  void bar_arrive(Reg<u32> id, std::uint32_t threads, Loc loc = Loc::current());
  void bar_arrive(std::uint32_t id, std::uint32_t threads, Loc loc = Loc::current());
  void bar_warp_sync(std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  void fence(q::List quals, Loc loc = Loc::current());  // {q::acq_rel, q::gpu}
  void membar(q::Q level, Loc loc = Loc::current());
  void nanosleep(Src<u32> ns, Loc loc = Loc::current());
  void trap(Loc loc = Loc::current());
  void exit(Loc loc = Loc::current());

  // ---- Warp operations ----
  template <DataType T>
  Reg<T> shfl(q::Q mode, Reg<T> v, Src<u32> lane, std::uint32_t clamp = 31, std::uint32_t mask = 0xffffffffu,
              Loc loc = Loc::current());
  Pred vote(q::Q mode, Pred p, std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  Reg<u32> ballot(Pred p, std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  template <DataType T>
  Reg<u32> match_any(Reg<T> v, std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  template <DataType T>
  Reg<T> redux(q::Q op, Reg<T> v, std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  Pred elect_sync(std::uint32_t mask = 0xffffffffu, Loc loc = Loc::current());
  Reg<u32> activemask(Loc loc = Loc::current());

  // ---- Control flow ----
  class IfChain {
   public:
    // The else branch of the if_ just built; must follow it directly.
    void else_(const std::function<void()>& body, Loc loc = Loc::current());

   private:
    friend class KernelBuilder;
    IfChain(KernelBuilder* k, ir::LabelId skip, std::size_t placed_at) : k_(k), skip_(skip), placed_at_(placed_at) {}
    KernelBuilder* k_;
    ir::LabelId skip_;
    std::size_t placed_at_;
  };
  IfChain if_(Pred cond, const std::function<void()>& then, Loc loc = Loc::current());
  void while_(const std::function<Pred()>& cond, const std::function<void()>& body, Loc loc = Loc::current());
  // for (i = begin; i < end; i += step). With Unroll::full the bounds must be immediates and the
  // body is emitted once per iteration with i a constant.
  void for_(Src<u32> begin, Src<u32> end, Src<u32> step, const std::function<void(Reg<u32>)>& body,
            Unroll unroll = Unroll::none, Loc loc = Loc::current());
  Label label(std::string hint = "L", Loc loc = Loc::current());
  void place(Label l, Loc loc = Loc::current());
  void bra(Label l, Loc loc = Loc::current());
  void bra_if(Pred p, Label l, Loc loc = Loc::current());

  // ---- Device functions ----
  // Defines `.func (ret) name(args)`; `body` builds it with registers for the arguments and returns
  // the result. Call it with call(). Up to four scalar arguments.
  template <DataType R, DataType... A>
  struct Func {
    std::string name;
  };
  template <DataType R, DataType... A, class F>
  Func<R, A...> func(std::string name, F body, Loc loc = Loc::current());
  template <DataType R, DataType... A>
  Reg<R> call(const Func<R, A...>& f, std::type_identity_t<Src<A>>... args);

  // ---- Kernel directives ----
  void reqntid(std::uint32_t x, std::uint32_t y = 1, std::uint32_t z = 1, Loc loc = Loc::current());
  void maxntid(std::uint32_t x, std::uint32_t y = 1, std::uint32_t z = 1, Loc loc = Loc::current());
  void minnctapersm(std::uint32_t n, Loc loc = Loc::current());
  void maxnreg(std::uint32_t n, Loc loc = Loc::current());
  void cluster_dims(std::uint32_t x, std::uint32_t y = 1, std::uint32_t z = 1, Loc loc = Loc::current());

  // ---- The 1:1 instruction layer ----
  // Emits one database form chosen by opcode, types and qualifiers: k.instr("lop3", {b32}, {}, {d, a, b, c, 0x96}).
  // The verifier checks everything against the row; mistakes are diagnostics with this line.
  void instr(std::string_view opcode, std::initializer_list<isa::Type> types, q::List quals,
             std::initializer_list<Arg> operands, Loc loc = Loc::current());
  // The same, guarded by a predicate (@p / @!p).
  void instr_if(Pred guard, std::string_view opcode, std::initializer_list<isa::Type> types, q::List quals,
                std::initializer_list<Arg> operands, Loc loc = Loc::current());

  // ---- Module-scope state used by the async layer ----
  // A .global byte array of the module (created once per name); its address.
  Reg<u64> global_var(const std::string& name, std::uint32_t size, std::uint32_t align = 8, Loc loc = Loc::current());
  // Declares that `address` holds an address in another GPU's memory (a peer table entry): the
  // verifier then requires .sys scope on every ld/st/atom/red through it (dsl/comm/context.h).
  void mark_peer(Reg<u64> address) { fn().peer_roots.push_back(address.id()); }
  // The warp role whose body is being built ("" outside WarpRoles); pipelines check it.
  const std::string& role() const { return role_; }
  void set_role(std::string r) { role_ = std::move(r); }
  // While alive, every instruction is attributed to `loc`: layers built on the builder (pipelines,
  // warp roles, atoms) emit many instructions for one author call, and they all belong to its line.
  class AtLine {
   public:
    AtLine(KernelBuilder& k, Loc loc) : k_(k), saved_(k.line_override_) {
      if (!saved_.known()) k.line_override_ = SourceLoc::from(loc);
    }
    ~AtLine() { k_.line_override_ = saved_; }
    AtLine(const AtLine&) = delete;
    AtLine& operator=(const AtLine&) = delete;

   private:
    KernelBuilder& k_;
    SourceLoc saved_;
  };
  // Inside an AtLine, the author's own code (a role body) gets its own lines back.
  class AuthorLines {
   public:
    explicit AuthorLines(KernelBuilder& k) : k_(k), saved_(k.line_override_) { k.line_override_ = {}; }
    ~AuthorLines() { k_.line_override_ = saved_; }
    AuthorLines(const AuthorLines&) = delete;
    AuthorLines& operator=(const AuthorLines&) = delete;

   private:
    KernelBuilder& k_;
    SourceLoc saved_;
  };
  // A counter for names the DSL makes up (barrier ids, labels).
  std::uint32_t next_id() { return id_counter_++; }

  // ---- Results ----
  // Records a problem at `loc` (used by the DSL's own checks and by layers built on it).
  void diagnose(SourceLoc loc, std::string message, std::string hint = "");
  // The same at the caller's line: a kernel's own checks of its parameters.
  void error(std::string message, std::string hint = "", Loc loc = Loc::current()) {
    diagnose(SourceLoc::from(loc), std::move(message), std::move(hint));
  }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  // The module, verified; throws DiagnosticError with every problem found.
  ir::Module build();
  // build() then print.
  std::string ptx();

  // ---- Used by the operators in dsl/ops.h ----
  // Emits `opcode` resolved for (t0, t1, quals); returns false (and records a diagnostic) when no
  // form fits.
  bool emit(std::string_view opcode, isa::Type t0, isa::Type t1, const isa::Quals& quals,
            std::vector<ir::Operand> ops, SourceLoc loc, const ir::Operand* guard = nullptr);
  bool emit_form(std::string_view form_id, isa::Type t0, isa::Type t1, const isa::Quals& quals,
                 std::vector<ir::Operand> ops, SourceLoc loc);
  template <DataType T>
  Reg<T> fresh() { return Reg<T>(this, fn().new_reg(T::type), current_); }
  Pred fresh_pred() { return Pred(this, fn().new_reg(isa::Type::pred), current_); }
  // Checks that a value belongs to the function being built.
  void check_owner(std::uint32_t fn_index, SourceLoc loc);
  ir::Function& fn() { return module_.functions[current_]; }

 private:
  bool operands_defined(std::string_view what, const std::vector<ir::Operand>& ops, SourceLoc loc);
  ir::Param& add_param(std::string name, SourceLoc loc);
  void emit_label(ir::LabelId l, SourceLoc loc);

  ir::Module module_;
  std::uint32_t current_ = 0;  // index of the function being built
  std::vector<Diagnostic> diags_;
  std::uint32_t call_count_ = 0;
  std::string role_;
  SourceLoc line_override_;
  std::uint32_t id_counter_ = 0;
};

}  // namespace weft

#include "dsl/kernel_builder_impl.h"
