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
struct WorkUnits {
  struct Unit {
    Reg<u32> tm, tn;                // this CTA's tile
    Reg<u32> split;                 // which K part (0 without split-K)
    Reg<u32> kt_begin, kt_end;      // its K tiles [kt_begin, kt_end), possibly empty
    Reg<u32> tile;                  // tm * tiles_n + tn: a tile index (split-K's counters and workspace)
  };

  TileOrder order;  // of cluster tiles
  Reg<u32> tiles_m, tiles_n;       // of bm x bn tiles
  Reg<u32> k_tiles, k_per_split;   // K tiles in all, and per split (the last may get fewer)
  Reg<u32> units, first, stride;   // the persistent loop: u = first; u < units; u += stride
  Reg<u32> rank;                   // the CTA's rank in its cluster (0 without clusters)
  std::uint32_t splits = 1, cluster_m = 1;

  Unit unit(Reg<u32> u) const {
    auto ct = u / splits;
    auto split = u - ct * splits;
    auto [cm, tn] = order.coords(ct);
    auto tm = cm * cluster_m + rank;
    auto begin = min(split * k_per_split, k_tiles);
    auto end = min(begin + k_per_split, k_tiles);
    return Unit{tm, tn, split, begin, end, tm * tiles_n + tn};
  }
  // Runs `body` for each unit of this CTA.
  void for_each(KernelBuilder& k, const std::function<void(const Unit&)>& body) const {
    k.for_(first, units, stride, [&](Reg<u32> u) { body(unit(u)); });
  }
};

inline WorkUnits work_units(KernelBuilder& k, Reg<u32> m, Reg<u32> n, Reg<u32> kdim, std::uint32_t bm,
                            std::uint32_t bn, std::uint32_t bk, std::uint32_t group_m, std::uint32_t splits = 1,
                            std::uint32_t cluster_m = 1) {
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
  return w;
}

}  // namespace weft::samples
