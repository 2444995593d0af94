#include "codegen/diagnostic.h"

namespace weft {

std::string Diagnostic::format() const {
  std::string s;
  if (loc.known()) s += std::string(loc.file) + ":" + std::to_string(loc.line) + ": ";
  s += "error: " + message;
  if (!hint.empty()) s += "; hint: " + hint;
  return s;
}

namespace {
std::string join(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& x : d) s += (s.empty() ? "" : "\n") + x.format();
  return s;
}
}  // namespace

DiagnosticError::DiagnosticError(std::vector<Diagnostic> diags)
    : std::runtime_error(join(diags)), diags_(std::move(diags)) {}

}  // namespace weft
