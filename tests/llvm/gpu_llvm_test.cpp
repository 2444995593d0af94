// On the GPU: the direct and the LLVM backend give the same results for the samples, and libdevice
// math (both backends) is within the documented ulp bounds of a float64 (long double for f64)
// reference. Skips, and passes, without a CUDA driver or device (label "gpu").
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <random>

#include "codegen/llvm/backend.h"
#include "codegen/llvm/math.h"
#include "codegen/printer.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "tests/llvm/math_kernel.h"
#include "tests/runtime/gpu_common.h"

using namespace weft;
namespace rt = weft::rt;

namespace {

// The newest target both backends emit that this device runs: its own (sm_80..sm_90a) or sm_90.
isa::Target device_target() {
  const auto p = rt::device_props(0);
  if (p.sm() == 90) return *isa::parse_target("sm_90a").target;
  if (p.sm() < 90) {
    if (auto t = isa::parse_target(p.target()).target) return *t;
    return *isa::parse_target("sm_80").target;
  }
  return *isa::parse_target("sm_90").target;
}

struct Both {
  rt::Module direct, llvm;
};
Both load(const ir::Module& m) {
  return {rt::Module::from_ptx(emit_ptx(m)), rt::Module::from_ptx(llvm_backend::emit_ptx(m))};
}
ir::Module sample(const char* name, const isa::Target& t) {
  const auto* e = Registry::global().find(name);
  REQUIRE(e);
  return e->build(t, *parse_params(*e, {}).params);
}
template <class T>
std::vector<T> random_values(std::size_t n, unsigned seed, double lo, double hi) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(g));
  return v;
}

}  // namespace

TEST_CASE("samples: the direct and the LLVM backend compute the same results") {
  WEFT_REQUIRE_GPU();
  const auto t = device_target();
  MESSAGE("device target for both backends: " << t.name());
  const std::uint32_t n = (1 << 20) + 37;
  {  // vector_add, saxpy: elementwise, exact
    auto mods = load(sample("vector_add", t));
    const auto a = random_values<float>(n, 1, -1, 1), b = random_values<float>(n, 2, -1, 1);
    rt::DeviceBuffer<float> da(a), db(b), c1(n), c2(n);
    mods.direct.kernel("vector_add").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, da, db, c1);
    mods.llvm.kernel("vector_add").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, da, db, c2);
    CHECK(c1.to_vector() == c2.to_vector());
  }
  {
    auto mods = load(sample("saxpy", t));
    const auto x = random_values<float>(n, 3, -1, 1), y = random_values<float>(n, 4, -1, 1);
    rt::DeviceBuffer<float> dx(x), y1(y), y2(y);
    mods.direct.kernel("saxpy").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, 1.5f, dx, y1);
    mods.llvm.kernel("saxpy").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, 1.5f, dx, y2);
    CHECK(y1.to_vector() == y2.to_vector());
  }
  {  // reduce_sum: atomics make the order (and the last bits) differ between runs
    auto mods = load(sample("reduce_sum", t));
    const auto x = random_values<float>(n, 5, 0, 1);
    rt::DeviceBuffer<float> dx(x), o1(std::vector<float>{0.0f}), o2(std::vector<float>{0.0f});
    mods.direct.kernel("reduce_sum").launch({.grid = {120}, .block = {256}}, n, dx, o1);
    mods.llvm.kernel("reduce_sum").launch({.grid = {120}, .block = {256}}, n, dx, o2);
    const float s1 = o1.to_vector()[0], s2 = o2.to_vector()[0];
    CHECK(std::abs(s1 - s2) <= 1e-5f * std::abs(s1));
  }
  {  // transpose 1024 x 768
    auto mods = load(sample("transpose", t));
    const std::uint32_t w = 1024, h = 768;
    const auto in = random_values<float>(w * h, 6, -1, 1);
    rt::DeviceBuffer<float> din(in), o1(w * h), o2(w * h);
    const rt::LaunchConfig cfg{.grid = {w / 32, h / 32}, .block = {32, 8}};
    mods.direct.kernel("transpose").launch(cfg, w, h, din, o1);
    mods.llvm.kernel("transpose").launch(cfg, w, h, din, o2);
    CHECK(o1.to_vector() == o2.to_vector());
  }
  {  // histogram: integer atomics, exact
    auto mods = load(sample("histogram", t));
    std::vector<std::uint8_t> bytes(n);
    std::mt19937 g(7);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(g());
    rt::DeviceBuffer<std::uint8_t> d(bytes);
    rt::DeviceBuffer<std::uint32_t> h1(std::vector<std::uint32_t>(256, 0)), h2(std::vector<std::uint32_t>(256, 0));
    mods.direct.kernel("histogram").launch({.grid = {64}, .block = {256}}, n, d, h1);
    mods.llvm.kernel("histogram").launch({.grid = {64}, .block = {256}}, n, d, h2);
    CHECK(h1.to_vector() == h2.to_vector());
  }
  {  // scan: per-CTA inclusive scan
    auto mods = load(sample("scan", t));
    std::vector<std::uint32_t> in(n);
    std::mt19937 g(8);
    for (auto& v : in) v = g() % 100;
    const std::uint32_t blocks = (n + 255) / 256;
    rt::DeviceBuffer<std::uint32_t> din(in), o1(n), o2(n), s1(blocks), s2(blocks);
    mods.direct.kernel("scan").launch({.grid = {blocks}, .block = {256}}, n, din, o1, s1);
    mods.llvm.kernel("scan").launch({.grid = {blocks}, .block = {256}}, n, din, o2, s2);
    CHECK(o1.to_vector() == o2.to_vector());
    CHECK(s1.to_vector() == s2.to_vector());
  }
}

