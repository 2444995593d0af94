// Device copy by bulk asynchronous copies issued from ONE thread per CTA (sm_90+): chunks go global ->
// shared (completing on an mbarrier) -> global (bulk group), with `stages` chunks in flight. The
// point is the SM budget: one warp per SM drives that SM's share of memory bandwidth, leaving the
// rest of the SM free (DESIGN.md: communication beside a GEMM).
#include <algorithm>

#include "dsl/async.h"
#include "dsl/comm/bulk_copy.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(copy_bulk, isa::TargetSet::from_sm(90),
                "dst = src in chunks, bulk async copies from one thread per CTA, `stages` chunks in flight",
                {{"chunk", 32768, "bytes per chunk (a multiple of 16; the host splits the copy into chunks)", 1024, 65536},
                 {"stages", 0, "chunks in flight per CTA (0: as many as fit the target's shared memory, at most 4)", 0, 8},
                 {"lag", 0, "stores still reading when a stage is refilled (less than stages; dsl/comm/bulk_copy.h)", 0, 7},
                 {"evict_first", 0, "1: loads and stores marked L2 evict_first (the copied bytes leave L2 first)", 0, 1}}) {
  const auto chunk = static_cast<std::uint32_t>(params["chunk"]);
  // By default 4 chunks in flight where they fit (sm_90, sm_100: 4 x 32 KiB), fewer on a target with
  // less shared memory (sm_120's 99 KiB hold 3); at least 1, or the emit error names the shortfall.
  const auto fitting = dynamic_shared_room(target, 128, 8 * 8) / chunk;  // beside at most 8 stages' barriers
  const auto stages = params["stages"] != 0 ? static_cast<std::uint32_t>(params["stages"])
                                            : std::clamp<std::uint32_t>(fitting, 1, 4);
  const auto lag = static_cast<std::uint32_t>(params["lag"]);
  const bool evict_first = params["evict_first"] != 0;
  KernelBuilder k{"copy_bulk", target};
  k.reqntid(32);
  auto nchunks = k.param<u32>("nchunks");
  auto src = k.param_ptr<u8>("src");
  auto dst = k.param_ptr<u8>("dst");
  auto ring = k.dynamic_shared<u8>("ring", 128, stages * chunk);
  // Chunks cta, cta + ctas, ... of this CTA, copied by its lane 0.
  k.if_(k.laneid() == 0u, [&] {
    comm::bulk_copy_chunks(k, {.name = "full", .base = ring.base(), .stages = stages, .chunk = chunk, .store_lag = lag,
                                .l2_evict_first = evict_first},
                           src, dst, nchunks, k.ctaid_x(), k.nctaid_x());
  });
  return k.build();
}

}  // namespace weft::samples
