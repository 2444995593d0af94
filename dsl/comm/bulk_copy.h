// Moving memory with one thread (sm_90+): a ring of shared-memory buffers, each filled by a bulk
// async copy global -> shared (completing on an mbarrier) and drained by a bulk copy shared ->
// global (a bulk group), `stages` chunks in flight. One thread drives an SM's share of memory
// bandwidth this way, so a copy needs one warp of an SM — a dedicated CTA (samples/kernels/comm/
// copy_bulk.cpp) or a spare warp inside another kernel's CTA (the GEMM's copy role).
//
// The destination may be a peer pointer: bulk copies have no scope (the verifier exempts them);
// order them before a flag with bulk_wait(k, 0) and a .sys release (comm::signal).
#pragma once

#include <string>

#include "dsl/async/mbarrier.h"
#include "dsl/kernel_builder.h"

namespace weft::comm {

struct BulkCopyRing {
  std::string name = "copy";  // names the ring's mbarriers
  Reg<u32> base;              // shared address of `stages * chunk` bytes, 16-byte aligned
  std::uint32_t stages = 4;   // chunks in flight
  std::uint32_t chunk = 32768;  // bytes per chunk: a multiple of 16
  // Stores left reading their stage when a stage is refilled (less than `stages`). 0: each store has
  // read its stage before the next load is issued (one store at a time); L > 0: after the store of
  // chunk i the thread refills the stage of chunk i - L, so L + 1 stores overlap the loads.
  std::uint32_t store_lag = 0;
  // Loads and stores marked L2 evict_first (dsl/async/cache_policy.h): the copied bytes leave L2
  // before other data, so a copy beside a GEMM does not evict the GEMM's operands.
  bool l2_evict_first = false;
};

// The calling thread (alone) copies chunks first, first + step, ... below nchunks: bytes
// [c * chunk, (c + 1) * chunk) of src to dst. It initialises the ring's barriers itself (it is their
// only user) and returns when every store has completed.
void bulk_copy_chunks(KernelBuilder& k, const BulkCopyRing& ring, Ptr<u8, Global> src, Ptr<u8, Global> dst,
                      Reg<u32> nchunks, Reg<u32> first, Reg<u32> step, Loc loc = Loc::current());

}  // namespace weft::comm
