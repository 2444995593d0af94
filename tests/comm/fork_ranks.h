// Runs a function as N forked processes (one per rank) and collects what each reported, for tests of
// multi-process code on the CPU. A child reports "" for success or the text of what went wrong (an
// exception's message); doctest's CHECKs stay in the parent.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace weft::rt::comm::test {

struct RankResult {
  int rank = 0;
  bool finished = false;  // exited normally within the limit
  std::string report;     // "" for success, else the error text
};

// Forks one process per entry of `ranks` (the rank numbers to start; ranks left out never start) and
// waits for all of them, killing any still running after `limit`.
inline std::vector<RankResult> run_ranks(const std::vector<int>& ranks, const std::function<std::string(int)>& body,
                                         std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  struct Child {
    pid_t pid;
    int fd;
    RankResult result;
  };
  std::vector<Child> children;
  std::fflush(nullptr);
  for (int r : ranks) {
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      std::string report;
      try {
        report = body(r);
      } catch (const std::exception& e) {
        report = e.what();
        if (report.empty()) report = "(exception without a message)";
      }
      if (!report.empty()) (void)!::write(p[1], report.data(), report.size());
      ::close(p[1]);
      ::_exit(0);
    }
    ::close(p[1]);
    children.push_back({pid, p[0], {r, false, ""}});
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (Child& c : children) {
    char buf[4096];
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      pollfd pf{c.fd, POLLIN, 0};
      if (left <= 0 || ::poll(&pf, 1, static_cast<int>(left)) <= 0) break;
      const ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n <= 0) break;
      c.result.report.append(buf, static_cast<std::size_t>(n));
    }
    ::close(c.fd);
    int status = 0;
    pid_t done = 0;
    while ((done = ::waitpid(c.pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      ::usleep(1000);
    if (done == 0) {
      ::kill(c.pid, SIGKILL);  // only the child this call started
      ::waitpid(c.pid, &status, 0);
      c.result.report += " [killed after the time limit]";
    } else {
      c.result.finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
  }
  std::vector<RankResult> out;
  for (Child& c : children) out.push_back(c.result);
  return out;
}

inline std::vector<int> all_ranks(int n) {
  std::vector<int> v;
  for (int r = 0; r < n; ++r) v.push_back(r);
  return v;
}

// A socket path no other test uses.
inline std::string socket_path() {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("weft-comm-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock"))
      .string();
}

}  // namespace weft::rt::comm::test
