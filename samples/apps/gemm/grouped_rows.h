// The rows of a grouped Hopper GEMM (gemm_bf16_sm90 / gemm_e4m3_sm90 with groups=1; MoE experts):
// the rows of A of every group one after the other, each group starting on a 128-row tile boundary,
// and the kernel's tile_groups array (one group per 128-row tile row, -1 for a tile row of padding).
// The kernel computes and stores every row of a group's tile rows, so the rows after a group's last
// one up to its tile row's end get the product of whatever A holds there (zero them for zeros); a
// tile row of -1 is neither computed nor stored. What the kernel cannot check on the device (a group
// index out of range reads as padding there) is checked here, on the host, before the array is
// uploaded.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "samples/kernels/gemm/group_rows.h"

namespace gemm {

inline constexpr std::uint32_t kGroupedTileRows = weft::samples::kGroupRows;  // rows per tile_groups entry

struct GroupedRows {
  std::uint32_t m = 0;                     // rows of A and D, padding included (a multiple of 128)
  std::vector<std::uint32_t> first;        // group g's first row (its rows: first[g] .. first[g] + rows[g] - 1)
  std::vector<std::uint32_t> stored;       // rows the kernel stores for group g: rows[g] rounded up to 128
  std::vector<std::int32_t> tile_groups;   // per 128-row tile row: its group, -1 where it holds no group's rows
};

// Lays out groups of rows_per_group[g] rows (a group may have none), each padded up to whole tiles,
// then tile rows of -1 up to `capacity` rows (a buffer of fixed size, as a CUDA graph replays it; a
// multiple of 128, 0 for none).
inline GroupedRows grouped_rows(const std::vector<std::uint32_t>& rows_per_group, std::uint32_t capacity = 0) {
  GroupedRows out;
  std::uint64_t m = 0;
  for (std::size_t g = 0; g < rows_per_group.size(); ++g) {
    const std::uint64_t tiles = (std::uint64_t{rows_per_group[g]} + kGroupedTileRows - 1) / kGroupedTileRows;
    out.first.push_back(static_cast<std::uint32_t>(m));
    out.stored.push_back(static_cast<std::uint32_t>(tiles * kGroupedTileRows));
    out.tile_groups.insert(out.tile_groups.end(), tiles, static_cast<std::int32_t>(g));
    m += tiles * kGroupedTileRows;
    if (m > 0x7FFFFFFFu)
      throw std::runtime_error("grouped_rows: " + std::to_string(rows_per_group.size()) +
                               " groups need more than 2^31 rows of A once padded to 128-row tiles");
  }
  if (capacity % kGroupedTileRows)
    throw std::runtime_error("grouped_rows: a capacity of " + std::to_string(capacity) + " rows is not a multiple of " +
                             "the " + std::to_string(kGroupedTileRows) + "-row tiles (a buffer of that many rows "
                             "would end inside the last tile row)");
  if (capacity < m && capacity)
    throw std::runtime_error("grouped_rows: the groups need " + std::to_string(m) + " rows once padded to 128-row tiles; "
                             "the capacity is " + std::to_string(capacity));
  for (; m < capacity; m += kGroupedTileRows) out.tile_groups.push_back(-1);
  out.m = static_cast<std::uint32_t>(m);
  return out;
}

// The elements of D (bf16 bits, m x n, poisoned with 0xFFFF before the launch) in padding tile rows
// (entry -1) that are not the poison: written, which the kernels must not do.
inline std::size_t padding_elements_written(const std::vector<std::uint16_t>& d, const GroupedRows& layout,
                                            std::uint32_t n) {
  std::size_t written = 0;
  for (std::size_t r = 0; r < layout.m; ++r)
    if (layout.tile_groups[r / kGroupedTileRows] < 0)
      for (std::size_t j = 0; j < n; ++j) written += d[r * n + j] != 0xFFFF;
  return written;
}

// Refuses a tile_groups array that does not fit a launch of m rows and `groups` groups: one entry per
// 128-row tile row, each a group index below `groups` or -1 (padding), naming the first bad entry.
inline void check_tile_groups(const std::vector<std::int32_t>& tile_groups, std::uint32_t m, std::uint32_t groups) {
  const std::size_t tiles = (std::size_t{m} + kGroupedTileRows - 1) / kGroupedTileRows;
  if (tile_groups.size() != tiles)
    throw std::runtime_error("tile_groups has " + std::to_string(tile_groups.size()) + " entries; m = " +
                             std::to_string(m) + " needs one per 128-row tile row, " + std::to_string(tiles));
  for (std::size_t t = 0; t < tiles; ++t)
    if (tile_groups[t] < -1 || tile_groups[t] >= static_cast<std::int64_t>(groups))
      throw std::runtime_error("tile_groups[" + std::to_string(t) + "] = " + std::to_string(tile_groups[t]) +
                               ": a group index below " + std::to_string(groups) + ", or -1 for padding rows");
}

}  // namespace gemm
