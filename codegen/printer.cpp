#include "codegen/printer.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <map>

#include "codegen/mnemonic.h"
#include "codegen/verify.h"

namespace weft {

namespace {

using isa::Type;
using OK = ir::Operand::Kind;

// Register classes, one PTX declaration each: `.reg .b32 %r<N>;`.
struct RegClass {
  Type decl;
  std::string_view prefix;
};
RegClass reg_class(Type t) {
  switch (isa::storage_type(t)) {
    case Type::pred: return {Type::pred, "%p"};
    case Type::b16: return {Type::b16, "%rs"};
    case Type::b32: return {Type::b32, "%r"};
    case Type::b64: return {Type::b64, "%rd"};
    case Type::f32: return {Type::f32, "%f"};
    case Type::f64: return {Type::f64, "%fd"};
    default: return {Type::b128, "%rq"};
  }
}

class FunctionPrinter {
 public:
  FunctionPrinter(const ir::Function& f, std::map<std::string, int>& files, const PrintOptions& o)
      : f_(f), files_(files), opts_(o) {
    std::map<std::string_view, std::uint32_t> next;
    names_.reserve(f.regs.size());
    for (auto t : f.regs) {
      auto c = reg_class(t);
      names_.push_back(fmt::format("{}{}", c.prefix, next[c.prefix]++));
    }
    for (auto& [p, n] : next) counts_[std::string(p)] = n;
  }

  void print(std::string& out) {
    out += f_.entry ? ".visible .entry " : ".visible .func ";
    if (f_.ret) out += "(" + param_decl(*f_.ret) + ") ";
    out += f_.name;
    out += "(";
    for (std::size_t i = 0; i < f_.params.size(); ++i) {
      out += i ? ",\n\t" : "\n\t";
      out += param_decl(f_.params[i]);
    }
    out += f_.params.empty() ? ")\n" : "\n)\n";
    print_directives(out);
    out += "{\n";
    for (const auto& [prefix, n] : counts_) {
      Type decl = Type::none;
      for (auto t : f_.regs)
        if (reg_class(t).prefix == prefix) decl = reg_class(t).decl;
      out += fmt::format("\t.reg .{} {}<{}>;\n", isa::name(decl), prefix, n);
    }
    for (const auto& s : f_.shared)
      if (!s.dynamic) out += fmt::format("\t.shared .align {} .b8 {}[{}];\n", s.align, s.name, s.size);
    for (const auto& p : f_.call_params) out += "\t" + param_decl(p) + ";\n";
    out += "\n";
    SourceLoc last{};
    for (const auto& in : f_.body) {
      if (!in.form) {
        out += fmt::format("{}:\n", label_name(in.label));
        continue;
      }
      if (opts_.line_info && in.loc.known() && (in.loc.line != last.line || in.loc.file != last.file)) {
        auto [it, _] = files_.emplace(in.loc.file, static_cast<int>(files_.size()) + 1);
        out += fmt::format("\t.loc {} {} {}\n", it->second, in.loc.line, in.loc.column);
        last = in.loc;
      }
      out += "\t";
      out += instruction(in);
      out += "\n";
    }
    out += "}\n";
  }

  std::string instruction(const ir::Instr& in) {
    std::string s;
    if (in.guard) s += fmt::format("@{}{} ", in.guard->negated ? "!" : "", names_[in.guard->reg]);
    s += mnemonic(in);
    std::vector<const isa::OperandSpec*> specs;
    for (const auto& sp : in.form->operands)
      if (operand_present(sp, in.quals)) specs.push_back(&sp);
    bool first = true;
    bool joined = false;
    for (std::size_t i = 0; i < in.ops.size(); ++i) {
      const auto* sp = i < specs.size() ? specs[i] : nullptr;
      const auto& o = in.ops[i];
      if (sp && sp->optional && o.kind == OK::symbol_list && o.names.empty()) continue;
      if (!joined) s += first ? " " : ", ";
      first = false;
      s += operand(o, sp, in);
      joined = sp && sp->pipe_next;
      if (joined) s += "|";
    }
    s += ";";
    return s;
  }

