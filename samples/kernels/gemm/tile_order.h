// The order in which every weft GEMM (sm_80, sm_90a, sm_100a) visits its output tiles, and the work
// units of the persistent ones (tiles split along K, taken by clusters of CTAs).
#pragma once

#include <functional>
#include <utility>

#include "dsl/async/cluster.h"
#include "dsl/weft.h"

namespace weft::samples {

// Tiles of bm x bn over an m x n output, visited in grouped order: group_m tile rows at a time,
// column by column inside a group, so that consecutive tiles (CTAs of a persistent grid) share A rows
// and B columns in L2.
struct TileOrder {
  Reg<u32> tiles_m, tiles_n, tiles;
  std::uint32_t group_m = 8;

  // Tile t -> (tile row, tile column).
  std::pair<Reg<u32>, Reg<u32>> coords(Reg<u32> t) const {
    auto per_group = tiles_n * group_m;
    auto group = t / per_group;
    auto first_m = group * group_m;
    auto rows_here = min(tiles_m - first_m, Src<u32>(group_m));
    auto in_group = t - group * per_group;
    auto tm = first_m + in_group % rows_here;
    auto tn = in_group / rows_here;
    return std::pair{tm, tn};
  }
};

inline TileOrder grouped_tiles(Reg<u32> m, Reg<u32> n, std::uint32_t bm, std::uint32_t bn, std::uint32_t group_m) {
  auto tiles_m = (m + (bm - 1)) / bm;
  auto tiles_n = (n + (bn - 1)) / bn;
  auto tiles = tiles_m * tiles_n;
  return TileOrder{tiles_m, tiles_n, tiles, group_m};
}

// The work of a persistent GEMM: output tiles of bm x bn, each split `splits` ways along K (split-K),
// taken by clusters of `cluster_m` CTAs that own vertically adjacent tiles (the same tile column, so
// they can share B through TMA multicast). The units are walked in the grouped order of the cluster
// tiles (cluster_m * bm rows each), unit u = cluster tile u / splits, K part u % splits; cluster c
// takes units c, c + clusters, ... (without clusters, CTA c and the grid). Every CTA of a cluster
// walks the same units, also a CTA whose tile row lies past m (its loads are zero-filled by TMA, its
// stores skipped), so that the cluster's multicasts stay paired.
//
// Stream-K (`stream_k`, one-CTA clusters, no split-K): the tiles a grid of G CTAs would leave for a
// last, partial wave are not given out whole. With T tiles and R = T % G > 0, the first T - S tiles
// (S = R, plus one whole wave G when there is one) go to the CTAs whole as above; the K tiles of the
// last S tiles, laid end to end (I = S * KT iterations), are cut into G contiguous ranges, CTA c taking
// [start(c), start(c + 1)), start(c) = floor(c * I / G). A range is walked tile by tile, as pieces; a
// tile whose K tiles lie in one range is whole, one cut by range ends has `parts` pieces from
// consecutive CTAs, whose partial sums the last to finish adds up (gemm_sm90_common.h). Every CTA
// then does the same number of K tiles, give or take one, instead of a quarter of them idling in the
// last wave. A CTA's partial pieces are at most its first and its last, so each CTA c has two
// workspace slots: 2c for its first piece, 2c + 1 for its last.
struct WorkUnits {
  struct Unit {
    Reg<u32> tm, tn;                // this CTA's tile
    Reg<u32> split;                 // which K part (0 without split-K)
    Reg<u32> kt_begin, kt_end;      // its K tiles [kt_begin, kt_end), possibly empty
    Reg<u32> tile;                  // tm * tiles_n + tn: a tile index (split-K's counters and workspace)
    // Stream-K pieces (whole tiles and every unit without stream-K: parts 1).
    Reg<u32> parts;                 // pieces of this tile, from CTAs first_owner, first_owner + 1, ...
    Reg<u32> first_owner;           // the CTA holding the tile's first K tile
    Reg<u32> slot;                  // this piece's workspace slot (2c or 2c + 1)
    Reg<u32> sk_tile;               // the tile's index among the stream-K tiles (for the slots of its parts)
    // Grouped (WorkUnits::grouped): the tile row's group, and whether it has one. A tile row without
    // one (padding) has no K tiles, and its unit stores nothing. Not set without groups.
    Reg<u32> group;
    Pred live;
  };

  TileOrder order;  // of cluster tiles
  Reg<u32> tiles_m, tiles_n;       // of bm x bn tiles
  Reg<u32> k_tiles, k_per_split;   // K tiles in all, and per split (the last may get fewer)
  Reg<u32> units, first, stride;   // the persistent loop: u = first; u < units; u += stride
  Reg<u32> rank;                   // the CTA's rank in its cluster (0 without clusters)
  std::uint32_t splits = 1, cluster_m = 1;
  bool stream_k = false;
  Reg<u32> sk_tiles;               // stream-K: the last sk_tiles tiles of the order (units = the others)
  Reg<u64> sk_iters;               // sk_tiles * k_tiles
  // Grouped GEMM (MoE experts, one B per group): tile_groups[tm] is tile row tm's group, and a tile row
  // whose entry is not below `groups` (a negative one reads as a large unsigned) is padding. Every
  // unit of a tile row reads the same entry, so the producer, the consumers and a split tile's parts
  // agree on it without talking. Without clusters only (a cluster's tile rows share B).
  bool grouped = false;
  Ptr<s32, Global> tile_groups;
  Reg<u32> groups;

