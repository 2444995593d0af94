// Warp specialisation, declared: roles of whole warpgroups, each with a register budget and a body.
//
//   warp_roles(k, {
//       {.name = "producer", .warpgroups = 1, .registers = 40,  .body = [&](const RoleContext& r) { ... }},
//       {.name = "consumer", .warpgroups = 2, .registers = 232, .body = [&](const RoleContext& r) { ... }},
//   });
//
// weft emits the dispatch on the warpgroup index, `setmaxnreg.dec/inc` to each role's budget (on `a`
// targets, the only ones that have it; elsewhere the budgets are checked but not applied), a named
// barrier per role (RoleContext::sync) and per warpgroup of a role of several
// (RoleContext::sync_warpgroup), and the launch bounds (.maxntid + .minnctapersm 1) without
// which ptxas silently drops setmaxnreg (info C7508). Checked: budgets are multiples of 8 in
// [24, 256], the CTA's registers fit 64K, and the roles cover the block exactly.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dsl/kernel_builder.h"

namespace weft {

struct RoleContext {
  KernelBuilder* k = nullptr;
  std::string name;
  Reg<u32> warpgroup;       // index of this warpgroup within the role (0..warpgroups-1)
  Reg<u32> thread;          // thread index within the role (0..threads-1)
  std::uint32_t threads = 0;
  std::uint32_t barrier_id = 0;  // the role's named barrier
  std::uint32_t warpgroup_barrier_base = 0;  // roles of several warpgroups: warpgroup w's barrier is base + w
  std::uint32_t free_barrier = 0;  // the first named barrier id warp_roles does not use (up to last_named_barrier())
  // bar.sync on the role's named barrier: every thread of this role, no one else.
  void sync(Loc loc = Loc::current()) const;
  // bar.sync on this warpgroup's own named barrier: its 128 threads, no one else (the role's barrier
  // when the role is one warpgroup).
  void sync_warpgroup(Loc loc = Loc::current()) const;
};

struct WarpRole {
  std::string name;
  std::uint32_t warpgroups = 1;
  std::uint32_t registers = 0;  // per thread; 0: keep the launch allocation (no setmaxnreg)
  std::function<void(const RoleContext&)> body;
};

inline constexpr std::uint32_t kWarpgroupThreads = 128;
inline constexpr std::uint32_t kRegisterFile = 64 * 1024;  // 32-bit registers per SM

void warp_roles(KernelBuilder& k, const std::vector<WarpRole>& roles, Loc loc = Loc::current());

// The highest named barrier id (bar.sync's id operand in the instruction database: 15; id 0 is the
// CTA barrier), for kernels that take ids after RoleContext::free_barrier.
std::uint32_t last_named_barrier();

}  // namespace weft
