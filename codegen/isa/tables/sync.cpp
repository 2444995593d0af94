// Barriers, fences and sleeping (PTX ISA §9.7.13).
#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

std::vector<Form> sync() {
  const auto f = "sync";
  auto id = src_fixed(T::u32, "id");
  id.imm_min = 0;
  id.imm_max = 15;
  auto count = src_fixed(T::u32, "count");
  count.imm_min = 32;
  count.imm_max = 1024;
  count.imm_multiple_of = 32;  // ptxas: "must be in multiple of warp size"
  return {
      {.id = "bar.sync", .pattern = "bar.sync", .operands = {id}, .targets = all(), .min_ptx = 10,
       .family = f, .summary = "wait until all threads of the CTA reach named barrier id"},
      {.id = "bar.sync.count", .pattern = "bar.sync", .operands = {id, count}, .targets = all(),
       .min_ptx = 20, .family = f, .summary = "wait until count threads reach named barrier id"},
      {.id = "bar.arrive", .pattern = "bar.arrive", .operands = {id, count}, .targets = all(),
       .min_ptx = 20, .family = f, .summary = "arrive at named barrier id without waiting"},
      {.id = "barrier.sync", .pattern = "barrier.sync{aligned}", .operands = {id}, .targets = all(),
       .min_ptx = 60, .family = f, .summary = "wait at named barrier id (.aligned: all threads execute it)"},
      {.id = "barrier.sync.count", .pattern = "barrier.sync{aligned}", .operands = {id, count},
       .targets = all(), .min_ptx = 60, .family = f, .summary = "wait until count threads reach barrier id"},
      {.id = "barrier.arrive", .pattern = "barrier.arrive{aligned}", .operands = {id, count},
       .targets = all(), .min_ptx = 60, .family = f, .summary = "arrive at barrier id without waiting"},
      {.id = "bar.warp.sync", .pattern = "bar.warp.sync", .operands = {membermask()}, .targets = all(),
       .min_ptx = 60, .family = f, .summary = "synchronize the lanes of membermask"},
      {.id = "fence", .pattern = "fence{sem:sc|acq_rel}{!scope}", .targets = all(), .min_ptx = 60,
       .family = f, .summary = "memory fence at a scope (.sc: sequentially consistent)"},
      {.id = "membar", .pattern = "membar{!membar}", .targets = all(), .min_ptx = 10, .family = f,
       .summary = "memory barrier (.cta, .gl, .sys); same as fence.sc"},
      {.id = "nanosleep", .pattern = "nanosleep{T}", .types0 = {T::u32}, .operands = {src("t")},
       .targets = all(), .min_ptx = 63, .family = f, .summary = "suspend the thread for about t ns (up to 1 ms)"},
  };
}

}  // namespace weft::isa::tables
