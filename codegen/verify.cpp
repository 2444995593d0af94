#include "codegen/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "codegen/isa/special_registers.h"
#include "codegen/mnemonic.h"
#include "codegen/verify_peer.h"

namespace weft {

namespace {

using isa::Type;
using OK = ir::Operand::Kind;

std::string describe_operand(const ir::Function& f, const ir::Operand& o) {
  switch (o.kind) {
    case OK::reg:
      return o.reg < f.regs.size() ? fmt::format("a {} register", isa::name(f.regs[o.reg])) : "an unknown register";
    case OK::imm_int: return fmt::format("the immediate {}", o.value);
    case OK::imm_float: return fmt::format("the immediate {}", o.fvalue);
    case OK::mem_reg:
    case OK::mem_symbol: return "a memory address";
    case OK::label: return "a label";
    case OK::symbol: return fmt::format("the symbol '{}'", o.name);
    case OK::sreg: return fmt::format("the special register {}", o.name);
    case OK::sink: return "the sink '_'";
    case OK::reg_list: return fmt::format("a list of {} registers", o.regs.size());
    case OK::symbol_list: return "a list of symbols";
    case OK::tensor_reg:
    case OK::tensor_symbol: return fmt::format("a tensor address with {} coordinates", o.regs.size());
  }
  return "?";
}

bool fits(std::int64_t v, Type t) {
  const unsigned b = isa::bits(t);
  if (b == 0 || b >= 64) return true;
  const auto k = isa::info(t).kind;
  if (k == isa::TypeKind::signed_int) return v >= -(std::int64_t{1} << (b - 1)) && v < (std::int64_t{1} << (b - 1));
  // unsigned and untyped: either a non-negative value or a negative one that fits as signed
  return v >= -(std::int64_t{1} << (b - 1)) && v < (std::int64_t{1} << b);
}

struct Checker {
  const ir::Function& f;
  const ir::Instr& in;
  const isa::Target& target;
  std::vector<Diagnostic>& out;
  std::string name_;
  // The instruction's spelling, built only when a message needs it (the common path has none).
  const std::string& name() {
    if (name_.empty()) name_ = mnemonic(in);
    return name_;
  }

  void error(std::string msg, std::string hint = "") { out.push_back({in.loc, std::move(msg), std::move(hint)}); }

  Type reg_type(ir::RegId r) { return r < f.regs.size() ? f.regs[r] : Type::none; }

  void check_reg(const isa::OperandSpec& s, ir::RegId r, Type want, std::string_view what) {
    if (r >= f.regs.size()) return error(fmt::format("{}: operand '{}' names an undeclared register", name(), s.name));
    if (!isa::operand_compatible(want, reg_type(r), s.may_widen))
      error(fmt::format("{}: operand '{}' expects {} {}, got a {} register", name(), s.name, what,
                        isa::name(want), isa::name(reg_type(r))),
            "convert with cvt, or reinterpret the bits with mov");
  }

  void check_immediate_range(const isa::OperandSpec& s, const ir::Operand& o) {
    if (!s.imm_values.empty()) {
      if (std::find(s.imm_values.begin(), s.imm_values.end(), o.value) != s.imm_values.end()) return;
      std::string allowed;
      for (auto v : s.imm_values) allowed += (allowed.empty() ? "" : ", ") + std::to_string(v);
      return error(fmt::format("{}: immediate {} for operand '{}' must be one of {}", name(), o.value, s.name, allowed));
    }
    if (o.value < s.imm_min || o.value > s.imm_max)
      return error(fmt::format("{}: immediate {} for operand '{}' is out of range [{}, {}]", name(), o.value, s.name,
                               s.imm_min, s.imm_max));
    if (s.imm_multiple_of && o.value % s.imm_multiple_of != 0)
      error(fmt::format("{}: immediate {} for operand '{}' must be a multiple of {}", name(), o.value, s.name,
                        s.imm_multiple_of));
  }

