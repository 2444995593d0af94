// weft_gpu_ptx <dir>: writes the PTX test_gpu_llvm loads where it is built without LLVM (the GPU
// machine), for every kernel it runs and every target in gpu_ptx_files.h, from both backends:
// <dir>/<kernel>.<target>.ptx (direct printer; the math kernels with libdevice .func bodies, which
// need LLVM at emit time) and <dir>/<kernel>.<target>.llvm.ptx. Run by tools/gpu/build.sh into
// build-gpu/ptx-llvm/. Exit 0 when every file is written, 1 otherwise (with the reason on stderr).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "codegen/llvm/backend.h"
#include "codegen/printer.h"
#include "dsl/registry.h"
#include "tests/llvm/gpu_ptx_files.h"
#include "tests/llvm/math_kernel.h"

using namespace weft;

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: {} <dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  try {
    std::filesystem::create_directories(dir);
    std::size_t files = 0, bytes = 0;
    auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream out(dir / name, std::ios::binary);
      out << text;
      if (!out.flush()) throw std::runtime_error("cannot write " + (dir / name).string());
      ++files;
      bytes += text.size();
    };
    for (auto tn : test::gpu_ptx::kTargets) {
      const auto t = *isa::parse_target(std::string(tn)).target;
      auto both = [&](const ir::Module& m, const std::string& kernel) {
        write(test::gpu_ptx::file_name(kernel, tn, false), emit_ptx(m));
        write(test::gpu_ptx::file_name(kernel, tn, true), llvm_backend::emit_ptx(m));
      };
      for (auto s : test::gpu_ptx::kSamples) {
        const auto* e = Registry::global().find(std::string(s));
        if (!e) throw std::runtime_error(fmt::format("sample '{}' is not registered", s));
        both(e->build(t, *parse_params(*e, {}).params), std::string(s));
      }
      for (const auto& fn : math::functions()) both(test::math_kernel(fn, t), test::gpu_ptx::math_kernel_name(fn));
    }
    fmt::print("weft_gpu_ptx: {} files ({} KiB) in {}\n", files, bytes / 1024, dir.string());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "weft_gpu_ptx: {}\n", e.what());
    return 1;
  }
}
