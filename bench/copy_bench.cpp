// Device copy bandwidth against the number of SMs used: weft's 16-byte vector copy (1024 threads per
// CTA) and its bulk-copy kernel (one warp per CTA, sm_90+), one CTA per SM of the budget, against
// the driver's device-to-device memcpy (all SMs); then, at all SMs, the bulk kernel's shapes (chunk,
// stages, store lag, CTAs per SM; the four fastest again with L2 evict_first), the best of them
// against the driver, the fastest one-warp-per-SM shape at every smaller budget, and the vector
// kernel's shapes (loads in flight, threads per SM, L2 prefetch). 1 GiB copied; GB/s counts read + write; median of
// 10 timed runs after 2 warm-ups. Every method's copy is checked afterwards (the destination zeroed
// before, every byte compared with the source's pattern), so no figure comes from a wrong copy; a
// wrong one ends the run with exit 1. WEFT_APP_QUICK=1: 1 MiB, one timed run (the emulated device).
// Prints the card, a table, and writes a CSV for bench/plot.py:
//   copy_bench [csv path]     (default bench_copy.csv, or $OUT/bench_copy.csv on the GPU machine)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <optional>
#include <utility>

#include "bench/bench_common.h"
#include "codegen/printer.h"
#include "dsl/registry.h"
#include "runtime/driver.h"
#include "runtime/weft_rt.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/quick.h"

using namespace weft::rt;

