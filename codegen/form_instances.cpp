#include "codegen/form_instances.h"

#include <algorithm>

#include "codegen/isa/database.h"
#include "codegen/mnemonic.h"

namespace weft {

namespace {

using isa::Type;

constexpr const char* kParamBuf = "weft_pbuf";
constexpr const char* kCallBuf = "weft_cbuf";
constexpr const char* kShared = "weft_smem";
constexpr const char* kCallee = "weft_callee";

bool is_shared_space(std::string_view s) { return s.starts_with("shared"); }

struct Maker {
  FormScratch& sc;
  ir::Function& fn;
  const isa::Form& form;
  bool use_immediates = false;

  ir::Operand reg_of(Type t) { return ir::Operand::r(fn.new_reg(reg_type_for(t))); }

  ir::Operand make(const isa::OperandSpec& s, const ir::Instr& in) {
    const Type t = expected_type(s, in.t0, in.t1);
    const unsigned n = operand_count(s, in.quals);
    if (s.cls == isa::OpClass::tensor) {
      std::vector<ir::RegId> coords(n);
      for (auto& r : coords) r = fn.new_reg(Type::s32);
      return ir::Operand::tensor(fn.new_reg(Type::u64), coords);
    }
    if (n > 0) {
      std::vector<ir::RegId> rs(n);
      for (auto& r : rs) r = fn.new_reg(reg_type_for(t));
      return ir::Operand::list(rs);
    }
    if (!s.imm_values.empty() && (s.cls == isa::OpClass::imm || use_immediates))
      return ir::Operand::imm(use_immediates ? s.imm_values.back() : s.imm_values.front());
    switch (s.cls) {
      case isa::OpClass::reg: return reg_of(t);
      case isa::OpClass::sink_or_reg:
        if (s.sink_min_sm && sc.module.target.sm < s.sink_min_sm) return reg_of(s.fixed);
        return ir::Operand::sink();
      case isa::OpClass::reg_or_imm:
        if (use_immediates && isa::info(t).kind != isa::TypeKind::fp8 && isa::bits(t) >= 16 &&
            t != Type::f16 && t != Type::bf16 && t != Type::f16x2 && t != Type::bf16x2 && t != Type::tf32) {
          if (t == Type::f32 || t == Type::f64) return ir::Operand::fimm(1.5);
          // barrier ids and thread counts have their own ranges
          if (s.imm_multiple_of) return ir::Operand::imm(s.imm_multiple_of * 2);
          return ir::Operand::imm(s.imm_max < 1000 ? std::min<std::int64_t>(1, s.imm_max) : 3);
        }
        return reg_of(t);
      case isa::OpClass::imm:
        return ir::Operand::imm(std::clamp<std::int64_t>(0xF0, s.imm_min, s.imm_max));
      case isa::OpClass::pred: return ir::Operand::r(fn.new_reg(Type::pred));
      case isa::OpClass::mem: {
        const auto space = in.quals.spelling(isa::QualKind::space);
        if (space == "param")
          return ir::Operand::mem(form.id == "st.param" ? kCallBuf : kParamBuf);
        if (s.fixed != Type::none) return ir::Operand::mem(fn.new_reg(s.fixed));
        return ir::Operand::mem(fn.new_reg(is_shared_space(space) ? Type::u32 : Type::u64));
      }
      case isa::OpClass::label: return ir::Operand::lab(sc.label);
      case isa::OpClass::symbol:
        if (s.paren) return ir::Operand::symbols({s.role == isa::Role::write ? "weft_cret" : "weft_carg"});
        return ir::Operand::sym(form.id == "call" ? kCallee : kShared);
      case isa::OpClass::sreg: return ir::Operand::special(in.t0 == Type::u64 ? "%clock64" : "%tid.x");
      case isa::OpClass::tensor: break;  // made above, before the immediates
    }
    return reg_of(t);
  }

