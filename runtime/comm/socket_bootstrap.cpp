#include "runtime/comm/socket_bootstrap.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <thread>
#include <utility>

#include "runtime/comm/socket_io.h"
#include "runtime/error.h"

namespace weft::rt::comm {

using sock::Clock;
using sock::Io;

enum class SocketBootstrap::Op : unsigned { hello = 1, ready, allgather, barrier, fds, result, error };

// Every message starts with this header; `bytes` is the payload that follows (for `hello`: the world
// size the sender was started with; for `fds`: the number of descriptors, each its own 1-byte message).
struct SocketBootstrap::Message {
  std::uint32_t magic = kMagic;
  std::uint32_t op = 0;
  std::uint32_t rank = 0;
  std::uint32_t reserved = 0;
  std::uint64_t bytes = 0;
  static constexpr std::uint32_t kMagic = 0x77656674;  // "weft"
};

namespace {

using Op = unsigned;

const char* op_name(unsigned op) {
  switch (op) {
    case 1: return "the rendezvous";
    case 3: return "allgather";
    case 4: return "barrier";
    case 5: return "allgather_fds";
    default: return "an unknown operation";
  }
}

std::string ms(std::chrono::milliseconds t) { return std::to_string(t.count()) + " ms"; }

std::string rank_list(const std::vector<int>& ranks) {
  std::string s = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
}

sockaddr_un address(const std::string& path, const std::string& where) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path)
    throw Error(where + ": the socket path is " + std::to_string(path.size()) + " bytes long; Unix sockets allow " +
                std::to_string(sizeof a.sun_path - 1) + " (use a shorter path, e.g. under /tmp)");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

}  // namespace

std::string bootstrap_path_from_env() {
  const char* env = std::getenv("WEFT_BOOTSTRAP");
  return env ? env : "";
}

SocketBootstrap::SocketBootstrap(int rank, int size, std::string path, std::chrono::milliseconds timeout)
    : rank_(rank), size_(size), path_(path.empty() ? bootstrap_path_from_env() : std::move(path)), timeout_(timeout) {
  if (size < 1 || rank < 0 || rank >= size)
    throw Error("SocketBootstrap: rank " + std::to_string(rank) + " of size " + std::to_string(size) +
                " is out of range (need 0 <= rank < size)");
  if (size == 1) return;  // nobody to meet
  if (path_.empty())
    throw Error("SocketBootstrap: no rendezvous path (pass one, or set WEFT_BOOTSTRAP to a socket path that "
                "every rank of the job uses)");
  try {
    if (rank == 0)
      root_accept();
    else
      peer_connect();
  } catch (...) {
    for (int fd : peers_)
      if (fd >= 0) ::close(fd);  // the destructor does not run for a constructor that throws
    throw;
  }
}

SocketBootstrap::~SocketBootstrap() {
  for (int fd : peers_)
    if (fd >= 0) ::close(fd);
}

std::string SocketBootstrap::where() const {
  return "SocketBootstrap rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " (" + path_ + ")";
}

void SocketBootstrap::root_fail(const std::string& message) {
  Message m;
  m.op = static_cast<unsigned>(Op::error);
  m.bytes = message.size();
  for (int fd : peers_)
    if (fd >= 0 && sock::send_all(fd, &m, sizeof m) == Io::ok) sock::send_all(fd, message.data(), message.size());
  throw Error(message);
}

