// Warp-specialised streaming sum: a producer warpgroup (40 registers) moves chunks of the input into
// a 4-stage shared-memory ring with bulk async copies completing on mbarriers; a consumer warpgroup
// (232 registers) sums each chunk and releases the stage. *out += the sum (the caller zeroes it).
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(bulk_pipeline_sum, isa::TargetSet::from_sm(90),
                "*out += sum of chunks*chunk f32: producer/consumer warpgroups over a bulk-copy mbarrier ring",
                {{"stages", 4, "ring stages", 2, 8},
                 {"chunk", 2048, "f32 elements per stage (a multiple of 128)", 128, 4096}}) {
  const auto stages = static_cast<std::uint32_t>(params["stages"]);
  const auto chunk = static_cast<std::uint32_t>(params["chunk"]);
  const std::uint32_t chunk_bytes = chunk * 4;
  KernelBuilder k{"bulk_pipeline_sum", target};
  k.reqntid(256);
  auto chunks = k.param<u32>("chunks");  // chunks this CTA sums, starting at ctaid.x * chunks
  auto in = k.param_ptr<u8>("in");
  auto out = k.param_ptr<f32>("out");
  auto ring = k.shared<f32>("ring", stages * chunk, 128);
  Pipeline pipe(k, "ring", {.stages = stages, .consumer_arrivals = 128, .tx_bytes = chunk_bytes,
                            .producer_role = "producer", .consumer_role = "consumer"});
  auto first = k.ctaid_x() * chunks;

  warp_roles(k, {
      {.name = "producer", .warpgroups = 1, .registers = 40, .body = [&](const RoleContext& r) {
         k.if_(r.thread < 32u, [&] {  // one warp issues; one elected lane does the copies
           auto st = pipe.state();
           k.for_(0u, chunks, 1u, [&](Reg<u32> c) {
             pipe.producer_acquire(st);
             k.if_(k.elect_sync(), [&] {
               auto src = in + ((first + c) * chunk_bytes);
               auto dst = ring.base() + st.stage * chunk_bytes;
               bulk_load(k, dst, src, chunk_bytes, pipe.full(st), &pipe);
             });
             pipe.producer_commit(st);
             pipe.advance(st);
           });
         });
       }},
      {.name = "consumer", .warpgroups = 1, .registers = 232, .body = [&](const RoleContext& r) {
         auto st = pipe.state();
         auto sum = k.let<f32>(0.0f);
         k.for_(0u, chunks, 1u, [&](Reg<u32>) {
           pipe.consumer_wait(st);
           auto base = ring + st.stage * chunk;
           k.for_(r.thread, chunk, r.threads, [&](Reg<u32> i) { k.assign(sum, sum + k.ld(base + i)); });
           pipe.consumer_release(st);
           pipe.advance(st);
         });
         for (std::uint32_t offset = 16; offset > 0; offset /= 2) k.assign(sum, sum + k.shfl(q::bfly, sum, offset));
         k.if_((r.thread & 31u) == 0u, [&] { k.red(q::add, out, sum); });
       }},
  });
  return k.build();
}

}  // namespace weft::samples
