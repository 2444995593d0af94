// Bootstrap: how the ranks of a communication job find each other before any GPU memory is shared.
//
// Why an interface of its own: the symmetric heap needs four things from "the job" (who am I, how many
// are we, tell everyone a few bytes, wait for everyone) plus, for cuMem IPC, handing file descriptors
// to the other processes. MPI, torch.distributed, a launcher's socket or a test's fork() can all
// provide them; the heap never cares which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace weft::rt::comm {

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Every rank passes `bytes_per_rank` bytes at `mine`; `all` receives size() * bytes_per_rank bytes,
  // rank r's at r * bytes_per_rank. Collective: every rank calls it, with the same bytes_per_rank
  // (a mismatch throws Error on every rank, naming both sizes and the ranks).
  virtual void allgather(const void* mine, void* all, std::size_t bytes_per_rank) = 0;

  // Returns when every rank has called it. Collective.
  virtual void barrier() = 0;

  // Every rank passes one open file descriptor; the result holds one descriptor per rank (index =
  // rank), each a new descriptor this process owns and must close (its own entry is a dup of `mine`).
  // Collective. Used to share cuMem allocations exported as POSIX file descriptors.
  virtual std::vector<int> allgather_fds(int mine) = 0;

  // allgather() of one trivially copyable value.
  template <class T>
  std::vector<T> allgather_value(const T& mine) {
    std::vector<T> all(static_cast<std::size_t>(size()));
    allgather(&mine, all.data(), sizeof(T));
    return all;
  }
};

// One process, one rank: allgather copies, barrier returns, fds are dup'ed.
class SingleProcessBootstrap final : public Bootstrap {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allgather(const void* mine, void* all, std::size_t bytes_per_rank) override;
  void barrier() override {}
  std::vector<int> allgather_fds(int mine) override;
};

// Throws Error when the ranks asked for different sizes: "<what> differs across ranks: rank 0 has
// 4096 bytes, rank 2 has 8192 bytes" (every rank that differs from rank 0 is named). Pure.
void check_same_size(std::span<const std::uint64_t> bytes_by_rank, const std::string& what);

}  // namespace weft::rt::comm
