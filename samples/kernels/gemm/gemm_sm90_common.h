// Pieces of the Hopper GEMM (gemm_sm90.cpp) that are not the main loop: the epilogues of a wgmma
// m64nN accumulator (from registers, or staged in shared memory and stored with TMA) and split-K's
// reduction (the tile order and work units, shared by every GEMM, are in tile_order.h; the
// configuration and its plan in gemm_sm90_config.h).
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "dsl/async.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples::sm90 {

// What the epilogue writes: D = alpha * acc + beta * C (+ bias[col]). D and C are m x n row-major,
// bf16, or f32 with out_f32 (C is read only when beta != 0); bias is bf16, one per column.
struct Epilogue {
  Reg<u32> m, n;
  Reg<f32> alpha, beta;
  Ptr<u16, Global> c, d;  // bf16 bits; reinterpreted as f32 with out_f32
  Ptr<u16, Global> bias;  // with has_bias
  bool out_f32 = false, has_bias = false;
  std::uint32_t bm = 128, bn = 128;
};

// Adds beta * C to the pair (v0, v1) of row `row`, columns (col, col + 1), for the elements inside
// m x n. The caller has checked beta != 0 (once for many pairs: C is not read when beta is 0).
inline void add_beta_c(KernelBuilder& k, const Epilogue& e, Reg<f32> v0, Reg<f32> v1, Reg<u32> row, Reg<u32> col) {
  auto bf16_to_f32 = [&](Reg<u16> h) { return bitcast<f32>(convert<u32>(h) << 16u); };
  k.if_(row < e.m && col < e.n, [&] {
    auto idx = row * e.n + col;
    auto pair = col + 1u < e.n;
    if (e.out_f32) {
      auto c32 = e.c.template as<f32>();
      k.assign(v0, fma(e.beta, k.ld(c32 + idx), v0));
      k.if_(pair, [&] { k.assign(v1, fma(e.beta, k.ld(c32 + (idx + 1u)), v1)); });
    } else {
      k.assign(v0, fma(e.beta, bf16_to_f32(k.ld(e.c + idx)), v0));
      k.if_(pair, [&] { k.assign(v1, fma(e.beta, bf16_to_f32(k.ld(e.c + (idx + 1u))), v1)); });
    }
  });
}

// The two values of the column pair (col, col + 1) in row `row` that accumulator registers j, j + 1
// hold: alpha * acc, + beta * C (read only when beta != 0 and the element is inside m x n), + bias
// (`bias`: the pair's bias, zero outside n).
inline std::pair<Reg<f32>, Reg<f32>> pair_values(KernelBuilder& k, const Epilogue& e, const std::vector<Reg<f32>>& acc,
                                                 std::uint32_t j, Reg<u32> row, Reg<u32> col,
                                                 const std::pair<Reg<f32>, Reg<f32>>* bias) {
  auto v0 = acc[j] * e.alpha;
  auto v1 = acc[j + 1] * e.alpha;
  k.if_(e.beta != 0.0f, [&] { add_beta_c(k, e, v0, v1, row, col); });
  if (bias) {
    k.assign(v0, v0 + bias->first);
    k.assign(v1, v1 + bias->second);
  }
  return {v0, v1};
}

// The bias of columns (col, col + 1), zero for a column outside n.
inline std::pair<Reg<f32>, Reg<f32>> column_bias(KernelBuilder& k, const Epilogue& e, Reg<u32> col) {
  auto bf16_to_f32 = [&](Reg<u16> h) { return bitcast<f32>(convert<u32>(h) << 16u); };
  auto b0 = k.let<f32>(0.0f), b1 = k.let<f32>(0.0f);
  k.if_(col < e.n, [&] {
    k.assign(b0, bf16_to_f32(k.ld(e.bias + col)));
    k.if_(col + 1u < e.n, [&] { k.assign(b1, bf16_to_f32(k.ld(e.bias + (col + 1u)))); });
  });
  return {b0, b1};
}

