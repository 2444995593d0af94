// Blocking-with-deadline I/O on Unix-domain stream sockets, for SocketBootstrap. Nothing here throws:
// each call says what happened and the bootstrap, which knows which rank is on the other end, writes
// the message.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace weft::rt::comm::sock {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

enum class Io { ok, timeout, closed, failed };

// Waits until `fd` is readable (or has hung up) or the deadline passes.
Io wait_readable(int fd, Deadline deadline);

// Reads exactly `n` bytes (closed: the peer closed before all arrived).
Io recv_all(int fd, void* buf, std::size_t n, Deadline deadline);

// Writes all `n` bytes (MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE).
Io send_all(int fd, const void* buf, std::size_t n);

// One descriptor as SCM_RIGHTS on a one-byte message. Read it with recv_fd: a plain read of that byte
// would drop the descriptor.
Io send_fd(int sock, int fd);
Io recv_fd(int sock, int* fd, Deadline deadline);

// errno's text of the last failed call ("" when there was none).
std::string last_error();

}  // namespace weft::rt::comm::sock
