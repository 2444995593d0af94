// Blackwell: one CTA computes D (128xN f32, in tensor memory) = A (128x64 bf16) * B (Nx64 bf16)^T with
// TMA loads into swizzled tiles, four tcgen05.mma steps issued by one thread, completion through
// tcgen05.commit on an mbarrier, and tcgen05.ld of each warp's 32 rows. Assembled for sm_100a; not
// run in this project yet (no such GPU).
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL_FOR(tcgen05_tile, isa::TargetSet::only({"sm_100a", "sm_103a", "sm_110a"}),
                "D(128x64 f32) = A(128x64 bf16) * B(64x64 bf16)^T with TMA + tcgen05.mma (one CTA)", {}) {
  constexpr std::uint32_t kM = 128, kN = 64, kK = 64;
  KernelBuilder k{"tcgen05_tile", target};
  k.reqntid(128);
  const SharedLayout a_layout{.rows = kM, .cols = kK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  const SharedLayout b_layout{.rows = kN, .cols = kK, .elem = isa::Type::bf16, .swizzle = Swizzle::b128};
  auto a_map = tma_param(k, "a", a_layout);  // one box fills one tile
  auto b_map = tma_param(k, "b", b_layout);
  auto d = k.param_ptr<f32>("d");  // 128 x 64, row-major
  auto a_tile = shared_tile(k, "a_tile", a_layout);
  auto b_tile = shared_tile(k, "b_tile", b_layout);
  MbarrierArray bars(k, "bars", 2);  // [0]: tiles loaded, [1]: MMA done
  auto tmem_slot = k.shared<u32>("tmem_addr", 1, 16);

  auto tid = k.tid_x();
  auto warp = tid >> 5u;
  k.if_(warp == 0u, [&] {  // one warp allocates the accumulator's 64 columns of tensor memory
    k.instr("tcgen05.alloc", {}, {q::make(isa::QualKind::ctagroup, "cta_group::1")},
            {tmem_slot, static_cast<std::int64_t>(kN)});
    k.instr("tcgen05.relinquish_alloc_permit", {}, {q::make(isa::QualKind::ctagroup, "cta_group::1")}, {});
  });
  k.instr("tcgen05.fence::before_thread_sync", {}, {}, {});
  bars.init_all(1);  // thread 0 initialises, then the CTA syncs (also publishing the allocation)
  k.instr("tcgen05.fence::after_thread_sync", {}, {}, {});
  auto tmem = k.ld(tmem_slot);

  k.if_(tid == 0u, [&] {
    bars[0].arrive_expect_tx(a_map.box_bytes() + b_map.box_bytes());
    tma_load(k, a_map, a_tile.base(), {0, 0}, bars[0]);
    tma_load(k, b_map, b_tile.base(), {0, 0}, bars[0]);
    bars[0].wait(0u);
    k.instr("tcgen05.fence::after_thread_sync", {}, {}, {});
    for (std::uint32_t kk = 0; kk < kK / 16; ++kk) {
      auto accumulate = k.let_pred(kk > 0);
      tcgen05_mma_f16(k, tmem, a_tile.tcgen05_descriptor(kk * 32), b_tile.tcgen05_descriptor(kk * 32),
                      tcgen05_idesc_bf16(kM, kN), accumulate);
    }
    k.instr("tcgen05.commit", {}, {q::make(isa::QualKind::ctagroup, "cta_group::1")}, {Ptr<u64, Shared>(bars[1].address())});
  });
  bars[1].wait(0u);
  k.instr("tcgen05.fence::after_thread_sync", {}, {}, {});

  // Warp w reads rows 32w..32w+31 (lane = row): 64 columns, one register each.
  Fragment<b32, kN> cols(k);
  auto lane_base = tmem + ((warp * 32u) << 16u);  // tensor-memory address: lane in the high half
  k.instr("tcgen05.ld.sync.aligned", {}, {q::make(isa::QualKind::tmshape, "32x32b"), q::make(isa::QualKind::num, "x64")},
          {Arg(ir::Operand::list(cols.ids())), Ptr<u32, Shared>(lane_base)});
  k.instr("tcgen05.wait::ld.sync.aligned", {}, {}, {});
  auto row = tid;
  for (std::uint32_t c = 0; c < kN; ++c) k.st(d + (row * kN + c), bitcast<f32>(cols.at(c)));

  k.bar_sync();
  k.if_(warp == 0u, [&] {
    k.instr("tcgen05.dealloc", {}, {q::make(isa::QualKind::ctagroup, "cta_group::1")},
            {tmem, static_cast<std::int64_t>(kN)});
  });
  return k.build();
}

}  // namespace weft::samples
