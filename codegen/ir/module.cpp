#include "codegen/ir/module.h"

#include <algorithm>

namespace weft::ir {

std::uint32_t Function::static_shared_bytes() const {
  auto round_up = [](std::uint64_t v, std::uint32_t a) { return a > 1 ? (v + a - 1) / a * a : v; };
  std::uint64_t bytes = 0;
  std::uint32_t dynamic_align = 0;
  for (const auto& s : shared) {
    if (s.dynamic) dynamic_align = std::max(dynamic_align, s.align);
    else bytes = round_up(bytes, s.align) + s.size;
  }
  if (dynamic_align && bytes) bytes = round_up(bytes, dynamic_align);
  return static_cast<std::uint32_t>(bytes);
}

const Function* Module::find(std::string_view name) const {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace weft::ir
