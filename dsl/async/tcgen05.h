// Blackwell (tcgen05: sm_100a, sm_103a, sm_110a) beyond the MMA itself: tensor memory allocation,
// completion of MMAs on an mbarrier, the fences around thread syncs, loads from tensor memory, and
// a checked encoder of the kind::f16 instruction descriptor. `tcgen05_mma_f16` is in dsl/async/mma.h.
//
// The model (PTX ISA §9.7.16):
//   - Tensor memory (TMEM) is 128 lanes x 512 columns of 32 bits per SM. One warp allocates a power
//     of two of columns (32..512) with tcgen05.alloc, which writes the base address to shared memory;
//     the CTA then gives up the right to allocate more (relinquish_alloc_permit), and the same warp
//     frees it before the kernel exits. An address is (lane << 16) | column.
//   - tcgen05.mma is issued by one thread for the whole CTA and runs asynchronously. tcgen05.commit
//     (from the issuing thread) makes an mbarrier arrive once every tcgen05 operation that thread
//     issued before it has completed: that is how a pipeline stage is released (the MMAs reading it
//     are done) and how the epilogue learns that an accumulator is final.
//   - A thread sync (bar.sync, an mbarrier wait) orders tcgen05 operations only with
//     tcgen05.fence::before_thread_sync before it and tcgen05.fence::after_thread_sync after it.
//   - tcgen05.ld reads TMEM into registers; warp w of a warpgroup may only touch lanes
//     32 (w % 4) .. 32 (w % 4) + 31. With .32x32b, lane i of the warp reads TMEM lane (base + i) and
//     register j holds column (base + j). tcgen05.wait::ld makes the registers usable.
//
//   TensorMemory tmem(k, "tmem", 256);
//   auto base = tmem.allocate(warp == 1u);          // every thread: one warp allocates, all read it
//   ... tcgen05_mma_f16(k, base, adesc, bdesc, tcgen05_idesc_f16({.m = 128, .n = 128}), acc);
//   tcgen05_commit(k, bar);                          // bar arrives when those MMAs are done
//   bar.wait(0u); tcgen05_fence_after_sync(k);
//   auto cols = tcgen05_ld_32x32b<32>(k, base + ((warp % 4) * 32 << 16)); tcgen05_wait_ld(k);
//   tmem.deallocate(warp == 1u);                     // every thread: fence, bar.sync, the owner frees
#pragma once

#include <string>

#include "dsl/async/mbarrier.h"
#include "dsl/async/mma.h"

namespace weft {

// The fields of the kind::f16 instruction descriptor (PTX ISA §9.7.16.4.2, "Instruction descriptor
// format for .kind::tf32, .kind::f16, .kind::f8f6f4 and .kind::i8"):
//   bits 0-1 sparsity selector (0), 2 sparsity (0: dense), 3 saturate (0), 4-5 D type (F16 0, F32 1),
//   6 reserved, 7-9 A type and 10-12 B type (F16 0, BF16 1), 13/14 negate A/B, 15/16 transpose A/B
//   (0: K-major), 17-22 N >> 3, 23 reserved, 24-28 M >> 4, 29 reserved, 30-31 max shift (.ws only, 0).
struct Tcgen05F16Desc {
  std::uint32_t m = 128;           // 64 or 128 (cta_group::1)
  std::uint32_t n = 128;           // M = 64: 8..256 in steps of 8; M = 128: 16..256 in steps of 16
  isa::Type ab = isa::Type::bf16;  // A and B: bf16 or f16
  isa::Type d = isa::Type::f32;    // the accumulator: f32 or f16
  bool transpose_a = false;        // false: A is K-major
  bool transpose_b = false;        // false: B is K-major
  bool negate_a = false;
  bool negate_b = false;
};
// Why these fields are not a dense kind::f16 MMA with cta_group::1, or "".
std::string tcgen05_f16_problem(const Tcgen05F16Desc& d);
// The 32-bit descriptor. Fields are encoded as given: check them with tcgen05_f16_problem first.
std::uint32_t tcgen05_idesc_f16(const Tcgen05F16Desc& d);

// Tensor memory of the CTA (cta_group::1), with the shared-memory slot its address is written to.
class TensorMemory {
 public:
  // `columns`: a power of two in [32, 512] (else a diagnostic here).
  TensorMemory(KernelBuilder& k, std::string name, std::uint32_t columns, Loc loc = Loc::current());
  std::uint32_t columns() const { return columns_; }
  // Called by every thread of the CTA. The one warp for which `owner` holds (warp-uniform) allocates
  // and relinquishes the allocation permit; then fence::before_thread_sync, bar.sync 0,
  // fence::after_thread_sync, and every thread reads the base address from the slot.
  Reg<u32> allocate(Pred owner, Loc loc = Loc::current());
  // Called by every thread of the CTA after its last access to tensor memory: fence, bar.sync 0,
  // fence, and the owner warp (the one that allocated) frees the columns.
  void deallocate(Pred owner, Loc loc = Loc::current());
  // The base address from the last allocate().
  Reg<u32> base() const { return base_; }

 private:
  KernelBuilder* k_;
  std::string name_;
  std::uint32_t columns_;
  Ptr<u32, Shared> slot_;
  Reg<u32> base_;
};

// tcgen05.commit.cta_group::1.mbarrier::arrive::one: `bar` arrives once when every tcgen05
// operation this thread issued before has completed. From the thread that issued the MMAs.
void tcgen05_commit(KernelBuilder& k, const Mbarrier& bar, Loc loc = Loc::current());
// Order tcgen05 operations before a following thread sync / after a preceding one.
void tcgen05_fence_before_sync(KernelBuilder& k, Loc loc = Loc::current());
void tcgen05_fence_after_sync(KernelBuilder& k, Loc loc = Loc::current());

// tcgen05.ld.sync.aligned.32x32b.x<columns>.b32 (whole warp; no wait): lane i gets TMEM lane
// lane(taddr) + i, register j column column(taddr) + j. Follow with tcgen05_wait_ld before use.
void tcgen05_ld_32x32b(KernelBuilder& k, const std::vector<ir::RegId>& dst, Reg<u32> taddr, Loc loc = Loc::current());
template <std::size_t N>
Fragment<b32, N> tcgen05_ld_32x32b(KernelBuilder& k, Reg<u32> taddr, Loc loc = Loc::current()) {
  static_assert(N >= 1 && N <= 128 && (N & (N - 1)) == 0, "tcgen05.ld .32x32b takes 1, 2, 4, ..., 128 columns");
  Fragment<b32, N> f(k);
  tcgen05_ld_32x32b(k, f.ids(), taddr, loc);
  return f;
}
void tcgen05_wait_ld(KernelBuilder& k, Loc loc = Loc::current());

}  // namespace weft
