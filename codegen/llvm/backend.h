// The second backend: weft IR -> LLVM IR -> PTX through LLVM 19's NVPTX target, in process.
//
//   ir::Module m = k.build();
//   std::string ptx = weft::llvm_backend::emit_ptx(m);            // O3, NVPTX, signature block on top
//   std::string ll  = weft::llvm_backend::emit_llvm_ir(m);        // the lowered module, before O3
//
// Everything the IR can express lowers: common forms to LLVM instructions and NVVM intrinsics, any
// other form to inline asm printed with weft's own mnemonic() (docs/llvm.md lists which is which).
// Errors are DiagnosticError naming the construct and its source line; LLVM is never called with
// input it would assert on. No LLVM header is included here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "codegen/ir/module.h"

namespace weft::llvm_backend {

struct Options {
  bool line_info = true;  // .file/.loc from the DSL's source lines (DebugDirectivesOnly, like -lineinfo)
  bool verify = true;     // run weft's verifier first (the IR must be valid weft IR)
  unsigned opt_level = 3; // 0..3: the PassBuilder pipeline
  bool ftz = false;       // __nvvm_reflect("__CUDA_FTZ") for libdevice: flush f32 denormals to zero
};

// LLVM 19's NVPTX target reaches sm_90a and PTX ISA 8.5.
inline constexpr unsigned kMaxSm = 90;
inline constexpr isa::PtxVersion kMaxPtx = 85;

// Whether LLVM 19 can emit for this target (sm_80 .. sm_90a); when not, `why` says so and names
// the direct backend.
bool supports(const isa::Target& t, std::string* why = nullptr);

// The PTX ISA version the LLVM backend asks for: weft's required_ptx_version for the module,
// capped at 8.5 (LLVM 19's newest).
isa::PtxVersion ptx_version_for(const ir::Module& m);

// Verified, optimised PTX headed by weft's `//!` signature block (the runtime loads it like the
// direct printer's). Throws DiagnosticError for unsupported targets, IR the backend cannot lower,
// a missing libdevice, or an LLVM verifier/codegen failure.
std::string emit_ptx(const ir::Module& m, const Options& o = {});

// The lowered LLVM IR as text (before optimisation; after it with `optimized`).
std::string emit_llvm_ir(const ir::Module& m, const Options& o = {}, bool optimized = false);

// libdevice: `$WEFT_LIBDEVICE`, then `$CUDA_HOME/nvvm/libdevice/libdevice.10.bc`, then the toolkit
// weft was configured with (WEFT_CUDA_ROOT). Throws DiagnosticError listing the paths searched.
std::filesystem::path find_libdevice();

// PTX text for the module's libdevice functions (ir::Function::libdevice), for the direct printer:
// their .func definitions and the module-scope data they use, compiled for the module's target
// (sm_90 for targets past LLVM 19's). Cached per target and function set.
std::string libdevice_ptx(const ir::Module& m);

// Makes the direct printer (weft::emit_ptx) able to print modules that call libdevice functions.
// The math calls (math.h) install it on first use; calling it again is harmless.
void install_external_ptx_provider();

}  // namespace weft::llvm_backend