void SocketBootstrap::root_accept() {
  const sockaddr_un addr = address(path_, where());
  const int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) throw Error(where() + ": socket() failed: " + std::strerror(errno));
  ::unlink(path_.c_str());  // a file left by an earlier job that crashed
  if (::bind(lfd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, size_) != 0) {
    const std::string why = std::strerror(errno);
    ::close(lfd);
    throw Error(where() + ": cannot listen at the socket path: " + why);
  }
  // Once everyone is in (or the wait is over) nobody else may connect: the file goes either way, and
  // before anyone hears "ready" (a rank that quickly made a second bootstrap at the same path would
  // otherwise connect to this listener just before it closes).
  struct Cleanup {
    int fd;
    const std::string& path;
    void done() {
      if (fd < 0) return;
      ::close(std::exchange(fd, -1));
      ::unlink(path.c_str());
    }
    ~Cleanup() { done(); }
  } cleanup{lfd, path_};

  peers_.assign(static_cast<std::size_t>(size_), -1);
  const auto deadline = Clock::now() + timeout_;
  int arrived = 1;
  while (arrived < size_) {
    if (sock::wait_readable(lfd, deadline) != Io::ok) {
      std::vector<int> missing;
      for (int r = 1; r < size_; ++r)
        if (peers_[r] < 0) missing.push_back(r);
      root_fail("SocketBootstrap (" + path_ + "): " + rank_list(missing) + " of " + std::to_string(size_) +
                " did not arrive within " + ms(timeout_) + " (rank 0 waited for them; was every rank started "
                "with the same path?)");
    }
    const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    Message hello;
    if (sock::recv_all(c, &hello, sizeof hello, deadline) != Io::ok || hello.magic != Message::kMagic ||
        hello.op != static_cast<unsigned>(Op::hello)) {
      ::close(c);  // not one of ours
      continue;
    }
    const int r = static_cast<int>(hello.rank);
    std::string bad;
    if (hello.bytes != static_cast<std::uint64_t>(size_))
      bad = "rank " + std::to_string(r) + " was started with world size " + std::to_string(hello.bytes) +
            ", rank 0 with " + std::to_string(size_);
    else if (r <= 0 || r >= size_)
      bad = "a process claims rank " + std::to_string(r) + ", outside 1.." + std::to_string(size_ - 1);
    else if (peers_[r] >= 0)
      bad = "two processes claim rank " + std::to_string(r);
    if (!bad.empty()) {
      Message e;
      e.op = static_cast<unsigned>(Op::error);
      const std::string text = "SocketBootstrap (" + path_ + "): " + bad;
      e.bytes = text.size();
      if (sock::send_all(c, &e, sizeof e) == Io::ok) sock::send_all(c, text.data(), text.size());
      ::close(c);
      root_fail(text);
    }
    peers_[r] = c;
    ++arrived;
  }
  cleanup.done();
  Message ready;
  ready.op = static_cast<unsigned>(Op::ready);
  for (int r = 1; r < size_; ++r)
    if (sock::send_all(peers_[r], &ready, sizeof ready) != Io::ok)
      root_fail("SocketBootstrap (" + path_ + "): rank " + std::to_string(r) + " closed its connection during the rendezvous");
}