  void check_operand(const isa::OperandSpec& s, const ir::Operand& o) {
    const Type want = expected_type(s, in.t0, in.t1);
    auto wrong = [&](std::string_view expects) {
      error(fmt::format("{}: operand '{}' expects {}, got {}", name(), s.name, expects, describe_operand(f, o)));
    };
    const unsigned n = operand_count(s, in.quals);
    if (n > 0 && s.cls != isa::OpClass::tensor) {
      if (o.kind != OK::reg_list || o.regs.size() != n) return wrong(fmt::format("a list of {} registers", n));
      if (s.vec && n * isa::bits(in.t0) > 128)
        error(fmt::format("{}: a vector of {} x {} is wider than 128 bits", name(), n, isa::name(in.t0)),
              "use .v2 for 64-bit elements");
      for (auto r : o.regs) check_reg(s, r, want, "registers of type");
      // One register written twice by one instruction is ill-defined (ptxas C7308 on tcgen05.ld).
      if (s.role != isa::Role::read) {
        std::set<ir::RegId> seen;
        for (auto r : o.regs)
          if (!seen.insert(r).second)
            return error(fmt::format("{}: operand '{}' lists a register twice", name(), s.name),
                         "give each element its own register");
      }
      return;
    }
    switch (s.cls) {
      case isa::OpClass::reg:
        if (o.kind != OK::reg) return wrong(fmt::format("a {} register", isa::name(want)));
        return check_reg(s, o.reg, want, "a register of type");
      case isa::OpClass::sink_or_reg:
        if (o.kind == OK::sink) {
          if (s.sink_min_sm && target.sm < s.sink_min_sm)
            error(fmt::format("{}: the sink '_' for operand '{}' needs sm_{}+ (target {})", name(), s.name,
                              s.sink_min_sm, target.name()),
                  "give it a register");
          return;
        }
        if (o.kind != OK::reg) return wrong("a register or '_'");
        return check_reg(s, o.reg, want, "a register of type");
      case isa::OpClass::reg_or_imm:
        if (o.kind == OK::reg) return check_reg(s, o.reg, want, "a register or immediate of type");
        if (o.kind == OK::imm_int) {
          const auto k = isa::info(want).kind;
          if (k == isa::TypeKind::floating) return wrong(fmt::format("a {} register or a floating-point immediate", isa::name(want)));
          if (!fits(o.value, want))
            return error(fmt::format("{}: immediate {} does not fit operand '{}' of type {}", name(), o.value, s.name, isa::name(want)));
          return check_immediate_range(s, o);
        }
        if (o.kind == OK::imm_float) {
          if (want != Type::f32 && want != Type::f64)
            return wrong(fmt::format("a {} register or an integer immediate", isa::name(want)));
          return;
        }
        return wrong(fmt::format("a {} register or immediate", isa::name(want)));
      case isa::OpClass::imm:
        if (o.kind != OK::imm_int) return wrong("an integer immediate");
        return check_immediate_range(s, o);
      case isa::OpClass::pred:
        if (o.kind != OK::reg || reg_type(o.reg) != Type::pred) return wrong("a predicate register");
        if (o.negated && !s.negatable) error(fmt::format("{}: operand '{}' cannot be negated", name(), s.name));
        return;
      case isa::OpClass::mem:
        if (o.kind == OK::mem_symbol) return;
        if (o.kind != OK::mem_reg) return wrong("a memory address [reg+offset] or [symbol]");
        if (o.reg >= f.regs.size()) return wrong("an address in a declared register");
        if (s.fixed != Type::none) return check_reg(s, o.reg, s.fixed, "an address register of type");
        if (isa::bits(reg_type(o.reg)) == 32) {
          // 32-bit addresses are shared-memory window offsets; anywhere else the 64-bit ABI needs
          // 64-bit addresses (ptxas: "32-Bit ABI ... not supported" on sm_90+).
          const bool shared = s.shared_address || in.quals.spelling(isa::QualKind::space).starts_with("shared");
          if (!shared)
            error(fmt::format("{}: a 32-bit address for operand '{}' outside shared memory", name(), s.name),
                  "use a 64-bit address (Ptr<T, Global> / Generic)");
          return;
        }
        if (isa::bits(reg_type(o.reg)) != 64)
          error(fmt::format("{}: address register of operand '{}' must be 32 or 64 bits, got {}", name(), s.name,
                            isa::name(reg_type(o.reg))));
        return;
      case isa::OpClass::label:
        if (o.kind != OK::label) return wrong("a label");
        if (o.label >= f.labels.size()) error(fmt::format("{}: branch to an undeclared label", name()));
        return;
      case isa::OpClass::symbol:
        if (s.paren ? o.kind != OK::symbol_list : o.kind != OK::symbol) return wrong(s.paren ? "a list of symbols" : "a symbol");
        return;
      case isa::OpClass::tensor: {
        if (o.kind != OK::tensor_reg && o.kind != OK::tensor_symbol)
          return wrong(fmt::format("a tensor address [map, {{{} coordinates}}]", n));
        if (o.kind == OK::tensor_reg && isa::bits(reg_type(o.reg)) != 64)
          error(fmt::format("{}: the tensor map address of operand '{}' must be a 64-bit register", name(), s.name));
        if (o.regs.size() != n)
          return error(fmt::format("{}: operand '{}' needs {} coordinates, got {}", name(), s.name, n, o.regs.size()));
        for (auto r : o.regs) check_reg(s, r, Type::s32, "coordinates of type");
        return;
      }
      case isa::OpClass::sreg: {
        if (o.kind != OK::sreg) return wrong("a special register");
        const auto* sr = isa::find_special_register(o.name);
        if (!sr) return error(fmt::format("{}: unknown special register '{}'", name(), o.name));
        if (!sr->targets.contains(target))
          error(fmt::format("{} needs {} (target {})", sr->name, sr->targets.describe(), target.name()));
        if (sr->type != in.t0)
          error(fmt::format("{}: special register {} is {}, not {}", name(), sr->name, isa::name(sr->type), isa::name(in.t0)));
        return;
      }
    }
  }

