// Typed mbarrier handles (sm_80+; transaction counts sm_90+).
//
// An mbarrier is an 8-byte object in shared memory that counts arrivals (and, from sm_90, bytes of
// asynchronous copies) per phase. weft gives each barrier a name and an id, emits the wait loop
// (try_wait on sm_90+, test_wait on sm_80/89), and with `Target::debug_waits` turns every wait into a
// bounded one that records the barrier, phase and source line in the module's `weft_debug_wait`
// report and traps (dsl/debug_wait.h), so a protocol bug reports where it hangs instead of hanging.
#pragma once

#include <string>

#include "dsl/kernel_builder.h"

namespace weft {

class Mbarrier {
 public:
  Mbarrier(KernelBuilder* k, Reg<u32> addr, std::uint32_t id, std::string name)
      : k_(k), addr_(addr), id_(id), name_(std::move(name)) {}
  Reg<u32> address() const { return addr_; }
  std::uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }

  void init(Src<u32> arrivals, Loc loc = Loc::current());
  void arrive(Loc loc = Loc::current());
  // Arrive on this barrier's copy in the shared memory of CTA `rank` of the cluster (mapa, then an
  // arrive that releases at CTA scope), e.g. to release a stage that another CTA's multicast refills
  // (sm_90+). It signals and publishes nothing: enough when what the waiter does next needs only
  // that this thread has finished (its reads of the stage are complete), and free of the memory
  // barrier a cluster-scope release costs.
  void arrive_cluster(Src<u32> rank, Loc loc = Loc::current());
  // The same with a release at cluster scope: this thread's earlier writes (st.shared::cluster into
  // CTA `rank`, global stores) are visible to the threads that wait on the barrier there. ptxas puts
  // a memory barrier before it; use it when the arrival publishes data.
  void arrive_cluster_release(Src<u32> rank, Loc loc = Loc::current());
  // Expect `bytes` more bytes of async copies in this phase, then arrive (sm_90+).
  void arrive_expect_tx(Src<u32> bytes, Loc loc = Loc::current());
  // Count `bytes` of this phase's expected transactions as arrived without a copy (sm_90+): for bytes
  // announced with expect_tx whose copy is not issued after all (a box that would only be zero-filled).
  void complete_tx(Src<u32> bytes, Loc loc = Loc::current());
  // Spin until the phase with this parity has completed.
  void wait(Src<u32> parity, Loc loc = Loc::current());
  // cp.async.mbarrier.arrive.noinc: arrive when this thread's cp.async complete (sm_80+).
  void arrive_on_cp_async(Loc loc = Loc::current());
  void inval(Loc loc = Loc::current());

 private:
  void arrive_remote(const char* form, Src<u32> rank, Loc loc);
  KernelBuilder* k_;
  Reg<u32> addr_;
  std::uint32_t id_;
  std::string name_;
};

// `count` mbarriers in one shared array, barrier i at base + 8*i.
class MbarrierArray {
 public:
  MbarrierArray(KernelBuilder& k, const std::string& name, std::uint32_t count, Loc loc = Loc::current());
  // Thread 0 of the CTA initialises every barrier of the array to `arrivals`, makes the
  // initialisation visible to the async proxy (fence.mbarrier_init, sm_90+), then the CTA syncs.
  void init_all(std::uint32_t arrivals, Loc loc = Loc::current());
  Mbarrier operator[](std::uint32_t i) const;
  Mbarrier at(Reg<u32> i, Loc loc = Loc::current()) const;
  std::uint32_t size() const { return count_; }

 private:
  KernelBuilder* k_;
  std::string name_;
  Ptr<u64, Shared> base_;
  std::uint32_t count_;
  std::uint32_t first_id_;
};

}  // namespace weft
