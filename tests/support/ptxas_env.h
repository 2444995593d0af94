// Test support: ptxas lookup shared by the suites that assemble PTX. Without ptxas the checks say
// they were skipped (doctest MESSAGE), so a machine without the toolkit still runs the rest.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "codegen/ptxas.h"

namespace weft::test {

inline std::optional<std::string> ptxas_or_skip() {
  static const auto loc = ptxas::find();
  if (!loc.path) MESSAGE("skipped: ptxas not found (looked at " << loc.describe_search() << ")");
  return loc.path;
}

inline std::filesystem::path scratch_dir() {
  auto d = std::filesystem::temp_directory_path() / ("weft-tests-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

inline std::string write_file(const std::string& name, const std::string& text) {
  auto p = scratch_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Assembles `ptx` for `arch` (written as <name>.ptx in the scratch directory) and CHECKs that ptxas
// accepts it without C7508 (setmaxnreg ignored). Skips, with a MESSAGE, where there is no ptxas.
inline void check_assembles(const std::string& ptx, const std::string& arch, const std::string& name) {
  auto ptxas = ptxas_or_skip();
  if (!ptxas) return;
  auto r = ptxas::assemble(*ptxas, write_file(name + ".ptx", ptx), arch);
  INFO(r.output);
  CHECK(r.ok());
  CHECK_FALSE(contains(r.output, "C7508"));
}

}  // namespace weft::test