  void run() {
    const auto& form = *in.form;
    if (!form.targets.contains(target))
      error(fmt::format("{} needs {} (target {})", name(), form.targets.describe(), target.name()),
            "emit this kernel for a target that has it, or use a portable alternative");
    auto type_ok = [](const std::vector<Type>& allowed, Type t) {
      return allowed.empty() ? t == Type::none : std::find(allowed.begin(), allowed.end(), t) != allowed.end();
    };
    auto list = [](const std::vector<Type>& ts) {
      std::string s;
      for (auto t : ts) s += (s.empty() ? "." : ", .") + std::string(isa::name(t));
      return s;
    };
    if (!type_ok(form.types0, in.t0))
      error(fmt::format("{}: type .{} is not allowed (allowed: {})", name(), isa::name(in.t0), list(form.types0)));
    if (!type_ok(form.types1, in.t1))
      error(fmt::format("{}: source type .{} is not allowed (allowed: {})", name(), isa::name(in.t1), list(form.types1)));
    // Qualifiers: each one set must have a slot that allows it; required slots must be set.
    for (std::size_t k = 0; k < isa::kQualKinds; ++k) {
      const auto kind = static_cast<isa::QualKind>(k);
      const auto v = in.quals.get(kind);
      const auto* slot = form.slot(kind);
      if (v == 0) {
        if (slot && slot->required)
          error(fmt::format("{}: needs a .{} qualifier", name(), isa::qual_kind_name(kind)));
        continue;
      }
      if (v > isa::qual_values(kind).size()) {
        error(fmt::format("{}: invalid value for qualifier kind {}", name(), isa::qual_kind_name(kind)));
        continue;
      }
      if (!slot || !slot->allowed.test(v - 1)) {
        error(fmt::format("{}: qualifier .{} is not allowed here", name(), in.quals.spelling(kind)),
              fmt::format("the form is {}", form.pattern));
        continue;
      }
      const auto req = isa::qual_requirement(kind, v);
      if (!req.targets.contains(target))
        error(fmt::format("{}: qualifier .{} needs {} (target {})", name(), in.quals.spelling(kind),
                          req.targets.describe(), target.name()));
    }
    for (const auto& [a, b] : form.exclusive)
      if (in.quals.has(a) && in.quals.has(b))
        error(fmt::format("{}: .{} and .{} cannot be combined", name(), in.quals.spelling(a), in.quals.spelling(b)));
    // Operands.
    std::vector<const isa::OperandSpec*> specs;
    for (const auto& s : form.operands)
      if (operand_present(s, in.quals)) specs.push_back(&s);
    if (specs.size() != in.ops.size()) {
      error(fmt::format("{}: expects {} operands, got {}", name(), specs.size(), in.ops.size()));
      return;
    }
    for (std::size_t i = 0; i < specs.size(); ++i) check_operand(*specs[i], in.ops[i]);
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i]->imm_at_most.empty() || in.ops[i].kind != OK::imm_int) continue;
      for (std::size_t j = 0; j < specs.size(); ++j)
        if (specs[j]->name == specs[i]->imm_at_most && in.ops[j].kind == OK::imm_int && in.ops[i].value > in.ops[j].value)
          error(fmt::format("{}: {} {} is more than {} {}", name(), specs[i]->name, in.ops[i].value, specs[j]->name,
                            in.ops[j].value));
    }
    if (in.guard && (in.guard->kind != OK::reg || reg_type(in.guard->reg) != Type::pred))
      error(fmt::format("{}: the guard must be a predicate register", name()));
    if (in.guard && !form.guardable)
      error(fmt::format("{} cannot be predicated", name()), "branch around it instead");
  }
};

