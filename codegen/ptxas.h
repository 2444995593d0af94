// Running ptxas, the oracle: find it, assemble a file for a target, read `ptxas -v`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::ptxas {

// Where ptxas is: $WEFT_PTXAS (authoritative when set), then PATH, then $CUDA_HOME/bin (default
// /usr/local/cuda/bin). `looked` lists the places tried so that "not found" can say where it looked.
struct Location {
  std::optional<std::string> path;
  std::vector<std::string> looked;
  std::string describe_search() const;  // "$WEFT_PTXAS (unset), PATH, /usr/local/cuda/bin/ptxas"
};
Location find();

struct KernelStats {
  std::string name;
  int registers = 0;
  int spill_stores = 0;  // bytes
  int spill_loads = 0;   // bytes
  int stack = 0;         // bytes of stack frame
  int smem = 0;          // bytes of static shared memory
  int barriers = 0;
};

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  std::vector<KernelStats> kernels;
  bool ok() const { return exit_code == 0; }
  std::string first_error() const;  // the first "error"/"fatal" line, or the output's first line
};

// ptxas -v -arch <arch> <ptx_file> -o <cubin> (`cubin` empty: a temporary file, removed).
Result assemble(const std::string& ptxas, const std::string& ptx_file, const std::string& arch,
                const std::string& cubin = "", const std::vector<std::string>& extra = {});

// Reads the "Used N registers, ..." and "spill stores" lines of `ptxas -v`.
std::vector<KernelStats> parse_verbose(std::string_view text);

}  // namespace weft::ptxas
