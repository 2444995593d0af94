// bf16 GEMM: weft (gemm_bf16_sm90) against cuBLAS in the same process and run, on the same inputs.
// Median of 20 timed runs (CUDA events) after 3 warm-up runs; inputs rotate over enough copies that
// L2 does not hold them. Prints the card, a table, and writes a CSV:
//   gemm_bench [csv path]     (default bench_gemm.csv, or $OUT/bench_gemm.csv on the GPU machine)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include "bench/bench_common.h"
#include "samples/apps/gemm/gemm_common.h"

using namespace gemm;
using namespace weft::rt;

namespace {

struct Shape {
  std::uint32_t m, n, k;
};

double median_ms(const std::function<void(int)>& run) { return weft::bench::median_ms(run, 3, 20); }

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!driver_available(&why)) {
    std::printf("skipped: %s\n", why.c_str());
    return 0;
  }
  const std::string csv_path = weft::bench::csv_path(argc, argv, "bench_gemm.csv");
  try {
    const auto props = device_props(0);
    if (props.sm() != 90) {
      std::printf("skipped: the weft GEMM needs sm_90 (this is %s)\n", props.target().c_str());
      return 0;
    }
    auto g = WeftGemm::load();
    Cublas cublas;
    const std::string date = weft::bench::today_utc();
    std::printf("card: %s (%s, %d SMs), %s\n", props.name.c_str(), props.target().c_str(), props.sm_count, date.c_str());
    const std::vector<Shape> shapes = {{2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192}, {4000, 4000, 4000},
                                       {1000, 1536, 4032}, {64, 7168, 7168},    {128, 7168, 7168},  {256, 7168, 7168}};
    std::string csv = "card,date,dtype,m,n,k,weft_tflops,cublas_tflops,ratio,weft_ms,cublas_ms\n";
    std::printf("%-6s %6s %6s %6s %12s %14s %7s\n", "dtype", "m", "n", "k", "weft TFLOP/s", "cuBLAS TFLOP/s", "ratio");
    std::vector<std::string> rows;
    for (const auto& s : shapes) {
      const std::size_t a_n = std::size_t{s.m} * s.k, b_n = std::size_t{s.n} * s.k, d_n = std::size_t{s.m} * s.n;
      const std::size_t bytes = (a_n + b_n) * 2;
      const int copies = static_cast<int>(std::clamp<std::size_t>((256u << 20) / bytes + 1, 1, 16));
      std::vector<DeviceBuffer<bf16>> as, bs;
      for (int i = 0; i < copies; ++i) {
        as.emplace_back(random_bf16(a_n, 10 + i));
        bs.emplace_back(random_bf16(b_n, 100 + i));
      }
      DeviceBuffer<bf16> d(d_n), dref(d_n);
      const double weft_ms = median_ms([&](int i) {
        g.run(s.m, s.n, s.k, 1.0f, 0.0f, as[i % copies].ptr(), bs[i % copies].ptr(), d.ptr(), d.ptr());
      });
      const double cublas_ms = median_ms([&](int i) {
        cublas.run(s.m, s.n, s.k, 1.0f, 0.0f, reinterpret_cast<const bf16*>(as[i % copies].ptr().raw()),
                   reinterpret_cast<const bf16*>(bs[i % copies].ptr().raw()), reinterpret_cast<bf16*>(dref.ptr().raw()));
      });
      const double flops = 2.0 * s.m * s.n * s.k;
      const double wt = flops / weft_ms / 1e9, ct = flops / cublas_ms / 1e9;
      char line[256];
      std::snprintf(line, sizeof line, "%-6s %6u %6u %6u %12.1f %14.1f %7.2f", "bf16", s.m, s.n, s.k, wt, ct, wt / ct);
      rows.emplace_back(line);
      std::printf("%s\n", line);
      csv += props.name + "," + date + ",bf16," + std::to_string(s.m) + "," + std::to_string(s.n) + "," +
             std::to_string(s.k) + "," + std::to_string(wt) + "," + std::to_string(ct) + "," + std::to_string(wt / ct) +
             "," + std::to_string(weft_ms) + "," + std::to_string(cublas_ms) + "\n";
    }
    std::ofstream(csv_path) << csv;
    std::printf("\n== gemm bf16, %s, %s (CSV: %s)\n", props.name.c_str(), date.c_str(), csv_path.c_str());
    for (const auto& r : rows) std::printf("%s\n", r.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
