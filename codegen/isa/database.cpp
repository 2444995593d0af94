#include "codegen/isa/database.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "codegen/isa/tables/tables.h"

namespace weft::isa {

std::string_view opcode(const Form& f) {
  auto p = f.pattern;
  return p.substr(0, p.find('{'));
}

namespace {
struct Db {
  std::vector<Form> rows;
  std::unordered_map<std::string_view, std::size_t> by_id;
  // Rows per opcode, in table order: resolve() looks at a handful of rows, not all of them.
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_opcode;
};

const Db& db() {
  static const Db instance = [] {
    Db d;
    for (auto table : {tables::integer_arith, tables::float_arith, tables::logic, tables::compare,
                       tables::convert, tables::memory, tables::atomic, tables::sync, tables::warp,
                       tables::control, tables::async_copy, tables::matrix, tables::tcgen05}) {
      for (auto& f : table()) d.rows.push_back(std::move(f));
    }
    for (std::size_t i = 0; i < d.rows.size(); ++i) {
      auto& f = d.rows[i];
      f.index = static_cast<std::uint16_t>(i);
      f.segments = parse_pattern(f.id, f.pattern);
      f.slot_of.fill(-1);
      for (std::size_t s = 0; s < f.segments.size(); ++s)
        if (f.segments[s].kind == Segment::Kind::qual)
          f.slot_of[static_cast<std::size_t>(f.segments[s].qual)] = static_cast<std::int8_t>(s);
      if (!d.by_id.emplace(f.id, i).second)
        throw std::logic_error("weft: instruction form id '" + std::string(f.id) + "' is used twice");
      bool has_t0 = false, has_t1 = false;
      for (const auto& s : f.segments) {
        has_t0 |= s.kind == Segment::Kind::type0;
        has_t1 |= s.kind == Segment::Kind::type1;
      }
      if (has_t0 != !f.types0.empty() || has_t1 != !f.types1.empty())
        throw std::logic_error("weft: instruction form '" + std::string(f.id) +
                               "': its pattern's {T}/{U} and its type lists disagree");
      if (f.targets.empty())
        throw std::logic_error("weft: instruction form '" + std::string(f.id) + "' has no target");
      d.by_opcode[opcode(f)].push_back(i);
    }
    return d;
  }();
  return instance;
}
}  // namespace

std::span<const Form> forms() { return db().rows; }

const Form* find_form(std::string_view id) {
  const auto& d = db();
  auto it = d.by_id.find(id);
  return it == d.by_id.end() ? nullptr : &d.rows[it->second];
}

const Form& form(std::string_view id) {
  if (const Form* f = find_form(id)) return *f;
  throw std::logic_error("weft: no instruction form '" + std::string(id) + "'");
}

}  // namespace weft::isa

namespace weft::isa {

const Form* resolve(std::string_view op, Type t0, Type t1, const Quals& q) {
  auto has = [](const std::vector<Type>& ts, Type t) {
    return ts.empty() ? t == Type::none : std::find(ts.begin(), ts.end(), t) != ts.end();
  };
  const auto& d = db();
  auto it = d.by_opcode.find(op);
  if (it == d.by_opcode.end()) return nullptr;
  for (auto index : it->second) {
    const auto& f = d.rows[index];
    if (!has(f.types0, t0) || !has(f.types1, t1)) continue;
    bool fits = true;
    for (std::size_t k = 0; k < kQualKinds && fits; ++k) {
      const auto kind = static_cast<QualKind>(k);
      const auto* s = f.slot(kind);
      const auto v = q.get(kind);
      if (v == 0) fits = !(s && s->required);
      else fits = s && s->allowed.test(v - 1);
    }
    if (fits) return &f;
  }
  return nullptr;
}

}  // namespace weft::isa
