// What loading an in-process emitted module costs, per module: emission (registry build + verify +
// print), a cold load (the driver's JIT, then the cubin stored in the cache) and a cache-hit load (the
// cubin read back and checksummed, no JIT), for every foundation sample and the large sample modules:
// gemm_bf16_sm90 for sm_90a on an sm_90 device, and the largest PTX any registered kernel emits for
// this device. Median of `runs` (default 7) of each, after one unmeasured JIT that pays the linker's
// first-use cost.
//
// So that "cold" and "hit" are what they claim:
//   - every cold run loads through its own DiskCache on a fresh, empty directory (passed in
//     LoadOptions::cache, so $WEFT_CACHE_DIR and the process's cache play no part); every hit run makes
//     a fresh DiskCache object and a fresh Module on the directory the last cold run filled;
//   - the driver's own JIT cache (~/.nv/ComputeCache) is switched off for this process
//     (CUDA_CACHE_DISABLE=1, set before the driver is loaded), so a cold load is a real JIT;
//   - each load is verified: a cold one must report LoadInfo::cache_hit == false with the cache's
//     counters at 1 miss, 0 hits and one entry stored afterwards; a hit must report cache_hit == true
//     with 1 hit, 0 misses. The path taken is printed per module; any other outcome fails the program.
// The times are LoadInfo: total_ms is the whole Module::from_ptx (for a cold load it includes
// compile_ms, the JIT alone, and storing the entry); both include cuModuleLoadDataEx and the eager
// cuFuncLoad of every kernel.
//
// Prints the card, one line per module as it goes, then a table last, and writes a CSV:
//   jit_bench [csv path] [runs]   (default bench_jit.csv, or $OUT/bench_jit.csv on the GPU machine)
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "bench/bench_common.h"
#include "samples/apps/basics/basics_common.h"
#include "samples/apps/gpu_or_skip.h"

using namespace weft::rt;
namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Row {
  std::string module, target;
  std::size_t ptx_bytes = 0, kernels = 0;
  std::uint64_t cache_bytes = 0;  // the entry (cubin + meta)
  double emit_ms = 0, cold_ms = 0, cold_compile_ms = 0, hit_ms = 0;
  std::string paths;  // what the verified loads did
};

// A fresh directory under `root` (created on first use by the cache itself).
fs::path fresh_dir(const fs::path& root, const std::string& name) {
  static int counter = 0;
  fs::path d = root / (name + "-" + std::to_string(counter++));
  std::error_code ec;
  fs::remove_all(d, ec);
  return d;
}

Row measure(const basics::Emitted& em, int device_sm, int runs, const fs::path& root) {
  Row r;
  r.module = em.name;
  r.target = em.target.name();
  r.ptx_bytes = em.ptx.size();
  std::vector<double> emit, cold, compile, hit;
  for (int i = 0; i < runs + 2; ++i) {  // 2 warm-ups
    const auto again = basics::emit(em.name, device_sm);
    if (again.ptx != em.ptx) throw Error(em.name + ": emission is not deterministic (two runs differ)");
    if (i >= 2) emit.push_back(again.emit_ms);
  }
  r.emit_ms = median(emit);

  LoadOptions o;
  o.origin = em.name + " (" + r.target + ")";
  fs::path filled;
  for (int i = 0; i < runs; ++i) {
    filled = fresh_dir(root, em.name + "-cold");
    DiskCache cache(filled);
    o.cache = &cache;
    Module m = Module::from_ptx(em.ptx, o);
    const auto c = cache.counters();
    const auto s = cache.stats();
    if (m.info().cache_hit || c.misses != 1 || c.hits != 0 || s.entries != 1)
      throw Error(o.origin + ": a cold load did not JIT into an empty cache (cache_hit " +
                  std::to_string(m.info().cache_hit) + ", misses " + std::to_string(c.misses) + ", hits " +
                  std::to_string(c.hits) + ", entries stored " + std::to_string(s.entries) + ")");
    cold.push_back(m.info().total_ms);
    compile.push_back(m.info().compile_ms);
    r.kernels = m.kernel_names().size();
    r.cache_bytes = s.bytes;
  }
  for (int i = 0; i < runs; ++i) {
    DiskCache cache(filled);
    o.cache = &cache;
    Module m = Module::from_ptx(em.ptx, o);
    const auto c = cache.counters();
    if (!m.info().cache_hit || c.hits != 1 || c.misses != 0 || m.info().compile_ms != 0)
      throw Error(o.origin + ": a second load from the filled cache was not a hit (cache_hit " +
                  std::to_string(m.info().cache_hit) + ", hits " + std::to_string(c.hits) + ", misses " +
                  std::to_string(c.misses) + ")");
    hit.push_back(m.info().total_ms);
  }
  r.cold_ms = median(cold);
  r.cold_compile_ms = median(compile);
  r.hit_ms = median(hit);
  r.paths = "cold: JIT " + std::to_string(runs) + "/" + std::to_string(runs) + ", hit: cache " +
            std::to_string(runs) + "/" + std::to_string(runs);
  return r;
}