// Rows row_block * 64 .. + 63 of tile (tm, tn) (one wgmma m64 accumulator of a warpgroup), stored
// from registers through the accumulator map of dsl/async/mma.h: per column pair (registers 4 cj .. 4 cj + 3: columns
// 8 cj + 2 (lane % 4) + {0, 1}, rows lane / 4 and + 8) one store per aligned pair (bf16:
// cvt.rn.bf16x2.f32 and a 32-bit store; f32: a 64-bit store), single-element stores when n is odd or
// at the last column; rows and columns outside m x n are skipped.
inline void store_tile(KernelBuilder& k, const Epilogue& e, const std::vector<Reg<f32>>& acc, Reg<u32> tm, Reg<u32> tn,
                       Reg<u32> row_block, Reg<u32> warp, Reg<u32> lane) {
  auto row0 = tm * e.bm + row_block * 64u + warp * 16u + (lane >> 2u);
  auto col0 = tn * e.bn + (lane & 3u) * 2u;
  auto d32 = e.d.template as<f32>();
  for (std::uint32_t cj = 0; cj < e.bn / 8; ++cj) {
    auto col = col0 + 8u * cj;
    k.if_(col < e.n, [&] {
      auto pair = col + 1u < e.n;
      std::pair<Reg<f32>, Reg<f32>> bias;
      if (e.has_bias) bias = column_bias(k, e, col);
      for (std::uint32_t half = 0; half < 2; ++half) {  // rows row0 and row0 + 8
        auto row = row0 + 8u * half;
        k.if_(row < e.m, [&] {
          auto [v0, v1] = pair_values(k, e, acc, 4 * cj + 2 * half, row, col, e.has_bias ? &bias : nullptr);
          auto idx = row * e.n + col;
          auto aligned_pair = pair && (e.n & 1u) == 0u;  // idx even: an 8-byte (f32) or 4-byte (bf16) pair
          if (e.out_f32) {
            k.if_(aligned_pair, [&] { k.st_vec(d32 + idx, std::array<Reg<f32>, 2>{v0, v1}); }).else_([&] {
              k.st(d32 + idx, v0);
              k.if_(pair, [&] { k.st(d32 + (idx + 1u), v1); });
            });
          } else {
            auto packed = k.reg<b32>();
            k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, v1, v0});
            k.if_(aligned_pair, [&] { k.st((e.d + idx).template as<u32>(), bitcast<u32>(packed)); }).else_([&] {
              k.st(e.d + idx, convert<u16>(bitcast<u32>(packed) & 0xffffu));
              k.if_(pair, [&] { k.st(e.d + (idx + 1u), convert<u16>(bitcast<u32>(packed) >> 16u)); });
            });
          }
        });
      }
    });
  }
}

// The TMA-store epilogue: a consumer warpgroup writes its 64-row blocks of the tile (one per wgmma m64
// accumulator) in boxes of 64 rows x 128 bytes of D (64 bf16 or 32 f32 columns), each staged in one
// of `buffers` 8 KB buffers of its own in shared memory (128B-swizzled: the 16-byte chunk index XOR
// row % 8, so a warp's stores spread over all 32 banks), then stored by one thread with a TMA store
// that clips rows and columns outside m x n. Box c + buffers reuses box c's buffer once the store
// from it has read it (wait_group.read buffers - 1); the first box of a tile waits for every earlier
// store (wait_group.read 0). Two buffers let a store read one while the warpgroup fills the other;
// one frees 8 KB per warpgroup for something else (the copy role's ring); four hold a warpgroup's
// whole 64 x 256 bf16 block, so only box 0 waits, for stores issued a whole main loop earlier.
//
// Per box, every value is alpha * acc first; beta * C is added under one beta != 0 test for the
// whole box (not one per pair), then the bias. bf16 boxes are written with stmatrix .x4: the wgmma
// accumulator's pairs, packed to bf16x2, are exactly stmatrix's fragments (matrix q of an
// instruction: columns 8 cj .. + 7 with cj = first + q / 2, rows 8 (q % 2) .. + 7 of the warp's 16),
// so one instruction stores what four 4-byte stores per thread did; f32 boxes use 8-byte stores.
inline constexpr std::uint32_t kStoreBoxBytes = 64 * 128;

struct TmaStore {
  const TmaTensor* d_map = nullptr;  // box: 64 rows x 128 bytes, 128B swizzle
  Reg<u32> staging;                  // shared: warpgroup w's buffers at staging + w * buffers * kStoreBoxBytes
  std::uint32_t buffers = 2;         // per warpgroup, 1 to 4
};

// One 64-row block of a tile: its accumulator and which block of the tile it is.
struct RowBlock {
  const std::vector<Reg<f32>>* acc;
  Reg<u32> index;  // rows index * 64 .. + 63 of the tile
};

