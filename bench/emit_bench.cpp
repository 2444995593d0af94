// Emission time per sample module: build the kernel with the DSL, verify it and print PTX, timed
// with steady_clock; median (and min) of many runs after a warm-up. A program, not a test:
//   build/bench/weft_emit_bench [runs] [csv]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "codegen/printer.h"
#include "dsl/registry.h"

using namespace weft;

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  const char* csv_path = argc > 2 ? argv[2] : nullptr;
  std::vector<isa::Target> targets;
  for (const char* t : {"sm_80", "sm_90a", "sm_100a"}) targets.push_back(*isa::parse_target(t).target);
  fmt::print("{:<12} {:<8} {:>10} {:>10} {:>10}\n", "kernel", "target", "median_us", "min_us", "ptx_bytes");
  std::string csv = "kernel,target,median_us,min_us,ptx_bytes,runs\n";
  for (const auto& e : Registry::global().all()) {
    const auto params = *parse_params(e, {}).params;
    for (const auto& t : targets) {
      if (!e.targets.contains(t)) continue;  // e.g. wgmma_tile is written for sm_90a only
      std::vector<double> us;
      std::size_t bytes = 0;
      for (int i = 0; i < runs + 10; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto ptx = emit_ptx(e.build(t, params));
        const auto stop = std::chrono::steady_clock::now();
        bytes = ptx.size();
        if (i >= 10) us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());  // 10 warm-up runs
      }
      std::sort(us.begin(), us.end());
      const double median = us[us.size() / 2];
      fmt::print("{:<12} {:<8} {:>10.1f} {:>10.1f} {:>10}\n", e.name, t.name(), median, us.front(), bytes);
      csv += fmt::format("{},{},{:.1f},{:.1f},{},{}\n", e.name, t.name(), median, us.front(), bytes, runs);
    }
  }
  if (csv_path) std::ofstream(csv_path) << csv;
  return 0;
}
