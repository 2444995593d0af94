#include "dsl/kernel_builder.h"

#include <fmt/format.h>

#include <algorithm>

#include "codegen/isa/database.h"
#include "codegen/mnemonic.h"
#include "codegen/printer.h"
#include "codegen/verify.h"

namespace weft {

namespace q {
Q make(isa::QualKind kind, std::string_view spelling) {
  const auto v = isa::qual_value_index(kind, spelling);
  if (v == 0)
    throw std::logic_error("weft: qualifier table has no ." + std::string(spelling) + " of kind " +
                           std::string(isa::qual_kind_name(kind)));
  return {kind, v};
}
}  // namespace q

KernelBuilder::KernelBuilder(std::string name, const isa::Target& target, Loc loc) {
  module_.target = target;
  ir::Function k;
  k.name = std::move(name);
  k.entry = true;
  k.loc = SourceLoc::from(loc);
  module_.functions.push_back(std::move(k));
}

void KernelBuilder::diagnose(SourceLoc loc, std::string message, std::string hint) {
  diags_.push_back({line_override_.known() ? line_override_ : loc, std::move(message), std::move(hint)});
}

void KernelBuilder::check_owner(std::uint32_t fn_index, SourceLoc loc) {
  if (fn_index != current_)
    diagnose(loc,
             fmt::format("a value of function '{}' is used in '{}'", module_.functions[fn_index].name, fn().name),
             "pass it as an argument of the device function");
}

ir::Param& KernelBuilder::add_param(std::string name, SourceLoc loc) {
  ir::Param p;
  p.name = std::move(name);
  p.loc = loc;
  fn().params.push_back(std::move(p));
  return fn().params.back();
}

namespace {
std::string describe_request(std::string_view opcode, isa::Type t0, isa::Type t1, const isa::Quals& q) {
  std::string s(opcode);
  for (std::size_t k = 0; k < isa::kQualKinds; ++k)
    if (q.has(static_cast<isa::QualKind>(k))) s += "." + std::string(q.spelling(static_cast<isa::QualKind>(k)));
  if (t0 != isa::Type::none) s += "." + std::string(isa::name(t0));
  if (t1 != isa::Type::none) s += "." + std::string(isa::name(t1));
  return s;
}
}  // namespace

// Whether every register an instruction names was given a value (none is ir::kNoReg).
bool KernelBuilder::operands_defined(std::string_view what, const std::vector<ir::Operand>& ops, SourceLoc loc) {
  for (const auto& o : ops) {
    bool undefined = false;
    switch (o.kind) {
      case ir::Operand::Kind::reg:
      case ir::Operand::Kind::mem_reg:
        undefined = o.reg == ir::kNoReg;
        break;
      case ir::Operand::Kind::tensor_reg:
        undefined = o.reg == ir::kNoReg;
        [[fallthrough]];
      case ir::Operand::Kind::reg_list:
      case ir::Operand::Kind::tensor_symbol:
        for (auto r : o.regs) undefined |= r == ir::kNoReg;
        break;
      default:
        break;
    }
    if (undefined) {
      diagnose(loc, fmt::format("'{}' uses a value that was never given one (a default-constructed Reg, Pred or Ptr)",
                                what),
               "assign the variable (k.let, a parameter, a load, ...) before this instruction");
      return false;
    }
  }
  return true;
}

bool KernelBuilder::emit(std::string_view opcode, isa::Type t0, isa::Type t1, const isa::Quals& quals,
                         std::vector<ir::Operand> ops, SourceLoc loc, const ir::Operand* guard) {
  if (!operands_defined(opcode, ops, loc) || (guard && !operands_defined(opcode, {*guard}, loc))) return false;
  const isa::Form* f = isa::resolve(opcode, t0, t1, quals);
  if (!f) {
    // Say what exists for this opcode, so the author sees the legal shapes.
    std::string shapes;
    int n = 0;
    for (const auto& form : isa::forms())
      if (isa::opcode(form) == opcode && n++ < 4) shapes += (shapes.empty() ? "" : "; ") + std::string(form.pattern);
    diagnose(loc, fmt::format("no form of '{}' takes {}", opcode, describe_request(opcode, t0, t1, quals)),
             shapes.empty() ? "see docs/reference.md for the instruction forms"
                            : fmt::format("the forms are: {}", shapes));
    return false;
  }
  ir::Instr in;
  in.form = f;
  in.t0 = t0;
  in.t1 = t1;
  in.quals = quals;
  in.ops = std::move(ops);
  in.loc = line_override_.known() ? line_override_ : loc;
  if (guard) in.guard = *guard;
  fn().body.push_back(std::move(in));
  return true;
}

bool KernelBuilder::emit_form(std::string_view form_id, isa::Type t0, isa::Type t1, const isa::Quals& quals,
                              std::vector<ir::Operand> ops, SourceLoc loc) {
  if (!operands_defined(form_id, ops, loc)) return false;
  ir::Instr in;
  in.form = &isa::form(form_id);
  in.t0 = t0;
  in.t1 = t1;
  in.quals = quals;
  in.ops = std::move(ops);
  in.loc = line_override_.known() ? line_override_ : loc;
  fn().body.push_back(std::move(in));
  return true;
}

Reg<u64> KernelBuilder::param_tensor_map(std::string name, std::string box_key, Loc loc) {
  auto map = param_bytes(name, 128, 64, loc);
  fn().params.back().tma_box = std::move(box_key);
  return map;
}

Reg<u64> KernelBuilder::param_bytes(std::string name, std::uint32_t size, std::uint32_t align, Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto& p = add_param(name, l);
  p.kind = sig::ParamKind::bytes;
  p.type = isa::Type::b8;
  p.size = size;
  p.align = align;
  auto raw = fresh<u64>();
  emit_form("mov.symbol", isa::Type::u64, isa::Type::none, {}, {ir::Operand::r(raw.id()), ir::Operand::sym(name)}, l);
  // `mov` gives the parameter's .param-space address; TMA instructions take the tensor map by its
  // generic address (PTX ISA: "the generic address of the tensor-map object in .param space"), and
  // a .param address there faults with a misaligned address on an H200. cvta.param (PTX 7.7) makes it
  // generic.
  auto generic = fresh<u64>();
  isa::Quals space;
  space.set(isa::QualKind::space, "param");
  emit_form("cvta.param", isa::Type::u64, isa::Type::none, space,
            {ir::Operand::r(generic.id()), ir::Operand::r(raw.id())}, l);
  return generic;
}

Pred KernelBuilder::pred(Loc) { return fresh_pred(); }

Pred KernelBuilder::let_pred(bool v, Loc loc) {
  auto p = fresh_pred();
  // setp.eq.u32 p, 0, 0 would need a register; mov.pred takes an immediate.
  emit_form("mov", isa::Type::pred, isa::Type::none, {}, {ir::Operand::r(p.id()), ir::Operand::imm(v ? 1 : 0)},
            SourceLoc::from(loc));
  return p;
}

void KernelBuilder::assign(Pred dst, Pred v, Loc loc) {
  const auto l = SourceLoc::from(loc);
  if (v.negated())
    emit_form("not", isa::Type::pred, isa::Type::none, {}, {ir::Operand::r(dst.id()), ir::Operand::r(v.id())}, l);
  else
    emit_form("mov", isa::Type::pred, isa::Type::none, {}, {ir::Operand::r(dst.id()), ir::Operand::r(v.id())}, l);
}

Reg<u32> KernelBuilder::sreg32(std::string_view name, Loc loc) {
  auto r = fresh<u32>();
  emit_form("mov.sreg", isa::Type::u32, isa::Type::none, {},
            {ir::Operand::r(r.id()), ir::Operand::special(std::string(name))}, SourceLoc::from(loc));
  return r;
}

Reg<u64> KernelBuilder::sreg64(std::string_view name, Loc loc) {
  auto r = fresh<u64>();
  emit_form("mov.sreg", isa::Type::u64, isa::Type::none, {},
            {ir::Operand::r(r.id()), ir::Operand::special(std::string(name))}, SourceLoc::from(loc));
  return r;
}

Reg<u32> KernelBuilder::global_index_x(Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto ctaid = sreg32("%ctaid.x", loc);
  auto ntid = sreg32("%ntid.x", loc);
  auto tid = sreg32("%tid.x", loc);
  auto r = fresh<u32>();
  isa::Quals q;
  q.set(isa::QualKind::mulmode, "lo");
  emit("mad", isa::Type::u32, isa::Type::none, q,
       {ir::Operand::r(r.id()), ir::Operand::r(ctaid.id()), ir::Operand::r(ntid.id()), ir::Operand::r(tid.id())}, l);
  return r;
}

Reg<u32> KernelBuilder::warp_index(Loc loc) {
  auto tid = sreg32("%tid.x", loc);
  auto r = fresh<u32>();
  emit("shr", isa::Type::u32, isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::r(tid.id()), ir::Operand::imm(5)},
       SourceLoc::from(loc));
  return r;
}

