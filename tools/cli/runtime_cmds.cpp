// The CLI's runtime commands: `weft info` without a file (the CUDA driver and its devices) and
// `weft cache stats|clear` (the cubin cache of weft::rt). Neither needs a GPU: without a driver,
// `info` says so and exits 0, since emitting and checking PTX never needs one.
#include <fmt/format.h>

#include "runtime/autotune.h"
#include "runtime/device.h"
#include "runtime/disk_cache.h"
#include "runtime/driver.h"
#include "tools/cli/commands.h"

namespace weft::cli {

int driver_info() {
  std::string why;
  if (!rt::driver_available(&why)) {
    fmt::print("{}\n", why);  // "no CUDA driver found: libcuda.so.1 (...)"
    fmt::print("note: weft emits and checks PTX without one; loading and launching kernels (weft::rt) needs it\n");
    return kOk;
  }
  try {
    const auto& d = rt::driver();
    const int n = rt::device_count();
    fmt::print("driver: {} (CUDA {}), {} device{}\n", d.path, rt::driver_version_string(d.version), n, n == 1 ? "" : "s");
    for (int i = 0; i < n; ++i) {
      const auto p = rt::device_props(i);
      fmt::print("device {}: {}, {}, {} SMs, {:.1f} GiB, shared memory {} KB per block (opt-in), L2 {} MB{}\n", i,
                 p.name, p.target(), p.sm_count, static_cast<double>(p.total_memory) / (1ull << 30),
                 p.max_smem_per_block_optin / 1024, p.l2_bytes >> 20, p.cluster_launch ? ", clusters" : "");
    }
  } catch (const rt::Error& e) {
    throw Failure{kDiagnostics, e.what()};
  }
  return kOk;
}

int cache_command(const std::string& action) {
  const auto dir = rt::DiskCache::default_directory();
  if (!dir) {
    fmt::print("cubin cache: off (WEFT_CACHE=off, or none of WEFT_CACHE_DIR, XDG_CACHE_HOME, HOME is set)\n");
    return kOk;
  }
  rt::DiskCache cache(*dir);
  const auto before = cache.stats();
  const auto tunes = rt::remembered_tunes(cache);  // entries too: autotune's choices live beside the cubins
  if (action == "clear") {
    cache.clear();
    fmt::print("cubin cache {}: removed {} entries ({} bytes)\n", dir->string(), before.entries, before.bytes);
  } else if (action == "tunes") {
    fmt::print("autotune choices in {}: {}\n", dir->string(), tunes.size());
    for (const auto& t : tunes) fmt::print("  {} on {}: {}\n", t.problem, t.device, t.choice);
  } else {
    fmt::print("cubin cache {}: {} entries, {} bytes\n", dir->string(), before.entries, before.bytes);
    if (!tunes.empty()) fmt::print("  {} of them autotune choices (weft cache tunes lists them)\n", tunes.size());
  }
  return kOk;
}

}  // namespace weft::cli
