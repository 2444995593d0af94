// Thread-block clusters (sm_90+): the CTA's rank in its cluster, addresses in another CTA's shared
// memory (distributed shared memory), and the cluster-wide barrier.
//
//   k.cluster_dims(2);                               // .reqnctapercluster 2, 1, 1
//   auto rank = cluster_ctarank(k);
//   auto peer = map_shared(k, my_var, rank ^ 1u);    // the same variable in the other CTA
//   cluster_sync(k);                                 // every thread of every CTA of the cluster
#pragma once

#include "dsl/kernel_builder.h"

namespace weft {

// %cluster_ctarank: this CTA's rank in its cluster (0 without clusters).
Reg<u32> cluster_ctarank(KernelBuilder& k, Loc loc = Loc::current());

// mapa: the shared::cluster address of the variable at this CTA's shared address `addr` in the
// shared memory of CTA `rank` of the cluster. Only shared::cluster accesses may use the result.
Reg<u32> map_shared(KernelBuilder& k, Reg<u32> addr, Src<u32> rank, Loc loc = Loc::current());

// barrier.cluster.arrive.release + barrier.cluster.wait.acquire, both .aligned: every thread of
// the cluster's CTAs must execute it. It orders the writes before it (shared memory, mbarrier
// initialisation) before what any CTA of the cluster does after it, and keeps a CTA from exiting
// while another still reads or arrives on its shared memory.
void cluster_sync(KernelBuilder& k, Loc loc = Loc::current());

}  // namespace weft
