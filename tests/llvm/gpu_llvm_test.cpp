// On the GPU: the direct and the LLVM backend give the same results for the samples, and libdevice
// math (both backends) is within the documented ulp bounds of a float64 (long double for f64)
// reference. Skips, and passes, without a CUDA driver or device (label "gpu").
//
// Where the PTX comes from: built with LLVM, both backends emit it here. Built without (the GPU
// build, tools/gpu/build.sh: the GPU machine has no LLVM), it reads the files weft_gpu_ptx wrote on
// the CPU machine (gpu_ptx_files.h): from $WEFT_LLVM_PTX_DIR, else <build>/ptx-llvm found from this
// binary. No files there: "skipped: ..." and exit 0 (tools/gpu/check.sh counts that as a failure on
// a GPU machine). Files there but one missing or a check failing: a failure. Setting
// WEFT_LLVM_PTX_DIR makes a build with LLVM read the files too.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "codegen/llvm/math.h"
#include "codegen/printer.h"
#include "codegen/signature.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/apps/quick.h"
#include "tests/llvm/gpu_ptx_files.h"
#include "tests/runtime/gpu_common.h"
#ifdef WEFT_HAVE_LLVM
#include "codegen/llvm/backend.h"
#include "tests/llvm/math_kernel.h"
#endif

using namespace weft;
namespace rt = weft::rt;
namespace files = weft::test::gpu_ptx;

namespace {

// ---- where the PTX comes from

bool from_files() {
#ifdef WEFT_HAVE_LLVM
  return std::getenv("WEFT_LLVM_PTX_DIR") != nullptr;
#else
  return true;
#endif
}

std::filesystem::path ptx_dir() {
  if (const char* d = std::getenv("WEFT_LLVM_PTX_DIR"); d && *d) return d;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path(".") : exe.parent_path()) / WEFT_LLVM_PTX_REL).lexically_normal();
}

// True when the PTX can be had: LLVM is built in, or the directory holds .ptx files. Otherwise
// prints "skipped: ..." once on stdout (and a MESSAGE in each test that asks).
bool have_ptx() {
  if (!from_files()) return true;
  static const std::string why = [] {
    const auto dir = ptx_dir();
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec))
      for (const auto& f : std::filesystem::directory_iterator(dir, ec))
        if (f.path().extension() == ".ptx") return std::string();
    return fmt::format("no LLVM in this build and no PTX files in {} (tools/gpu/build.sh writes them with "
                       "weft_gpu_ptx; WEFT_LLVM_PTX_DIR names another directory)",
                       dir.string());
  }();
  return weft::rt::test::proceed_unless(why);
}
#define WEFT_REQUIRE_PTX() \
  do {                     \
    if (!have_ptx()) return; \
  } while (0)

std::string read_ptx(std::string_view kernel, std::string_view target, bool llvm) {
  const auto path = ptx_dir() / files::file_name(kernel, target, llvm);
  INFO(path.string());
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing PTX file " << path.string() << " (rerun tools/gpu/build.sh)");
  std::stringstream ss;
  ss << in.rdbuf();
  REQUIRE_MESSAGE(!ss.str().empty(), "empty PTX file " << path.string());
  return ss.str();
}

// The target both backends' PTX is for on this device. Emitting here: the device's own (sm_80 ..
// sm_90a), sm_90 past that. From files: sm_90a on sm_90, sm_80 below (any sm_8x), sm_90 above.
std::string device_target() {
  const auto p = rt::device_props(0);
  if (from_files()) return std::string(files::target_for_sm(static_cast<unsigned>(p.sm())));
  if (p.sm() == 90) return "sm_90a";
  if (p.sm() < 90) return isa::parse_target(p.target()).target ? p.target() : "sm_80";
  return "sm_90";
}

struct Both {
  rt::Module direct, llvm;
};
Both load_files(std::string_view kernel, std::string_view t) {
  return {rt::Module::from_ptx(read_ptx(kernel, t, false)), rt::Module::from_ptx(read_ptx(kernel, t, true))};
}

ir::Module sample(std::string_view name, const isa::Target& t) {
  const auto* e = Registry::global().find(std::string(name));
  REQUIRE(e);
  return e->build(t, *parse_params(*e, {}).params);
}

Both load_sample(std::string_view name, const std::string& tn) {
  if (from_files()) return load_files(name, tn);
#ifdef WEFT_HAVE_LLVM
  const auto m = sample(name, *isa::parse_target(tn).target);
  return {rt::Module::from_ptx(emit_ptx(m)), rt::Module::from_ptx(llvm_backend::emit_ptx(m))};
#else
  FAIL("unreachable: a build without LLVM reads files");
  return load_files(name, tn);
#endif
}