inline void store_tile_tma(KernelBuilder& k, const Epilogue& e, const TmaStore& ts, const std::vector<RowBlock>& blocks,
                           Reg<u32> tm, Reg<u32> tn, const RoleContext& r, Reg<u32> warp, Reg<u32> lane) {
  const std::uint32_t elem = e.out_f32 ? 4 : 2, box_cols = 128 / elem, boxes = e.bn / box_cols;
  const std::uint32_t groups = box_cols / 8;  // 8-column groups (cj) per box: 8 bf16 or 4 f32
  auto leader = (r.thread & 127u) == 0u;  // issues and waits for this warpgroup's stores
  auto row_in = warp * 16u + (lane >> 2u);
  auto col0 = tn * e.bn + (lane & 3u) * 2u;
  // stmatrix addressing: lane l gives row l % 8 of matrix l / 8, i.e. box row st_row; its 16-byte
  // chunk is (cj - first of box) ^ st_row % 8, and since the first cj of an instruction is even,
  // (even + (l / 16)) ^ (l % 8) = even ^ st_x.
  auto st_row = warp * 16u + ((lane >> 3u) & 1u) * 8u + (lane & 7u);
  auto st_x = (lane >> 4u) ^ (lane & 7u);
  const std::uint32_t nbuf = ts.buffers;
  auto buffers = ts.staging + r.warpgroup * (nbuf * kStoreBoxBytes);
  for (std::uint32_t i = 0; i < blocks.size() * boxes; ++i) {  // box i: block i / boxes, columns box
    const auto& acc = *blocks[i / boxes].acc;
    auto block = blocks[i / boxes].index;
    const std::uint32_t box = i % boxes, first = box * groups;
    auto row0 = tm * e.bm + block * 64u + row_in;
    auto buffer = buffers + (i % nbuf) * kStoreBoxBytes;
    // The box's values: pair (g, half) holds columns col0 + 8 (first + g) + {0, 1} of row row0 + 8 half.
    std::vector<std::pair<Reg<f32>, Reg<f32>>> v;
    for (std::uint32_t g = 0; g < groups; ++g)
      for (std::uint32_t half = 0; half < 2; ++half) {
        const std::uint32_t j = 4 * (first + g) + 2 * half;
        v.emplace_back(acc[j] * e.alpha, acc[j + 1] * e.alpha);
      }
    k.if_(e.beta != 0.0f, [&] {
      for (std::uint32_t g = 0; g < groups; ++g)
        for (std::uint32_t half = 0; half < 2; ++half)
          add_beta_c(k, e, v[2 * g + half].first, v[2 * g + half].second, row0 + 8u * half, col0 + 8u * (first + g));
    });
    if (e.has_bias)
      for (std::uint32_t g = 0; g < groups; ++g) {
        auto bias = column_bias(k, e, col0 + 8u * (first + g));
        for (std::uint32_t half = 0; half < 2; ++half) {
          auto& [v0, v1] = v[2 * g + half];
          k.assign(v0, v0 + bias.first);
          k.assign(v1, v1 + bias.second);
        }
      }
    if (i == 0 || i >= nbuf) {  // boxes 1 .. nbuf - 1 find their buffers released by box 0's wait
      k.if_(leader, [&] { bulk_wait(k, i == 0 ? 0 : nbuf - 1, /*read_only=*/true); });
      r.sync_warpgroup();
    }
    if (e.out_f32) {
      for (std::uint32_t g = 0; g < groups; ++g)
        for (std::uint32_t half = 0; half < 2; ++half) {
          // Row rr of the box, byte column bc: rr * 128 + bc, the chunk bits XORed with rr % 8.
          auto rr = row_in + 8u * half;
          auto bc = ((lane & 3u) * 2u + 8u * g) * elem;
          auto offset = (rr * 128u + bc) ^ ((rr & 7u) << 4u);
          const auto& [v0, v1] = v[2 * g + half];
          k.st_vec(Ptr<f32, Shared>(buffer + offset), std::array<Reg<f32>, 2>{v0, v1});
        }
    } else {
      for (std::uint32_t g = 0; g < groups; g += 2) {  // one stmatrix .x4: groups g and g + 1, both halves
        std::array<Reg<b32>, 4> packed;
        for (std::uint32_t mat = 0; mat < 4; ++mat) {
          const auto& [v0, v1] = v[2 * (g + mat / 2) + mat % 2];
          packed[mat] = k.reg<b32>();
          k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed[mat], v1, v0});
        }
        stmatrix_x4(k, buffer + st_row * 128u + ((st_x ^ g) << 4u), Fragment<b32, 4>(packed));
      }
    }
    fence_proxy_async_shared(k);  // the generic-proxy writes before the async-proxy read
    r.sync_warpgroup();
    k.if_(leader, [&] {
      tma_store(k, *ts.d_map, buffer,
                {bitcast<s32>(tn * e.bn + box * box_cols), bitcast<s32>(tm * e.bm + block * 64u)});
      bulk_commit(k);
    });
  }
}

