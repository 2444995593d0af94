// LocalSim: N virtual ranks on one GPU, for developing and testing communication kernels without a
// second process or GPU.
//
//   comm::LocalSim sim(4, 0);
//   auto buf = sim.alloc(1 << 20);                      // 4 allocations, a 4-row peer table
//   sim.launch(kernel, {.grid = {8}, .block = {256}}, 0u, 4u, buf.peer_table());  // grid.y becomes 4
//
// Why one launch for all ranks: communication kernels spin-wait on flags other ranks set. Launched
// one rank at a time, rank 0's kernel could wait forever for rank 1's, which cannot start until rank
// 0's finishes. One launch with grid.y = nranks, after checking that every CTA fits on the GPU at
// once, makes all ranks co-resident, so the waits always complete.
#pragma once

#include "runtime/comm/heap.h"
#include "runtime/module.h"

namespace weft::rt::comm {

class LocalSim final : public SymmetricHeap {
 public:
  LocalSim(std::uint32_t nranks, int device = 0);

  // nranks() separate allocations of `bytes` (zeroed) and a table with nranks() identical rows.
  SymmetricBuffer alloc(std::size_t bytes) override;

  // Launches `kernel` once for all virtual ranks: grid.y = nranks() (pass grid.y = 1 or nranks()).
  // The arguments are the kernel's own (rank_base 0, nranks(), tables, ...). Throws Error when the
  // CTAs of all ranks cannot be resident at once (then spin-waits between ranks could deadlock).
  template <class... Args>
  void launch(Kernel& kernel, LaunchConfig cfg, const Args&... args) {
    prepare(kernel, cfg);
    kernel.launch(cfg, args...);
  }

  // Sets grid.y and runs the co-residency check (what launch() does before launching).
  void prepare(Kernel& kernel, LaunchConfig& cfg);

 private:
  int sm_count_ = 0;
};

// Throws Error unless `total_ctas` CTAs fit on the GPU at once (blocks_per_sm per SM on sm_count SMs),
// naming the kernel and the numbers. Pure.
void check_co_resident(const std::string& kernel, std::uint64_t total_ctas, int blocks_per_sm, int sm_count,
                       std::uint32_t nranks);

}  // namespace weft::rt::comm
