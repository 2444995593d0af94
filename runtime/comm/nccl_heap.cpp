#include "runtime/comm/nccl_heap.h"

#include "runtime/comm/nccl_window.h"
#include "runtime/comm/peer_table.h"
#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt::comm {

namespace {

// A Bootstrap over an application's NCCL communicator, for the heap's own agreement checks: allgather
// is an ncclAllGather through a device buffer. It cannot pass file descriptors.
class NcclCommBootstrap final : public Bootstrap {
 public:
  NcclCommBootstrap(const NcclLibrary& lib, nccl_abi::Comm comm, int rank, int size)
      : lib_(lib), comm_(comm), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allgather(const void* mine, void* all, std::size_t bytes_per_rank) override {
    // The sizes first, so that ranks passing different sizes get an error instead of a corrupt result.
    std::uint64_t b = bytes_per_rank;
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    raw(&b, sizes.data(), sizeof b);
    check_same_size(sizes, "allgather bytes_per_rank on the NCCL communicator");
    if (bytes_per_rank) raw(mine, all, bytes_per_rank);
  }
  void barrier() override {
    std::uint8_t x = 0;
    std::vector<std::uint8_t> all(static_cast<std::size_t>(size_));
    raw(&x, all.data(), 1);
  }
  std::vector<int> allgather_fds(int) override {
    throw Error("an NCCL communicator cannot pass file descriptors (use a SocketBootstrap)");
  }

 private:
  void raw(const void* mine, void* all, std::size_t bytes) {
    DeviceBuffer<std::uint8_t> send(bytes), recv(bytes * static_cast<std::size_t>(size_));
    mem::copy_to_device(send.raw(), mine, bytes);
    lib_.check(lib_.AllGather(reinterpret_cast<void*>(send.raw()), reinterpret_cast<void*>(recv.raw()), bytes,
                              nccl_abi::kUint8, comm_, nullptr),
               "ncclAllGather", comm_);
    check(driver().cuCtxSynchronize(), "cuCtxSynchronize", "waiting for ncclAllGather");
    mem::copy_to_host(all, recv.raw(), recv.bytes());
  }

  const NcclLibrary& lib_;
  nccl_abi::Comm comm_;
  int rank_, size_;
};

void make_device_current(int device) {
  check(driver().cuCtxSetCurrent(primary_context(device)), "cuCtxSetCurrent");
}

}  // namespace

struct Nccl::State {
  const NcclLibrary* lib = nullptr;
  nccl_abi::Comm comm = nullptr;
  bool owns_comm = false;
  Bootstrap* boot = nullptr;
  std::unique_ptr<Bootstrap> comm_boot;  // when the heap was given a communicator
  int rank = 0, nranks = 1;
  ~State() {
    if (owns_comm && comm) lib->CommDestroy(comm);
  }
};

