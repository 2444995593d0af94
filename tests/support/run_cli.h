// Test support: run the weft CLI (WEFT_CLI, set by CMake) as a user would, capturing its exit code
// and its stdout and stderr together.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/ptxas_env.h"

namespace weft::test {

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

// `env` is prefixed to the command line ("WEFT_PTXAS=/x", "env -u WEFT_PTXAS PATH=/y").
inline CliRun run_weft(const std::string& args, const std::string& env = "") {
  const auto log = scratch_dir() / "cli.log";
  const std::string cmd = env + " " + WEFT_CLI + " " + args + " > " + log.string() + " 2>&1";
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  r.out = s.str();
  return r;
}

}  // namespace weft::test
