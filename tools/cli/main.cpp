// weft: list, emit and check kernels. See docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "codegen/isa/reference.h"
#include "codegen/signature.h"
#include "tools/cli/commands.h"

using namespace weft;
using namespace weft::cli;

namespace {

int list_kernels() {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : Registry::global().all()) {
    std::string params;
    for (const auto& p : e.params) params += fmt::format("{}{}={}", params.empty() ? "" : " ", p.name, p.default_value);
    rows.push_back({e.name, e.targets.describe(), params.empty() ? "-" : params, e.summary});
  }
  print_table({"kernel", "targets", "parameters", "what it does"}, rows);
  return kOk;
}

int info(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Failure{kUsage, fmt::format("cannot read '{}'", file)};
  std::stringstream text;
  text << in.rdbuf();
  sig::Signature s;
  try {
    s = sig::parse(text.str());
  } catch (const sig::ParseError& e) {
    throw Failure{kDiagnostics, fmt::format("{}: {}", file, e.what())};
  }
  fmt::print("target {}\n", s.target);
  for (const auto& k : s.kernels) {
    fmt::print("kernel {}\n", k.name);
    for (const auto& p : k.params)
      fmt::print("  param {:<12} {:<8} {:<8} size {:>3} align {:>3}{}\n", p.name, sig::kind_name(p.kind), p.detail, p.size,
                 p.align, !p.pointee.empty() ? " -> " + p.pointee : !p.tma_box.empty() ? " box " + p.tma_box : "");
    if (k.reqntid[0]) fmt::print("  block {}x{}x{} (required)\n", k.reqntid[0], k.reqntid[1], k.reqntid[2]);
    if (k.static_smem) fmt::print("  static shared memory {} bytes\n", k.static_smem);
    if (k.uses_dynamic_smem) fmt::print("  dynamic shared memory (hint {} bytes)\n", k.dynamic_smem);
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft: emit and check PTX kernels written with the weft C++ DSL"};
  app.set_version_flag("--version", std::string("weft ") + WEFT_VERSION);
  app.require_subcommand(1);

  auto* list = app.add_subcommand("list", "list the registered kernels and their parameters");

  std::vector<std::string> kernels, params;
  std::string arch = "sm_80,sm_90a,sm_100a", out = ".";
  bool all = false, no_line_info = false;
  auto* emit_cmd = app.add_subcommand("emit", "write one .ptx per kernel and target: <out>/<kernel>.<target>.ptx");
  emit_cmd->add_option("kernels", kernels, "kernel names (see `weft list`)");
  emit_cmd->add_flag("--all", all, "every registered kernel");
  emit_cmd->add_option("--arch", arch, "comma-separated targets")->capture_default_str();
  emit_cmd->add_option("-o,--out", out, "output directory")->capture_default_str();
  emit_cmd->add_option("--param", params, "kernel parameter name=value (repeatable)");
  emit_cmd->add_flag("--no-line-info", no_line_info, "omit .file/.loc directives");
  bool debug_waits = false;
  emit_cmd->add_flag("--debug-waits", debug_waits, "bounded mbarrier waits that report the barrier and line, then trap");
  std::string backend = "direct";
  emit_cmd->add_option("--backend", backend, "direct (weft's printer), llvm (LLVM 19's NVPTX backend, sm_80..sm_90a), "
                                             "or both (<kernel>.<target>.ptx and .llvm.ptx)")
      ->check(CLI::IsMember({"direct", "llvm", "both"}))
      ->capture_default_str();
  bool fatbin = false;
  emit_cmd->add_flag("--fatbin", fatbin, "also bundle each kernel's targets (PTX, and cubins via ptxas) into <kernel>.fatbin");

  std::vector<std::string> inputs;
  std::string check_arch, check_out;
  bool check_all = false;
  std::vector<std::string> check_params;
  auto* check = app.add_subcommand("check", "assemble .ptx files or kernels with ptxas; print registers, spills, smem");
  check->add_option("inputs", inputs, ".ptx files or kernel names");
  check->add_flag("--all", check_all, "every registered kernel");
  check->add_option("--arch", check_arch, "comma-separated targets (files: default is their signature's target)");
  check->add_option("-o,--out", check_out, "where kernels are emitted before checking (default: a temporary directory)");
  check->add_option("--param", check_params, "kernel parameter name=value (repeatable)");

  std::string info_file;
  auto* info_cmd = app.add_subcommand(
      "info", "print the signature block of a .ptx file; without a file, the CUDA driver and its devices");
  info_cmd->add_option("file", info_file, ".ptx file");

  std::string cache_action;
  auto* cache_cmd = app.add_subcommand(
      "cache", "the cubin cache of weft::rt: stats (entries, bytes), clear, or tunes (the autotune choices it holds)");
  cache_cmd->add_option("action", cache_action, "stats, clear or tunes")
      ->required()
      ->check(CLI::IsMember({"stats", "clear", "tunes"}));

  // CLI11 would call a stray word an extra argument; name it as the unknown command it is.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string cmd = argv[1];
    if (cmd != "list" && cmd != "emit" && cmd != "check" && cmd != "info" && cmd != "cache" && cmd != "reference") {
      fmt::print(stderr, "weft: error: unknown command '{}' (commands: list, emit, check, info, cache, reference)\n", cmd);
      return kUsage;
    }
  }
  auto* reference = app.add_subcommand("reference", "print the instruction reference (Markdown) from the database");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "weft: error: {}\n", e.what());
    return kUsage;
  }

  try {
    if (*list) return list_kernels();
    if (*reference) {
      fmt::print("{}", isa::reference_markdown());
      return kOk;
    }
    if (*info_cmd) return info_file.empty() ? driver_info() : info(info_file);
    if (*cache_cmd) return cache_command(cache_action);
    if (*emit_cmd) {
      EmitRequest r{select_kernels(kernels, all), parse_arch_list(arch), params, out, !no_line_info, all, debug_waits,
                    backend};
#ifndef WEFT_HAVE_LLVM
      if (backend != "direct")
        throw Failure{kUsage, "--backend " + backend + ": this weft was built without the LLVM backend (WEFT_WITH_LLVM=OFF)"};
#endif
      std::vector<Emitted> written;
      int rc = cli::emit(r, written);
      for (const auto& w : written) fmt::print("{}\n", w.file.string());
      if (fatbin && !written.empty()) {
        std::vector<std::string> made;
        const int frc = write_fatbins(written, out, made);
        for (const auto& f : made) fmt::print("{}\n", f);
        rc = rc ? rc : frc;
      }
      return rc;
    }
    if (*check) {
      const auto targets = check_arch.empty() ? std::vector<isa::Target>{} : parse_arch_list(check_arch);
      std::vector<std::filesystem::path> files;
      std::vector<std::string> names;
      for (const auto& in : inputs)
        (in.ends_with(".ptx") ? files.emplace_back(in), void() : names.push_back(in));
      int rc = kOk;
      if (!names.empty() || check_all) {
        auto dir = check_out.empty() ? std::filesystem::temp_directory_path() / fmt::format("weft-check-{}", ::getpid())
                                     : std::filesystem::path(check_out);
        EmitRequest r{select_kernels(names, check_all),
                      targets.empty() ? parse_arch_list("sm_80,sm_90a,sm_100a") : targets, check_params, dir, true,
                      check_all};
        std::vector<Emitted> written;
        rc = cli::emit(r, written);
        for (const auto& w : written) files.push_back(w.file);
      }
      if (files.empty() && rc != kOk) return rc;  // every emission failed; its diagnostics were printed
      if (files.empty()) throw Failure{kUsage, "nothing to check: name .ptx files or kernels, or pass --all"};
      for (const auto& f : files)
        if (!std::filesystem::exists(f)) throw Failure{kUsage, fmt::format("no such file '{}'", f.string())};
      // Files checked for their own target (signature) unless --arch was given for .ptx inputs.
      int rc2 = check_files(files, names.empty() && !check_all ? targets : std::vector<isa::Target>{}, {});
      return rc ? rc : rc2;
    }
  } catch (const Failure& f) {
    fmt::print(stderr, "weft: error: {}\n", f.message);
    return f.code;
  } catch (const std::exception& e) {
    fmt::print(stderr, "weft: internal error: {}\n", e.what());
    return kDiagnostics;
  }
  return kOk;
}