void KernelBuilder::bar_sync(std::uint32_t id, std::uint32_t threads, Loc loc) {
  std::vector<ir::Operand> ops{ir::Operand::imm(id)};
  if (threads) ops.push_back(ir::Operand::imm(threads));
  emit_form(threads ? "bar.sync.count" : "bar.sync", isa::Type::none, isa::Type::none, {}, std::move(ops),
            SourceLoc::from(loc));
}

void KernelBuilder::bar_sync(Reg<u32> id, std::uint32_t threads, Loc loc) {
  emit_form("bar.sync.count", isa::Type::none, isa::Type::none, {},
            {ir::Operand::r(id.id()), ir::Operand::imm(threads)}, SourceLoc::from(loc));
}

void KernelBuilder::bar_arrive(std::uint32_t id, std::uint32_t threads, Loc loc) {
  emit_form("bar.arrive", isa::Type::none, isa::Type::none, {}, {ir::Operand::imm(id), ir::Operand::imm(threads)},
            SourceLoc::from(loc));
}

void KernelBuilder::bar_arrive(Reg<u32> id, std::uint32_t threads, Loc loc) {
  emit_form("bar.arrive", isa::Type::none, isa::Type::none, {}, {ir::Operand::r(id.id()), ir::Operand::imm(threads)},
            SourceLoc::from(loc));
}

