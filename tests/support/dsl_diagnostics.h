// Test support for DSL diagnostics: build a kernel and get its diagnostics; check their lines.
#pragma once

#include <string>
#include <vector>

#include "dsl/kernel_builder.h"

namespace weft::test {

inline isa::Target target(const char* name) { return *isa::parse_target(name).target; }

// Builds and returns the diagnostics (empty when the build succeeds).
inline std::vector<Diagnostic> diagnostics_of(KernelBuilder& k) {
  try {
    k.build();
  } catch (const DiagnosticError& e) {
    return e.diagnostics();
  }
  return {};
}

// Whether the diagnostic points at `line` of a file whose name ends with `file`.
inline bool at_line(const Diagnostic& d, int line, const std::string& file) {
  return d.loc.line == static_cast<std::uint32_t>(line) && std::string(d.loc.file).ends_with(file);
}

}  // namespace weft::test
