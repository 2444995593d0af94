// The hand-written test kernels assemble with ptxas for the targets the GPU tests use, so a typo in
// them is caught on the CPU machine. Skipped (with a message) where no ptxas is found.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/runtime/test_kernels.h"

namespace fs = std::filesystem;

namespace {

// $WEFT_PTXAS, then PATH, then /usr/local/cuda/bin (DESIGN.md §5).
std::string find_ptxas() {
  if (const char* p = std::getenv("WEFT_PTXAS"); p && *p) return p;
  if (const char* path = std::getenv("PATH")) {
    std::string s = path;
    std::size_t at = 0;
    while (at <= s.size()) {
      std::size_t end = s.find(':', at);
      if (end == std::string::npos) end = s.size();
      fs::path cand = fs::path(s.substr(at, end - at)) / "ptxas";
      if (!cand.empty() && ::access(cand.c_str(), X_OK) == 0) return cand.string();
      at = end + 1;
    }
  }
  if (::access("/usr/local/cuda/bin/ptxas", X_OK) == 0) return "/usr/local/cuda/bin/ptxas";
  return "";
}

int assemble(const std::string& ptxas, const std::string& text, const std::string& arch, std::string& log) {
  const fs::path dir = fs::temp_directory_path() / ("weft-ptxas-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "in.ptx") << text;
  const std::string cmd = ptxas + " -arch=" + arch + " " + (dir / "in.ptx").string() + " -o " +
                          (dir / "out.cubin").string() + " > " + (dir / "log").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(dir / "log");
  log.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove_all(dir);
  return rc;
}

}  // namespace

TEST_CASE("the GPU tests' PTX assembles with ptxas") {
  const std::string ptxas = find_ptxas();
  if (ptxas.empty()) {
    MESSAGE("skipped: no ptxas found ($WEFT_PTXAS, PATH, /usr/local/cuda/bin)");
    return;
  }
  for (const char* arch : {"sm_80", "sm_90", "sm_90a", "sm_100a"}) {
    std::string log;
    INFO(arch << ": " << log);
    CHECK(assemble(ptxas, weft::rt::test::test_module(), arch, log) == 0);
  }
  std::string log;
  // The foreign-architecture cubin the GPU test makes.
  CHECK(assemble(ptxas, weft::rt::test::test_module("8.0", "sm_75"), "sm_75", log) == 0);
  // What from_best_ptx is offered on an H100/H200.
  CHECK(assemble(ptxas, weft::rt::test::test_module("8.8", "sm_90a"), "sm_90a", log) == 0);
  CHECK(assemble(ptxas, weft::rt::test::bad_module(), "sm_90", log) != 0);
  INFO(log);
  CHECK(log.find("line 6") != std::string::npos);  // the GPU test expects the JIT to say the same
}
