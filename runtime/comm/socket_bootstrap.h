// SocketBootstrap: the processes of one node meet at a Unix-domain socket.
//
//   comm::SocketBootstrap boot(rank, world_size);          // path from $WEFT_BOOTSTRAP
//   comm::SocketBootstrap boot(rank, world_size, "/tmp/job42.sock", std::chrono::seconds(10));
//
// Why a Unix socket and a star: it needs no launcher, no MPI and no network configuration, and it is
// the one channel that can carry file descriptors (SCM_RIGHTS), which cuMem IPC handles are. Rank 0
// listens; the others connect (retrying until the timeout, so start order does not matter). The
// bootstrap moves a few bytes per allocation, so every collective simply goes through rank 0.
//
// Every wait is bounded: a rank that does not arrive (never started, crashed, stuck) gives an Error on
// every rank that names it instead of a hang. Rank 0 reports the failure to the others, so they all
// see the same message.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/comm/bootstrap.h"

namespace weft::rt::comm {

class SocketBootstrap final : public Bootstrap {
 public:
  // `path` "" means $WEFT_BOOTSTRAP. Rank 0 creates the socket (replacing a stale file) and removes it
  // once everyone has connected; `timeout` bounds the rendezvous and each collective.
  SocketBootstrap(int rank, int size, std::string path = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~SocketBootstrap() override;
  SocketBootstrap(const SocketBootstrap&) = delete;
  SocketBootstrap& operator=(const SocketBootstrap&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allgather(const void* mine, void* all, std::size_t bytes_per_rank) override;
  void barrier() override;
  std::vector<int> allgather_fds(int mine) override;

  const std::string& path() const { return path_; }

  struct Message;  // the wire format (socket_bootstrap.cpp)

 private:
  enum class Op : unsigned;
  void root_accept();
  void peer_connect();
  // Rank 0: receives one message of `op` from every other rank (in any order), returning each rank's
  // payload (or, for fds, the descriptor). Throws after telling the others when one does not match.
  std::vector<std::vector<char>> root_gather(Op op, std::size_t bytes, const void* mine, std::vector<int>* fds);
  void root_fail(const std::string& message);  // tells every connected rank, then throws
  void collective(Op op, const void* mine, void* all, std::size_t bytes);
  // Ranks > 0: waits for rank 0's answer header (throws its error text, or a timeout).
  Message peer_await(Op op);
  // Ranks > 0, after a send to rank 0 failed: throws rank 0's error message if it sent one first.
  [[noreturn]] void peer_lost(Op op);
  std::string where() const;  // "SocketBootstrap rank 1 of 4 (/tmp/x.sock)"

  int rank_ = 0;
  int size_ = 1;
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::vector<int> peers_;  // rank 0: one socket per rank (peers_[0] = -1); others: peers_[0] only
};

// $WEFT_BOOTSTRAP, or "" when unset.
std::string bootstrap_path_from_env();

}  // namespace weft::rt::comm
