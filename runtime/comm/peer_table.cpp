#include "runtime/comm/peer_table.h"

#include <string>

#include "runtime/error.h"

namespace weft::rt::comm {

std::vector<std::uint64_t> build_peer_table(std::uint32_t rows, std::uint32_t nranks,
                                            const std::function<std::uint64_t(std::uint32_t, std::uint32_t)>& base) {
  std::vector<std::uint64_t> table(static_cast<std::size_t>(rows) * nranks);
  for (std::uint32_t r = 0; r < rows; ++r)
    for (std::uint32_t p = 0; p < nranks; ++p) {
      const std::uint64_t b = base(r, p);
      if (b == 0)
        throw Error("peer table: row " + std::to_string(r) + " has no address for rank " + std::to_string(p));
      table[peer_table_index(r, p, nranks)] = b;
    }
  return table;
}

std::uint64_t nccl_lsa_peer_base(std::uint64_t lsa_flat_base, int lsa_rank, int world_rank, std::uint32_t stride4g,
                                 int peer, int lsa_size) {
  // The LSA team is the run of world ranks that share load/store access with this one, contiguous in
  // world order; `slot` is the peer's place in it.
  const long long slot = static_cast<long long>(lsa_rank) + peer - world_rank;
  if (slot < 0 || slot >= lsa_size)
    throw Error("NCCL window: rank " + std::to_string(peer) + " is not load/store accessible from rank " +
                std::to_string(world_rank) + " (LSA team of " + std::to_string(lsa_size) +
                " ranks; weft's peer tables need every rank on one NVLink domain)");
  return lsa_flat_base + static_cast<std::uint64_t>(slot) * (static_cast<std::uint64_t>(stride4g) << 32);
}

}  // namespace weft::rt::comm
