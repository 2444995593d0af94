// TMA (the tensor memory accelerator, sm_90+) and bulk copies from the DSL.
//
// A TmaTensor is a kernel parameter holding a 128-byte tensor map (`.param .align 64 .b8 name[128]`,
// the layout of CUDA's __grid_constant__ CUtensorMap), described by the same rt::TmaDesc that the
// runtime encodes with cuTensorMapEncodeTiled, so the box the kernel copies and the bytes its
// mbarrier expects come from one description.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "dsl/async/cache_policy.h"
#include "dsl/async/mbarrier.h"
#include "dsl/async/pipeline.h"
#include "dsl/async/shared_layout.h"
#include "runtime/tma_desc.h"

namespace weft {

struct TmaTensor {
  std::string name;
  Reg<u64> map;  // the parameter's address (what the tensor operand takes)
  rt::TmaDesc desc;
  std::uint32_t box_bytes() const { return static_cast<std::uint32_t>(desc.box_bytes()); }
};

// Declares the parameter; the description is checked now (box sizes, swizzle span, strides), and a
// problem is a diagnostic at this line.
TmaTensor tma_param(KernelBuilder& k, std::string name, const rt::TmaDesc& desc, Loc loc = Loc::current());

// A 2D tensor map whose box is exactly `tile` (rows x cols of its element type, its swizzle): the
// map to fill that shared tile with one tma_load.
TmaTensor tma_param(KernelBuilder& k, std::string name, const SharedLayout& tile, Loc loc = Loc::current());

// Loads the box at `coords` (innermost first, one per rank) into shared memory at `dst`,
// completing its bytes on `bar`. With a pipeline, the bytes are noted for its expect_tx check.
void tma_load(KernelBuilder& k, const TmaTensor& t, Reg<u32> dst, std::initializer_list<Src<s32>> coords,
              const Mbarrier& bar, Pipeline* pipe = nullptr, Loc loc = Loc::current());
// Multicast to the CTAs of the cluster in `cta_mask` (sm_90a/100a...: arch-specific): the box lands
// at `dst` in each of them and completes its bytes on `bar` in each. With a pipeline and a constant
// mask, every CTA of the mask is taken to multicast one such box (each loads a slice for all), so a
// stage receives box bytes x CTAs in the mask.
void tma_load_multicast(KernelBuilder& k, const TmaTensor& t, Reg<u32> dst, std::initializer_list<Src<s32>> coords,
                        const Mbarrier& bar, Src<u32> cta_mask, Pipeline* pipe = nullptr, Loc loc = Loc::current());
// Stores the box at `coords` from shared memory at `src` (bulk group: commit and wait after).
void tma_store(KernelBuilder& k, const TmaTensor& t, Reg<u32> src, std::initializer_list<Src<s32>> coords,
               Loc loc = Loc::current());
// Asks L2 for the box at `coords` (cp.async.bulk.prefetch.tensor, sm_90+): no shared memory, no
// barrier, nothing to wait for. A producer issues it some stages ahead of the box's tma_load, so that
// more of a stream's bytes are on their way than its shared-memory stages hold.
void tma_prefetch(KernelBuilder& k, const TmaTensor& t, std::initializer_list<Src<s32>> coords, Loc loc = Loc::current());
// Asks for the tensor map ahead of its first TMA (prefetch.tensormap, sm_90+): a kernel issues it
// once per map at its start, so the first load does not also wait for the 128-byte map.
void prefetch_tensor_map(KernelBuilder& k, const TmaTensor& t, Loc loc = Loc::current());
void bulk_commit(KernelBuilder& k, Loc loc = Loc::current());
void bulk_wait(KernelBuilder& k, std::uint32_t pending = 0, bool read_only = false, Loc loc = Loc::current());
// Orders this thread's generic-proxy shared-memory writes before async-proxy reads (a TMA store).
void fence_proxy_async_shared(KernelBuilder& k, Loc loc = Loc::current());
// Orders this thread's async-proxy global writes (bulk stores it has waited for) with its later
// generic-proxy accesses, such as the release that publishes them to another GPU.
void fence_proxy_async_global(KernelBuilder& k, Loc loc = Loc::current());

// Bulk copy (no tensor map): `bytes` (a multiple of 16) from global to shared, completing on `bar`.
// With a policy, the copy carries .L2::cache_hint (dsl/async/cache_policy.h).
void bulk_load(KernelBuilder& k, Reg<u32> dst, Ptr<u8, Global> src, Src<u32> bytes, const Mbarrier& bar,
               Pipeline* pipe = nullptr, std::optional<L2Policy> policy = std::nullopt, Loc loc = Loc::current());
void bulk_store(KernelBuilder& k, Ptr<u8, Global> dst, Reg<u32> src, Src<u32> bytes,
                std::optional<L2Policy> policy = std::nullopt, Loc loc = Loc::current());

// cp.async (sm_80+): 16 bytes global -> shared, bypassing L1; `src_bytes` < 16 zero-fills the rest.
void cp_async_16(KernelBuilder& k, Reg<u32> dst, Ptr<u8, Global> src, std::optional<Src<u32>> src_bytes = std::nullopt,
                 Loc loc = Loc::current());

}  // namespace weft