void SocketBootstrap::peer_connect() {
  const sockaddr_un addr = address(path_, where());
  const auto deadline = Clock::now() + timeout_;
  int fd = -1;
  std::string last;
  for (;;) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Error(where() + ": socket() failed: " + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
    last = std::strerror(errno);  // ENOENT / ECONNREFUSED until rank 0 listens
    ::close(fd);
    if (Clock::now() >= deadline)
      throw Error(where() + ": rank 0 did not arrive: nobody listened at the socket path within " + ms(timeout_) +
                  " (last error: " + last + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  peers_ = {fd};
  Message hello;
  hello.op = static_cast<unsigned>(Op::hello);
  hello.rank = static_cast<std::uint32_t>(rank_);
  hello.bytes = static_cast<std::uint64_t>(size_);
  // A failed send still reads what rank 0 said: it may have failed the job (and closed) first.
  if (sock::send_all(fd, &hello, sizeof hello) != Io::ok) peer_lost(Op::hello);
  peer_await(Op::hello);
}

SocketBootstrap::Message SocketBootstrap::peer_await(Op op) {
  const unsigned o = static_cast<unsigned>(op);
  // Longer than rank 0's own wait, so that when a third rank is missing, rank 0's message naming it
  // arrives here before this rank gives up on its own.
  const auto patience = 2 * timeout_ + std::chrono::seconds(1);
  const int fd = peers_[0];
  Message m;
  switch (sock::recv_all(fd, &m, sizeof m, Clock::now() + patience)) {
    case Io::ok: break;
    case Io::timeout:
      throw Error(where() + ": rank 0 did not answer " + op_name(o) + " within " + ms(std::chrono::duration_cast<std::chrono::milliseconds>(patience)));
    case Io::closed:
      throw Error(where() + ": rank 0 closed the connection during " + op_name(o) + " (it exited or failed)");
    case Io::failed:
      throw Error(where() + ": reading from rank 0 failed: " + sock::last_error());
  }
  if (m.magic != Message::kMagic) throw Error(where() + ": garbled message from rank 0");
  if (m.op == static_cast<unsigned>(Op::error)) {
    std::string text(m.bytes, '\0');
    if (sock::recv_all(fd, text.data(), text.size(), Clock::now() + timeout_) != Io::ok)
      text = "rank 0 failed " + std::string(op_name(o)) + " (its message was lost)";
    throw Error(text);
  }
  const unsigned expected = static_cast<unsigned>(op == Op::hello ? Op::ready : Op::result);
  if (m.op != expected) throw Error(where() + ": unexpected message from rank 0 during " + op_name(o));
  return m;
}

void SocketBootstrap::peer_lost(Op op) {
  peer_await(op);  // throws rank 0's error message if it sent one, else that it closed
  throw Error(where() + ": lost the connection to rank 0 during " + op_name(static_cast<unsigned>(op)));
}

std::vector<std::vector<char>> SocketBootstrap::root_gather(Op op, std::size_t bytes, const void* mine,
                                                            std::vector<int>* fds) {
  const unsigned o = static_cast<unsigned>(op);
  std::vector<std::vector<char>> payload(static_cast<std::size_t>(size_));
  if (mine) payload[0].assign(static_cast<const char*>(mine), static_cast<const char*>(mine) + bytes);
  std::vector<bool> got(static_cast<std::size_t>(size_), false);
  got[0] = true;
  int left = size_ - 1;
  const auto deadline = Clock::now() + timeout_;
  auto fail = [&](const std::string& text) {
    if (fds)
      for (int& f : *fds)
        if (f >= 0) ::close(std::exchange(f, -1));
    root_fail("SocketBootstrap (" + path_ + "): " + text);
  };
  while (left > 0) {
    std::vector<pollfd> waiting;
    std::vector<int> who;
    for (int r = 1; r < size_; ++r)
      if (!got[r]) {
        waiting.push_back({peers_[r], POLLIN, 0});
        who.push_back(r);
      }
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int n = wait_ms > 0 ? ::poll(waiting.data(), waiting.size(), static_cast<int>(wait_ms)) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(rank_list(who) + " did not arrive at " + op_name(o) + " within " + ms(timeout_));
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      if (!waiting[i].revents) continue;
      const int r = who[i];
      const int fd = peers_[r];
      Message m;
      Io io = sock::recv_all(fd, &m, sizeof m, deadline);
      if (io == Io::closed)
        fail("rank " + std::to_string(r) + " closed its connection before " + op_name(o) + " (it exited or failed)");
      if (io != Io::ok) fail("reading from rank " + std::to_string(r) + " failed during " + op_name(o));
      if (m.magic != Message::kMagic) fail("garbled message from rank " + std::to_string(r));
      if (m.op != o)
        fail("rank " + std::to_string(r) + " called " + op_name(m.op) + " while rank 0 called " + op_name(o) +
             " (every rank must make the same collective calls in the same order)");
      if (m.bytes != bytes)
        fail(std::string(op_name(o)) + " size mismatch: rank 0 passes " + std::to_string(bytes) +
             " bytes per rank, rank " + std::to_string(r) + " passes " + std::to_string(m.bytes));
      if (fds) {
        io = sock::recv_fd(fd, &(*fds)[r], deadline);
      } else {
        payload[r].resize(bytes);
        io = sock::recv_all(fd, payload[r].data(), bytes, deadline);
      }
      if (io != Io::ok) fail("rank " + std::to_string(r) + " did not finish sending its part of " + op_name(o));
      got[r] = true;
      --left;
    }
  }
  return payload;
}

void SocketBootstrap::collective(Op op, const void* mine, void* all, std::size_t bytes) {
  if (size_ == 1) {
    if (bytes) std::memmove(all, mine, bytes);
    return;
  }
  const std::size_t total = bytes * static_cast<std::size_t>(size_);
  if (rank_ == 0) {
    auto parts = root_gather(op, bytes, mine, nullptr);
    auto* out = static_cast<char*>(all);
    for (int r = 0; r < size_; ++r)
      if (bytes) std::memcpy(out + r * bytes, parts[r].data(), bytes);
    Message m;
    m.op = static_cast<unsigned>(Op::result);
    m.bytes = total;
    for (int r = 1; r < size_; ++r)
      if (sock::send_all(peers_[r], &m, sizeof m) != Io::ok || sock::send_all(peers_[r], out, total) != Io::ok)
        root_fail("SocketBootstrap (" + path_ + "): rank " + std::to_string(r) + " closed its connection during " +
                  op_name(static_cast<unsigned>(op)));
    return;
  }
  Message m;
  m.op = static_cast<unsigned>(op);
  m.rank = static_cast<std::uint32_t>(rank_);
  m.bytes = bytes;
  // A failed send still reads what rank 0 said: it may have failed the collective (naming the rank
  // at fault) and closed before this rank's part arrived.
  if (sock::send_all(peers_[0], &m, sizeof m) != Io::ok || sock::send_all(peers_[0], mine, bytes) != Io::ok)
    peer_lost(op);
  const Message answer = peer_await(op);
  if (answer.bytes != total) throw Error(where() + ": rank 0 answered " + op_name(m.op) + " with the wrong size");
  if (sock::recv_all(peers_[0], all, total, Clock::now() + timeout_) != Io::ok)
    throw Error(where() + ": rank 0 did not finish sending the result of " + op_name(m.op));
}

void SocketBootstrap::allgather(const void* mine, void* all, std::size_t bytes_per_rank) {
  collective(Op::allgather, mine, all, bytes_per_rank);
}

void SocketBootstrap::barrier() {
  char none = 0;
  collective(Op::barrier, &none, &none, 0);
}

std::vector<int> SocketBootstrap::allgather_fds(int mine) {
  std::vector<int> fds(static_cast<std::size_t>(size_), -1);
  auto dup_mine = [&] {
    const int d = ::dup(mine);
    if (d < 0) throw Error(where() + ": dup(" + std::to_string(mine) + ") failed: " + std::strerror(errno));
    return d;
  };
  if (size_ == 1) return {dup_mine()};
  if (rank_ == 0) {
    root_gather(Op::fds, 0, nullptr, &fds);
    fds[0] = dup_mine();
    Message m;
    m.op = static_cast<unsigned>(Op::result);
    m.bytes = static_cast<std::uint64_t>(size_);
    for (int r = 1; r < size_; ++r) {
      bool ok = sock::send_all(peers_[r], &m, sizeof m) == Io::ok;
      for (int q = 0; ok && q < size_; ++q) ok = sock::send_fd(peers_[r], fds[q]) == Io::ok;
      if (!ok) {
        for (int f : fds) ::close(f);
        root_fail("SocketBootstrap (" + path_ + "): rank " + std::to_string(r) +
                  " closed its connection during allgather_fds");
      }
    }
    return fds;
  }
  Message m;
  m.op = static_cast<unsigned>(Op::fds);
  m.rank = static_cast<std::uint32_t>(rank_);
  if (sock::send_all(peers_[0], &m, sizeof m) != Io::ok || sock::send_fd(peers_[0], mine) != Io::ok)
    peer_lost(Op::fds);
  const Message answer = peer_await(Op::fds);
  if (answer.bytes != static_cast<std::uint64_t>(size_))
    throw Error(where() + ": rank 0 answered allgather_fds with the wrong count");
  for (int q = 0; q < size_; ++q) {
    if (sock::recv_fd(peers_[0], &fds[q], Clock::now() + timeout_) != Io::ok) {
      for (int f : fds)
        if (f >= 0) ::close(f);
      throw Error(where() + ": receiving rank " + std::to_string(q) + "'s descriptor from rank 0 failed");
    }
  }
  return fds;
}

}  // namespace weft::rt::comm