namespace {

// One window: deregistered and freed when the buffer goes.
struct NcclStorage final : SymmetricStorage {
  std::shared_ptr<Nccl::State> state;
  void* ptr = nullptr;
  nccl_abi::Window win = nullptr;
  ~NcclStorage() override {
    if (win) state->lib->CommWindowDeregister(state->comm, win);
    if (ptr) state->lib->MemFree(ptr);
  }
};

std::shared_ptr<Nccl::State> state_from_bootstrap(Bootstrap& boot, int device) {
  auto st = std::make_shared<Nccl::State>();
  st->lib = &nccl();
  st->boot = &boot;
  st->rank = boot.rank();
  st->nranks = boot.size();
  make_device_current(device);  // NCCL (through the CUDA runtime) uses the current context's device
  nccl_abi::UniqueId id{};
  if (boot.rank() == 0) st->lib->check(st->lib->GetUniqueId(&id), "ncclGetUniqueId");
  const auto ids = boot.allgather_value(id);
  st->lib->check(st->lib->CommInitRank(&st->comm, st->nranks, ids[0], st->rank), "ncclCommInitRank");
  st->owns_comm = true;
  return st;
}

std::shared_ptr<Nccl::State> state_from_comm(nccl_abi::Comm comm, int device) {
  if (!comm) throw Error("Nccl: the communicator is null");
  auto st = std::make_shared<Nccl::State>();
  st->lib = &nccl();
  st->comm = comm;
  st->lib->check(st->lib->CommUserRank(comm, &st->rank), "ncclCommUserRank", comm);
  st->lib->check(st->lib->CommCount(comm, &st->nranks), "ncclCommCount", comm);
  make_device_current(device);
  st->comm_boot = std::make_unique<NcclCommBootstrap>(*st->lib, comm, st->rank, st->nranks);
  st->boot = st->comm_boot.get();
  return st;
}

// The peer table of one registered window. With symmetric memory support NCCL describes the window on
// the device and every peer's address follows from it; without it (nccl_window.h) there is no window
// to read, which is fine for one rank (its only peer is itself) and an error for more.
std::vector<std::uint64_t> window_peer_table(const Nccl::State& st, CUdeviceptr window, CUdeviceptr local) {
  const NcclLibrary& lib = *st.lib;
  const std::string version = "NCCL " + nccl_version_string(lib.version) + " (" + lib.path + ")";
  if (!nccl_window_is_device_side(window)) {
    if (st.nranks == 1) return build_peer_table(1, 1, [&](std::uint32_t, std::uint32_t) { return local; });
    throw Error("Nccl::alloc: " + version + " registered the window without symmetric memory support, so it "
                "gives no peer addresses: NCCL needs all " + std::to_string(st.nranks) +
                " ranks on one node with direct P2P between every pair, cuMem enabled (NCCL_CUMEM_ENABLE) and "
                "windows enabled (NCCL_WIN_ENABLE); the Ipc backend needs only the first");
  }
  const NcclWindowFields f = read_nccl_window(window);
  if (f.world_rank != st.rank || f.lsa_flat_base == 0 || f.stride4g == 0)
    throw Error("Nccl::alloc: the window registered by rank " + std::to_string(st.rank) + " reads worldRank " +
                std::to_string(f.world_rank) + ", lsaFlatBase " + std::to_string(f.lsa_flat_base) + ", stride4G " +
                std::to_string(f.stride4g) + ": " + version +
                " does not lay out ncclWindow_vidmem as weft expects (2.28's layout)");
  if (f.lsa_rank != f.world_rank)
    throw Error("Nccl::alloc: rank " + std::to_string(st.rank) + " is rank " + std::to_string(f.lsa_rank) +
                " of its load/store-accessible team: not every rank can reach every other rank's memory "
                "(weft's peer tables need all " + std::to_string(st.nranks) + " ranks on one NVLink domain)");
  return build_peer_table(1, static_cast<std::uint32_t>(st.nranks), [&](std::uint32_t, std::uint32_t p) {
    return nccl_lsa_peer_base(f.lsa_flat_base, f.lsa_rank, f.world_rank, f.stride4g, static_cast<int>(p), st.nranks);
  });
}

}  // namespace

Nccl::Nccl(std::shared_ptr<State> state, int device)
    : SymmetricHeap(static_cast<std::uint32_t>(state->nranks), static_cast<std::uint32_t>(state->rank), 1, device),
      state_(std::move(state)) {}

Nccl::Nccl(Bootstrap& bootstrap, int device) : Nccl(state_from_bootstrap(bootstrap, device), device) {}

Nccl::Nccl(::ncclComm* comm, int device) : Nccl(state_from_comm(comm, device), device) {}

Nccl::~Nccl() = default;

::ncclComm* Nccl::comm() const { return state_->comm; }

SymmetricBuffer Nccl::alloc(std::size_t bytes) {
  State& st = *state_;
  const NcclLibrary& lib = *st.lib;
  make_current();
  const auto sizes = st.boot->allgather_value<std::uint64_t>(bytes);
  check_same_size(sizes, "Nccl::alloc size");
  if (bytes == 0) throw Error("Nccl::alloc: a symmetric buffer needs at least one byte");

  auto storage = std::make_unique<NcclStorage>();
  storage->state = state_;
  lib.check(lib.MemAlloc(&storage->ptr, bytes), "ncclMemAlloc", st.comm);
  lib.check(lib.CommWindowRegister(st.comm, storage->ptr, bytes, &storage->win, nccl_abi::kWinCollSymmetric),
            "ncclCommWindowRegister", st.comm);

  const auto local = reinterpret_cast<CUdeviceptr>(storage->ptr);
  auto table = window_peer_table(st, reinterpret_cast<CUdeviceptr>(storage->win), local);

  // Zeroed (flags start at epoch 0), and nobody writes into a peer before that peer has zeroed.
  mem::set_bytes(local, 0, bytes);
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize", "zeroing an NCCL symmetric buffer");
  st.boot->barrier();
  return SymmetricBuffer(bytes, rank_base(), nranks(), {local}, std::move(table), std::move(storage));
}

}  // namespace weft::rt::comm
