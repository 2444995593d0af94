#include "runtime/comm/heap.h"

#include "runtime/comm/peer_table.h"
#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt::comm {

SymmetricBuffer::SymmetricBuffer(std::size_t bytes, std::uint32_t rank_base, std::uint32_t nranks,
                                 std::vector<CUdeviceptr> local, std::vector<std::uint64_t> table,
                                 std::unique_ptr<SymmetricStorage> storage)
    : bytes_(bytes),
      rank_base_(rank_base),
      nranks_(nranks),
      local_(std::move(local)),
      table_(std::move(table)),
      storage_(std::move(storage)) {
  if (table_.size() != local_.size() * nranks_)
    throw Error("SymmetricBuffer: a peer table of " + std::to_string(table_.size()) + " entries for " +
                std::to_string(local_.size()) + " rows of " + std::to_string(nranks_) + " ranks");
  table_dev_ = DeviceBuffer<std::uint64_t>(std::span<const std::uint64_t>(table_));
}

SymmetricBuffer::~SymmetricBuffer() = default;

CUdeviceptr SymmetricBuffer::local(std::uint32_t row) const {
  if (row >= local_.size())
    throw Error("SymmetricBuffer: row " + std::to_string(row) + " does not exist (" + std::to_string(local_.size()) +
                " row" + (local_.size() == 1 ? "" : "s") + " in this process)");
  return local_[row];
}

CUdeviceptr SymmetricBuffer::peer(std::uint32_t row, std::uint32_t rank) const {
  local(row);  // range check
  if (rank >= nranks_)
    throw Error("SymmetricBuffer: rank " + std::to_string(rank) + " does not exist (" + std::to_string(nranks_) +
                " ranks)");
  return table_[peer_table_index(row, rank, nranks_)];
}

void SymmetricHeap::make_current() const {
  check(driver().cuCtxSetCurrent(primary_context(device_)), "cuCtxSetCurrent");
}

}  // namespace weft::rt::comm
