#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include "codegen/printer.h"
#include "tools/cli/commands.h"
#ifdef WEFT_HAVE_LLVM
#include "codegen/llvm/backend.h"
#endif

namespace weft::cli {

std::vector<isa::Target> parse_arch_list(const std::string& list) {
  std::vector<isa::Target> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    auto name = list.substr(pos, comma - pos);
    auto p = isa::parse_target(name);
    if (!p.target) throw Failure{kUsage, p.error};
    out.push_back(*p.target);
    pos = comma + 1;
  }
  return out;
}

std::vector<const KernelEntry*> select_kernels(const std::vector<std::string>& names, bool all) {
  std::vector<const KernelEntry*> out;
  if (all) {
    for (const auto& e : Registry::global().all()) out.push_back(&e);
    return out;
  }
  if (names.empty()) throw Failure{kUsage, "name at least one kernel, or pass --all (see `weft list`)"};
  for (const auto& n : names) {
    const auto* e = Registry::global().find(n);
    if (!e) throw Failure{kUsage, fmt::format("unknown kernel '{}' (see `weft list`)", n)};
    out.push_back(e);
  }
  return out;
}

int emit(const EmitRequest& r, std::vector<Emitted>& written) {
  std::error_code ec;
  std::filesystem::create_directories(r.out_dir, ec);
  if (ec || !std::filesystem::is_directory(r.out_dir))
    throw Failure{kDiagnostics, fmt::format("cannot create output directory '{}': {}", r.out_dir.string(),
                                            ec ? ec.message() : "not a directory")};
  int status = kOk;
  for (const auto* k : r.kernels) {
    auto params = parse_params(*k, r.params);
    if (!params.params) throw Failure{kUsage, params.error};
    for (auto t : r.targets) {
      t.debug_waits = r.debug_waits;
      if (!k->targets.contains(t)) {
        if (r.all) continue;  // e.g. a wgmma kernel under --all --arch sm_80,sm_90a
        fmt::print(stderr, "weft: error: kernel '{}' is written for {}, not {}\n", k->name, k->targets.describe(), t.name());
        status = kDiagnostics;
        continue;
      }
      const bool direct = r.backend != "llvm", llvm = r.backend == "llvm" || r.backend == "both";
      ir::Module m;
      const auto start = std::chrono::steady_clock::now();
      try {
        m = k->build(t, *params.params);
      } catch (const DiagnosticError& e) {
        for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.format());
        fmt::print(stderr, "weft: {} for {}: {} error(s)\n", k->name, t.name(), e.diagnostics().size());
        status = kDiagnostics;
        continue;
      }
      const double build_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
      for (const bool use_llvm : {false, true}) {
        if (use_llvm ? !llvm : !direct) continue;
        std::string ptx;
        const auto t0 = std::chrono::steady_clock::now();
        try {
          if (!use_llvm) {
            ptx = emit_ptx(m, {.line_info = r.line_info});
          } else {
#ifdef WEFT_HAVE_LLVM
            std::string why;
            if (!llvm_backend::supports(t, &why)) {
              if (r.backend == "both") {  // the direct file is written; say why there is no second one
                fmt::print(stderr, "weft: note: {} for {}: no .llvm.ptx: {}\n", k->name, t.name(), why);
                continue;
              }
              fmt::print(stderr, "weft: error: {}\n", why);
              status = kDiagnostics;
              continue;
            }
            ptx = llvm_backend::emit_ptx(m, {.line_info = r.line_info});
#else
            throw Failure{kUsage, "this weft was built without the LLVM backend (WEFT_WITH_LLVM=OFF)"};
#endif
          }
        } catch (const DiagnosticError& e) {
          for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.format());
          fmt::print(stderr, "weft: {} for {}: {} error(s)\n", k->name, t.name(), e.diagnostics().size());
          status = kDiagnostics;
          continue;
        }
        const double us =
            build_us + std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        auto file = r.out_dir / fmt::format("{}.{}{}.ptx", k->name, t.name(), use_llvm && r.backend == "both" ? ".llvm" : "");
        std::ofstream out(file, std::ios::binary);
        out << ptx;
        out.close();
        if (!out) throw Failure{kDiagnostics, fmt::format("cannot write '{}'", file.string())};
        written.push_back({k->name, t, file, us, use_llvm ? "llvm" : "direct"});
      }
    }
  }
  return status;
}

}  // namespace weft::cli
