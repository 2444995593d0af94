// Internal to weft_llvm: weft IR -> llvm::Module. Included by the two LLVM translation units only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codegen/llvm/backend.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace weft::llvm_backend::detail {

struct Lowered {
  std::unique_ptr<llvm::Module> module;
  std::vector<std::string> libdevice_calls;  // "__nv_expf": link libdevice when not empty
  // Kernels with a cluster shape: LLVM 19 has no annotation for .reqnctapercluster, so the pipeline
  // writes the directive into the PTX after code generation.
  struct Cluster {
    std::string kernel;
    std::array<std::uint32_t, 3> dims;
  };
  std::vector<Cluster> clusters;
};

// Lowers a (verified) weft module. `only_libdevice`: lower just the module's libdevice functions
// as visible definitions (the direct printer's .func bodies). Throws DiagnosticError.
Lowered lower(const ir::Module& m, llvm::LLVMContext& ctx, const Options& o, bool only_libdevice = false);

// "sm_90a" -> LLVM's CPU name, and the PTX feature ("+ptx80").
std::string cpu_name(const isa::Target& t);

}  // namespace weft::llvm_backend::detail