 private:
  static std::string param_decl(const ir::Param& p) {
    if (p.kind == sig::ParamKind::bytes) return fmt::format(".param .align {} .b8 {}[{}]", p.align, p.name, p.size);
    return fmt::format(".param .{} {}", isa::name(p.type), p.name);
  }

  std::string label_name(ir::LabelId l) const { return fmt::format("$L_{}_{}", l, f_.labels[l]); }

  std::string immediate(const ir::Operand& o, Type t) const {
    if (o.kind == OK::imm_float) {
      if (t == Type::f64) return fmt::format("0d{:016X}", std::bit_cast<std::uint64_t>(o.fvalue));
      return fmt::format("0f{:08X}", std::bit_cast<std::uint32_t>(static_cast<float>(o.fvalue)));
    }
    if (isa::info(t).kind == isa::TypeKind::signed_int || o.value >= 0) return fmt::format("{}", o.value);
    // A negative value for an unsigned or untyped operand: print its bits.
    const unsigned b = isa::bits(t) ? isa::bits(t) : 64;
    const std::uint64_t mask = b >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << b) - 1);
    return fmt::format("0x{:X}", static_cast<std::uint64_t>(o.value) & mask);
  }

  std::string operand(const ir::Operand& o, const isa::OperandSpec* sp, const ir::Instr& in) const {
    const Type t = sp ? expected_type(*sp, in.t0, in.t1) : Type::none;
    switch (o.kind) {
      case OK::reg: return fmt::format("{}{}", o.negated ? "!" : "", names_[o.reg]);
      case OK::imm_int:
      case OK::imm_float: return immediate(o, t);
      case OK::mem_reg:
        return o.value ? fmt::format("[{}+{}]", names_[o.reg], o.value) : fmt::format("[{}]", names_[o.reg]);
      case OK::mem_symbol: return o.value ? fmt::format("[{}+{}]", o.name, o.value) : fmt::format("[{}]", o.name);
      case OK::label: return label_name(o.label);
      case OK::symbol:
      case OK::sreg: return o.name;
      case OK::sink: return "_";
      case OK::reg_list: {
        std::string s = "{";
        for (std::size_t i = 0; i < o.regs.size(); ++i) s += (i ? ", " : "") + names_[o.regs[i]];
        return s + "}";
      }
      case OK::tensor_reg:
      case OK::tensor_symbol: {
        std::string s = "[" + (o.kind == OK::tensor_reg ? names_[o.reg] : o.name) + ", {";
        for (std::size_t i = 0; i < o.regs.size(); ++i) s += (i ? ", " : "") + names_[o.regs[i]];
        return s + "}]";
      }
      case OK::symbol_list: {
        std::string s = "(";
        for (std::size_t i = 0; i < o.names.size(); ++i) s += (i ? ", " : "") + o.names[i];
        return s + ")";
      }
    }
    return "?";
  }

  void print_directives(std::string& out) const {
    const auto& d = f_.directives;
    auto trio = [&](std::string_view name, const std::array<std::uint32_t, 3>& a) {
      if (a[0] || a[1] || a[2])
        out += fmt::format("{} {}, {}, {}\n", name, a[0] ? a[0] : 1, a[1] ? a[1] : 1, a[2] ? a[2] : 1);
    };
    trio(".maxntid", d.maxntid);
    trio(".reqntid", d.reqntid);
    if (d.minnctapersm) out += fmt::format(".minnctapersm {}\n", d.minnctapersm);
    if (d.maxnreg) out += fmt::format(".maxnreg {}\n", d.maxnreg);
    trio(".reqnctapercluster", d.cluster);
  }

  const ir::Function& f_;
  std::map<std::string, int>& files_;
  const PrintOptions& opts_;
  std::vector<std::string> names_;
  std::map<std::string, std::uint32_t> counts_;
};

ExternalPtxProvider g_external_ptx = nullptr;

}  // namespace