namespace {

double median_ms(const std::function<void()>& run) {
  const bool quick = weft::samples::quick_mode();
  return weft::bench::median_ms([&](int) { run(); }, quick ? 0 : 2, quick ? 1 : 10);
}

// A pattern no misplaced 16-byte block or chunk can reproduce: word i holds a hash of i.
std::vector<std::uint32_t> pattern(std::size_t words) {
  std::vector<std::uint32_t> v(words);
  for (std::size_t i = 0; i < words; ++i) v[i] = static_cast<std::uint32_t>((i + 1) * 2654435761u);
  return v;
}

// Zeroes dst, runs `copy` (timed), then requires dst to hold src's pattern again. The copy back goes
// into `got`, one page-locked buffer reused by every row (a fresh 1 GiB vector per row cost about a
// second of page faults and pageable copying; the sweep has about a hundred rows).
double timed_and_checked(const char* what, int sms, weft::rt::DeviceBuffer<std::uint32_t>& dst,
                         weft::rt::PinnedBuffer<std::uint32_t>& got, const std::vector<std::uint32_t>& want,
                         const std::function<void()>& copy) {
  dst.fill_bytes(0);
  const double ms = median_ms(copy);
  dst.copy_to(got.span());
  const auto bad = std::mismatch(got.data(), got.data() + got.size(), want.begin());
  if (bad.first != got.data() + got.size())
    throw std::runtime_error(std::string(what) + " with " + std::to_string(sms) + " SMs copied wrong data: byte " +
                             std::to_string(4 * (bad.first - got.data())) + " of the destination differs");
  return ms;
}

Module load(const char* name, int device_sm, const std::vector<std::string>& settings = {}) {
  return Module::from_ptx(weft::samples::emit(name, device_sm, settings).ptx);
}

// One shape of the bulk-copy kernel for the sweep at all SMs.
struct BulkShape {
  std::uint32_t chunk, stages, lag, ctas_per_sm;
  bool evict_first = false;
  std::string label() const {
    return "bulk " + std::to_string(chunk / 1024) + "K x" + std::to_string(stages) + " lag" + std::to_string(lag) +
           (evict_first ? " ef" : "") + ", " + std::to_string(ctas_per_sm) + (ctas_per_sm == 1 ? " warp/SM" : " warps/SM");
  }
  std::vector<std::string> settings() const {
    return {"chunk=" + std::to_string(chunk), "stages=" + std::to_string(stages), "lag=" + std::to_string(lag),
            "evict_first=" + std::to_string(evict_first ? 1 : 0)};
  }
};

// With every SM copying, the per-SM ceiling no longer binds and DRAM does: how many bytes each SM
// keeps in flight (chunk x stages), how many stores overlap (lag) and how many warps issue (CTAs per
// SM) are the knobs, within the shared memory the device gives a CTA and an SM (1 KB per CTA kept for
// the barriers, the base's alignment and the system). The quick mode (emulated device, 1 MiB) runs
// three shapes for the plumbing and the checks, the last with fewer chunks per CTA than stages and
// than its lag.
std::vector<BulkShape> sweep_shapes(const DeviceProps& props, bool quick) {
  if (quick) return {{32768, 4, 1, 1}, {16384, 2, 1, 2}, {65536, 3, 2, 2}};
  std::vector<BulkShape> v;
  for (std::uint32_t chunk : {16384u, 32768u, 65536u})
    for (std::uint32_t stages : {2u, 3u, 4u, 6u})
      for (std::uint32_t lag = 0; lag < std::min(stages, 3u); ++lag)
        for (std::uint32_t per_sm : {1u, 2u}) {
          const auto cta_bytes = static_cast<std::int64_t>(chunk) * stages + 1024;
          if (cta_bytes <= props.max_smem_per_block_optin && per_sm * cta_bytes <= props.max_smem_per_sm)
            v.push_back({chunk, stages, lag, per_sm});
        }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  const std::string csv_path = weft::bench::csv_path(argc, argv, "bench_copy.csv");
  try {
    const auto props = device_props(0);
    const std::string date = weft::bench::today_utc();
    std::printf("card: %s (%s, %d SMs), %s\n", props.name.c_str(), props.target().c_str(), props.sm_count, date.c_str());
    const std::size_t bytes = weft::samples::full_or_quick(std::size_t{1} << 30, std::size_t{1} << 20);
    constexpr std::uint32_t chunk = 32768;
    const auto want = pattern(bytes / 4);
    DeviceBuffer<std::uint32_t> src(want), dst(bytes / 4);
    PinnedBuffer<std::uint32_t> got(bytes / 4);  // each row's copy, read back for its check
    auto vec = load("copy_vec16", props.sm());
    std::optional<Module> bulk;
    if (weft::samples::runs_on("copy_bulk", props.sm())) bulk = load("copy_bulk", props.sm());
    const double memcpy_ms = timed_and_checked("driver memcpy", props.sm_count, dst, got, want, [&] {
      check(driver().cuMemcpyDtoD(dst.ptr().raw(), src.ptr().raw(), bytes), "cuMemcpyDtoD");
    });
    auto gbps = [&](double ms) { return 2.0 * bytes / (ms * 1e-3) / 1e9; };
    std::string csv = "card,date,sms,method,gbps\n";
    std::vector<std::string> rows;
    auto add = [&](int sms, const char* method, double g) {
      char line[160];
      std::snprintf(line, sizeof line, "%5d  %-40s %9.1f", sms, method, g);
      rows.emplace_back(line);
      std::printf("%s\n", line);
      csv += weft::bench::csv_field(props.name) + "," + date + "," + std::to_string(sms) + "," +
             weft::bench::csv_field(method) + "," + std::to_string(g) + "\n";
      std::ofstream(csv_path) << csv;  // after every row: a run cut short keeps what it measured
    };
    add(props.sm_count, "driver memcpy (all SMs)", gbps(memcpy_ms));
    // One row: `launch` timed and its copy checked. The two kernels' launches on `ctas` CTAs:
    auto measure = [&](const std::string& method, int sms, const std::function<void()>& launch) {
      const double g = gbps(timed_and_checked(method.c_str(), sms, dst, got, want, launch));
      add(sms, method.c_str(), g);
      return g;
    };
    const auto n16 = static_cast<std::uint32_t>(bytes / 16);
    auto vec_launch = [&](Module& m, std::uint32_t ctas) {
      return [&m, ctas, n16, &src, &dst] {
        m.kernel("copy_vec16").launch(LaunchConfig{{ctas}, {1024}}, n16, src, dst);
      };
    };
    auto bulk_launch = [&](Module& m, std::uint32_t ctas, std::uint32_t chunk_bytes) {
      return [&m, ctas, nchunks = static_cast<std::uint32_t>(bytes / chunk_bytes), &src, &dst] {
        m.kernel("copy_bulk").launch(LaunchConfig{{ctas}, {32}}, nchunks, DevicePtr<std::uint8_t>(src.ptr().raw()),
                                     DevicePtr<std::uint8_t>(dst.ptr().raw()));
      };
    };
    // The SM budgets of the communication issue; 66 and 132 are half and all of an H100/H200.
    std::vector<int> budgets = {1, 2, 4, 8, 16, 20, 24, 32, 66, 132};
    if (std::find(budgets.begin(), budgets.end(), props.sm_count) == budgets.end()) budgets.push_back(props.sm_count);
    for (int sms : budgets) {
      if (sms > props.sm_count) continue;
      const auto ctas = static_cast<std::uint32_t>(sms);
      measure("vec16, 1024 threads/SM", sms, vec_launch(vec, ctas));
      if (bulk) measure("bulk, 1 warp/SM", sms, bulk_launch(*bulk, ctas, chunk));
    }
    const int all = props.sm_count;
    // The sweep at all SMs, against the driver's memcpy (the target: 95% of it).
    if (bulk) {
      double best = 0, best_one_warp = 0;
      std::string best_label;
      std::optional<BulkShape> one_warp;  // the fastest shape with one warp per SM
      std::vector<std::pair<double, BulkShape>> measured;
      auto measure_shape = [&](const BulkShape& shape) {
        auto m = load("copy_bulk", props.sm(), shape.settings());
        const double g =
            measure(shape.label(), all, bulk_launch(m, static_cast<std::uint32_t>(all) * shape.ctas_per_sm, shape.chunk));
        if (g > best) best = g, best_label = shape.label();
        if (shape.ctas_per_sm == 1 && g > best_one_warp) best_one_warp = g, one_warp = shape;
        return g;
      };
      for (const auto& shape : sweep_shapes(props, weft::samples::quick_mode()))
        measured.emplace_back(measure_shape(shape), shape);
      // The four fastest again with their loads and stores marked L2 evict_first (a copy that should
      // not evict its neighbours' data; here: whether the hint costs or gains bandwidth by itself).
      std::sort(measured.begin(), measured.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      for (std::size_t i = 0; i < std::min<std::size_t>(4, measured.size()); ++i) {
        auto shape = measured[i].second;
        shape.evict_first = true;
        measure_shape(shape);
      }
      char line[200];
      const double share = 100.0 * best / gbps(memcpy_ms);
      std::snprintf(line, sizeof line, "best bulk shape at %d SMs: %s, %.1f GB/s = %.1f%% of the driver's memcpy "
                    "(target 95%%: %s)", all, best_label.c_str(), best, share, share >= 95.0 ? "met" : "not met");
      rows.emplace_back(line);
      // The fastest one-warp-per-SM shape at every smaller budget too (a CTA per SM: with two, 2B
      // CTAs would spread over 2B SMs), beside the default shape's rows above.
      if (one_warp) {
        auto m = load("copy_bulk", props.sm(), one_warp->settings());
        for (int sms : budgets)
          if (sms < all) measure(one_warp->label() + " (best)", sms, bulk_launch(m, static_cast<std::uint32_t>(sms), one_warp->chunk));
      }
    }
    // The vector copy at all SMs with more loads in flight per thread, up to 2048 threads per SM,
    // loads that ask L2 for 256-byte fetches, and the other cache paths: plain ld / st (what CUDA
    // C++'s dst[i] = src[i] is; such a copy moved 3965 GB/s on 132 SMs of an H200, where this one's
    // nc loads moved 3831) and streaming .cs loads and stores.
    struct VecShape {
      std::uint32_t unroll, per_sm, prefetch, cache = 0;
    };
    for (const VecShape v : {VecShape{8, 1, 0}, {4, 2, 0}, {8, 2, 0}, {4, 1, 1}, {8, 1, 1}, {4, 2, 1}, {8, 2, 1},
                             {4, 1, 0, 1}, {8, 1, 0, 1}, {4, 2, 0, 1}, {4, 1, 0, 2}, {8, 1, 0, 2}}) {
      auto m = load("copy_vec16", props.sm(),
                    {"unroll=" + std::to_string(v.unroll), "l2_prefetch=" + std::to_string(v.prefetch),
                     "cache=" + std::to_string(v.cache)});
      measure("vec16 x" + std::to_string(v.unroll) + (v.prefetch ? " L2::256B" : "") +
                  (v.cache == 1 ? " plain" : v.cache == 2 ? " .cs" : "") + ", " + std::to_string(1024 * v.per_sm) +
                  " threads/SM",
              all, vec_launch(m, static_cast<std::uint32_t>(all) * v.per_sm));
    }
    std::ofstream(csv_path) << csv;
    std::printf("\n== device copy, %s, %s (GB/s read + write; CSV: %s)\n", props.name.c_str(), date.c_str(),
                csv_path.c_str());
    std::printf("%5s  %-40s %9s\n", "SMs", "method", "GB/s");
    for (const auto& r : rows) std::printf("%s\n", r.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
