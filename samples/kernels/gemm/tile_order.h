// The order in which every weft GEMM (sm_80, sm_90a, sm_100a) visits its output tiles.
#pragma once

#include <utility>

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

}  // namespace weft::samples
