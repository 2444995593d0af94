// Golden PTX for every database row: the canonical instance of each form, exactly as weft prints
// it, against tests/golden/forms.txt. A change to a row's spelling shows up here as a diff.
// Regenerate deliberately with WEFT_UPDATE_GOLDEN=1.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "codegen/form_instances.h"
#include "codegen/isa/database.h"
#include "codegen/printer.h"

using namespace weft;

TEST_CASE("every form prints exactly as its golden line") {
  const std::string path = std::string(WEFT_SOURCE_DIR) + "/tests/golden/forms.txt";
  std::ostringstream now;
  for (const auto& form : isa::forms()) {
    // A target the form claims, so the instance is legal.
    isa::Target t{};
    for (const auto& k : isa::known_targets())
      if (form.targets.contains(k)) { t = k; break; }
    FormScratch sc(t);
    auto in = form_instances(form, sc, Coverage::canonical).front();
    now << form.id << " | " << print_instruction(*sc.kernel, in) << "\n";
  }
  if (const char* u = std::getenv("WEFT_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::ofstream(path) << now.str();
    MESSAGE("rewrote " << path);
    return;
  }
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing " << path << " (run with WEFT_UPDATE_GOLDEN=1 once)");
  std::map<std::string, std::string> golden;
  for (std::string line; std::getline(in, line);) golden[line.substr(0, line.find(" | "))] = line;
  std::istringstream cur(now.str());
  std::size_t n = 0;
  for (std::string line; std::getline(cur, line); ++n) {
    const auto id = line.substr(0, line.find(" | "));
    INFO("form " << id);
    REQUIRE_MESSAGE(golden.count(id), "no golden line for form " << id);
    CHECK(golden[id] == line);
  }
  CHECK(n == golden.size());  // no golden line for a form that no longer exists
  MESSAGE(n << " forms match their golden PTX");
}

#include "codegen/isa/reference.h"

TEST_CASE("docs/reference.md is the database's reference") {
  const std::string path = std::string(WEFT_SOURCE_DIR) + "/docs/reference.md";
  if (const char* u = std::getenv("WEFT_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::ofstream(path) << isa::reference_markdown();
    return;
  }
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing " << path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK_MESSAGE(text.str() == isa::reference_markdown(),
                "docs/reference.md is stale: regenerate with `build/tools/weft reference > docs/reference.md`");
}
