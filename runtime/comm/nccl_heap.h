// Nccl: symmetric buffers from NCCL's symmetric memory windows (ncclMemAlloc +
// ncclCommWindowRegister(..., NCCL_WIN_COLL_SYMMETRIC)), for kernels that run inside an NCCL job.
//
//   comm::SocketBootstrap boot(rank, nranks);
//   comm::Nccl heap(boot, /*device=*/local_rank);   // creates its own communicator
//   comm::Nccl heap2(app_comm, local_rank);          // or uses the application's ncclComm_t
//   auto buf = heap.alloc(bytes);                    // collective
//
// NCCL is loaded at run time (nccl_library.h). Peers' addresses come from the window's fields, read on
// the device (nccl_window.h): rank p is at lsaFlatBase + (lsaRank + p - worldRank) * stride4G * 2^32.
// Every rank must be load/store accessible (one node / NVLink domain); otherwise alloc throws.
// Destroying buffers deregisters their windows, which NCCL may treat as collective: destroy them in
// the same order on every rank.
#pragma once

#include <memory>

#include "runtime/comm/bootstrap.h"
#include "runtime/comm/heap.h"
#include "runtime/comm/nccl_library.h"

namespace weft::rt::comm {

class Nccl final : public SymmetricHeap {
 public:
  // A new communicator over the bootstrap's ranks (rank 0's unique id goes through the bootstrap),
  // destroyed with the heap after its last buffer. The bootstrap must outlive the heap.
  Nccl(Bootstrap& bootstrap, int device);
  // The application's communicator (never destroyed by weft; it must outlive the heap's buffers).
  // Allocation sizes are checked with an ncclAllGather on it.
  Nccl(::ncclComm* comm, int device);
  ~Nccl() override;

  SymmetricBuffer alloc(std::size_t bytes) override;

  ::ncclComm* comm() const;

  struct State;

 private:
  Nccl(std::shared_ptr<State> state, int device);
  std::shared_ptr<State> state_;  // shared with every buffer: the communicator outlives them
};

}  // namespace weft::rt::comm