void check_directives(const ir::Module& m, const ir::Function& fn, std::vector<Diagnostic>& out) {
  const auto& d = fn.directives;
  auto product = [](const std::array<std::uint32_t, 3>& a) {
    return std::uint64_t{a[0] ? a[0] : 1} * (a[1] ? a[1] : 1) * (a[2] ? a[2] : 1);
  };
  auto set = [](const std::array<std::uint32_t, 3>& a) { return a[0] || a[1] || a[2]; };
  if (set(d.maxntid) && set(d.reqntid))
    out.push_back({fn.loc, fmt::format("kernel '{}' sets both .maxntid and .reqntid", fn.name), "keep one"});
  for (const auto* a : {&d.maxntid, &d.reqntid})
    if (set(*a) && product(*a) > 1024)
      out.push_back({fn.loc, fmt::format("kernel '{}': {} threads per CTA is over the limit of 1024", fn.name, product(*a))});
  if (d.maxnreg && (d.maxnreg < 16 || d.maxnreg > 255))
    out.push_back({fn.loc, fmt::format("kernel '{}': .maxnreg {} is outside [16, 255]", fn.name, d.maxnreg)});
  if (set(d.cluster)) {
    const auto& req = isa::directive_requirement(".reqnctapercluster");
    if (!req.targets.contains(m.target))
      out.push_back({fn.loc, fmt::format("kernel '{}': thread-block clusters need {} (target {})", fn.name,
                                         req.targets.describe(), m.target.name())});
    if (product(d.cluster) > 16)
      out.push_back({fn.loc, fmt::format("kernel '{}': a cluster of {} CTAs is over the limit of 16", fn.name, product(d.cluster))});
  }
  std::uint64_t static_bytes = 0;
  std::set<std::string> names;
  for (const auto& p : fn.params)
    if (!names.insert(p.name).second)
      out.push_back({p.loc, fmt::format("kernel '{}': two parameters are named '{}'", fn.name, p.name)});
  for (const auto& s : fn.shared) {
    if (!names.insert(s.name).second)
      out.push_back({s.loc, fmt::format("'{}' is declared twice in '{}'", s.name, fn.name)});
    if (s.align == 0 || (s.align & (s.align - 1)))
      out.push_back({s.loc, fmt::format("shared array '{}': alignment {} is not a power of two", s.name, s.align)});
    if (!s.dynamic) {
      static_bytes = (static_bytes + s.align - 1) / (s.align ? s.align : 1) * (s.align ? s.align : 1) + s.size;
      if (static_bytes > isa::kMaxStaticSharedBytes)
        out.push_back({s.loc,
                       fmt::format("shared array '{}' brings static shared memory of '{}' to {} bytes, over the "
                                   "{}-byte limit",
                                   s.name, fn.name, static_bytes, isa::kMaxStaticSharedBytes),
                       "use dynamic shared memory (KernelBuilder::dynamic_shared) for more than 48 KiB"});
    }
  }
  // What a launch with the signature's dynamic bytes asks of the target: caught here, at emit, rather
  // than by the launch check on a GPU of that kind. Static memory as ptxas lays it out (rounded up to
  // the dynamic window's alignment).
  static_bytes = fn.static_shared_bytes();
  const std::uint64_t total = static_bytes + fn.directives.dynamic_smem, limit = m.target.max_shared_per_cta();
  if (total > limit) {
    auto where = fn.loc;
    for (const auto& s : fn.shared)
      if (s.dynamic) where = s.loc;
    out.push_back({where,
                   fmt::format("kernel '{}' needs {} bytes of shared memory per CTA ({} static + {} dynamic), over "
                               "the {} bytes a CTA may use on {}",
                               fn.name, total, static_bytes, fn.directives.dynamic_smem, limit, m.target.name()),
                   "ask for less on this target: fewer stages or buffers, or smaller tiles"});
  }
}

}  // namespace