// The large modules: gemm_bf16_sm90 (for sm_90a) on an sm_90 device, and the registered kernel with
// the largest PTX for this device (kernels that do not build for it are passed over) when that is
// another one (on sm_90 it is gemm_bf16_sm80, whose PTX is larger than gemm_bf16_sm90's).
std::vector<basics::Emitted> large_modules(int device_sm, const std::vector<std::string>& skip) {
  std::vector<basics::Emitted> out;
  if (weft::samples::runs_on("gemm_bf16_sm90", device_sm)) out.push_back(basics::emit("gemm_bf16_sm90", device_sm));
  std::optional<basics::Emitted> best;
  for (const auto& e : weft::Registry::global().all()) {
    if (std::find(skip.begin(), skip.end(), e.name) != skip.end() || !basics::target_for(e, device_sm)) continue;
    try {
      auto em = basics::emit(e.name, device_sm);
      if (!best || em.ptx.size() > best->ptx.size()) best = std::move(em);
    } catch (const std::exception& ex) {
      std::printf("note: %s does not emit for sm_%d: %s\n", e.name.c_str(), device_sm, ex.what());
    }
  }
  if (best && (out.empty() || best->name != out.front().name)) out.push_back(std::move(*best));
  if (out.empty()) throw Error("no registered kernel emits for sm_" + std::to_string(device_sm));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Before the driver is loaded: the driver's own JIT cache would make repeated "cold" loads hits.
  ::setenv("CUDA_CACHE_DISABLE", "1", 1);
  if (!weft::samples::gpu_or_skip()) return 0;
  const std::string csv_path = weft::bench::csv_path(argc, argv, "bench_jit.csv");
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  fs::path root;
  try {
    ensure_context();
    const auto props = device_props(current_device());
    const int sm = props.sm();
    const std::string date = weft::bench::today_utc();
    const std::string driver = driver_version_string(driver_version());
    std::printf("card: %s (%s, %d SMs), driver %s, %s\n", props.name.c_str(), props.target().c_str(), props.sm_count,
                driver.c_str(), date.c_str());
    std::string tmpl = (fs::temp_directory_path() / "weft-jit-bench.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw Error("cannot make a temporary directory from " + tmpl);
    root = tmpl;

    const std::vector<std::string> foundation = {"vector_add", "saxpy", "reduce_sum", "transpose", "histogram", "scan"};
    std::vector<basics::Emitted> modules;
    for (const auto& name : foundation) modules.push_back(basics::emit(name, sm));
    for (auto& em : large_modules(sm, foundation)) modules.push_back(std::move(em));

    {  // the linker's first use (and the context's first module) is not part of any module's cost
      DiskCache warm(fresh_dir(root, "warm-up"));
      LoadOptions o;
      o.cache = &warm;
      Module::from_ptx(modules.front().ptx, o);
    }

    std::vector<Row> rows;
    for (const auto& em : modules) {
      rows.push_back(measure(em, sm, runs, root));
      const Row& r = rows.back();
      std::printf("%s (%s): emit %.3f ms, cold %.2f ms (JIT %.2f ms), hit %.3f ms; %s\n", r.module.c_str(),
                  r.target.c_str(), r.emit_ms, r.cold_ms, r.cold_compile_ms, r.hit_ms, r.paths.c_str());
    }

    std::string csv =
        "card,date,driver,module,target,kernels,ptx_bytes,cache_entry_bytes,runs,emit_ms,cold_ms,cold_jit_ms,hit_ms\n";
    for (const auto& r : rows)
      csv += props.name + "," + date + "," + driver + "," + r.module + "," + r.target + "," + std::to_string(r.kernels) +
             "," + std::to_string(r.ptx_bytes) + "," + std::to_string(r.cache_bytes) + "," + std::to_string(runs) + "," +
             std::to_string(r.emit_ms) + "," + std::to_string(r.cold_ms) + "," + std::to_string(r.cold_compile_ms) + "," +
             std::to_string(r.hit_ms) + "\n";
    std::ofstream(csv_path) << csv;

    std::printf("\n== JIT cost, %s (%s), driver %s, %s; median of %d (CSV: %s)\n", props.name.c_str(),
                props.target().c_str(), driver.c_str(), date.c_str(), runs, csv_path.c_str());
    std::printf("   cold: empty private cache, driver JIT cache off; hit: a fresh Module on the filled cache\n");
    std::printf("%-16s %-7s %7s %10s %9s %10s %10s %9s %8s\n", "module", "target", "kernels", "PTX bytes", "emit ms",
                "cold ms", "(JIT ms)", "hit ms", "cold/hit");
    for (const auto& r : rows)
      std::printf("%-16s %-7s %7zu %10zu %9.3f %10.2f %10.2f %9.3f %7.0fx\n", r.module.c_str(), r.target.c_str(),
                  r.kernels, r.ptx_bytes, r.emit_ms, r.cold_ms, r.cold_compile_ms, r.hit_ms,
                  r.hit_ms > 0 ? r.cold_ms / r.hit_ms : 0.0);
    std::error_code ec;
    fs::remove_all(root, ec);
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
    return 1;
  }
}
