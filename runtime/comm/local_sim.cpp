#include "runtime/comm/local_sim.h"

#include "runtime/comm/peer_table.h"
#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt::comm {

namespace {

// The N allocations of one LocalSim buffer.
struct LocalSimStorage final : SymmetricStorage {
  std::vector<CUdeviceptr> ptrs;
  ~LocalSimStorage() override {
    for (CUdeviceptr p : ptrs) mem::free(p);
  }
};

}  // namespace

LocalSim::LocalSim(std::uint32_t nranks, int device) : SymmetricHeap(nranks, 0, nranks, device) {
  if (nranks == 0) throw Error("LocalSim: nranks must be at least 1");
  make_current();
  sm_count_ = device_props(device).sm_count;
}

SymmetricBuffer LocalSim::alloc(std::size_t bytes) {
  if (bytes == 0) throw Error("LocalSim::alloc: a symmetric buffer needs at least one byte");
  make_current();
  auto storage = std::make_unique<LocalSimStorage>();
  for (std::uint32_t r = 0; r < nranks(); ++r) {
    storage->ptrs.push_back(mem::alloc(bytes));
    // Zeroed: flags in symmetric buffers start at epoch 0.
    mem::set_bytes(storage->ptrs.back(), 0, bytes);
  }
  std::vector<CUdeviceptr> local = storage->ptrs;
  // One address space: every virtual rank sees rank p's buffer at the same address.
  auto table = build_peer_table(nranks(), nranks(), [&](std::uint32_t, std::uint32_t p) { return local[p]; });
  return SymmetricBuffer(bytes, 0, nranks(), std::move(local), std::move(table), std::move(storage));
}

void LocalSim::prepare(Kernel& kernel, LaunchConfig& cfg) {
  if (cfg.grid.y != 1 && cfg.grid.y != nranks())
    throw Error("LocalSim::launch of '" + kernel.name() + "': grid.y is " + std::to_string(cfg.grid.y) +
                "; LocalSim sets it to the number of virtual ranks (" + std::to_string(nranks()) +
                "), so pass grid.y = 1");
  cfg.grid.y = nranks();
  make_current();
  std::uint32_t dyn = cfg.dynamic_smem;
  if (dyn == 0 && kernel.signature()) dyn = kernel.signature()->dynamic_smem;
  const int per_sm = kernel.max_active_blocks_per_sm(static_cast<std::uint32_t>(cfg.block.total()), dyn);
  check_co_resident(kernel.name(), cfg.grid.total(), per_sm, sm_count_, nranks());
}

void check_co_resident(const std::string& kernel, std::uint64_t total_ctas, int blocks_per_sm, int sm_count,
                       std::uint32_t nranks) {
  const std::uint64_t fit = static_cast<std::uint64_t>(blocks_per_sm < 0 ? 0 : blocks_per_sm) *
                            static_cast<std::uint64_t>(sm_count < 0 ? 0 : sm_count);
  if (total_ctas > fit)
    throw Error("LocalSim::launch of '" + kernel + "': " + std::to_string(total_ctas) + " CTAs (" +
                std::to_string(total_ctas / (nranks ? nranks : 1)) + " per rank x " + std::to_string(nranks) +
                " ranks) cannot all be resident: at most " + std::to_string(blocks_per_sm) + " per SM x " +
                std::to_string(sm_count) + " SMs = " + std::to_string(fit) +
                " (spin-waits between virtual ranks could deadlock; use fewer CTAs or ranks)");
}

}  // namespace weft::rt::comm
