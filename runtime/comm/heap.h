// SymmetricHeap: one interface, three backends (LocalSim, Ipc, Nccl), for buffers that every rank
// allocates with the same size and every rank's kernels can address on every other rank through a
// peer table (peer_table.h has the layout).
//
//   comm::LocalSim heap(4, /*device=*/0);            // or comm::Ipc heap(boot, 0), comm::Nccl heap(boot, 0)
//   comm::SymmetricBuffer flags = heap.alloc(4096);  // collective: every rank, same size
//   kernel(rank_base = heap.rank_base(), nranks = heap.nranks(), flags.peer_table(), ...)
//
// Why backends behind one interface: the kernel's PTX is the same for all three (DESIGN.md decision
// 10), so a collective is developed on one GPU with LocalSim and runs unchanged across processes
// (Ipc) or inside an NCCL job (Nccl).
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "runtime/memory.h"

namespace weft::rt::comm {

// What a backend keeps for one allocation; destroying it releases the memory.
class SymmetricStorage {
 public:
  virtual ~SymmetricStorage() = default;
};

// One symmetric allocation as this process sees it: its own rows' buffers and the peer table (on the
// device for kernels, and a host copy). Move-only; freed (table and memory) when destroyed.
class SymmetricBuffer {
 public:
  SymmetricBuffer() = default;
  SymmetricBuffer(std::size_t bytes, std::uint32_t rank_base, std::uint32_t nranks, std::vector<CUdeviceptr> local,
                  std::vector<std::uint64_t> table, std::unique_ptr<SymmetricStorage> storage);
  SymmetricBuffer(SymmetricBuffer&&) noexcept = default;
  SymmetricBuffer& operator=(SymmetricBuffer&&) noexcept = default;
  ~SymmetricBuffer();

  std::size_t bytes() const { return bytes_; }
  std::uint32_t rows() const { return static_cast<std::uint32_t>(local_.size()); }
  std::uint32_t nranks() const { return nranks_; }
  std::uint32_t rank_base() const { return rank_base_; }

  // The buffer of rank rank_base() + row, as this process addresses it.
  CUdeviceptr local(std::uint32_t row = 0) const;
  // The device peer table (rows() * nranks() u64), for the kernel's table parameter.
  DevicePtr<std::uint64_t> peer_table() const { return table_dev_.ptr(); }
  std::span<const std::uint64_t> host_table() const { return table_; }
  // Entry (row, rank) of the table: rank `rank`'s buffer as seen from rank rank_base() + row.
  CUdeviceptr peer(std::uint32_t row, std::uint32_t rank) const;

 private:
  std::size_t bytes_ = 0;
  std::uint32_t rank_base_ = 0;
  std::uint32_t nranks_ = 0;
  std::vector<CUdeviceptr> local_;
  std::vector<std::uint64_t> table_;
  std::unique_ptr<SymmetricStorage> storage_;
  // Declared last, so freed first: the table goes while the memory it points at still exists.
  DeviceBuffer<std::uint64_t> table_dev_;
};

class SymmetricHeap {
 public:
  virtual ~SymmetricHeap() = default;
  SymmetricHeap(const SymmetricHeap&) = delete;
  SymmetricHeap& operator=(const SymmetricHeap&) = delete;

  // Collective over the heap's ranks: every rank asks for the same size (checked: a mismatch throws
  // Error on every rank naming the ranks and sizes). Backends may round the size up (Ipc: to the
  // allocation granularity); bytes() of the result is what was asked for.
  virtual SymmetricBuffer alloc(std::size_t bytes) = 0;

  std::uint32_t nranks() const { return nranks_; }
  std::uint32_t rank_base() const { return rank_base_; }  // the rank of row 0
  std::uint32_t rows() const { return rows_; }            // ranks in this process
  int device() const { return device_; }

 protected:
  SymmetricHeap(std::uint32_t nranks, std::uint32_t rank_base, std::uint32_t rows, int device)
      : nranks_(nranks), rank_base_(rank_base), rows_(rows), device_(device) {}
  // Makes the primary context of device() current on the calling thread (every backend call does
  // this first, so allocations land on the heap's device whatever the caller had current).
  void make_current() const;

 private:
  std::uint32_t nranks_, rank_base_, rows_;
  int device_;
};

}  // namespace weft::rt::comm
