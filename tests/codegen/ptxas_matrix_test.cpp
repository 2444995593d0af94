// The ptxas matrix: every instruction form, in every type and qualifier variation the verifier
// accepts, assembled by ptxas for every target the form claims, at the .version weft picks for it;
// and for every target it does not claim, weft's verifier rejects it first.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <unistd.h>

#include "codegen/form_instances.h"
#include "codegen/isa/database.h"
#include "codegen/mnemonic.h"
#include "codegen/printer.h"
#include "codegen/verify.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {

// Splits the accepted instances of one target into modules by the .version they need, so a form
// whose min_ptx is too low is caught by ptxas at that version.
struct Batch {
  FormScratch scratch;
  std::vector<std::string> what;  // per body line: the form id and its mnemonic
  explicit Batch(const isa::Target& t) : scratch(t) {}
};

isa::PtxVersion version_for(const ir::Instr& in, const isa::Target& t) {
  ir::Module m;
  m.target = t;
  ir::Function f;
  f.body.push_back(in);
  m.functions.push_back(f);
  return required_ptx_version(m);
}

// Assembles every instance of `coverage` for every target; `virtual_arch` uses -arch compute_XX,
// which parses and checks ISA, target, version and operand types exactly as -arch sm_XX does
// (docs/ptx-facts.md §6) but skips code generation: 50x faster for the 66,000-instance matrix.
struct MatrixCounts {
  std::size_t assembled = 0, skipped_by_verifier = 0, files = 0;
};

MatrixCounts run_matrix(const std::string& ptxas, Coverage coverage, bool virtual_arch) {
  MatrixCounts c;
  auto& [assembled, skipped_by_verifier, files] = c;
  for (const auto& target : isa::known_targets()) {
    // Batches by .version, and by the value of a qualifier that must be uniform in a function
    // (tcgen05 .cta_group): each batch is one kernel.
    std::map<std::pair<isa::PtxVersion, std::uint8_t>, std::unique_ptr<Batch>> batches;
    FormScratch probe(target);  // where instances are made before being moved to their batch
    for (const auto& form : isa::forms()) {
      if (!form.targets.contains(target)) continue;
      for (auto& in : form_instances(form, probe, coverage)) {
        if (!verify_instr(*probe.kernel, in, target).empty()) {
          ++skipped_by_verifier;
          continue;
        }
        const auto v = version_for(in, target);
        const auto u = form.uniform_in_function;
        auto& b = batches[{v, u == isa::QualKind::count_ ? std::uint8_t{0} : in.quals.get(u)}];
        if (!b) b = std::make_unique<Batch>(target);
        b->scratch.kernel->body.push_back(in);
        b->what.push_back(std::string(form.id) + ": " + mnemonic(in));
      }
    }
    for (auto& [key, b] : batches) {
      const auto version = key.first;
      // The instances' registers live in `probe`; give each batch the same register table.
      b->scratch.kernel->regs = probe.kernel->regs;
      b->scratch.finish();
      std::string ptx;
      try {
        ptx = emit_ptx(b->scratch.module, {.line_info = false});
      } catch (const DiagnosticError& e) {
        FAIL_CHECK("weft rejected its own instances for " << target.name() << ": " << std::string(e.what()));
        continue;
      }
      INFO("target " << target.name() << ", .version " << isa::format_ptx_version(version));
      CHECK(ptx.find(".version " + isa::format_ptx_version(version)) != std::string::npos);
      const auto file = test::write_file(std::string(virtual_arch ? "full_" : "canonical_") + target.name() + "_" +
                                             std::to_string(version) + "_" + std::to_string(key.second) + ".ptx",
                                         ptx);
      std::string arch = target.name();
      if (virtual_arch) arch.replace(0, 3, "compute_");
      auto r = ptxas::assemble(ptxas, file, arch);
      ++files;
      if (!r.ok()) {
        // Map each "line N" back to the instance printed there.
        std::istringstream lines(ptx);
        std::vector<std::string> all;
        for (std::string l; std::getline(lines, l);) all.push_back(l);
        std::regex at(R"(line (\d+); (error|fatal)\s*: (.*))");
        int shown = 0;
        for (std::sregex_iterator it(r.output.begin(), r.output.end(), at), end; it != end && shown < 25; ++it, ++shown) {
          std::size_t n = std::stoul((*it)[1]);
          FAIL_CHECK("ptxas rejects `" << (n - 1 < all.size() ? all[n - 1] : "?") << "`: " << (*it)[3]);
        }
        if (shown == 0) FAIL_CHECK("ptxas failed: " << r.output.substr(0, 2000));
      }
      assembled += b->what.size();
    }
  }
  return c;
}

}  // namespace

TEST_CASE("every variation of every form passes ptxas on every target it claims") {
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto c = run_matrix(*ptxas, Coverage::full, /*virtual_arch=*/true);
  MESSAGE("ptxas (compute_XX) accepted " << c.assembled << " instances in " << c.files << " files; "
                                         << c.skipped_by_verifier
                                         << " variations were rejected by the verifier and not emitted");
  CHECK(c.assembled > 50000);
}

TEST_CASE("every form assembles to a cubin on every target it claims") {
  auto ptxas = test::ptxas_or_skip();
  if (!ptxas) return;
  auto c = run_matrix(*ptxas, Coverage::canonical, /*virtual_arch=*/false);
  MESSAGE("ptxas (sm_XX) assembled " << c.assembled << " canonical instances in " << c.files << " files");
  CHECK(c.assembled > 1000);
}

TEST_CASE("on every target a form does not claim, the verifier rejects it") {
  std::size_t rejected = 0;
  for (const auto& target : isa::known_targets()) {
    FormScratch sc(target);
    for (const auto& form : isa::forms()) {
      if (form.targets.contains(target)) continue;
      auto in = form_instances(form, sc, Coverage::canonical).front();
      auto d = verify_instr(*sc.kernel, in, target);
      INFO(form.id << " on " << target.name());
      REQUIRE_FALSE(d.empty());
      CHECK(d.front().message.find("needs") != std::string::npos);
      ++rejected;
    }
  }
  MESSAGE(rejected << " (form, unclaimed target) pairs rejected by the verifier");
}
