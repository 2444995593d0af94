#include "dsl/async/warp_roles.h"

#include <fmt/format.h>

#include "codegen/isa/database.h"
#include "dsl/ops.h"

namespace weft {

std::uint32_t last_named_barrier() {
  return static_cast<std::uint32_t>(isa::form("bar.sync").operands.front().imm_max);
}

void RoleContext::sync(Loc loc) const { k->bar_sync(barrier_id, threads, loc); }

void RoleContext::sync_warpgroup(Loc loc) const {
  if (threads == kWarpgroupThreads) return sync(loc);
  k->bar_sync(warpgroup + warpgroup_barrier_base, kWarpgroupThreads, loc);
}

void warp_roles(KernelBuilder& k, const std::vector<WarpRole>& roles, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  const auto l = SourceLoc::from(loc);
  std::uint32_t threads = 0;
  std::uint64_t registers = 0;
  bool budgets = false;
  for (const auto& r : roles) {
    if (r.warpgroups == 0) k.diagnose(l, fmt::format("role '{}' has no warpgroups", r.name));
    if (r.registers && (r.registers % 8 || r.registers < 24 || r.registers > 256))
      k.diagnose(l, fmt::format("register budget {} of role '{}' is not a multiple of 8 in [24, 256]", r.registers, r.name),
                 "setmaxnreg takes 24, 32, ..., 256 registers per thread");
    threads += r.warpgroups * kWarpgroupThreads;
    budgets |= r.registers != 0;
  }
  // Named barriers: 1..R for the roles, then one per warpgroup of each role of several warpgroups.
  std::uint32_t barriers = static_cast<std::uint32_t>(roles.size());
  for (const auto& r : roles)
    if (r.warpgroups > 1) barriers += r.warpgroups;
  if (barriers > last_named_barrier())
    k.diagnose(l, fmt::format("the roles need {} named barriers (one per role, one per warpgroup of a role of "
                              "several), over the {} there are (1..{})", barriers, last_named_barrier(),
                              last_named_barrier()));
  auto& d = k.fn().directives;
  const auto declared = d.reqntid[0] ? d.reqntid : d.maxntid;
  const std::uint32_t block = declared[0] * std::max(1u, declared[1]) * std::max(1u, declared[2]);
  if (declared[0] && block != threads)
    k.diagnose(l, fmt::format("the roles cover {} threads but the block has {}", threads, block),
               "give the roles as many warpgroups as the block has (128 threads each)");
  if (threads > 1024) k.diagnose(l, fmt::format("the roles need {} threads, over the limit of 1024", threads));
  // The allocation every thread gets at launch with .maxntid threads and one CTA per SM.
  const std::uint32_t entry = std::min<std::uint32_t>(256, kRegisterFile / std::max(threads, 1u) / 8 * 8);
  for (const auto& r : roles) registers += std::uint64_t{r.warpgroups} * kWarpgroupThreads * (r.registers ? r.registers : entry);
  if (budgets && registers > kRegisterFile)
    k.diagnose(l, fmt::format("the roles' budgets need {} registers, over the {} of the register file", registers, kRegisterFile),
               "lower a budget (the producer usually needs 24-40)");
  // setmaxnreg is honoured only with launch bounds ptxas can read at entry.
  d.reqntid = {0, 0, 0};
  d.maxntid = {threads, 1, 1};
  if (!d.minnctapersm) d.minnctapersm = 1;

  auto tid = k.tid_x(loc);
  auto wg = tid >> 7u;
  std::uint32_t first = 0;
  std::uint32_t next_barrier = static_cast<std::uint32_t>(roles.size()) + 1;  // after the roles' own
  for (std::size_t i = 0; i < roles.size(); ++i) {
    const auto& r = roles[i];
    const std::uint32_t lo = first, hi = first + r.warpgroups;
    first = hi;
    auto in_role = (wg >= lo) && (wg < hi);
    k.if_(in_role, [&] {
      const bool valid = r.registers % 8 == 0 && r.registers >= 24 && r.registers <= 256;  // else diagnosed above
      if (r.registers && valid && k.target().arch_specific() && r.registers != entry) {
        const bool grow = r.registers > entry;
        k.instr(grow ? "setmaxnreg.inc.sync.aligned.u32" : "setmaxnreg.dec.sync.aligned.u32", {}, {},
                {static_cast<std::int64_t>(r.registers)}, loc);
      }
      RoleContext ctx{&k, r.name, wg - lo, tid - lo * kWarpgroupThreads, r.warpgroups * kWarpgroupThreads,
                      static_cast<std::uint32_t>(i + 1), r.warpgroups > 1 ? next_barrier : 0, barriers + 1};
      const auto saved = k.role();
      k.set_role(r.name);
      {
        KernelBuilder::AuthorLines author(k);
        r.body(ctx);
      }
      k.set_role(saved);
    }, loc);
    if (r.warpgroups > 1) next_barrier += r.warpgroups;
  }
}

}  // namespace weft
