#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "codegen/ptxas.h"
#include "codegen/signature.h"
#include "tools/cli/commands.h"

namespace weft::cli {

int check_files(const std::vector<std::filesystem::path>& files, const std::vector<isa::Target>& targets,
                const std::vector<std::string>& labels) {
  const auto loc = ptxas::find();
  if (!loc.path)
    throw Failure{kDiagnostics, fmt::format("ptxas not found (looked at {}); set WEFT_PTXAS to its path",
                                            loc.describe_search())};
  std::vector<std::vector<std::string>> rows;
  int status = kOk;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    std::ifstream in(f, std::ios::binary);
    if (!in) throw Failure{kUsage, fmt::format("cannot read '{}'", f.string())};
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> archs;
    for (const auto& t : targets) archs.push_back(t.name());
    // The signature block (weft's files have one) says what each kernel asks the launch for in
    // dynamic shared memory, which ptxas does not see.
    std::optional<sig::Signature> signature;
    try {
      signature = sig::parse(text.str());
    } catch (const sig::ParseError& e) {
      if (archs.empty())
        throw Failure{kUsage, fmt::format("{}: no target given (--arch) and {}", f.string(), e.what())};
    }
    if (archs.empty()) archs.push_back(signature->target);
    auto dynamic_smem = [&](const std::string& kernel) -> std::string {
      const auto* k = signature ? signature->find(kernel) : nullptr;
      if (!k) return "-";
      return k->uses_dynamic_smem ? std::to_string(k->dynamic_smem) : "0";
    };
    for (const auto& arch : archs) {
      auto r = ptxas::assemble(*loc.path, f.string(), arch);
      const std::string label = i < labels.size() ? labels[i] : f.filename().string();
      if (!r.ok()) {
        status = kDiagnostics;
        rows.push_back({label, arch, "-", "-", "-", "-", "ptxas: " + r.first_error()});
        continue;
      }
      // C7508: ptxas dropped setmaxnreg because the launch bounds do not fix the entry allocation.
      // It exits 0, but the kernel then runs without its register budgets: an error here.
      const bool dropped_setmaxnreg = r.output.find("C7508") != std::string::npos;
      if (dropped_setmaxnreg) status = kDiagnostics;
      for (const auto& k : r.kernels) {
        const bool spills = k.spill_stores || k.spill_loads;
        rows.push_back({k.name, arch, std::to_string(k.registers),
                        spills ? fmt::format("{}/{} B", k.spill_stores, k.spill_loads) : "0",
                        std::to_string(k.smem), dynamic_smem(k.name),
                        dropped_setmaxnreg ? "setmaxnreg ignored by ptxas (C7508)" : spills ? "spills" : "ok"});
      }
    }
  }
  // smem: static shared memory (ptxas); dyn smem: the bytes the signature asks the launch for.
  print_table({"kernel", "target", "registers", "spills", "smem", "dyn smem", "status"}, rows);
  return status;
}

}  // namespace weft::cli
