// Shared by the host apps of the foundation samples (vector_add, saxpy, reduce_sum, transpose,
// histogram, scan): each app emits its registered kernel in-process for this device, runs it on
// random inputs at a size that is not a multiple of the block and at a large one, and checks every
// output element against a CPU reference. This header holds what they have in common:
//
//   - the driver check: without a CUDA driver an app prints `skipped: <why>` and exits 0;
//   - emission: samples/apps/emit_for_device.h (the registry's builder for the device's target), then
//     Module::from_ptx (JIT, or a hit in the cubin cache);
//   - a fresh seed per run, printed, so a failure can be reproduced (`<app> <seed>` reuses it);
//   - poisoned outputs with a guard region past the end: every element the kernel should write starts
//     as all-ones bits (a NaN for f32) and the guard must still hold them afterwards;
//   - the checks (exact, or within a tolerance) that stop at the first bad element and name it;
//   - the result line: `ok: <kernel> ...` (exit 0), `FAIL: <kernel> ...` or `error: ...` (exit 1).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "codegen/isa/target.h"
#include "codegen/printer.h"
#include "dsl/registry.h"
#include "runtime/weft_rt.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/quick.h"

namespace basics {

namespace rt = weft::rt;

// Elements past the end of every output buffer that the kernel must leave alone.
inline constexpr std::size_t kGuard = 64;
// The poison byte: 0xFFFFFFFF is a NaN as f32 and the largest u32.
inline constexpr std::uint8_t kPoisonByte = 0xFF;

// A failed check: caught by run_app, which prints `FAIL: <what>` with the seed and exits 1.
struct Mismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using weft::samples::Emitted;
using weft::samples::emit;
using weft::samples::target_for;

// What an app works with: the device, the seed and a generator seeded from it, and the checks passed.
struct App {
  std::string kernel;
  rt::DeviceProps dev;
  std::uint64_t seed = 0;
  std::mt19937_64 rng;
  std::vector<std::string> passed;  // one short line per passed case, for the result line

  // Emits this app's kernel for the device, loads it and prints one line about both.
  rt::Module load(Emitted* out = nullptr, const std::vector<std::string>& settings = {}) {
    Emitted em = emit(kernel, dev.sm(), settings);
    rt::LoadOptions o;
    o.origin = kernel + " (" + em.target.name() + ", emitted in-process)";
    rt::Module m = rt::Module::from_ptx(em.ptx, o);
    std::printf("kernel: %s for %s, %zu bytes of PTX, emitted in %.2f ms, loaded in %.2f ms (%s)\n", kernel.c_str(),
                em.target.name().c_str(), em.ptx.size(), em.emit_ms, m.info().total_ms,
                m.info().cache_hit ? "cubin cache hit" : "JIT");
    if (out) *out = std::move(em);
    return m;
  }

  template <class T>
  T uniform_int(T lo, T hi) {
    return std::uniform_int_distribution<T>(lo, hi)(rng);
  }
  float uniform_float(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }
};

inline std::uint32_t ceil_div(std::uint64_t a, std::uint32_t b) { return static_cast<std::uint32_t>((a + b - 1) / b); }

// A device buffer of n elements plus kGuard, every byte poisoned.
template <class T>
rt::DeviceBuffer<T> poisoned_output(std::size_t n) {
  rt::DeviceBuffer<T> b(n + kGuard);
  b.fill_bytes(kPoisonByte);
  return b;
}

template <class T>
T poison() {
  T v;
  std::memset(&v, kPoisonByte, sizeof v);
  return v;
}

template <class T>
std::string show(T v) {
  char s[64];
  if constexpr (std::is_same_v<T, float>) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    std::snprintf(s, sizeof s, "%.9g (0x%08x)", static_cast<double>(v), bits);
  } else {
    std::snprintf(s, sizeof s, "%llu", static_cast<unsigned long long>(v));
  }
  return s;
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// got[0..want.size()) must equal want bit for bit (for f32 too: where the kernel's arithmetic is one
// IEEE-rounded operation the CPU repeats, any difference is a bug), and got's guard past it must still
// hold the poison. `what` names the case ("n=1000"); the first bad element is named in the Mismatch.
template <class T>
void expect_exact(const std::string& what, std::span<const T> got, std::span<const T> want,
                  const char* element = "element") {
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!same_bits(got[i], want[i]))
      throw Mismatch(what + ": first bad " + element + " " + std::to_string(i) + ": got " + show(got[i]) +
                     ", want " + show(want[i]) +
                     (same_bits(got[i], poison<T>()) ? " (still the poison: never written)" : ""));
  for (std::size_t i = want.size(); i < got.size(); ++i)
    if (!same_bits(got[i], poison<T>()))
      throw Mismatch(what + ": the kernel wrote past the end: " + element + " " + std::to_string(i) + " (of " +
                     std::to_string(want.size()) + ") is " + show(got[i]) + ", the guard's poison was overwritten");
}

// The driver check, the seed, the device line and the result line around an app's body. The body runs
// its cases and appends a line per passed case to app.passed; it throws Mismatch on a bad result.
//   <app> [seed]     a seed given reproduces an earlier run
template <class Body>
int run_app(int argc, char** argv, const std::string& kernel, Body&& body) {
  if (!weft::samples::gpu_or_skip()) return 0;
  App app;
  app.kernel = kernel;
  if (argc > 1) {
    char* end = nullptr;
    app.seed = std::strtoull(argv[1], &end, 0);
    if (!end || *end) {
      std::fprintf(stderr, "usage: %s [seed]\n", argv[0]);
      return 2;
    }
  } else {
    std::random_device rd;
    app.seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  app.rng.seed(app.seed);
  std::printf("seed: %llu (reproduce with: %s %llu)\n", static_cast<unsigned long long>(app.seed), argv[0],
              static_cast<unsigned long long>(app.seed));
  try {
    rt::ensure_context();
    app.dev = rt::device_props(rt::current_device());
    std::printf("device: %s (%s, %d SMs), driver %s\n", app.dev.name.c_str(), app.dev.target().c_str(),
                app.dev.sm_count, rt::driver_version_string(rt::driver_version()).c_str());
    body(app);
  } catch (const Mismatch& e) {
    std::printf("FAIL: %s: %s (seed %llu)\n", kernel.c_str(), e.what(), static_cast<unsigned long long>(app.seed));
    return 1;
  } catch (const std::exception& e) {
    std::printf("error: %s: %s (seed %llu)\n", kernel.c_str(), e.what(), static_cast<unsigned long long>(app.seed));
    return 1;
  }
  std::string cases;
  for (const auto& p : app.passed) cases += (cases.empty() ? "" : "; ") + p;
  std::printf("ok: %s: %s (seed %llu)\n", kernel.c_str(), cases.c_str(), static_cast<unsigned long long>(app.seed));
  return 0;
}

// Milliseconds of one launch, timed with events on the default stream (printed for information only).
template <class Launch>
double timed_ms(Launch&& launch) {
  rt::Event t0, t1;
  t0.record();
  launch();
  t1.record();
  t1.synchronize();
  return rt::elapsed_ms(t0, t1);
}

}  // namespace basics
