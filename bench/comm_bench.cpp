// Collective bandwidth with LocalSim virtual ranks on one GPU: all_gather, reduce_scatter and
// all_reduce (one-shot and two-shot, bf16) at 2, 4 and 8 ranks, for several sizes and SM budgets.
// On one GPU every "peer" access is a local HBM access, so these figures measure the kernels'
// memory efficiency and synchronisation cost, not NVLink. Reports the bytes each rank contributes
// per second of the collective ("algorithm bandwidth") and the HBM traffic it caused (read + write,
// all ranks). Median of 20 timed runs after 3 warm-ups; prints the card, writes a CSV
// (bench_comm.csv, or $OUT/bench_comm.csv) and prints the table last.
//   comm_bench [csv path]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "runtime/comm/local_sim.h"
#include "runtime/driver.h"
#include "samples/apps/comm/collectives.h"
#include "samples/apps/gpu_or_skip.h"

using namespace weft;
using namespace weft::samples;

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  const std::string csv_path = bench::csv_path(argc, argv, "bench_comm.csv");
  try {
    const auto props = rt::device_props(0);
    const std::string date = bench::today_utc();
    std::printf("card: %s (%s, %d SMs), %s\n", props.name.c_str(), props.target().c_str(), props.sm_count, date.c_str());
    std::string csv = "card,date,collective,ranks,bytes_per_rank,sms,us,algbw_gbps,hbm_gbps\n";
    std::vector<std::string> rows;
    for (std::uint32_t n : {2u, 4u, 8u}) {
      rt::comm::LocalSim heap(n, 0);
      for (std::uint32_t sms : {20u, 66u, 132u}) {
        if (sms > static_cast<std::uint32_t>(props.sm_count)) continue;
        const std::uint32_t ctas = std::max(1u, sms / n);  // the budget is shared by the virtual ranks
        Collectives c(heap, {.ctas = ctas, .block = 512});
        for (std::size_t bytes : {std::size_t{1} << 20, std::size_t{16} << 20, std::size_t{64} << 20}) {
          auto in = heap.alloc(bytes * n), out = heap.alloc(bytes * n);
          struct Case {
            const char* name;
            std::function<void()> run;
            double hbm_bytes;  // per rank and launch: reads + writes
          };
          const double nb = static_cast<double>(bytes);
          const std::vector<Case> cases = {
              {"all_gather", [&] { c.all_gather(in, out, bytes); }, nb + nb * n},
              {"reduce_scatter bf16", [&] { c.reduce_scatter(in, out, bytes / 2, Elem::bf16); }, nb * n + nb},
              {"all_reduce bf16 1-shot", [&] { c.all_reduce(in, out, bytes / 2, Elem::bf16, 1); }, nb * n + nb},
              {"all_reduce bf16 2-shot", [&] { c.all_reduce(in, out, bytes / 2, Elem::bf16, 2); }, 2 * nb + nb},
          };
          for (const auto& cs : cases) {
            const double ms = bench::median_ms([&](int) { cs.run(); }, 3, 20);
            const double algbw = nb / (ms * 1e-3) / 1e9;
            const double hbm = cs.hbm_bytes * n / (ms * 1e-3) / 1e9;
            char line[200];
            std::snprintf(line, sizeof line, "%-24s %5u %10zu %5u %10.1f %10.1f %10.1f", cs.name, n, bytes, ctas * n,
                          ms * 1e3, algbw, hbm);
            rows.emplace_back(line);
            std::printf("%s\n", line);
            csv += props.name + "," + date + "," + cs.name + "," + std::to_string(n) + "," + std::to_string(bytes) + "," +
                   std::to_string(ctas * n) + "," + std::to_string(ms * 1e3) + "," + std::to_string(algbw) + "," +
                   std::to_string(hbm) + "\n";
          }
        }
      }
    }
    std::ofstream(csv_path) << csv;
    std::printf("\n== collectives with LocalSim, %s, %s (CSV: %s)\n", props.name.c_str(), date.c_str(), csv_path.c_str());
    std::printf("%-24s %5s %10s %5s %10s %10s %10s\n", "collective", "ranks", "bytes/rank", "SMs", "us", "algbw GB/s",
                "HBM GB/s");
    for (const auto& r : rows) std::printf("%s\n", r.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