namespace {

using weft::test::math_kernel;

long double reference(std::string_view f, long double x, long double z) {
  if (f == "expf" || f == "exp") return std::exp(x);
  if (f == "logf" || f == "log") return std::log(x);
  if (f == "erff") return std::erf(x);
  if (f == "tanhf") return std::tanh(x);
  if (f == "sinf") return std::sin(x);
  if (f == "cosf") return std::cos(x);
  if (f == "rsqrtf") return 1.0L / std::sqrt(x);
  return std::pow(x, z);
}

// Error of `got` against `want` in units of the last place of `want`'s type T.
template <class T>
double ulp_error(T got, long double want) {
  if (std::isnan(static_cast<double>(want))) return std::isnan(got) ? 0 : 1e9;
  const T w = static_cast<T>(want);
  if (std::isinf(w)) return got == w ? 0 : 1e9;
  const T next = std::nextafter(std::abs(w), std::numeric_limits<T>::infinity());
  const long double ulp = static_cast<long double>(next) - std::abs(w);
  return static_cast<double>(std::abs(static_cast<long double>(got) - want) / ulp);
}

}  // namespace

TEST_CASE("libdevice math within the documented ulp bounds, both backends") {
  WEFT_REQUIRE_GPU();
  const auto t = device_target();
  const std::uint32_t n = 1 << 18;
  for (const auto& fn : math::functions()) {
    INFO(fn.name);
    double lo = -10, hi = 10;
    if (fn.name == "logf" || fn.name == "log" || fn.name == "rsqrtf" || fn.name == "powf") lo = 1e-3, hi = 1e3;
    if (fn.name == "expf") lo = -87, hi = 88;
    if (fn.name == "sinf" || fn.name == "cosf") lo = -1e4, hi = 1e4;
    auto mods = load(math_kernel(fn, t));
    const rt::LaunchConfig cfg{.grid = {n / 128}, .block = {128}};
    double worst[2] = {0, 0};
    bool same = true;
    if (fn.f64) {
      const auto x = random_values<double>(n, 11, lo, hi);
      rt::DeviceBuffer<double> dx(x), y1(n), y2(n);
      mods.direct.kernel(fmt::format("math_{}", fn.name)).launch(cfg, n, dx, y1);
      mods.llvm.kernel(fmt::format("math_{}", fn.name)).launch(cfg, n, dx, y2);
      const auto r1 = y1.to_vector(), r2 = y2.to_vector();
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto want = reference(fn.name, x[i], 0);
        worst[0] = std::max(worst[0], ulp_error(r1[i], want));
        worst[1] = std::max(worst[1], ulp_error(r2[i], want));
        same &= r1[i] == r2[i];
      }
    } else {
      const auto x = random_values<float>(n, 12, lo, hi);
      const auto z = random_values<float>(n, 13, -4, 4);
      rt::DeviceBuffer<float> dx(x), dz(z), y1(n), y2(n);
      mods.direct.kernel(fmt::format("math_{}", fn.name)).launch(cfg, n, dx, dz, y1);
      mods.llvm.kernel(fmt::format("math_{}", fn.name)).launch(cfg, n, dx, dz, y2);
      const auto r1 = y1.to_vector(), r2 = y2.to_vector();
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto want = reference(fn.name, x[i], z[i]);
        worst[0] = std::max(worst[0], ulp_error(r1[i], want));
        worst[1] = std::max(worst[1], ulp_error(r2[i], want));
        same &= r1[i] == r2[i];
      }
    }
    MESSAGE(fmt::format("{}: worst error {:.2f} ulp (direct), {:.2f} ulp (llvm); bound {}", fn.name, worst[0], worst[1],
                        fn.max_ulp));
    CHECK(worst[0] <= fn.max_ulp + 0.5);  // +0.5: the reference itself is rounded to T
    CHECK(worst[1] <= fn.max_ulp + 0.5);
    CHECK(same);
  }
}
