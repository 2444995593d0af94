// Finding libdevice, and the direct printer's hook. No LLVM headers here.
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "codegen/llvm/backend.h"
#include "codegen/printer.h"

namespace weft::llvm_backend {

std::filesystem::path find_libdevice() {
  namespace fs = std::filesystem;
  std::vector<fs::path> tried;
  auto readable = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return in.good() && fs::is_regular_file(p);
  };
  // $WEFT_LIBDEVICE is authoritative when set (like $WEFT_PTXAS): a wrong path is reported.
  if (const char* env = std::getenv("WEFT_LIBDEVICE"); env && *env) {
    if (readable(env)) return env;
    throw DiagnosticError({{{}, fmt::format("libdevice not found: $WEFT_LIBDEVICE is '{}', which is missing or unreadable", env),
                            "point WEFT_LIBDEVICE at libdevice.10.bc, or unset it to use the CUDA toolkit's"}});
  }
  const char* home = std::getenv("CUDA_HOME");
  if (home && *home) tried.push_back(fs::path(home) / "nvvm/libdevice/libdevice.10.bc");
#ifdef WEFT_CUDA_ROOT
  tried.push_back(fs::path(WEFT_CUDA_ROOT) / "nvvm/libdevice/libdevice.10.bc");
#endif
  tried.push_back("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc");
  std::string list;
  for (const auto& p : tried) {
    if (readable(p)) return p;
    list += (list.empty() ? "" : ", ") + p.string();
  }
  throw DiagnosticError({{{}, fmt::format("libdevice not found (searched $WEFT_LIBDEVICE (unset), {})", list),
                          "install the CUDA toolkit's nvvm component or set WEFT_LIBDEVICE to libdevice.10.bc"}});
}

namespace {
std::string provide(const ir::Module& m) { return libdevice_ptx(m); }
}  // namespace

void install_external_ptx_provider() {
  static std::once_flag once;
  std::call_once(once, [] { set_external_ptx_provider(&provide); });
}

}  // namespace weft::llvm_backend
