#include <fmt/format.h>

#include <fstream>
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
    if (archs.empty()) {
      try {
        archs.push_back(sig::parse(text.str()).target);
      } catch (const sig::ParseError& e) {
        throw Failure{kUsage, fmt::format("{}: no target given (--arch) and {}", f.string(), e.what())};
      }
    }
    for (const auto& arch : archs) {
      auto r = ptxas::assemble(*loc.path, f.string(), arch);
      const std::string label = i < labels.size() ? labels[i] : f.filename().string();
      if (!r.ok()) {
        status = kDiagnostics;
        rows.push_back({label, arch, "-", "-", "-", "ptxas: " + r.first_error()});
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
                        std::to_string(k.smem),
                        dropped_setmaxnreg ? "setmaxnreg ignored by ptxas (C7508)" : spills ? "spills" : "ok"});
      }
    }
  }
  print_table({"kernel", "target", "registers", "spills", "smem", "status"}, rows);
  return status;
}

}  // namespace weft::cli
