// The peer table: how a communication kernel finds the other ranks' copies of a symmetric buffer.
//
// Layout (fixed; the device-side kernels are written to it): `rows * nranks` u64 entries; row r lists
// the buffer's base address on ranks 0..nranks-1 as seen from rank `rank_base + r`. A kernel takes
// `rank_base`, `nranks` and the table, computes its rank as rank_base + %ctaid.y and reads row
// %ctaid.y. A real process has one row (grid.y = 1, rank_base = its rank); LocalSim has one row per
// virtual rank (grid.y = nranks, rank_base = 0). Pure: no driver calls, tested on the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace weft::rt::comm {

// Index of (row, peer) in a table of `nranks` columns.
constexpr std::size_t peer_table_index(std::uint32_t row, std::uint32_t peer, std::uint32_t nranks) {
  return static_cast<std::size_t>(row) * nranks + peer;
}

// The table whose entry (row, peer) is base(row, peer). Throws Error on a null address (a peer that
// is not mapped would otherwise fault inside a kernel, far from the cause).
std::vector<std::uint64_t> build_peer_table(std::uint32_t rows, std::uint32_t nranks,
                                            const std::function<std::uint64_t(std::uint32_t row, std::uint32_t peer)>& base);

// Where world rank `peer`'s part of an NCCL symmetric window is, from the window's fields (ncclWindow_t
// on the device; see nccl.cpp): lsaFlatBase + (lsaRank + peer - worldRank) * stride4G * 2^32. Throws
// Error when `peer` is outside the window's load/store-accessible (LSA) team of `lsa_size` ranks.
std::uint64_t nccl_lsa_peer_base(std::uint64_t lsa_flat_base, int lsa_rank, int world_rank, std::uint32_t stride4g,
                                 int peer, int lsa_size);

}  // namespace weft::rt::comm
