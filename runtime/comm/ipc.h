// Ipc: one rank per process on one node; each rank's buffer is a cuMem allocation exported as a POSIX
// file descriptor, passed to the other ranks through the bootstrap and mapped into their address
// spaces.
//
//   comm::SocketBootstrap boot(rank, nranks);
//   comm::Ipc heap(boot, /*device=*/local_rank);
//   auto buf = heap.alloc(bytes);    // collective; buf.peer_table() has one row
//
// Why cuMem and file descriptors (not cuIpcGetMemHandle): cuMem allocations can be mapped by several
// processes on the same GPU as well as on peer GPUs, the size is explicit (granularity-rounded), and
// a descriptor cannot be guessed by an unrelated process. Works for several processes on one GPU.
#pragma once

#include "runtime/comm/bootstrap.h"
#include "runtime/comm/heap.h"

namespace weft::rt::comm {

class Ipc final : public SymmetricHeap {
 public:
  // The bootstrap must outlive the heap (alloc is collective over it).
  Ipc(Bootstrap& bootstrap, int device);

  // Collective. The allocation is rounded up to the device's granularity (2 MiB on current GPUs) and
  // zeroed. Freed when the buffer is destroyed (each rank unmaps and releases its own mappings; the
  // memory goes when the last process lets go of it).
  SymmetricBuffer alloc(std::size_t bytes) override;

 private:
  Bootstrap& boot_;
};

// `bytes` rounded up to a multiple of `granularity` (> 0). Pure.
std::size_t round_up(std::size_t bytes, std::size_t granularity);

}  // namespace weft::rt::comm
