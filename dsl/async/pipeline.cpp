#include "dsl/async/pipeline.h"

#include <fmt/format.h>

#include "codegen/isa/database.h"
#include "dsl/async/cluster.h"
#include "dsl/ops.h"

namespace weft {

Pipeline::Pipeline(KernelBuilder& k, std::string name, PipelineConfig cfg, Loc loc)
    : k_(&k), name_(std::move(name)), cfg_(std::move(cfg)),
      // The ring needs transaction counts (mbarrier.arrive.expect_tx); without them, cp.async groups.
      kind_(!cfg_.cp_async_groups && isa::form("mbarrier.arrive.expect_tx").targets.contains(k.target())
                ? Kind::mbarrier_ring
                : Kind::cp_async_groups) {
  KernelBuilder::AtLine at_line(k, loc);
  const auto l = SourceLoc::from(loc);
  if (cfg_.stages < 1 || cfg_.stages > 16) k.diagnose(l, fmt::format("pipeline '{}': {} stages (1..16)", name_, cfg_.stages));
  if (kind_ == Kind::cp_async_groups) return;
  if (cfg_.consumer_arrivals == 0) k.diagnose(l, fmt::format("pipeline '{}': consumer_arrivals must be at least 1", name_));
  if (cfg_.cluster_ctas < 1 || cfg_.cluster_ctas > 16) {
    k.diagnose(l, fmt::format("pipeline '{}': cluster_ctas = {} (1..16)", name_, cfg_.cluster_ctas));
    cfg_.cluster_ctas = 1;  // reported once; emit as for one CTA
  }
  full_.emplace(k, name_ + "_full", cfg_.stages, loc);
  empty_.emplace(k, name_ + "_empty", cfg_.stages, loc);
  auto tid = k.tid_x(loc);
  k.if_(tid == 0u, [&] {
    for (std::uint32_t s = 0; s < cfg_.stages; ++s) {
      (*full_)[s].init(1u, loc);
      (*empty_)[s].init(cfg_.consumer_arrivals * cfg_.cluster_ctas, loc);
    }
    k.instr("fence.mbarrier_init.release.cluster", {}, {}, {}, loc);  // visible to the async proxy
  }, loc);
  // Other CTAs of the cluster arrive on (and multicast into) this CTA's barriers: they must see them
  // initialised first.
  if (cfg_.cluster_ctas > 1) cluster_sync(k, loc);
  else k.bar_sync(0, 0, loc);
}

Pipeline::State Pipeline::state(Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  return {k_->let<u32>(0u, loc), k_->let<u32>(0u, loc)};
}

void Pipeline::check_role(const std::string& want, const char* what, Loc loc) {
  if (!want.empty() && k_->role() != want)
    k_->diagnose(SourceLoc::from(loc),
                 fmt::format("pipeline '{}': {} called from role '{}', but the {} role is '{}'", name_, what,
                             k_->role().empty() ? "(none)" : k_->role(),
                             std::string(what).starts_with("producer") ? "producer" : "consumer", want));
}

void Pipeline::producer_acquire(State& s, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  check_role(cfg_.producer_role, "producer_acquire", loc);
  expect_at_ = SourceLoc::from(loc);
  copied_ = 0;
  copies_static_ = true;
  copies_at_.clear();
  if (kind_ == Kind::cp_async_groups) return;
  // A fresh barrier has completed the phase before phase 0: waiting on parity (phase ^ 1) passes the
  // first time round the ring.
  empty_->at(s.stage, loc).wait(s.phase ^ 1u, loc);
  if (cfg_.tx_bytes) {
    auto bar = full_->at(s.stage, loc);
    k_->if_(k_->elect_sync(0xffffffffu, loc), [&] { bar.arrive_expect_tx(cfg_.tx_bytes, loc); }, loc);
  }
}

Mbarrier Pipeline::full(const State& s, Loc loc) {
  if (kind_ == Kind::cp_async_groups) {
    k_->diagnose(SourceLoc::from(loc), fmt::format("pipeline '{}': mbarrier stages need sm_90 (target {})", name_,
                                                   k_->target().name()),
                 "on sm_80/89 copy with cp.async and let producer_commit close the group");
    return Mbarrier(k_, k_->let<u32>(0u, loc), 0, "none");
  }
  return full_->at(s.stage, loc);
}

void Pipeline::note_copy(std::uint32_t bytes, SourceLoc where) {
  copied_ += bytes;
  copies_at_.push_back(where);
  if (bytes == 0) copies_static_ = false;
}

void Pipeline::copy_or_complete(const State& s, Pred issue, std::uint32_t bytes, const std::function<void()>& copy,
                                Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  check_role(cfg_.producer_role, "copy_or_complete", loc);
  auto bar = full(s, loc);  // diagnoses a cp.async-group pipeline
  const std::uint32_t before = copied_;
  const bool static_before = copies_static_;
  copies_static_ = true;
  k_->if_(issue, copy, loc).else_([&] { bar.complete_tx(bytes, loc); }, loc);
  const std::uint32_t moved = copied_ - before;
  if (copies_static_ && moved != bytes)
    k_->diagnose(SourceLoc::from(loc),
                 fmt::format("pipeline '{}': copy_or_complete completes {} bytes where its copy is skipped, but the "
                             "copy moves {} bytes",
                             name_, bytes, moved),
                 "pass the bytes of the copy it stands for");
  copies_static_ = static_before && copies_static_;
  copied_ = before + bytes;
}

void Pipeline::producer_commit(State&, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  check_role(cfg_.producer_role, "producer_commit", loc);
  if (kind_ == Kind::cp_async_groups) {
    k_->instr("cp.async.commit_group", {}, {}, {}, loc);
    return;
  }
  // The static transaction check: what the stage expects against what was issued on it.
  if (cfg_.tx_bytes && copies_static_ && !copies_at_.empty() && copied_ != cfg_.tx_bytes) {
    std::string lines;
    for (const auto& c : copies_at_) lines += (lines.empty() ? "" : ", ") + std::to_string(c.line);
    k_->diagnose(SourceLoc::from(loc),
                 fmt::format("pipeline '{}': the stage expects {} bytes (expect_tx at line {}) but the copies "
                             "issued on it move {} bytes (line {})",
                             name_, cfg_.tx_bytes, expect_at_.line, copied_, lines),
                 "make tx_bytes the sum of the boxes copied per stage, or the wait never completes");
  }
}

void Pipeline::consumer_wait(State& s, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  check_role(cfg_.consumer_role, "consumer_wait", loc);
  if (kind_ == Kind::cp_async_groups) {
    const std::int64_t pending = cfg_.stages >= 2 ? cfg_.stages - 2 : 0;
    k_->instr("cp.async.wait_group", {}, {}, {std::min<std::int64_t>(pending, 7)}, loc);
    k_->bar_sync(0, 0, loc);
    return;
  }
  full_->at(s.stage, loc).wait(s.phase, loc);
}

void Pipeline::consumer_release(State& s, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  check_role(cfg_.consumer_role, "consumer_release", loc);
  if (kind_ == Kind::cp_async_groups) {
    k_->bar_sync(0, 0, loc);  // every thread is done reading before the stage is refilled
    return;
  }
  auto bar = empty_->at(s.stage, loc);
  if (cfg_.cluster_ctas == 1) {
    bar.arrive(loc);
    return;
  }
  // A signal, not a publication: the consumer's reads of the stage are complete (its caller waited
  // for them), and the producers only overwrite the stage. A cluster-scope release here costs a
  // memory barrier per arrival, which halved the 2-CTA GEMM on an H200.
  for (std::uint32_t rank = 0; rank < cfg_.cluster_ctas; ++rank) bar.arrive_cluster(rank, loc);
}

Mbarrier Pipeline::empty(const State& s, Loc loc) {
  check_role(cfg_.consumer_role, "empty", loc);
  if (kind_ == Kind::cp_async_groups) {
    k_->diagnose(SourceLoc::from(loc), fmt::format("pipeline '{}': mbarrier stages need sm_90 (target {})", name_,
                                                   k_->target().name()),
                 "on sm_80/89 release the stage with consumer_release");
    return Mbarrier(k_, k_->let<u32>(0u, loc), 0, "none");
  }
  return empty_->at(s.stage, loc);
}

void Pipeline::advance(State& s, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  auto next = s.stage + 1u;
  auto wrap = next == cfg_.stages;
  k_->assign(s.stage, select(wrap, k_->let<u32>(0u, loc), next), loc);
  k_->assign(s.phase, select(wrap, s.phase ^ 1u, s.phase), loc);
}

void Pipeline::advance_by(State& s, Reg<u32> n, Loc loc) {
  KernelBuilder::AtLine at_line(*k_, loc);
  auto total = s.stage + n;
  auto wraps = total / cfg_.stages;
  k_->assign(s.stage, total - wraps * cfg_.stages, loc);
  k_->assign(s.phase, s.phase ^ (wraps & 1u), loc);
}

}  // namespace weft
