// The PTX printer: a verified module to PTX text, headed by the signature block.
#pragma once

#include <string>

#include "codegen/ir/module.h"

namespace weft {

struct PrintOptions {
  bool line_info = true;  // .file/.loc for every instruction's DSL line
  bool verify = true;     // false only for a module verify() has just passed (KernelBuilder::ptx)
};

// Verifies the module and prints it; throws DiagnosticError listing every problem.
std::string emit_ptx(const ir::Module& m, const PrintOptions& opts = {});

// Device functions with a libdevice body (ir::Function::libdevice) are compiled by the LLVM backend
// at emit time: it installs a provider that returns PTX text (their .func definitions and whatever
// module-scope data they use) for a module. Without a provider, printing such a module is a
// diagnostic. Modules that call no libdevice function never reach the provider.
using ExternalPtxProvider = std::string (*)(const ir::Module& m);
void set_external_ptx_provider(ExternalPtxProvider provider);

// One instruction as the printer writes it, with `f`'s register names ("add.s32 %r2, %r0, %r1;").
std::string print_instruction(const ir::Function& f, const ir::Instr& in);

// The signature the runtime will read back (also printed at the top of the PTX).
sig::Signature signature_of(const ir::Module& m);

}  // namespace weft
