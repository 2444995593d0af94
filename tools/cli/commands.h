// The weft CLI's commands. Exit codes: 0 success, 1 diagnostics (DSL errors, ptxas rejections,
// files that cannot be written), 2 usage errors (bad flags, unknown kernels or targets, bad --param).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codegen/isa/target.h"
#include "dsl/registry.h"

namespace weft::cli {

inline constexpr int kOk = 0, kDiagnostics = 1, kUsage = 2;

// A one-line error for the user, with its exit code.
struct Failure {
  int code;
  std::string message;
};

// "sm_80,sm_90a" -> targets; throws Failure(kUsage) naming the bad one.
std::vector<isa::Target> parse_arch_list(const std::string& list);
// Kernel names (or every registered kernel) -> entries; throws Failure(kUsage) for an unknown name.
std::vector<const KernelEntry*> select_kernels(const std::vector<std::string>& names, bool all);

struct EmitRequest {
  std::vector<const KernelEntry*> kernels;
  std::vector<isa::Target> targets;
  std::vector<std::string> params;
  std::filesystem::path out_dir;
  bool line_info = true;
  bool all = false;          // --all: kernels skip the targets they are not written for
  bool debug_waits = false;  // --debug-waits
  // --backend: "direct" (weft's printer), "llvm" (LLVM 19's NVPTX backend, sm_80..sm_90a) or
  // "both" (<kernel>.<target>.ptx and <kernel>.<target>.llvm.ptx).
  std::string backend = "direct";
};
struct Emitted {
  std::string kernel;
  isa::Target target;
  std::filesystem::path file;
  double micros = 0;  // time to build and print the module
  std::string backend = "direct";
};
// Builds and writes one .ptx per (kernel, target): <out>/<kernel>.<target>.ptx. Diagnostics go to
// stderr as file:line: error lines and make the result kDiagnostics.
int emit(const EmitRequest& r, std::vector<Emitted>& written);

// --fatbin: one <kernel>.fatbin per kernel with every target's PTX and, where ptxas is present, its
// cubin, made with the toolkit's fatbinary. `made` receives the paths.
int write_fatbins(const std::vector<Emitted>& written, const std::filesystem::path& out_dir,
                  std::vector<std::string>& made);

// Assembles files with ptxas and prints the table. `targets` empty: the file's signature target.
int check_files(const std::vector<std::filesystem::path>& files, const std::vector<isa::Target>& targets,
                const std::vector<std::string>& labels);

// Prints rows as an aligned text table.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// `weft info` without a file: the CUDA driver and each device, or "no CUDA driver: <why>" (exit 0).
int driver_info();
// `weft cache stats|clear`: weft::rt's cubin cache at its default directory.
int cache_command(const std::string& action);

}  // namespace weft::cli
