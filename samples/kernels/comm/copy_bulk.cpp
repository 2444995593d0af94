// Device copy by bulk asynchronous copies issued from ONE thread per CTA (sm_90+): chunks go global ->
// shared (completing on an mbarrier) -> global (bulk group), with `stages` chunks in flight. The
// point is the SM budget: one warp per SM drives that SM's share of memory bandwidth, leaving the
// rest of the SM free (DESIGN.md: communication beside a GEMM).
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(copy_bulk, isa::TargetSet::from_sm(90),
                "dst = src in chunks, bulk async copies from one thread per CTA, `stages` chunks in flight",
                {{"chunk", 32768, "bytes per chunk (a multiple of 16; the host splits the copy into chunks)", 1024, 65536},
                 {"stages", 4, "chunks in flight per CTA", 2, 8}}) {
  const auto chunk = static_cast<std::uint32_t>(params["chunk"]);
  const auto stages = static_cast<std::uint32_t>(params["stages"]);
  KernelBuilder k{"copy_bulk", target};
  k.reqntid(32);
  if (chunk % 16) k.error("copy_bulk: chunk must be a multiple of 16");
  auto nchunks = k.param<u32>("nchunks");
  auto src = k.param_ptr<u8>("src");
  auto dst = k.param_ptr<u8>("dst");
  auto ring = k.dynamic_shared<u8>("ring", 128, stages * chunk);
  MbarrierArray full(k, "full", stages);
  auto cta = k.ctaid_x();
  auto ctas = k.nctaid_x();
  auto chunk_of = [&](Reg<u32> local) { return cta + local * ctas; };  // this CTA's local-th chunk
  auto stage_addr = [&](Reg<u32> s) { return ring.base() + s * chunk; };
  auto load = [&](Reg<u32> local, Reg<u32> s) {
    auto bar = full.at(s);
    bar.arrive_expect_tx(chunk);
    bulk_load(k, stage_addr(s), src + chunk_of(local) * chunk, chunk, bar);
  };

  k.if_(k.laneid() == 0u, [&] {
    for (std::uint32_t s = 0; s < stages; ++s) full[s].init(1u);
    k.instr("fence.mbarrier_init.release.cluster", {}, {}, {});
    // Prologue: the first `stages` chunks.
    k.for_(0u, stages, 1u, [&](Reg<u32> s) { k.if_(chunk_of(s) < nchunks, [&] { load(s, s); }); });
    auto local = k.let<u32>(0u);
    k.while_([&] { return chunk_of(local) < nchunks; }, [&] {
      auto s = local % stages;
      full.at(s).wait((local / stages) & 1u);
      bulk_store(k, dst + chunk_of(local) * chunk, stage_addr(s), chunk);
      bulk_commit(k);
      auto next = local + stages;
      k.if_(chunk_of(next) < nchunks, [&] {
        bulk_wait(k, 0, /*read_only=*/true);  // the store has read the stage: refill it
        load(next, s);
      });
      k.assign(local, local + 1u);
    });
    bulk_wait(k, 0);
  });
  return k.build();
}

}  // namespace weft::samples
