// Concrete instances of an instruction form, for the golden tests, the ptxas matrix, the fuzzer
// and the docs: every type and qualifier value alone, and every pair of qualifier values together.
// Operands are fresh registers (and immediates, labels, symbols) in a scratch function that
// `FormScratch` prepares, so the instances print as a kernel ptxas can assemble.
#pragma once

#include <vector>

#include "codegen/ir/module.h"

namespace weft {

// A kernel to hold instances: it declares what their operands need (a shared array, a byte-array
// parameter, a call-argument buffer, a branch label) and a device function `weft_callee` to call.
struct FormScratch {
  ir::Module module;
  ir::Function* kernel = nullptr;
  ir::LabelId label = 0;
  explicit FormScratch(const isa::Target& t);
  // Finishes the kernel (places the label, adds `ret`) so the module can be printed.
  void finish();
};

enum class Coverage {
  canonical,  // one instance: the first type, required qualifiers at their first value
  full,       // all types, every qualifier value alone, every pair of qualifier values
};

// Instances of `form` whose operands are allocated in `scratch.kernel`. Some may be illegal
// (a .v4 of 64-bit types, exclusive qualifiers): run the verifier to keep the legal ones.
std::vector<ir::Instr> form_instances(const isa::Form& form, FormScratch& scratch, Coverage c);

// The register type that holds an operand of type t: t itself, but 8-bit values live in 16-bit
// registers (PTX has no 8-bit registers).
isa::Type reg_type_for(isa::Type t);

}  // namespace weft