// Split-K (splits > 1): the units of one tile compute its K parts on different CTAs. Each writes its
// fp32 partial tile to `workspace` (tile t, part s at (t * splits + s) * bm * bn floats, thread i of
// the consumers writing register j at j * threads + i: coalesced) and counts itself on counters[t]
// (acq_rel at gpu scope, after a gpu-scope fence of every thread). The last to arrive resets the
// counter to 0 (ready for the next launch: the host zeroes the counters once, when it allocates
// them), sums the parts in order 0 .. splits-1 (so D does not depend on which part came last) and
// runs the epilogue. Nobody waits for anybody: no deadlock whatever the residency. Stream-K's cut tiles
// (tile_order.h) use the same protocol with their own part count and slots (TileParts).
struct SplitK {
  std::uint32_t splits = 1;
  Ptr<f32, Global> workspace;
  Ptr<u32, Global> counters;
  Ptr<u32, Shared> last;  // one u32 per tile in flight in the CTA: thread 0's verdict, for its group
};

// The threads that hold one tile's accumulators (the whole consumer role, or one warpgroup when each
// warpgroup has a tile of its own): they write and sum the tile together, `sync` orders the verdict.
struct TileGroup {
  Reg<u32> thread;          // index within the group
  std::uint32_t threads = 0;
  std::function<void()> sync;
  Ptr<u32, Shared> verdict;  // the group's u32 in SplitK::last
};

// Where the parts of a tile lie in the workspace: `parts` of them, this unit's in slot `mine`, part i
// (in K order) in slot_of(i); a slot holds one bm x bn fp32 tile. Split-K: parts = splits, slot
// tile * splits + split. Stream-K (tile_order.h): the pieces' CTA slots.
struct TileParts {
  Reg<u32> parts, mine;
  std::function<Reg<u32>(Reg<u32>)> slot_of;
};

inline TileParts split_k_parts(const SplitK& s, const WorkUnits::Unit& u) {
  return {u.split.builder()->let<u32>(s.splits), u.tile * s.splits + u.split,
          [&s, tile = u.tile](Reg<u32> i) { return tile * s.splits + i; }};
}

inline TileParts stream_k_parts(const WorkUnits& w, const WorkUnits::Unit& u) {
  return {u.parts, u.slot, [&w, u](Reg<u32> i) { return w.sk_slot(u.first_owner + i, u.sk_tile); }};
}

// Runs `epilogue` with `acc` (the group's registers of the tile, bm * bn / threads per thread)
// holding the whole sum, in the CTA whose part arrives last. `live` has one predicate per 64-row
// block of `acc` (equal runs of registers, in order): a block whose rows all lie past M is neither
// written nor summed (its registers are never stored), which halves the workspace traffic of a
// decode shape (M = 64 in 128-row tiles).
inline void split_k_epilogue(KernelBuilder& k, const SplitK& s, const TileParts& tp, const TileGroup& group,
                             std::vector<Reg<f32>>& acc, const std::vector<Pred>& live, const WorkUnits::Unit& u,
                             std::uint32_t bm, std::uint32_t bn, const std::function<void()>& epilogue) {
  const std::uint32_t threads = group.threads;
  if (live.empty() || acc.size() % live.size())
    k.error("split_k_epilogue: " + std::to_string(live.size()) + " block predicates for " + std::to_string(acc.size()) +
            " registers (one per equal run of registers)");
  const std::size_t per_block = live.empty() ? acc.size() : acc.size() / live.size();
  // f(j) for the registers of each live block.
  auto each_live = [&](const std::function<void(std::uint32_t)>& f) {
    for (std::size_t b = 0; b < live.size(); ++b)
      k.if_(live[b], [&] {
        for (std::size_t j = b * per_block; j < (b + 1) * per_block; ++j) f(static_cast<std::uint32_t>(j));
      });
  };
  auto part = [&](Reg<u32> slot) { return s.workspace + (slot * (bm * bn) + group.thread); };
  auto mine = part(tp.mine);
  each_live([&](std::uint32_t j) { k.st(mine + j * threads, acc[j]); });
  k.fence({q::acq_rel, q::gpu});
  group.sync();
  k.if_(group.thread == 0u, [&] {
    auto before = k.atom(q::add, s.counters + u.tile, 1u, {q::acq_rel, q::gpu});
    auto last = before == tp.parts - 1u;
    k.if_(last, [&] { k.st(s.counters + u.tile, 0u, {q::relaxed, q::gpu}); });
    k.st(group.verdict, select(last, k.let<u32>(1u), k.let<u32>(0u)));
  });
  group.sync();
  k.if_(k.ld(group.verdict) != 0u, [&] {
    k.fence({q::acq_rel, q::gpu});
    for (auto& a : acc) k.assign(a, 0.0f);
    k.for_(0u, tp.parts, 1u, [&](Reg<u32> i) {
      auto p = part(tp.slot_of(i));
      each_live([&](std::uint32_t j) { k.assign(acc[j], acc[j] + k.ld(p + j * threads, {q::cg})); });
    });
    epilogue();
  });
}

}  // namespace weft::samples::sm90
