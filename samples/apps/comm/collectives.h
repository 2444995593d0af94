// Host side of the collective samples (samples/kernels/comm): emits each kernel once for the
// device, keeps the flags buffer and the epoch, checks sizes, and launches for any SymmetricHeap
// (LocalSim: all virtual ranks in one launch; Ipc / Nccl: this process's rank).
//
//   comm::LocalSim heap(4, 0);
//   Collectives c(heap, {.ctas = 20});
//   auto in = heap.alloc(bytes), out = heap.alloc(bytes);
//   c.all_reduce(in, out, bytes / 4, Elem::f32, /*shots=*/2);
//   synchronize();
//
// Flags are never reset: every call uses the next epoch, so back-to-back calls need no clearing.
// Every rank must make the same calls in the same order with the same `ctas`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/comm/heap.h"
#include "runtime/module.h"

namespace weft::samples {

enum class Elem { f32, bf16 };
std::size_t elem_bytes(Elem e);

struct CollectiveOptions {
  std::uint32_t ctas = 20;    // grid.x per rank: the SM budget
  std::uint32_t block = 512;  // threads per CTA
  // 16-byte packets each thread loads per batch (the kernels' `unroll`); 0: their default (4 up to
  // 512 threads per CTA, 2 above for the kernels that sum; all_gather keeps 4 up to 1024). unroll x
  // block may not exceed 2048: the setting applies to every collective, the summing ones included.
  std::uint32_t unroll = 0;
  CUstream stream = nullptr;
  // Bounded flag waits (dsl/debug_wait.h): a rank that never arrives makes the kernel trap after 2 s of
  // waiting, and synchronize() names the flag and epoch instead of the run hanging.
  bool debug_waits = false;
};

class Collectives {
 public:
  Collectives(rt::comm::SymmetricHeap& heap, CollectiveOptions options);

  // rt::synchronize(), and when a launch failed because a debug wait timed out (debug_waits), an
  // error that names the wait: "flag 1 waited at line 40 never reached epoch 3 (last value read: 2)".
  void synchronize() const;

  // out (nranks * bytes_per_rank) gets every rank's `in` (bytes_per_rank, a multiple of 16).
  void all_gather(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out, std::size_t bytes_per_rank);
  // in holds nranks segments of `count` elements; out (count elements) gets the sum of segment `rank`.
  void reduce_scatter(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out, std::size_t count,
                      Elem elem);
  // out = sum over ranks of in (count elements; count * size a multiple of 16 * nranks).
  void all_reduce(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out, std::size_t count,
                  Elem elem, int shots);

  rt::comm::SymmetricHeap& heap() { return heap_; }
  std::uint32_t epoch() const { return epoch_; }
  // Launches `kernel` on this heap's ranks: grid.x = ctas, grid.y = rows (LocalSim) or 1.
  template <class... Args>
  void launch(rt::Kernel& kernel, const Args&... args) {
    launch_with_block(kernel, options_.block, args...);
  }
  // The same with another CTA size (the MoE kernels size CTAs in warps).
  template <class... Args>
  void launch_with_block(rt::Kernel& kernel, std::uint32_t block, const Args&... args);
  // The module of a registered sample kernel with these --param settings, emitted for this device.
  rt::Kernel& kernel(const std::string& name, const std::vector<std::string>& params = {});
  // The flags buffer (2 phases per CTA and rank) and the next epoch.
  const rt::comm::SymmetricBuffer& flags() const { return flags_; }
  std::uint32_t next_epoch() { return ++epoch_; }
  const CollectiveOptions& options() const { return options_; }

 private:
  void check_buffer(const rt::comm::SymmetricBuffer& b, std::size_t need, const char* what, const char* op) const;
  std::string unroll_setting() const { return "unroll=" + std::to_string(options_.unroll); }

  rt::comm::SymmetricHeap& heap_;
  CollectiveOptions options_;
  rt::comm::SymmetricBuffer flags_;
  std::uint32_t epoch_ = 0;
  std::map<std::string, std::unique_ptr<rt::Module>> modules_;
};

}  // namespace weft::samples

#include "samples/apps/comm/collectives_launch.h"
