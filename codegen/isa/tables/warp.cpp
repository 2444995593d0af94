// Warp-level operations (PTX ISA §9.7.9.6, §9.7.13.8 - §9.7.13.12).
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> warp() {
  const auto f = "warp";
  auto elect_d = OperandSpec{.name = "d", .cls = OpClass::sink_or_reg, .role = Role::write,
                             .tref = TypeRef::fixed, .fixed = T::b32, .pipe_next = true};
  return {
      {.id = "shfl.sync", .pattern = "shfl.sync{!shfl}{T}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), src_fixed(T::u32, "b"), src_fixed(T::u32, "c"), membermask()},
       .targets = all(), .min_ptx = 60, .family = f,
       .summary = "d = a from another lane (b: lane or offset, c: clamp and segment mask)"},
      {.id = "vote.sync", .pattern = "vote.sync{!vote:all|any|uni}{T}", .types0 = {T::pred},
       .operands = {pred_dst("d"), pred_src("a"), membermask()}, .targets = all(), .min_ptx = 60,
       .family = f, .summary = "d = whether a holds in all / any lane, or is uniform"},
      {.id = "vote.sync.ballot", .pattern = "vote.sync{!vote:ballot}{T}", .types0 = {T::b32},
       .operands = {dst(), pred_src("a"), membermask()}, .targets = all(), .min_ptx = 60, .family = f,
       .summary = "d = bit mask of the lanes where a holds"},
      {.id = "match.any.sync", .pattern = "match.any.sync{T}", .types0 = {T::b32, T::b64},
       .operands = {dst_fixed(T::b32), src_reg("a"), membermask()}, .targets = all(), .min_ptx = 60,
       .family = f, .summary = "d = mask of the lanes whose a equals this lane's a"},
      {.id = "match.all.sync", .pattern = "match.all.sync{T}", .types0 = {T::b32, T::b64},
       .operands = {dst_fixed(T::b32), src_reg("a"), membermask()}, .targets = all(), .min_ptx = 60,
       .family = f, .summary = "d = membermask if all lanes' a are equal, else 0"},
      {.id = "redux.sync.arith", .pattern = "redux.sync{!atomop:add|min|max}{T}", .types0 = {T::u32, T::s32},
       .operands = {dst(), src_reg("a"), membermask()}, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "d = sum / min / max of a over the lanes"},
      {.id = "redux.sync.bit", .pattern = "redux.sync{!atomop:and|or|xor}{T}", .types0 = {T::b32},
       .operands = {dst(), src_reg("a"), membermask()}, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "d = and / or / xor of a over the lanes"},
      {.id = "elect.sync", .pattern = "elect.sync", .operands = {elect_d, pred_dst("p"), membermask()},
       .targets = sm(90), .min_ptx = 80, .family = f,
       .summary = "elect one lane: p is true in it, d is its lane number"},
      {.id = "activemask", .pattern = "activemask{T}", .types0 = {T::b32}, .operands = {dst()},
       .targets = all(), .min_ptx = 62, .family = f, .summary = "d = mask of the active lanes"},
  };
}

}  // namespace weft::isa::tables
