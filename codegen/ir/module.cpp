#include "codegen/ir/module.h"

namespace weft::ir {

const Function* Module::find(std::string_view name) const {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace weft::ir
