// The grouped Hopper GEMM (groups=1: MoE experts, each with its own B) against what a user without one
// runs: one cuBLAS call per group (cuBLASLt for e4m3), in the same process, on the same inputs.
//   - shapes modelled on a DeepSeek-V3-sized MoE layer with 8 experts on this GPU: the up projection
//     (n = 4096, k = 7168) at prefill (about 4000 tokens per expert) and at decode (64 to 200), and
//     the down projection (n = 7168, k = 2048) at prefill; the experts' rows uneven, so most groups
//     end inside a 128-row tile row and leave padding;
//   - gemm_bf16_sm90 and gemm_e4m3_sm90 (per-tensor scales), and gemm_e4m3_sm90 with DeepSeek-V3's block
//     scales (no cuBLAS counterpart: its ratio is against the per-tensor cuBLASLt loop).
// TFLOP/s count the groups' rows only (2 x rows x n x k), not the padding. Median of 20 timed runs
// after 3 warm-ups (CUDA events); every expert's B (470 MB in all per shape at bf16) is far larger than
// L2. Every weft row is checked: each group's rows of D against cuBLAS's (relative Frobenius error,
// bf16 <= 1e-2, e4m3 <= 3e-2; block scales, and every row without cuBLAS, against float64 at 512
// sampled elements), and the padding tile rows (the decode shape's buffer holds 256 rows per expert)
// must keep the NaN D was poisoned with. A failing row is marked WRONG and the run exits 1.
// WEFT_APP_QUICK=1 (the emulated device): one small shape, no timing worth reading.
//   grouped_bench [csv path]   (default bench_grouped.csv, or $OUT/bench_grouped.csv)
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "samples/apps/gemm/gemm_common.h"
#include "samples/apps/gemm/grouped_rows.h"
#include "samples/apps/gemm/tile_choice.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/quick.h"

using namespace gemm;
using namespace weft::rt;

