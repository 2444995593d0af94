#include "codegen/isa/form.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace weft::isa {

namespace {
[[noreturn]] void bad(std::string_view id, const std::string& why) {
  throw std::logic_error("weft: instruction form '" + std::string(id) + "': " + why);
}
}  // namespace

std::vector<Segment> parse_pattern(std::string_view id, std::string_view p) {
  std::vector<Segment> out;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] != '{') {
      size_t j = p.find('{', i);
      if (j == std::string_view::npos) j = p.size();
      Segment s;
      s.literal = std::string(p.substr(i, j - i));
      out.push_back(std::move(s));
      i = j;
      continue;
    }
    size_t close = p.find('}', i);
    if (close == std::string_view::npos) bad(id, "unclosed '{' in pattern");
    std::string_view body = p.substr(i + 1, close - i - 1);
    i = close + 1;
    Segment s;
    if (body == "T" || body == "U") {
      s.kind = body == "T" ? Segment::Kind::type0 : Segment::Kind::type1;
      out.push_back(std::move(s));
      continue;
    }
    s.kind = Segment::Kind::qual;
    if (!body.empty() && body[0] == '!') {
      s.required = true;
      body.remove_prefix(1);
    }
    std::string_view kind_name = body, values;
    if (auto colon = body.find(':'); colon != std::string_view::npos &&
                                     body.substr(colon, 2) != "::") {
      kind_name = body.substr(0, colon);
      values = body.substr(colon + 1);
    }
    auto kind = qual_kind_from_name(kind_name);
    if (!kind) bad(id, "unknown qualifier kind '" + std::string(kind_name) + "'");
    s.qual = *kind;
    if (values.empty()) {
      for (std::size_t i = 0; i < qual_values(*kind).size(); ++i) s.allowed.set(i);
    } else {
      size_t k = 0;
      while (k <= values.size()) {
        size_t bar = values.find('|', k);
        if (bar == std::string_view::npos) bar = values.size();
        auto v = values.substr(k, bar - k);
        auto idx = qual_value_index(*kind, v);
        if (idx == 0) bad(id, "qualifier kind '" + std::string(kind_name) + "' has no value '" +
                                  std::string(v) + "'");
        s.allowed.set(idx - 1);
        k = bar + 1;
      }
    }
    for (const auto& prev : out)
      if (prev.kind == Segment::Kind::qual && prev.qual == s.qual)
        bad(id, "qualifier kind '" + std::string(kind_name) + "' appears twice");
    out.push_back(std::move(s));
  }
  return out;
}

bool Form::takes(QualKind k) const { return slot(k) != nullptr; }

const Segment* Form::slot(QualKind k) const {
  const auto i = slot_of[static_cast<std::size_t>(k)];
  return i < 0 ? nullptr : &segments[static_cast<std::size_t>(i)];
}

PtxVersion Form::min_ptx_for(const Target& t) const {
  PtxVersion v = min_ptx;
  for (const auto& [name, ver] : ptx_on_target)
    if (name == t.name() && ver > v) v = ver;
  return v;
}

PtxVersion Form::min_ptx_for(const Target& t, const Quals& q) const {
  PtxVersion v = min_ptx_for(t);
  for (std::size_t k = 0; k < kQualKinds; ++k) {
    const auto kind = static_cast<QualKind>(k);
    if (!q.has(kind)) continue;
    v = std::max(v, qual_requirement(kind, q.get(kind)).min_ptx);
    for (const auto& [qk, ver] : qual_min_ptx)
      if (qk == kind) v = std::max(v, ver);
  }
  return v;
}

QualRequirement qual_requirement(QualKind k, std::uint8_t value) {
  if (value == 0) return {TargetSet::all(), 0};
  const std::string_view v = qual_values(k)[value - 1];
  switch (k) {
    case QualKind::scope:
      if (v == "cluster") return {TargetSet::from_sm(90), 78};
      return {TargetSet::all(), 60};
    case QualKind::space:
      if (v == "shared::cluster") return {TargetSet::from_sm(90), 78};
      if (v == "shared::cta") return {TargetSet::all(), 78};
      break;
    case QualKind::l1evict:
    case QualKind::l2hint:
    case QualKind::prefetch:
      return {TargetSet::all(), 74};
    case QualKind::sem:
      if (v == "mmio") return {TargetSet::all(), 82};
      break;
    default:
      break;
  }
  return {TargetSet::all(), 0};
}

}  // namespace weft::isa
