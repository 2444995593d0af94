// A cluster of two CTAs swaps a value through distributed shared memory: each CTA writes to its own
// shared memory, the cluster synchronises, and each reads its peer's copy through mapa and
// ld.shared::cluster. out[cta] = 100 + the peer's rank.
#include "dsl/async/cluster.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(cluster_exchange, isa::TargetSet::from_sm(90),
                "out[cta] = 100 + rank of the other CTA of its 2-CTA cluster (distributed shared memory)", {}) {
  KernelBuilder k{"cluster_exchange", target};
  k.reqntid(32);
  k.cluster_dims(2);
  auto out = k.param_ptr<u32>("out");
  auto mine = k.shared<u32>("mine", 1);
  auto rank = cluster_ctarank(k);
  auto tid = k.tid_x();
  k.if_(tid == 0u, [&] { k.st(mine, rank + 100u); });
  cluster_sync(k);
  k.if_(tid == 0u, [&] {
    auto v = k.reg<u32>();
    k.instr("ld", {isa::Type::u32}, {q::shared_cluster}, {v, Ptr<u32, Shared>(map_shared(k, mine.base(), rank ^ 1u))});
    k.st(out + k.ctaid_x(), v);
  });
  cluster_sync(k);  // the peer must not exit while its shared memory is being read
  return k.build();
}

}  // namespace weft::samples