namespace {

struct MoeShape {
  std::string name;
  std::vector<std::uint32_t> rows;  // per expert
  std::uint32_t n, k;
  std::uint32_t capacity = 0;       // rows of A's buffer (0: just the groups); the rest is padding tile rows
};

// The emulated device (WEFT_APP_QUICK) runs each kernel once: its time means nothing there.
double median_ms(const std::function<void(int)>& run) {
  return weft::samples::quick_mode() ? weft::bench::median_ms(run, 0, 1) : weft::bench::median_ms(run, 3, 20);
}

// The worst group's relative error: each group's rows of D against the same rows of ref (both bf16).
// (The rows after a group's last one in its last tile row are the product of A's padding rows there;
// gemm_app checks them, cuBLAS here computes only the groups' rows.)
double rows_error(const std::vector<bf16>& got, const std::vector<bf16>& ref, const GroupedRows& layout,
                  const MoeShape& s) {
  double worst = 0;
  for (std::size_t g = 0; g < s.rows.size(); ++g) {
    const std::size_t first = layout.first[g], rows = s.rows[g];
    if (!rows) continue;
    const std::vector<bf16> mine(got.begin() + first * s.n, got.begin() + (first + rows) * s.n);
    std::vector<double> want(rows * s.n);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = from_bf16(ref[first * s.n + i]);
    worst = std::max(worst, rel_error(mine, want));
  }
  return worst;
}

// Float64 at 512 sampled elements of the groups' rows (a and b as values: block scales applied, e4m3
// widened; alpha folded into a), for the block-scaled rows, which no cuBLAS call matches, and for every
// row where cuBLAS is missing (the emulated device); every element of those rows must be finite.
double sampled_error(const std::vector<bf16>& got, const std::vector<float>& a, const std::vector<float>& b,
                     const GroupedRows& layout, const MoeShape& s) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> rows;  // (row, group)
  for (std::uint32_t g = 0; g < s.rows.size(); ++g)
    for (std::uint32_t r = 0; r < s.rows[g]; ++r) rows.emplace_back(layout.first[g] + r, g);
  for (const auto& [r, g] : rows)
    for (std::uint32_t j = 0; j < s.n; ++j)
      if (!std::isfinite(from_bf16(got[std::size_t{r} * s.n + j]))) return INFINITY;
  std::mt19937 gen(5);
  double num = 0, den = 0;
  for (int t = 0; t < 512; ++t) {
    const auto [r, g] = rows[gen() % rows.size()];
    const std::uint32_t j = gen() % s.n;
    double want = 0;
    for (std::uint32_t kk = 0; kk < s.k; ++kk)
      want += double{a[std::size_t{r} * s.k + kk]} * b[(std::size_t{g} * s.n + j) * s.k + kk];
    const double e = from_bf16(got[std::size_t{r} * s.n + j]) - want;
    num += e * e;
    den += want * want;
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

struct Table {
  std::string card, date, csv_path;
  std::string csv = "card,date,shape,dtype,groups,rows,m_padded,n,k,weft_tflops,cublas_tflops,ratio,weft_ms,cublas_ms,"
                    "kernel,rel_error\n";
  std::vector<std::string> lines;
  bool wrong = false;
  void add(const MoeShape& s, std::uint32_t m, const std::string& dtype, const std::string& kernel, double weft_ms,
           double cublas_ms, double err, std::size_t padding_written) {
    std::uint64_t rows = 0;
    for (auto r : s.rows) rows += r;
    const double flops = 2.0 * double(rows) * s.n * s.k;
    const double wt = flops / weft_ms / 1e9, ct = cublas_ms > 0 ? flops / cublas_ms / 1e9 : 0;
    const bool bad = !(err <= (dtype.starts_with("e4m3") ? 3e-2 : 1e-2)) || padding_written;
    wrong |= bad;
    char check[96];
    if (padding_written) std::snprintf(check, sizeof check, "WRONG: %zu padding elements written", padding_written);
    else std::snprintf(check, sizeof check, "%s %.1e", bad ? "WRONG" : "ok", err);
    char line[320];
    std::snprintf(line, sizeof line, "%-26s %-6s %3zu %6llu %5u %5u %10.1f %12.1f %6.2f  %s", s.name.c_str(),
                  dtype.c_str(), s.rows.size(), static_cast<unsigned long long>(rows), s.n, s.k, wt, ct,
                  ct > 0 ? wt / ct : 0.0, check);
    lines.emplace_back(line);
    std::printf("%s   (%s)\n", line, kernel.c_str());
    csv += card + "," + date + "," + weft::bench::csv_field(s.name) + "," + dtype + "," + std::to_string(s.rows.size()) +
           "," + std::to_string(rows) + "," + std::to_string(m) + "," + std::to_string(s.n) + "," + std::to_string(s.k) +
           "," + std::to_string(wt) + "," + std::to_string(ct) + "," + std::to_string(ct > 0 ? wt / ct : 0.0) + "," +
           std::to_string(weft_ms) + "," + std::to_string(cublas_ms) + "," + weft::bench::csv_field(kernel) + "," +
           std::to_string(err) + "\n";
    std::ofstream(csv_path) << csv;
  }
};

void run_shape(const MoeShape& s, Cublas* cublas, Table& t, int sms) {
  const auto layout = grouped_rows(s.rows, s.capacity);
  const std::uint32_t m = layout.m, groups = static_cast<std::uint32_t>(s.rows.size()), n = s.n, k = s.k;
  const std::size_t b_elems = std::size_t{groups} * n * k;
  DeviceBuffer<std::int32_t> tile_groups(layout.tile_groups);
  check_tile_groups(layout.tile_groups, m, groups);
  DeviceBuffer<bf16> d(std::size_t{m} * n), ref(std::size_t{m} * n);
  const std::uint32_t bn = weft::samples::sm90_bn_for(m, n, sms);

  // Runs the weft GEMM (poisoned D first, then timed) and returns its median time.
  auto time_weft = [&](WeftGemmSm90& g, const Sm90Operands& x, float alpha) {
    d.fill_bytes(0xFF);
    return median_ms([&](int) { g.run(m, n, k, alpha, 0.0f, x); });
  };
  {  // bf16
    const auto a = random_bf16(std::size_t{m} * k, 21), b = random_bf16(b_elems, 22);
    DeviceBuffer<bf16> da(a), db(b);
    auto g = WeftGemmSm90::load({.bn = bn, .groups = true});
    Sm90Operands x{da.raw(), db.raw(), d.raw(), d.raw()};
    x.tile_groups = tile_groups.raw(), x.groups = groups;
    const double weft_ms = time_weft(g, x, 1.0f);
    double cublas_ms = 0, err = 0;
    const auto got = [&] { return d.to_vector(); };
    if (!cublas) {
      err = sampled_error(got(), values_of(a), values_of(b), layout, s);
    } else {
      ref.fill_bytes(0xFF);
      cublas_ms = median_ms([&](int) {
        for (std::uint32_t gi = 0; gi < groups; ++gi)
          if (s.rows[gi])
            cublas->run(s.rows[gi], n, k, 1.0f, 0.0f, reinterpret_cast<const bf16*>(da.raw()) + std::size_t{layout.first[gi]} * k,
                        reinterpret_cast<const bf16*>(db.raw()) + std::size_t{gi} * n * k,
                        reinterpret_cast<bf16*>(ref.raw()) + std::size_t{layout.first[gi]} * n);
      });
      err = rows_error(got(), ref.to_vector(), layout, s);
    }
    t.add(s, m, "bf16", g.label(), weft_ms, cublas_ms, err, padding_elements_written(got(), layout, s.n));
  }
  {  // e4m3, per-tensor and block-scaled
    const auto a8 = random_e4m3(std::size_t{m} * k, 23), b8 = random_e4m3(b_elems, 24);
    DeviceBuffer<e4m3> da(a8), db(b8);
    const float alpha = 0.25f;  // a per-tensor scale folded into alpha
    auto g = WeftGemmSm90::load({.fp8 = true, .bn = bn, .groups = true});
    Sm90Operands x{da.raw(), db.raw(), d.raw(), d.raw()};
    x.tile_groups = tile_groups.raw(), x.groups = groups;
    const double weft_ms = time_weft(g, x, alpha);
    double cublas_ms = 0, err = 0;
    std::unique_ptr<CublasLtFp8> lt_probe;
    try {
      lt_probe = std::make_unique<CublasLtFp8>();
    } catch (const std::exception& e) {
      std::printf("note: %s\n", e.what());
    }
    if (!lt_probe) {
      std::vector<float> av(a8.size()), bv(b8.size());
      for (std::size_t i = 0; i < a8.size(); ++i) av[i] = alpha * from_e4m3(a8[i]);
      for (std::size_t i = 0; i < b8.size(); ++i) bv[i] = from_e4m3(b8[i]);
      err = sampled_error(d.to_vector(), av, bv, layout, s);
    } else {
      // One cuBLASLt object per group: each keeps its shape's plan, so the loop times the GEMMs and not
      // the heuristic's queries.
      std::vector<std::unique_ptr<CublasLtFp8>> lt;
      lt.push_back(std::move(lt_probe));
      while (lt.size() < groups) lt.push_back(std::make_unique<CublasLtFp8>());
      ref.fill_bytes(0xFF);
      cublas_ms = median_ms([&](int) {
        for (std::uint32_t gi = 0; gi < groups; ++gi)
          if (s.rows[gi])
            lt[gi]->run(s.rows[gi], n, k, alpha, reinterpret_cast<const e4m3*>(da.raw()) + std::size_t{layout.first[gi]} * k,
                        reinterpret_cast<const e4m3*>(db.raw()) + std::size_t{gi} * n * k,
                        reinterpret_cast<bf16*>(ref.raw()) + std::size_t{layout.first[gi]} * n);
      });
      err = rows_error(d.to_vector(), ref.to_vector(), layout, s);
    }
    t.add(s, m, "e4m3", g.label(), weft_ms, cublas_ms, err, padding_elements_written(d.to_vector(), layout, s.n));

    // Block scales (bn must divide 128): powers of two, so the scaled inputs are exact.
    const std::uint32_t kb = WeftGemmSm90::k_blocks(k), nb = (n + 127) / 128;
    const auto sa = random_scales(std::size_t{kb} * m, 25, true), sb = random_scales(std::size_t{groups} * nb * kb, 26, true);
    DeviceBuffer<float> dsa(sa), dsb(sb);
    auto gb = WeftGemmSm90::load({.fp8 = true, .bn = 128, .block_scales = true, .groups = true});
    x.a_scales = dsa.raw(), x.b_scales = dsb.raw();
    const double block_ms = time_weft(gb, x, 1.0f);
    std::vector<float> bv;
    bv.reserve(b_elems);
    for (std::uint32_t gi = 0; gi < groups; ++gi) {
      const std::vector<e4m3> bg(b8.begin() + std::size_t{gi} * n * k, b8.begin() + std::size_t{gi + 1} * n * k);
      const std::vector<float> sg(sb.begin() + std::size_t{gi} * nb * kb, sb.begin() + std::size_t{gi + 1} * nb * kb);
      const auto vg = scale_b_blocks(bg, sg, n, k);
      bv.insert(bv.end(), vg.begin(), vg.end());
    }
    const auto got = d.to_vector();
    t.add(s, m, "e4m3b", gb.label(), block_ms, cublas_ms, sampled_error(got, scale_a_rows(a8, sa, m, k), bv, layout, s),
          padding_elements_written(got, layout, s.n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  try {
    const auto& props = device_props(0);
    if (!weft::samples::runs_on("gemm_bf16_sm90", props.sm())) {
      std::printf("skipped: the grouped GEMM is written for sm_90a (this is %s)\n", props.target().c_str());
      return 0;
    }
    Table t{props.name, weft::bench::today_utc(), weft::bench::csv_path(argc, argv, "bench_grouped.csv")};
    std::printf("card: %s (%d SMs), %s\n", props.name.c_str(), props.sm_count, t.date.c_str());
    std::unique_ptr<Cublas> cublas;
    try {
      cublas = std::make_unique<Cublas>();
    } catch (const std::exception& e) {
      std::printf("note: %s\n", e.what());
    }
    const std::vector<std::uint32_t> prefill = {3900, 4200, 4096, 3700, 4500, 4000, 4300, 3980};
    std::vector<MoeShape> shapes = {
        {"prefill up-proj", prefill, 4096, 7168},
        // A fixed buffer of 256 rows per expert (what a CUDA graph replays): 4 of its 16 tile rows padding.
        {"decode up-proj", {96, 160, 128, 64, 200, 130, 70, 180}, 4096, 7168, 2048},
        {"prefill down-proj", prefill, 7168, 2048},
    };
    if (weft::samples::quick_mode()) shapes = {{"quick", {70, 0, 130}, 136, 256, 512}};
    std::printf("%-26s %-6s %3s %6s %5s %5s %10s %12s %6s  %s\n", "shape", "dtype", "grp", "rows", "n", "k", "weft TF/s",
                "cuBLAS loop", "ratio", "check");
    for (const auto& s : shapes) run_shape(s, cublas.get(), t, props.sm_count);
    std::printf("\n== grouped GEMM (%s, %s): TFLOP/s of the groups' rows; cuBLAS: one call per group\n",
                t.card.c_str(), t.date.c_str());
    for (const auto& l : t.lines) std::printf("%s\n", l.c_str());
    std::printf("csv: %s\n", t.csv_path.c_str());
    return t.wrong ? 1 : 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
