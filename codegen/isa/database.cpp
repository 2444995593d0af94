#include "codegen/isa/database.h"

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "codegen/isa/tables/tables.h"

namespace weft::isa {

namespace {
struct Db {
  std::vector<Form> rows;
  std::unordered_map<std::string_view, std::size_t> by_id;
};

const Db& db() {
  static const Db instance = [] {
    Db d;
    for (auto table : {tables::integer_arith, tables::float_arith, tables::logic, tables::compare,
                       tables::convert, tables::memory, tables::atomic, tables::sync, tables::warp,
                       tables::control}) {
      for (auto& f : table()) d.rows.push_back(std::move(f));
    }
    for (std::size_t i = 0; i < d.rows.size(); ++i) {
      auto& f = d.rows[i];
      f.index = static_cast<std::uint16_t>(i);
      f.segments = parse_pattern(f.id, f.pattern);
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