Both load_math(const math::Function& fn, const std::string& tn) {
  if (from_files()) return load_files(files::math_kernel_name(fn), tn);
#ifdef WEFT_HAVE_LLVM
  const auto m = test::math_kernel(fn, *isa::parse_target(tn).target);
  return {rt::Module::from_ptx(emit_ptx(m)), rt::Module::from_ptx(llvm_backend::emit_ptx(m))};
#else
  FAIL("unreachable: a build without LLVM reads files");
  return load_files(files::math_kernel_name(fn), tn);
#endif
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

TEST_CASE("PTX files (a build without LLVM): every kernel and target, both backends, same signatures") {
  if (!from_files()) {
    MESSAGE("this build emits with LLVM; WEFT_LLVM_PTX_DIR not set: no files to check");
    return;
  }
  WEFT_REQUIRE_PTX();
  std::size_t pairs = 0;
  for (auto tn : files::kTargets) {
    files::for_each_kernel([&](const std::string& kernel) {
      INFO(kernel << " for " << tn);
      const auto direct = read_ptx(kernel, tn, false), llvm = read_ptx(kernel, tn, true);
      const auto sd = sig::parse(direct), sl = sig::parse(llvm);
      CHECK(sig::format(sd) == sig::format(sl));
      CHECK(sd.target == tn);
      REQUIRE(sd.find(kernel) != nullptr);
      CHECK(direct.find(".entry " + kernel) != std::string::npos);
      CHECK(llvm.find(".entry " + kernel) != std::string::npos);
      CHECK(llvm.find("Generated by LLVM NVPTX Back-End") != std::string::npos);
      if (kernel.starts_with("math_")) {
        CHECK(direct.find(".func") != std::string::npos);  // libdevice's body, compiled by LLVM at emit time
      } else {
        // Not stale: the direct printer here gives the same signature as the file's.
        CHECK(sig::format(sig::parse(emit_ptx(sample(kernel, *isa::parse_target(std::string(tn)).target)))) ==
              sig::format(sd));
      }
      ++pairs;
    });
  }
  MESSAGE(pairs << " (kernel, target) pairs of PTX files from " << ptx_dir().string());
  CHECK(pairs == files::kTargets.size() * (files::kSamples.size() + math::functions().size()));
}

TEST_CASE("samples: the direct and the LLVM backend compute the same results") {
  WEFT_REQUIRE_GPU();
  WEFT_REQUIRE_PTX();
  const auto t = device_target();
  MESSAGE("device target for both backends: " << t << (from_files() ? " (PTX from " + ptx_dir().string() + ")" : ""));
  // WEFT_APP_QUICK=1 (the emulated device): small sizes, with the same odd tail.
  const bool quick = weft::samples::quick_mode();
  const std::uint32_t n = (quick ? 1u << 13 : 1u << 20) + 37;
  {  // vector_add, saxpy: elementwise, exact
    auto mods = load_sample("vector_add", t);
    const auto a = random_values<float>(n, 1, -1, 1), b = random_values<float>(n, 2, -1, 1);
    rt::DeviceBuffer<float> da(a), db(b), c1(n), c2(n);
    mods.direct.kernel("vector_add").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, da, db, c1);
    mods.llvm.kernel("vector_add").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, da, db, c2);
    CHECK(c1.to_vector() == c2.to_vector());
  }
  {
    auto mods = load_sample("saxpy", t);
    const auto x = random_values<float>(n, 3, -1, 1), y = random_values<float>(n, 4, -1, 1);
    rt::DeviceBuffer<float> dx(x), y1(y), y2(y);
    mods.direct.kernel("saxpy").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, 1.5f, dx, y1);
    mods.llvm.kernel("saxpy").launch({.grid = {(n + 255) / 256}, .block = {256}}, n, 1.5f, dx, y2);
    CHECK(y1.to_vector() == y2.to_vector());
  }
  {  // reduce_sum: atomics make the order (and the last bits) differ between runs
    auto mods = load_sample("reduce_sum", t);
    const auto x = random_values<float>(n, 5, 0, 1);
    rt::DeviceBuffer<float> dx(x), o1(std::vector<float>{0.0f}), o2(std::vector<float>{0.0f});
    mods.direct.kernel("reduce_sum").launch({.grid = {120}, .block = {256}}, n, dx, o1);
    mods.llvm.kernel("reduce_sum").launch({.grid = {120}, .block = {256}}, n, dx, o2);
    const float s1 = o1.to_vector()[0], s2 = o2.to_vector()[0];
    CHECK(std::abs(s1 - s2) <= 1e-5f * std::abs(s1));
  }
  {  // transpose 1024 x 768 (quick: 128 x 96)
    auto mods = load_sample("transpose", t);
    const std::uint32_t w = quick ? 128 : 1024, h = quick ? 96 : 768;
    const auto in = random_values<float>(w * h, 6, -1, 1);
    rt::DeviceBuffer<float> din(in), o1(w * h), o2(w * h);
    const rt::LaunchConfig cfg{.grid = {w / 32, h / 32}, .block = {32, 8}};
    mods.direct.kernel("transpose").launch(cfg, w, h, din, o1);
    mods.llvm.kernel("transpose").launch(cfg, w, h, din, o2);
    CHECK(o1.to_vector() == o2.to_vector());
  }
  {  // histogram: integer atomics, exact
    auto mods = load_sample("histogram", t);
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
    auto mods = load_sample("scan", t);
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
  WEFT_REQUIRE_PTX();
  const auto t = device_target();
  // WEFT_APP_QUICK=1 (the emulated device, whose Python PTX emulator runs about a million instructions
  // a second): 2^11 elements, a multiple of the 128-thread block; 2^18 otherwise.
  const std::uint32_t n = weft::samples::quick_mode() ? 1u << 11 : 1u << 18;
  for (const auto& fn : math::functions()) {
    INFO(fn.name);
    double lo = -10, hi = 10;
    if (fn.name == "logf" || fn.name == "log" || fn.name == "rsqrtf" || fn.name == "powf") lo = 1e-3, hi = 1e3;
    if (fn.name == "expf") lo = -87, hi = 88;
    if (fn.name == "sinf" || fn.name == "cosf") lo = -1e4, hi = 1e4;
    auto mods = load_math(fn, t);
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
