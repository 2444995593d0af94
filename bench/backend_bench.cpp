// The two backends side by side, per sample and target: emission time (build the module with the
// DSL, then print it: direct printer vs LLVM 19's O3 + NVPTX), and the registers ptxas reports for
// each. A program, not a test:
//   build/bench/weft_backend_bench [runs] [csv]      (default 20 runs, median after 2 warm-ups)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "codegen/llvm/backend.h"
#include "codegen/printer.h"
#include "codegen/ptxas.h"
#include "dsl/registry.h"

using namespace weft;

namespace {

template <class F>
std::pair<double, std::string> median_us(int runs, F&& emit) {
  std::vector<double> us;
  std::string ptx;
  for (int i = 0; i < runs + 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ptx = emit();
    const auto stop = std::chrono::steady_clock::now();
    if (i >= 2) us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], ptx};
}

struct Regs {
  std::string registers = "-", spills = "-";
};
Regs registers(const std::optional<std::string>& ptxas, const std::string& ptx, const std::string& name,
               const isa::Target& t) {
  if (!ptxas) return {};
  const auto dir = std::filesystem::temp_directory_path() / "weft-backend-bench";
  std::filesystem::create_directories(dir);
  const auto file = dir / (name + ".ptx");
  std::ofstream(file) << ptx;
  const auto r = ptxas::assemble(*ptxas, file.string(), t.name());
  if (!r.ok() || r.kernels.empty()) return {"error", "-"};
  return {std::to_string(r.kernels[0].registers), std::to_string(r.kernels[0].spill_stores + r.kernels[0].spill_loads)};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  const char* csv_path = argc > 2 ? argv[2] : nullptr;
  const auto ptxas = ptxas::find().path;
  fmt::print("{:<18} {:<7} {:>11} {:>11} {:>8} {:>8} {:>8} {:>8}\n", "kernel", "target", "direct_us", "llvm_us",
             "ratio", "regs_d", "regs_l", "spills");
  std::string csv = "kernel,target,direct_us,llvm_us,direct_registers,llvm_registers,direct_spill_bytes,llvm_spill_bytes,runs\n";
  for (const auto& e : Registry::global().all()) {
    const auto params = *parse_params(e, {}).params;
    for (const char* tn : {"sm_80", "sm_90a"}) {
      const auto t = *isa::parse_target(tn).target;
      if (!e.targets.contains(t)) continue;
      const auto [d_us, d_ptx] = median_us(runs, [&] { return emit_ptx(e.build(t, params)); });
      std::pair<double, std::string> l;
      try {
        l = median_us(runs, [&] { return llvm_backend::emit_ptx(e.build(t, params)); });
      } catch (const DiagnosticError& err) {
        fmt::print("{:<18} {:<7} llvm: {}\n", e.name, tn, err.what());
        continue;
      }
      const auto rd = registers(ptxas, d_ptx, e.name + "." + tn + ".direct", t);
      const auto rl = registers(ptxas, l.second, e.name + "." + tn + ".llvm", t);
      fmt::print("{:<18} {:<7} {:>11.1f} {:>11.1f} {:>7.0f}x {:>8} {:>8} {:>4}/{:<3}\n", e.name, tn, d_us, l.first,
                 l.first / d_us, rd.registers, rl.registers, rd.spills, rl.spills);
      csv += fmt::format("{},{},{:.1f},{:.1f},{},{},{},{},{}\n", e.name, tn, d_us, l.first, rd.registers, rl.registers,
                         rd.spills, rl.spills, runs);
    }
  }
  if (!ptxas) fmt::print("(registers: ptxas not found)\n");
  if (csv_path) {
    std::ofstream(csv_path) << csv;
    fmt::print("wrote {}\n", csv_path);
  }
}
