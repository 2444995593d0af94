#include "dsl/comm/bulk_copy.h"

#include "dsl/async/tma.h"
#include "dsl/ops.h"

namespace weft::comm {

void bulk_copy_chunks(KernelBuilder& k, const BulkCopyRing& ring, Ptr<u8, Global> src, Ptr<u8, Global> dst,
                      Reg<u32> nchunks, Reg<u32> first, Reg<u32> step, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  if (ring.chunk % 16 || ring.chunk == 0) k.error("bulk_copy_chunks: the chunk size must be a positive multiple of 16", "", loc);
  if (ring.stages == 0) k.error("bulk_copy_chunks: the ring needs at least one stage", "", loc);
  if (ring.store_lag >= ring.stages)
    k.error("bulk_copy_chunks: store_lag " + std::to_string(ring.store_lag) + " must be less than the ring's " +
                std::to_string(ring.stages) + " stages (a stage is refilled only after its store)",
            "a smaller store_lag or more stages", loc);
  MbarrierArray full(k, ring.name + "_full", ring.stages, loc);
  const auto chunk = ring.chunk, stages = ring.stages;
  auto chunk_of = [&](Reg<u32> local) { return first + local * step; };  // this thread's local-th chunk
  auto stage_addr = [&](Reg<u32> s) { return ring.base + s * chunk; };
  std::optional<L2Policy> policy;
  if (ring.l2_evict_first) policy = l2_policy(k, q::L2_evict_first, loc);
  auto load = [&](Reg<u32> local, Reg<u32> s) {
    auto bar = full.at(s, loc);
    bar.arrive_expect_tx(chunk, loc);
    bulk_load(k, stage_addr(s), src + chunk_of(local) * chunk, chunk, bar, nullptr, policy, loc);
  };
  for (std::uint32_t s = 0; s < stages; ++s) full[s].init(1u, loc);
  k.instr("fence.mbarrier_init.release.cluster", {}, {}, {}, loc);
  // Prologue: the first `stages` chunks.
  k.for_(0u, stages, 1u, [&](Reg<u32> s) { k.if_(chunk_of(s) < nchunks, [&] { load(s, s); }, loc); }, Unroll::none, loc);
  auto local = k.let<u32>(0u, loc);
  k.while_([&] { return chunk_of(local) < nchunks; }, [&] {
    auto s = local % stages;
    full.at(s, loc).wait((local / stages) & 1u, loc);
    bulk_store(k, dst + chunk_of(local) * chunk, stage_addr(s), chunk, policy, loc);
    bulk_commit(k, loc);
    // Refill the stage of the store `lag` back once it has read it; the newer stores keep reading.
    // Every chunk is loaded: chunk r + stages is loaded at step r + lag, which exists since lag < stages.
    const std::uint32_t lag = ring.store_lag;
    auto refill = [&](Reg<u32> done) {
      auto next = done + stages;
      k.if_(chunk_of(next) < nchunks, [&] {
        bulk_wait(k, lag, /*read_only=*/true, loc);
        load(next, done % stages);
      }, loc);
    };
    if (lag == 0) refill(local);
    else k.if_(local >= lag, [&] { refill(local - lag); }, loc);
    k.assign(local, local + 1u, loc);
  }, loc);
  bulk_wait(k, 0, /*read_only=*/false, loc);
}

}  // namespace weft::comm