  ir::Instr instance(Type t0, Type t1, const isa::Quals& q) {
    ir::Instr in;
    in.form = &form;
    in.t0 = t0;
    in.t1 = t1;
    in.quals = q;
    for (const auto& s : form.operands)
      if (operand_present(s, q)) in.ops.push_back(make(s, in));
    return in;
  }
};

std::uint8_t first_allowed(const isa::Segment& s) {
  for (std::size_t i = 0; i < s.allowed.size(); ++i)
    if (s.allowed.test(i)) return static_cast<std::uint8_t>(i + 1);
  return 0;
}

std::vector<std::uint8_t> allowed_values(const isa::Segment& s) {
  std::vector<std::uint8_t> v;
  for (std::size_t i = 0; i < s.allowed.size(); ++i)
    if (s.allowed.test(i)) v.push_back(static_cast<std::uint8_t>(i + 1));
  return v;
}

}  // namespace

Type reg_type_for(Type t) {
  switch (t) {
    case Type::b8: return Type::b16;
    case Type::u8: return Type::u16;
    case Type::s8: return Type::s16;
    default: return t;
  }
}

FormScratch::FormScratch(const isa::Target& t) {
  module.target = t;
  // A device function for `call` to call: (.param .b32 r) weft_callee(.param .b32 a).
  ir::Function callee;
  callee.name = kCallee;
  callee.entry = false;
  callee.params.push_back({"weft_a", sig::ParamKind::scalar, Type::b32, 4, 4});
  callee.ret = ir::Param{"weft_r", sig::ParamKind::scalar, Type::b32, 4, 4};
  {
    auto r = callee.new_reg(Type::b32);
    ir::Instr ld{&isa::form("ld.param"), Type::b32};
    ld.quals.set(isa::QualKind::space, "param");
    ld.ops = {ir::Operand::r(r), ir::Operand::mem("weft_a")};
    ir::Instr st{&isa::form("st.param"), Type::b32};
    st.quals.set(isa::QualKind::space, "param");
    st.ops = {ir::Operand::mem("weft_r"), ir::Operand::r(r)};
    ir::Instr ret{&isa::form("ret")};
    callee.body = {ld, st, ret};
  }
  module.functions.push_back(std::move(callee));
  ir::Function k;
  k.name = "weft_forms";
  k.params.push_back({kParamBuf, sig::ParamKind::bytes, Type::b8, 64, 16});
  k.call_params.push_back({kCallBuf, sig::ParamKind::bytes, Type::b8, 64, 16});
  k.call_params.push_back({"weft_cret", sig::ParamKind::scalar, Type::b32, 4, 4});
  k.call_params.push_back({"weft_carg", sig::ParamKind::scalar, Type::b32, 4, 4});
  k.shared.push_back({kShared, 256, 16, false});
  module.functions.push_back(std::move(k));
  kernel = &module.functions.back();
  label = kernel->new_label("end");
}

void FormScratch::finish() {
  ir::Instr place;
  place.label = label;
  kernel->body.push_back(place);
  kernel->body.push_back(ir::Instr{&isa::form("exit")});
}

std::vector<ir::Instr> form_instances(const isa::Form& form, FormScratch& sc, Coverage c) {
  Maker mk{sc, *sc.kernel, form};
  isa::Quals base;
  std::vector<const isa::Segment*> slots;
  for (const auto& s : form.segments) {
    if (s.kind != isa::Segment::Kind::qual) continue;
    slots.push_back(&s);
    if (s.required) base.set(s.qual, first_allowed(s));
  }
  const Type b0 = form.types0.empty() ? Type::none : form.types0[0];
  const Type b1 = form.types1.empty() ? Type::none : form.types1[0];
  std::vector<ir::Instr> out;
  out.push_back(mk.instance(b0, b1, base));
  if (c == Coverage::canonical) return out;

  // Every type pair, with registers and (where the form takes them) immediates.
  const std::vector<Type> t0s = form.types0.empty() ? std::vector<Type>{Type::none} : form.types0;
  const std::vector<Type> t1s = form.types1.empty() ? std::vector<Type>{Type::none} : form.types1;
  for (auto t0 : t0s)
    for (auto t1 : t1s) {
      out.push_back(mk.instance(t0, t1, base));
      mk.use_immediates = true;
      out.push_back(mk.instance(t0, t1, base));
      mk.use_immediates = false;
    }
  // Every qualifier value alone, and every pair; types cycle so each pair meets some type.
  std::size_t turn = 0;
  auto next_types = [&] {
    ++turn;
    return std::pair{t0s[turn % t0s.size()], t1s[(turn / t0s.size()) % t1s.size()]};
  };
  for (std::size_t a = 0; a < slots.size(); ++a) {
    for (auto va : allowed_values(*slots[a])) {
      isa::Quals q = base;
      q.set(slots[a]->qual, va);
      for (auto t0 : t0s) out.push_back(mk.instance(t0, t1s[0], q));
      for (std::size_t b = a + 1; b < slots.size(); ++b)
        for (auto vb : allowed_values(*slots[b])) {
          isa::Quals q2 = q;
          q2.set(slots[b]->qual, vb);
          auto [t0, t1] = next_types();
          out.push_back(mk.instance(t0, t1, q2));
        }
    }
  }
  return out;
}

}  // namespace weft