void set_external_ptx_provider(ExternalPtxProvider provider) { g_external_ptx = provider; }

std::string print_instruction(const ir::Function& f, const ir::Instr& in) {
  std::map<std::string, int> files;
  PrintOptions opts;
  return FunctionPrinter(f, files, opts).instruction(in);
}

sig::Signature signature_of(const ir::Module& m) {
  sig::Signature s;
  s.target = m.target.name();
  for (const auto& fn : m.functions) {
    if (!fn.entry) continue;
    sig::Kernel k;
    k.name = fn.name;
    for (const auto& p : fn.params)
      k.params.push_back({p.name, p.kind,
                          p.kind == sig::ParamKind::scalar    ? std::string(isa::name(p.type))
                          : p.kind == sig::ParamKind::pointer ? p.space
                          : p.tma_box.empty()                 ? "-"
                                                              : "tma",
                          p.size, p.align, p.pointee, p.tma_box});
    k.reqntid = fn.directives.reqntid;
    k.maxntid = fn.directives.maxntid;
    k.dynamic_smem = fn.directives.dynamic_smem;
    for (const auto& sh : fn.shared)
      if (sh.dynamic) k.uses_dynamic_smem = true;
    k.static_smem = fn.static_shared_bytes();
    for (int i = 0; i < 3; ++i) k.cluster[i] = fn.directives.cluster[i] ? fn.directives.cluster[i] : 1;
    s.kernels.push_back(std::move(k));
  }
  return s;
}

std::string emit_ptx(const ir::Module& m, const PrintOptions& opts) {
  if (opts.verify)
    if (auto diags = verify(m); !diags.empty()) throw DiagnosticError(std::move(diags));
  const auto version = required_ptx_version(m);
  if (version > isa::kMaxPtxVersion)
    throw DiagnosticError({{{}, fmt::format("the module needs PTX ISA {}, newer than the {} this weft supports",
                                            isa::format_ptx_version(version),
                                            isa::format_ptx_version(isa::kMaxPtxVersion))}});
  std::map<std::string, int> files;
  std::string body;
  for (const auto& g : m.globals)
    body += fmt::format(".visible .global .align {} .b8 {}[{}];\n", g.align, g.name, g.size);
  for (const auto& fn : m.functions) {
    for (const auto& sh : fn.shared)
      if (sh.dynamic) body += fmt::format(".extern .shared .align {} .b8 {}[];\n", sh.align, sh.name);
  }
  if (!body.empty()) body += "\n";
  // Libdevice functions first (all of them at once, from the LLVM backend): they call nothing of
  // the module, and device functions that use them must follow their definitions.
  for (const auto& fn : m.functions) {
    if (fn.libdevice.empty()) continue;
    if (!g_external_ptx)
      throw DiagnosticError({{fn.loc, fmt::format("'{}' needs libdevice ({}), which the direct printer gets from "
                                                  "the LLVM backend",
                                                  fn.name, fn.libdevice),
                              "link weft_llvm (build with WEFT_WITH_LLVM=ON) and write math calls with "
                              "codegen/llvm/math.h"}});
    body += g_external_ptx(m);
    body += "\n";
    break;
  }
  for (const auto& fn : m.functions) {
    if (!fn.libdevice.empty()) continue;
    FunctionPrinter(fn, files, opts).print(body);
    body += "\n";
  }
  std::string out = sig::format(signature_of(m));
  out += fmt::format("//\n// Generated by weft for {}\n\n", m.target.name());
  out += fmt::format(".version {}\n.target {}\n.address_size 64\n\n", isa::format_ptx_version(version),
                     m.target.name());
  // File indices are assigned while printing bodies; declare them before any use.
  std::vector<std::pair<int, std::string>> ordered;
  for (const auto& [file, idx] : files) ordered.emplace_back(idx, file);
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [idx, file] : ordered) out += fmt::format(".file {} \"{}\"\n", idx, file);
  if (!ordered.empty()) out += "\n";
  out += body;
  return out;
}

}  // namespace weft
