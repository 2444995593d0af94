// Diagnostics: what the verifier and the DSL report, with the author's file and line.
// Several are collected per build; nothing is reported by assert, trap or invalid PTX.
#pragma once

#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>
#include <vector>

namespace weft {

struct SourceLoc {
  const char* file = "";  // from std::source_location: a string literal, lives forever
  std::uint32_t line = 0;
  std::uint32_t column = 0;

  static SourceLoc from(const std::source_location& l) {
    return {l.file_name(), static_cast<std::uint32_t>(l.line()), static_cast<std::uint32_t>(l.column())};
  }
  bool known() const { return line != 0; }
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  std::string hint;  // what to do instead; may be empty

  // "gemm.cpp:87: error: wgmma.mma_async needs sm_90a (target sm_80); hint: use MmaAtom"
  std::string format() const;
};

// Thrown by KernelBuilder::build() and the emitters when a module has diagnostics.
class DiagnosticError : public std::runtime_error {
 public:
  explicit DiagnosticError(std::vector<Diagnostic> diags);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }

 private:
  std::vector<Diagnostic> diags_;
};

}  // namespace weft