  Unit unit(Reg<u32> u) const {
    auto ct = u / splits;
    auto split = u - ct * splits;
    auto [cm, tn] = order.coords(ct);
    auto tm = cm * cluster_m + rank;
    auto begin = min(split * k_per_split, k_tiles);
    auto end = min(begin + k_per_split, k_tiles);
    KernelBuilder& k = *u.builder();
    auto zero = k.let<u32>(0u);
    Unit w{tm, tn, split, begin, end, tm * tiles_n + tn, k.let<u32>(1u), zero, zero, zero};
    if (grouped) {
      // Written before the launch and only read here: the non-coherent path may cache it.
      w.group = bitcast<u32>(k.ld(tile_groups + tm, {q::nc}));
      w.live = w.group < groups;
      w.kt_end = select(w.live, end, begin);  // padding: no K tiles, so nothing loaded or multiplied
    }
    return w;
  }
  // Stream-K: the first K-tile iteration of CTA c's range, and the CTA whose range holds iteration x.
  Reg<u32> sk_start(Reg<u32> c) const {
    return convert<u32>(convert<u64>(c) * sk_iters / convert<u64>(stride));
  }
  Reg<u32> sk_owner(Reg<u32> x) const {  // sk_iters at least 1: evaluated beside whole tiles too
    return convert<u32>((convert<u64>(x + 1u) * convert<u64>(stride) - 1u) / max(sk_iters, Src<u64>(1u)));
  }
  // The workspace slot of the piece CTA c holds of stream-K tile t: 2c if it is c's first piece.
  Reg<u32> sk_slot(Reg<u32> c, Reg<u32> t) const {
    KernelBuilder& k = *c.builder();
    return c * 2u + select(sk_start(c) / max(k_tiles, Src<u32>(1u)) == t, k.let<u32>(0u), k.let<u32>(1u));
  }
  // Runs `body` for each unit of this CTA: its whole tiles, then (stream-K) the pieces of its range.
  void for_each(KernelBuilder& k, const std::function<void(const Unit&)>& body) const {
    if (!stream_k) {
      k.for_(first, units, stride, [&](Reg<u32> u) { body(unit(u)); });
      return;
    }
    // One loop, so that the main loop and the epilogue are emitted once: whole tiles u = first,
    // first + stride, ... below units, then the pieces of the range [x, end).
    auto u = k.let<u32>(first);
    auto x = sk_start(first);
    auto end = sk_start(first + 1u);
    k.while_([&] { return u < units || x < end; }, [&] {
      auto whole = u < units;
      auto t = x / max(k_tiles, Src<u32>(1u));   // the stream-K tile of the next piece (K may be empty)
      auto tile_begin = t * k_tiles;
      auto piece_end = min(end, tile_begin + k_tiles);
      auto owner = sk_owner(tile_begin);
      auto parts = sk_owner(tile_begin + k_tiles - 1u) - owner + 1u;
      const Unit w = unit(select(whole, u, units + t));  // a piece's tile follows the whole tiles in the order
      body(Unit{w.tm, w.tn, w.split, select(whole, w.kt_begin, x - tile_begin),
                select(whole, w.kt_end, piece_end - tile_begin), w.tile, select(whole, w.parts, parts),
                select(whole, w.first_owner, owner), select(whole, w.slot, sk_slot(first, t)), t, w.group,
                w.live});
      k.if_(whole, [&] { k.assign(u, u + stride); }).else_([&] { k.assign(x, piece_end); });
    });
  }
};

inline WorkUnits work_units(KernelBuilder& k, Reg<u32> m, Reg<u32> n, Reg<u32> kdim, std::uint32_t bm,
                            std::uint32_t bn, std::uint32_t bk, std::uint32_t group_m, std::uint32_t splits = 1,
                            std::uint32_t cluster_m = 1, bool stream_k = false) {
  // stream_k takes splits = 1 and cluster_m = 1; the kernel's configuration checks it first
  // (gemm_sm90_config.h), where the author's parameters are named.
  WorkUnits w;
  w.splits = splits;
  w.cluster_m = cluster_m;
  w.order = grouped_tiles(m, n, bm * cluster_m, bn, group_m);
  w.tiles_m = (m + (bm - 1)) / bm;
  w.tiles_n = w.order.tiles_n;
  w.k_tiles = (kdim + (bk - 1)) / bk;
  w.k_per_split = (w.k_tiles + (splits - 1)) / splits;
  w.units = w.order.tiles * splits;
  if (cluster_m > 1) {
    w.first = k.sreg32("%clusterid.x");
    w.stride = k.sreg32("%nclusterid.x");
    w.rank = cluster_ctarank(k);
  } else {
    w.first = k.ctaid_x();
    w.stride = k.nctaid_x();
    w.rank = k.let<u32>(0u);
  }
  if (stream_k) {
    // S = the partial last wave R, and the whole wave before it when there is one; none when the
    // tiles fill whole waves (or K is empty: no iterations to share).
    w.stream_k = true;
    auto tiles = w.order.tiles;
    auto rest = tiles % w.stride;
    auto waves = tiles / w.stride;
    auto sk = select(waves == 0u, rest, rest + w.stride);
    w.sk_tiles = select(rest == 0u || w.k_tiles == 0u, k.let<u32>(0u), sk);
    w.units = tiles - w.sk_tiles;
    w.sk_iters = convert<u64>(w.sk_tiles) * convert<u64>(w.k_tiles);
  }
  return w;
}

}  // namespace weft::samples
