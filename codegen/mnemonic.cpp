#include "codegen/mnemonic.h"

namespace weft {

std::string mnemonic(const isa::Form& form, const isa::Quals& q, isa::Type t0, isa::Type t1) {
  using K = isa::Segment::Kind;
  std::string s;
  for (const auto& seg : form.segments) {
    switch (seg.kind) {
      case K::literal: s += seg.literal; break;
      case K::type0: s += "."; s += isa::name(t0); break;
      case K::type1: s += "."; s += isa::name(t1); break;
      case K::qual:
        if (q.has(seg.qual)) {
          s += ".";
          s += q.spelling(seg.qual);
        }
        break;
    }
  }
  return s;
}

isa::Type expected_type(const isa::OperandSpec& spec, isa::Type t0, isa::Type t1) {
  switch (spec.tref) {
    case isa::TypeRef::t0: return t0;
    case isa::TypeRef::t1: return t1;
    case isa::TypeRef::t0_wide: return isa::widened(t0).value_or(isa::Type::none);
    case isa::TypeRef::t0_half:
      return t0 == isa::Type::b64 ? isa::Type::b32 : t0 == isa::Type::b32 ? isa::Type::b16 : isa::Type::none;
    case isa::TypeRef::fixed: return spec.fixed;
  }
  return isa::Type::none;
}

unsigned operand_count(const isa::OperandSpec& spec, const isa::Quals& q) {
  if (spec.list) return spec.list;
  if (spec.vec) return q.has(isa::QualKind::vec) ? isa::qual_number(isa::QualKind::vec, q.get(isa::QualKind::vec)) : 0;
  if (spec.count_from != isa::QualKind::count_)
    return isa::qual_number(spec.count_from, q.get(spec.count_from)) * spec.count_mul / spec.count_div;
  return 0;
}

bool operand_present(const isa::OperandSpec& spec, const isa::Quals& q) {
  return spec.present_if == isa::QualKind::count_ || q.has(spec.present_if);
}

}  // namespace weft