void KernelBuilder::bar_warp_sync(std::uint32_t mask, Loc loc) {
  emit_form("bar.warp.sync", isa::Type::none, isa::Type::none, {}, {ir::Operand::imm(static_cast<std::int64_t>(mask))},
            SourceLoc::from(loc));
}

void KernelBuilder::fence(q::List quals, Loc loc) {
  emit("fence", isa::Type::none, isa::Type::none, q::apply({}, quals), {}, SourceLoc::from(loc));
}

void KernelBuilder::membar(q::Q level, Loc loc) {
  emit("membar", isa::Type::none, isa::Type::none, q::apply({}, {level}), {}, SourceLoc::from(loc));
}

void KernelBuilder::nanosleep(Src<u32> ns, Loc loc) {
  emit("nanosleep", isa::Type::u32, isa::Type::none, {}, {ns.operand()}, SourceLoc::from(loc));
}

void KernelBuilder::trap(Loc loc) { emit("trap", isa::Type::none, isa::Type::none, {}, {}, SourceLoc::from(loc)); }
void KernelBuilder::exit(Loc loc) { emit("exit", isa::Type::none, isa::Type::none, {}, {}, SourceLoc::from(loc)); }

Pred KernelBuilder::vote(q::Q mode, Pred p, std::uint32_t mask, Loc loc) {
  auto r = fresh_pred();
  emit("vote.sync", isa::Type::pred, isa::Type::none, q::apply({}, {mode}),
       {ir::Operand::r(r.id()), ir::Operand::r(p.id(), p.negated()), ir::Operand::imm(static_cast<std::int64_t>(mask))},
       SourceLoc::from(loc));
  return r;
}

Reg<u32> KernelBuilder::ballot(Pred p, std::uint32_t mask, Loc loc) {
  auto r = fresh<u32>();
  emit("vote.sync", isa::Type::b32, isa::Type::none, q::apply({}, {q::ballot}),
       {ir::Operand::r(r.id()), ir::Operand::r(p.id(), p.negated()), ir::Operand::imm(static_cast<std::int64_t>(mask))},
       SourceLoc::from(loc));
  return r;
}

