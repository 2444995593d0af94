// Copies a 2D f32 tensor tile by tile with TMA: one thread loads a box into shared memory
// (completing on an mbarrier) and stores it back out to the destination tensor map.
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(tma_copy, isa::TargetSet::from_sm(90),
                "dst = src for a 2D f32 tensor, one box per CTA through shared memory (TMA load + store)",
                {{"box", 64, "box edge in elements (the tensor maps must use it)", 8, 64, true}}) {
  const auto box = static_cast<std::uint32_t>(params["box"]);
  KernelBuilder k{"tma_copy", target};
  k.reqntid(128);
  rt::TmaDesc desc;
  desc.dtype = rt::TmaDtype::f32;
  desc.rank = 2;
  desc.box_dims = {box, box, 1, 1, 1};
  auto src = tma_param(k, "src", desc);
  auto dst = tma_param(k, "dst", desc);
  auto tile = shared_tile(k, "tile", {.rows = box, .cols = box, .elem = isa::Type::f32});
  MbarrierArray bar(k, "bar", 1);

  auto tid = k.tid_x();
  auto x = bitcast<s32>(k.ctaid_x() * box);
  auto y = bitcast<s32>(k.ctaid_y() * box);
  bar.init_all(1);
  k.if_(tid == 0u, [&] {
    bar[0].arrive_expect_tx(src.box_bytes());
    tma_load(k, src, tile.base(), {x, y}, bar[0]);
  });
  bar[0].wait(0u);
  k.if_(tid == 0u, [&] {
    tma_store(k, dst, tile.base(), {x, y});
    bulk_commit(k);
    bulk_wait(k, 0);
  });
  return k.build();
}

}  // namespace weft::samples