std::vector<Diagnostic> verify_instr(const ir::Function& f, const ir::Instr& i, const isa::Target& t) {
  std::vector<Diagnostic> out;
  if (i.form) Checker{f, i, t, out, {}}.run();
  return out;
}

std::vector<Diagnostic> verify(const ir::Module& m) {
  std::vector<Diagnostic> out;
  std::set<std::string> fnames;
  for (const auto& fn : m.functions) {
    if (!fnames.insert(fn.name).second)
      out.push_back({fn.loc, fmt::format("two functions are named '{}'", fn.name)});
    check_directives(m, fn, out);
    // Qualifiers that must agree across the function (tcgen05 .cta_group).
    std::map<isa::QualKind, std::pair<std::uint8_t, SourceLoc>> uniform;
    std::vector<int> defined(fn.labels.size(), 0);
    std::vector<SourceLoc> used_at(fn.labels.size());
    std::vector<bool> used(fn.labels.size(), false);
    for (const auto& in : fn.body) {
      if (!in.form) {
        if (in.label < defined.size() && ++defined[in.label] == 2)
          out.push_back({in.loc, fmt::format("label '{}' is placed twice", fn.labels[in.label])});
        continue;
      }
      Checker{fn, in, m.target, out, {}}.run();
      if (const auto k = in.form->uniform_in_function; k != isa::QualKind::count_ && in.quals.has(k)) {
        auto [it, first] = uniform.try_emplace(k, in.quals.get(k), in.loc);
        if (!first && it->second.first != in.quals.get(k))
          out.push_back({in.loc,
                         fmt::format("{}: .{} here, but line {} uses .{}; one function must use one", mnemonic(in),
                                     in.quals.spelling(k), it->second.second.line,
                                     isa::qual_values(k)[it->second.first - 1]),
                         "split the work into functions per CTA group"});
      }
      for (const auto& o : in.ops)
        if (o.kind == OK::label && o.label < used.size() && !used[o.label]) {
          used[o.label] = true;
          used_at[o.label] = in.loc;
        }
      if (in.form->id == "call") {
        const auto& callee = in.ops[1].name;
        if (!m.find(callee))
          out.push_back({in.loc, fmt::format("call to '{}', which this module does not define", callee),
                         "define the device function in the same module before calling it"});
      }
    }
    check_peer_accesses(fn, out);
    for (std::size_t l = 0; l < used.size(); ++l)
      if (used[l] && defined[l] == 0)
        out.push_back({used_at[l], fmt::format("branch to label '{}', which is never placed", fn.labels[l]),
                       "place it with KernelBuilder::place(label)"});
  }
  return out;
}

isa::PtxVersion required_ptx_version(const ir::Module& m) {
  isa::PtxVersion v = m.target.min_ptx_version();
  for (const auto& fn : m.functions) {
    if (fn.directives.cluster[0] || fn.directives.cluster[1] || fn.directives.cluster[2])
      v = std::max(v, isa::directive_requirement(".reqnctapercluster").min_ptx);
    for (const auto& in : fn.body) {
      if (!in.form) continue;
      v = std::max(v, in.form->min_ptx_for(m.target, in.quals));
      for (const auto& o : in.ops)
        if (o.kind == OK::sreg)
          if (const auto* sr = isa::find_special_register(o.name)) v = std::max(v, sr->min_ptx);
    }
  }
  return v;
}

}  // namespace weft
