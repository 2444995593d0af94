// Pipeline: a ring of shared-memory stages between producers (copies in) and consumers (compute).
//
// sm_90+: each stage has a `full` mbarrier (the producer's copies complete their bytes on it) and an
// `empty` one (consumers arrive when done with the stage); weft tracks stage and phase in registers.
// sm_80/89: the same calls lower to cp.async groups: producer_commit closes a group, consumer_wait
// waits until at most stages-2 groups are pending and syncs the CTA. The producer commits a group
// every iteration (an empty one at the tail), so the count stays right.
//
//   Pipeline pipe(k, "ab", {.stages = 4, .consumer_arrivals = 2, .tx_bytes = 32768,
//                           .producer_role = "producer", .consumer_role = "consumer"});
//   auto st = pipe.state();                      // per role: stage 0, phase 0
//   pipe.producer_acquire(st);                   // wait until the stage is empty; expect tx_bytes
//   tma_load(k, a_map, a_tile(st), {x, y}, pipe.full(st));
//   pipe.producer_commit(st);                    // checks the copies' bytes against tx_bytes
//   pipe.advance(st);
//
// In a cluster whose CTAs multicast into each other's stages, set cluster_ctas: releases then go
// to every CTA of the cluster.
//
// Build-time checks: a call from the wrong role, and (where every copy's size is static) copies
// whose bytes differ from the stage's expect_tx count, reported with both numbers and both lines.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dsl/async/mbarrier.h"

namespace weft {

struct PipelineConfig {
  std::uint32_t stages = 2;
  std::uint32_t consumer_arrivals = 1;  // arrivals that release a stage (e.g. one per consumer warpgroup)
  std::uint32_t tx_bytes = 0;           // bytes the producer's copies bring per stage (sm_90+)
  std::string producer_role;            // "" : any role may produce
  std::string consumer_role;            // "" : any role may consume
  // cp.async groups on every target, also where mbarrier transactions exist: a kernel whose copies
  // are cp.async (the sm_80 path, run as is on sm_90+) completes its stages through groups.
  bool cp_async_groups = false;
  // CTAs of the cluster that fill each other's stages (TMA multicast, sm_90+): every consumer release
  // arrives on the stage's empty barrier in each of them, so a producer refills a stage only when
  // the consumers of every CTA its multicast writes to are done with it. The empty barriers count
  // consumer_arrivals * cluster_ctas, and the barriers' initialisation is published to the cluster
  // (cluster_sync) instead of the CTA. The kernel declares the cluster (k.cluster_dims).
  std::uint32_t cluster_ctas = 1;
};

class Pipeline {
 public:
  enum class Kind { mbarrier_ring, cp_async_groups };
  struct State {
    Reg<u32> stage;
    Reg<u32> phase;
  };

  // Allocates and initialises the barriers (thread 0, then a CTA barrier): call before warp roles.
  Pipeline(KernelBuilder& k, std::string name, PipelineConfig cfg, Loc loc = Loc::current());

  Kind kind() const { return kind_; }
  const PipelineConfig& config() const { return cfg_; }
  State state(Loc loc = Loc::current());

  // Producer side. acquire waits for the stage to be free and (on sm_90+, from one elected thread
  // of the caller) expects tx_bytes on its full barrier.
  void producer_acquire(State& s, Loc loc = Loc::current());
  // The barrier the producer's copies complete on (sm_90+).
  Mbarrier full(const State& s, Loc loc = Loc::current());
  // Records a copy of `bytes` issued against this stage (TMA helpers call it), for the tx check.
  void note_copy(std::uint32_t bytes, SourceLoc where);
  // A copy of `bytes` the stage expects but may not need (a TMA box whose rows all lie past the
  // tensor's edge, which TMA would only zero-fill): where `issue` holds, `copy` issues it; elsewhere
  // the calling thread completes its bytes on the stage's full barrier (mbarrier.complete_tx), so the
  // stage's count holds either way. Call it from the thread that issues the stage's copies. The
  // expect_tx check counts `bytes` once, and `copy` must move exactly that many (sm_90+). The bytes
  // are completed on this CTA's barrier only: not for a multicast copy into other CTAs' stages.
  void copy_or_complete(const State& s, Pred issue, std::uint32_t bytes, const std::function<void()>& copy,
                        Loc loc = Loc::current());
  void producer_commit(State& s, Loc loc = Loc::current());

  // Consumer side.
  void consumer_wait(State& s, Loc loc = Loc::current());
  void consumer_release(State& s, Loc loc = Loc::current());
  // The barrier that releases the stage (sm_90+), for a release that is not the calling thread's
  // own arrive: `tcgen05_commit(k, pipe.empty(st))` frees the stage once the MMAs reading it have
  // completed (dsl/async/tcgen05.h). Count such releases in consumer_arrivals (one per commit).
  Mbarrier empty(const State& s, Loc loc = Loc::current());

  // Next stage; the phase flips after the last one.
  void advance(State& s, Loc loc = Loc::current());
  // `n` stages further (a consumer skipping stages that another consumer takes): the phase flips once
  // per wrap of the ring.
  void advance_by(State& s, Reg<u32> n, Loc loc = Loc::current());

 private:
  void check_role(const std::string& want, const char* what, Loc loc);
  KernelBuilder* k_;
  std::string name_;
  PipelineConfig cfg_;
  Kind kind_;
  std::optional<MbarrierArray> full_, empty_;
  // The expect_tx of the open producer window and the copies issued in it.
  SourceLoc expect_at_;
  std::uint32_t copied_ = 0;
  bool copies_static_ = true;
  std::vector<SourceLoc> copies_at_;
};

}  // namespace weft
