#include "codegen/ptxas.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

namespace weft::ptxas {

namespace fs = std::filesystem;

std::string Location::describe_search() const {
  std::string s;
  for (const auto& l : looked) s += (s.empty() ? "" : ", ") + l;
  return s;
}

Location find() {
  Location loc;
  auto executable = [](const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p); };
  // An explicit $WEFT_PTXAS is authoritative: a wrong one is reported, not silently replaced.
  if (const char* env = std::getenv("WEFT_PTXAS"); env && *env) {
    const bool ok = executable(env);
    loc.looked.push_back(std::string("$WEFT_PTXAS=") + env + (ok ? "" : " (not an executable file)"));
    if (ok) loc.path = env;
    return loc;
  }
  loc.looked.push_back("$WEFT_PTXAS (unset)");
  loc.looked.push_back("PATH");
  if (const char* path = std::getenv("PATH")) {
    std::string_view p(path);
    while (!p.empty()) {
      auto colon = p.find(':');
      auto dir = p.substr(0, colon);
      if (!dir.empty() && executable(fs::path(dir) / "ptxas")) {
        loc.path = (fs::path(dir) / "ptxas").string();
        return loc;
      }
      if (colon == std::string_view::npos) break;
      p.remove_prefix(colon + 1);
    }
  }
  // The toolkit: $CUDA_HOME/bin, or /usr/local/cuda/bin.
  const char* home = std::getenv("CUDA_HOME");
  const std::string fallback = std::string(home && *home ? home : "/usr/local/cuda") + "/bin/ptxas";
  loc.looked.push_back(fallback);
  if (executable(fallback)) loc.path = fallback;
  return loc;
}

std::string Result::first_error() const {
  std::size_t pos = 0;
  std::string first;
  while (pos < output.size()) {
    auto nl = output.find('\n', pos);
    std::string line = output.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (first.empty() && !line.empty()) first = line;
    if (line.find("error") != std::string::npos || line.find("fatal") != std::string::npos) return line;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return first;
}

Result assemble(const std::string& ptxas, const std::string& ptx_file, const std::string& arch,
                const std::string& cubin, const std::vector<std::string>& extra) {
  Result r;
  std::string out_file = cubin;
  if (out_file.empty()) {
    char tmpl[] = "/tmp/weft-ptxas-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd >= 0) ::close(fd);
    out_file = tmpl;
  }
  std::vector<std::string> args = {ptxas, "-v", "-arch", arch, ptx_file, "-o", out_file};
  args.insert(args.end(), extra.begin(), extra.end());
  // Everything the child needs is built before fork(): between fork and exec a child of a
  // multithreaded process may only make async-signal-safe calls (no allocation: another thread may
  // have held the allocator's lock at the fork, and the child would wait for it forever).
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {  // not inherited by ptxas runs other threads start
    r.output = "could not create a pipe to run ptxas";
    return r;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (pid < 0) r.output = "could not start ptxas";
  if (r.exit_code == 127 && r.output.empty()) r.output = "could not execute " + ptxas;
  if (cubin.empty()) ::unlink(out_file.c_str());
  r.kernels = parse_verbose(r.output);
  return r;
}

std::vector<KernelStats> parse_verbose(std::string_view text) {
  std::vector<KernelStats> out;
  static const std::regex compiling(R"(Compiling entry function '([^']+)')");
  static const std::regex spills(R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"(Used (\d+) registers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  static const std::regex bars(R"(used (\d+) barriers)");
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string line(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::smatch m;
    if (std::regex_search(line, m, compiling)) {
      out.push_back({});
      out.back().name = m[1];
      continue;
    }
    if (out.empty()) continue;
    auto& k = out.back();
    if (std::regex_search(line, m, spills)) {
      k.stack = std::stoi(m[1]);
      k.spill_stores = std::stoi(m[2]);
      k.spill_loads = std::stoi(m[3]);
    }
    if (std::regex_search(line, m, used)) {
      k.registers = std::stoi(m[1]);
      if (std::regex_search(line, m, smem)) k.smem = std::stoi(m[1]);
      if (std::regex_search(line, m, bars)) k.barriers = std::stoi(m[1]);
    }
  }
  return out;
}

}  // namespace weft::ptxas
