// Atomics and reductions (PTX ISA §9.7.13.5 - §9.7.13.6): atom returns the old value, red does not.
// One row per operation group, since each group has its own legal types.
#include <deque>
#include <string>

#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
struct Group {
  std::string_view suffix;   // id suffix
  std::string_view op;       // pattern piece for the operation (atom)
  std::string_view red_op;   // the same for red, which has no exchange
  std::vector<Type> types;
  TargetSet targets;
  PtxVersion min_ptx;
  std::string_view what;
};

std::string_view keep(std::string s) {
  static std::deque<std::string> store;  // patterns and ids must outlive the table
  store.push_back(std::move(s));
  return store.back();
}
}  // namespace

std::vector<Form> atomic() {
  const auto f = "atomic";
  const std::string space = "{space:global|shared|shared::cta|shared::cluster}";
  const std::vector<Group> groups = {
      {"bit", "{!atomop:and|or|xor|exch}", "{!atomop:and|or|xor}", {T::b32, T::b64}, all(), 10, "bitwise and/or/xor, or exchange"},
      {"add", "{!atomop:add}", "{!atomop:add}", {T::u32, T::s32, T::u64, T::f32, T::f64}, all(), 10, "add"},
      {"incdec", "{!atomop:inc|dec}", "{!atomop:inc|dec}", {T::u32}, all(), 10, "wrapping increment/decrement"},
      {"minmax", "{!atomop:min|max}", "{!atomop:min|max}", {T::u32, T::s32, T::u64, T::s64}, all(), 10, "min/max"},
      {"add.f16", "{!atomop:add}.noftz", "{!atomop:add}.noftz", {T::f16, T::f16x2}, all(), 63, "add (half precision)"},
      {"add.bf16", "{!atomop:add}.noftz", "{!atomop:add}.noftz", {T::bf16, T::bf16x2}, sm(90), 78, "add (bfloat16)"},
  };
  std::vector<Form> v;
  for (const auto& g : groups) {
    v.push_back({.id = keep("atom." + std::string(g.suffix)),
                 .pattern = keep("atom{sem:relaxed|acquire|release|acq_rel}{scope}" + space +
                                 std::string(g.op) + "{T}"),
                 .types0 = g.types,
                 .operands = {dst(), address(), src("b")},
                 .targets = g.targets, .min_ptx = g.min_ptx, .family = f,
                 .summary = keep("atomic " + std::string(g.what) + "; d = the old value")});
    v.push_back({.id = keep("red." + std::string(g.suffix)),
                 .pattern = keep("red{sem:relaxed|release}{scope}" + space + std::string(g.red_op) + "{T}"),
                 .types0 = g.types,
                 .operands = {address(), src("b")},
                 .targets = g.targets, .min_ptx = g.min_ptx, .family = f,
                 .summary = keep("reduction " + std::string(g.what) + " in memory (no result)")});
  }
  v.push_back({.id = "atom.cas", .pattern = keep("atom{sem:relaxed|acquire|release|acq_rel}{scope}" + space + ".cas{T}"),
               .types0 = {T::b32, T::b64}, .operands = {dst(), address(), src("b"), src("c")},
               .targets = all(), .min_ptx = 10, .family = f,
               .summary = "compare and swap: d = old; if old == b then store c"});
  return v;
}

}  // namespace weft::isa::tables
