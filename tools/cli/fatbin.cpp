#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "codegen/ptxas.h"
#include "tools/cli/commands.h"

namespace weft::cli {

namespace {
// fatbinary sits next to ptxas in the toolkit.
std::optional<std::string> find_fatbinary(const ptxas::Location& ptxas_at) {
  if (const char* env = std::getenv("WEFT_FATBINARY"); env && *env) return std::string(env);
  if (ptxas_at.path) {
    auto p = std::filesystem::path(*ptxas_at.path).parent_path() / "fatbinary";
    if (std::filesystem::exists(p)) return p.string();
  }
  return std::nullopt;
}

int run(const std::vector<std::string>& args, std::string& output) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  cmd += "2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string sm_of(const isa::Target& t) { return t.name().substr(3); }  // "sm_90a" -> "90a"
}  // namespace

int write_fatbins(const std::vector<Emitted>& written, const std::filesystem::path& out_dir, std::vector<std::string>& made) {
  const auto ptxas_at = ptxas::find();
  const auto fatbinary = find_fatbinary(ptxas_at);
  if (!fatbinary)
    throw Failure{kDiagnostics, "--fatbin: fatbinary not found (set WEFT_FATBINARY, or put the CUDA toolkit's bin on PATH)"};
  // One fatbin per kernel: every target's PTX, and its cubin where ptxas can make one.
  std::map<std::string, std::vector<const Emitted*>> by_kernel;
  for (const auto& w : written) by_kernel[w.kernel].push_back(&w);
  int status = kOk;
  for (const auto& [kernel, files] : by_kernel) {
    std::vector<std::string> args = {*fatbinary, "-64", "--create=" + (out_dir / (kernel + ".fatbin")).string()};
    for (const auto* w : files) {
      args.push_back(fmt::format("--image3=kind=ptx,sm={},file={}", sm_of(w->target), w->file.string()));
      if (ptxas_at.path) {
        const auto cubin = w->file.parent_path() / (w->file.stem().string() + ".cubin");
        auto r = ptxas::assemble(*ptxas_at.path, w->file.string(), w->target.name(), cubin.string());
        if (!r.ok()) {
          fmt::print(stderr, "weft: error: ptxas rejected {}: {}\n", w->file.string(), r.first_error());
          status = kDiagnostics;
          continue;
        }
        args.push_back(fmt::format("--image3=kind=elf,sm={},file={}", sm_of(w->target), cubin.string()));
      }
    }
    std::string output;
    if (run(args, output) != 0) {
      fmt::print(stderr, "weft: error: fatbinary failed for {}: {}\n", kernel, output);
      status = kDiagnostics;
      continue;
    }
    made.push_back((out_dir / (kernel + ".fatbin")).string());
  }
  return status;
}

}  // namespace weft::cli
