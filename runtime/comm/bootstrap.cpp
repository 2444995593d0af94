#include "runtime/comm/bootstrap.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/error.h"

namespace weft::rt::comm {

void SingleProcessBootstrap::allgather(const void* mine, void* all, std::size_t bytes_per_rank) {
  if (bytes_per_rank) std::memmove(all, mine, bytes_per_rank);
}

std::vector<int> SingleProcessBootstrap::allgather_fds(int mine) {
  const int fd = ::dup(mine);
  if (fd < 0) throw Error("SingleProcessBootstrap: dup(" + std::to_string(mine) + ") failed: " + std::strerror(errno));
  return {fd};
}

void check_same_size(std::span<const std::uint64_t> bytes_by_rank, const std::string& what) {
  if (bytes_by_rank.empty()) return;
  std::string diff;
  for (std::size_t r = 1; r < bytes_by_rank.size(); ++r)
    if (bytes_by_rank[r] != bytes_by_rank[0])
      diff += ", rank " + std::to_string(r) + " has " + std::to_string(bytes_by_rank[r]) + " bytes";
  if (!diff.empty())
    throw Error(what + " differs across ranks: rank 0 has " + std::to_string(bytes_by_rank[0]) + " bytes" +
                diff + " (every rank must pass the same size)");
}

}  // namespace weft::rt::comm
