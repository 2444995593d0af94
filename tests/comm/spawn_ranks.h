// Runs N ranks of a GPU test as fresh processes: the test binary re-executes itself with
// `<env_name>=<rank>` and WEFT_BOOTSTRAP=<socket path> set, a static initialiser in the test sees the
// variable, runs the rank before doctest's main and exits. Fresh processes, not forks, because CUDA
// does not survive fork() once the parent has touched the driver.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace weft::rt::comm::test {

struct SpawnedRank {
  int rank = 0;
  bool exited_ok = false;  // exit status 0
  std::string output;      // its stdout and stderr
};

inline std::vector<SpawnedRank> spawn_ranks(int nranks, const std::string& env_name, const std::string& socket_path) {
  std::vector<pid_t> pids;
  std::vector<int> outs;
  for (int r = 0; r < nranks; ++r) {
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
      const std::string_view v(*e);
      if (!v.starts_with(env_name + "=") && !v.starts_with("WEFT_BOOTSTRAP=")) env_store.emplace_back(v);
    }
    env_store.push_back(env_name + "=" + std::to_string(r));
    env_store.push_back("WEFT_BOOTSTRAP=" + socket_path);
    std::vector<char*> envp;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char self[] = "/proc/self/exe";
    char* argv[] = {self, nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    if (rc != 0) {
      ::close(p[0]);
      throw std::runtime_error("posix_spawn failed for rank " + std::to_string(r));
    }
    pids.push_back(pid);
    outs.push_back(p[0]);
  }
  std::vector<SpawnedRank> results;
  for (int r = 0; r < nranks; ++r) {
    SpawnedRank s;
    s.rank = r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(outs[r], buf, sizeof buf)) > 0) s.output.append(buf, static_cast<std::size_t>(n));
    ::close(outs[r]);
    int status = 0;
    ::waitpid(pids[r], &status, 0);
    s.exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    results.push_back(std::move(s));
  }
  return results;
}

// The child side: call from a static initialiser. When `env_name` is set, runs body(rank, socket
// path), prints "<label> ok" or "<label> failed: <why>", and exits; otherwise returns 0.
inline int run_spawned_rank(const char* env_name, const char* label,
                            const std::function<std::string(int, const std::string&)>& body) {
  const char* r = std::getenv(env_name);
  if (!r) return 0;
  std::string report;
  try {
    const char* path = std::getenv("WEFT_BOOTSTRAP");
    report = body(std::atoi(r), path ? path : "");
  } catch (const std::exception& e) {
    report = e.what();
  }
  std::printf("%s\n", report.empty() ? (std::string(label) + " ok").c_str()
                                     : (std::string(label) + " failed: " + report).c_str());
  std::fflush(stdout);
  std::_Exit(report.empty() ? 0 : 1);
}

}  // namespace weft::rt::comm::test