Pred KernelBuilder::elect_sync(std::uint32_t mask, Loc loc) {
  auto r = fresh_pred();
  emit("elect.sync", isa::Type::none, isa::Type::none, {},
       {ir::Operand::sink(), ir::Operand::r(r.id()), ir::Operand::imm(static_cast<std::int64_t>(mask))},
       SourceLoc::from(loc));
  return r;
}

Reg<u32> KernelBuilder::activemask(Loc loc) {
  auto r = fresh<u32>();
  emit("activemask", isa::Type::b32, isa::Type::none, {}, {ir::Operand::r(r.id())}, SourceLoc::from(loc));
  return r;
}

// ---- Control flow ----

Label KernelBuilder::label(std::string hint, Loc) { return Label{fn().new_label(std::move(hint))}; }

void KernelBuilder::emit_label(ir::LabelId l, SourceLoc loc) {
  ir::Instr in;
  in.label = l;
  in.loc = line_override_.known() ? line_override_ : loc;
  fn().body.push_back(std::move(in));
}

void KernelBuilder::place(Label l, Loc loc) { emit_label(l.id, SourceLoc::from(loc)); }

void KernelBuilder::bra(Label l, Loc loc) {
  isa::Quals q;
  q.set(isa::QualKind::uni, "uni");
  emit("bra", isa::Type::none, isa::Type::none, q, {ir::Operand::lab(l.id)}, SourceLoc::from(loc));
}

void KernelBuilder::bra_if(Pred p, Label l, Loc loc) {
  const auto g = ir::Operand::r(p.id(), p.negated());
  emit("bra", isa::Type::none, isa::Type::none, {}, {ir::Operand::lab(l.id)}, SourceLoc::from(loc), &g);
}

KernelBuilder::IfChain KernelBuilder::if_(Pred cond, const std::function<void()>& then, Loc loc) {
  const auto l = SourceLoc::from(loc);
  check_owner(cond.function(), l);
  auto skip = fn().new_label("endif");
  bra_if(!cond, Label{skip}, loc);
  then();
  emit_label(skip, l);
  return IfChain(this, skip, fn().body.size() - 1);
}

void KernelBuilder::IfChain::else_(const std::function<void()>& body, Loc loc) {
  auto& f = k_->fn();
  const auto l = SourceLoc::from(loc);
  if (placed_at_ != f.body.size() - 1) {
    k_->diagnose(l, "else_ must directly follow its if_", "write k.if_(c, then).else_(otherwise)");
    return;
  }
  // Turn `if: @!c bra skip; then; skip:` into `@!c bra skip; then; bra end; skip: else; end:`.
  f.body.pop_back();
  auto end = f.new_label("endelse");
  k_->bra(Label{end}, loc);
  k_->emit_label(skip_, l);
  body();
  k_->emit_label(end, l);
}

void KernelBuilder::while_(const std::function<Pred()>& cond, const std::function<void()>& body, Loc loc) {
  const auto l = SourceLoc::from(loc);
  auto top = fn().new_label("while");
  auto end = fn().new_label("endwhile");
  emit_label(top, l);
  Pred c = cond();
  bra_if(!c, Label{end}, loc);
  body();
  bra(Label{top}, loc);
  emit_label(end, l);
}

void KernelBuilder::for_(Src<u32> begin, Src<u32> end, Src<u32> step, const std::function<void(Reg<u32>)>& body,
                         Unroll unroll, Loc loc) {
  const auto l = SourceLoc::from(loc);
  if (unroll == Unroll::full) {
    if (begin.is_reg() || end.is_reg() || step.is_reg()) {
      diagnose(l, "for_ with Unroll::full needs immediate bounds and step", "pass integers, or drop Unroll::full");
      return;
    }
    if (step.value() <= 0) {
      diagnose(l, "for_ step must be positive");
      return;
    }
    for (std::int64_t i = begin.value(); i < end.value(); i += step.value()) body(let<u32>(i, loc));
    return;
  }
  auto i = let<u32>(begin, loc);
  auto top = fn().new_label("for");
  auto done = fn().new_label("endfor");
  emit_label(top, l);
  auto c = fresh_pred();
  isa::Quals q;
  q.set(isa::QualKind::cmp, "lt");
  emit("setp", isa::Type::u32, isa::Type::none, q, {ir::Operand::r(c.id()), ir::Operand::r(i.id()), end.operand()}, l);
  bra_if(!c, Label{done}, loc);
  body(i);
  emit("add", isa::Type::u32, isa::Type::none, {}, {ir::Operand::r(i.id()), ir::Operand::r(i.id()), step.operand()}, l);
  bra(Label{top}, loc);
  emit_label(done, l);
}

