#include "runtime/comm/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weft::rt::comm::sock {

namespace {
thread_local int saved_errno = 0;

Io fail() {
  saved_errno = errno;
  return Io::failed;
}
}  // namespace

std::string last_error() { return saved_errno ? std::strerror(saved_errno) : ""; }

Io wait_readable(int fd, Deadline deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Io::timeout;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left > 1000000 ? 1000000 : left));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail();
    }
    if (r > 0) return Io::ok;  // data, or a hang-up the next read reports as closed
  }
}

Io recv_all(int fd, void* buf, std::size_t n, Deadline deadline) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    if (Io w = wait_readable(fd, deadline); w != Io::ok) return w;
    const ssize_t got = ::recv(fd, p, n, 0);
    if (got == 0) return Io::closed;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return Io::closed;
      return fail();
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return Io::ok;
}

Io send_all(int fd, const void* buf, std::size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t put = ::send(fd, p, n, MSG_NOSIGNAL);
    if (put < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) return Io::closed;
      return fail();
    }
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return Io::ok;
}

// One byte of payload and room for one descriptor: the message both ends of fd passing use. Not
// copyable: msg points into the object itself.
struct FdMessage {
  char byte = 'F';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;
};

Io send_fd(int sock, int fd) {
  FdMessage m;
  msghdr& msg = m.msg;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) == 1) return Io::ok;
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return Io::closed;
    return fail();
  }
}

Io recv_fd(int sock, int* fd, Deadline deadline) {
  *fd = -1;
  if (Io w = wait_readable(sock, deadline); w != Io::ok) return w;
  FdMessage m;
  msghdr& msg = m.msg;
  ssize_t got;
  do {
    got = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return Io::closed;
  if (got < 0) return errno == ECONNRESET ? Io::closed : fail();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(fd, CMSG_DATA(c), sizeof(int));
  if (*fd < 0 || (msg.msg_flags & MSG_CTRUNC)) {
    saved_errno = EBADMSG;
    return Io::failed;
  }
  return Io::ok;
}

}  // namespace weft::rt::comm::sock
