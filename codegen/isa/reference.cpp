#include "codegen/isa/reference.h"

#include <fmt/format.h>

#include <map>

#include "codegen/isa/database.h"
#include "codegen/isa/special_registers.h"

namespace weft::isa {

namespace {
std::string types_of(const std::vector<Type>& ts) {
  std::string s;
  for (auto t : ts) s += (s.empty() ? "" : " ") + std::string(name(t));
  return s.empty() ? "-" : s;
}
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}
}  // namespace

std::string reference_markdown() {
  std::string s =
      "# Instruction reference\n\n"
      "Generated from weft's instruction database (`weft reference > docs/reference.md`); a test keeps this page "
      "equal to the database. Each row is one instruction form: its PTX pattern (`{kind}` an optional qualifier, "
      "`{!kind}` a required one, `{kind:a|b}` restricted values, `{T}`/`{U}` the types), the types it takes, "
      "the targets that accept it and the lowest PTX ISA version. Every form is assembled by ptxas on every "
      "target it claims in the tests (the ptxas matrix).\n\n"
      "The DSL reaches every row through `k.instr(opcode, {types}, {qualifiers}, {operands})`, and the common ones "
      "through typed calls and operators (see docs/dsl.md).\n";
  std::map<std::string_view, std::vector<const Form*>> by_family;
  std::vector<std::string_view> order;
  for (const auto& f : forms()) {
    if (!by_family.count(f.family)) order.push_back(f.family);
    by_family[f.family].push_back(&f);
  }
  for (auto fam : order) {
    s += fmt::format("\n## {}\n\n| form | PTX pattern | types | targets | min PTX | what it does |\n|---|---|---|---|---|---|\n", fam);
    for (const auto* f : by_family[fam]) {
      std::string types = types_of(f->types0);
      if (!f->types1.empty()) types += " ← " + types_of(f->types1);
      std::string ver = format_ptx_version(f->min_ptx);
      for (const auto& [t, v] : f->ptx_on_target) ver += fmt::format(" ({}: {})", t, format_ptx_version(v));
      for (const auto& [k, v] : f->qual_min_ptx) ver += fmt::format(" (.{}: {})", qual_kind_name(k), format_ptx_version(v));
      s += fmt::format("| `{}` | `{}` | {} | {} | {} | {} |\n", f->id, escape(f->pattern), types, f->targets.describe(),
                       ver, escape(f->summary));
    }
  }
  s += "\n## Qualifier values\n\n| kind | values |\n|---|---|\n";
  for (std::size_t k = 0; k < kQualKinds; ++k) {
    std::string vals;
    for (auto v : qual_values(static_cast<QualKind>(k))) vals += (vals.empty() ? "." : " .") + std::string(v);
    s += fmt::format("| {} | {} |\n", qual_kind_name(static_cast<QualKind>(k)), vals);
  }
  s += "\n## Special registers\n\n| register | type | targets | min PTX | meaning |\n|---|---|---|---|---|\n";
  for (const auto& r : special_registers())
    s += fmt::format("| `{}` | {} | {} | {} | {} |\n", r.name, name(r.type), r.targets.describe(),
                     format_ptx_version(r.min_ptx), r.summary);
  return s;
}

}  // namespace weft::isa