// ---- Directives ----

void KernelBuilder::reqntid(std::uint32_t x, std::uint32_t y, std::uint32_t z, Loc) {
  fn().directives.reqntid = {x, y, z};
}
void KernelBuilder::maxntid(std::uint32_t x, std::uint32_t y, std::uint32_t z, Loc) {
  fn().directives.maxntid = {x, y, z};
}
void KernelBuilder::minnctapersm(std::uint32_t n, Loc) { fn().directives.minnctapersm = n; }
void KernelBuilder::maxnreg(std::uint32_t n, Loc) { fn().directives.maxnreg = n; }
void KernelBuilder::cluster_dims(std::uint32_t x, std::uint32_t y, std::uint32_t z, Loc) {
  fn().directives.cluster = {x, y, z};
}

// ---- Raw layer ----

void KernelBuilder::instr(std::string_view opcode, std::initializer_list<isa::Type> types, q::List quals,
                          std::initializer_list<Arg> operands, Loc loc) {
  const auto l = SourceLoc::from(loc);
  if (types.size() > 2) {
    diagnose(l, fmt::format("'{}': at most two types (destination, source)", opcode));
    return;
  }
  const auto t0 = types.size() > 0 ? *types.begin() : isa::Type::none;
  const auto t1 = types.size() > 1 ? *(types.begin() + 1) : isa::Type::none;
  std::vector<ir::Operand> ops;
  for (const auto& a : operands) ops.push_back(a.op);
  emit(opcode, t0, t1, q::apply({}, quals), std::move(ops), l);
}

void KernelBuilder::instr_if(Pred guard, std::string_view opcode, std::initializer_list<isa::Type> types,
                             q::List quals, std::initializer_list<Arg> operands, Loc loc) {
  const auto before = fn().body.size();
  instr(opcode, types, quals, operands, loc);
  if (fn().body.size() > before) fn().body.back().guard = ir::Operand::r(guard.id(), guard.negated());
}

Reg<u64> KernelBuilder::global_var(const std::string& name, std::uint32_t size, std::uint32_t align, Loc loc) {
  bool exists = false;
  for (const auto& g : module_.globals) exists |= g.name == name;
  if (!exists) module_.globals.push_back({name, size, align});
  auto r = fresh<u64>();
  emit_form("mov.symbol", isa::Type::u64, isa::Type::none, {}, {ir::Operand::r(r.id()), ir::Operand::sym(name)},
            SourceLoc::from(loc));
  return r;
}

// ---- Results ----

ir::Module KernelBuilder::build() {
  auto m = module_;
  // Device functions first: PTX needs a .func defined before its calls.
  std::stable_partition(m.functions.begin(), m.functions.end(), [](const ir::Function& f) { return !f.entry; });
  // The kernel ends with ret (a .func's body ends with its own).
  for (auto& f : m.functions)
    if (f.entry && (f.body.empty() || !f.body.back().form || f.body.back().form->id != "ret")) {
      ir::Instr r;
      r.form = &isa::form("ret");
      r.loc = f.body.empty() ? f.loc : f.body.back().loc;
      f.body.push_back(r);
    }
  auto all = diags_;
  auto v = verify(m);
  all.insert(all.end(), v.begin(), v.end());
  if (!all.empty()) throw DiagnosticError(std::move(all));
  return m;
}

std::string KernelBuilder::ptx() { return emit_ptx(build(), {.verify = false}); }

}  // namespace weft
