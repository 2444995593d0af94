// The runtime on a real GPU: devices, JIT and cache, typed launches and their errors, shared memory
// opt-in, tensor maps, streams and events. Every test passes as "skipped" without a driver (label gpu).
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <vector>

#include "tests/runtime/gpu_common.h"
#include "tests/runtime/test_kernels.h"

using namespace weft::rt;
using weft::rt::test::have_gpu;

namespace {

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

LoadOptions with_cache(DiskCache& c) {
  LoadOptions o;
  o.cache = &c;
  return o;
}

// An arch-specific target this device cannot run.
std::string foreign_arch_target(const DeviceProps& p) { return p.sm() == 90 ? "sm_100a" : "sm_90a"; }

// Runs saxpy on n elements and checks the result exactly (the kernel uses fma, as std::fma does).
void run_saxpy(Kernel& k, std::uint32_t n, CUstream stream = nullptr, bool pdl = false, Dim3 cluster = {}) {
  const auto x = random_floats(n, 1 + n), y0 = random_floats(n, 2 + n);
  DeviceBuffer<float> dx(x), dy(y0);
  const float a = 1.5f;
  LaunchConfig cfg;
  cfg.grid = {(n + 255) / 256 + ((n + 255) / 256) % 2};  // even, for the cluster case
  cfg.block = {256};
  cfg.stream = stream;
  cfg.pdl = pdl;
  cfg.cluster = cluster;
  k.launch(cfg, n, a, dx, dy);
  if (stream) {
    check(driver().cuStreamSynchronize(stream), "cuStreamSynchronize");
  }
  const auto y = dy.to_vector();
  std::size_t bad = 0;
  for (std::uint32_t i = 0; i < n; ++i)
    if (y[i] != std::fma(a, x[i], y0[i])) ++bad;
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("device properties") {
  WEFT_REQUIRE_GPU();
  REQUIRE(device_count() >= 1);
  const DeviceProps p = device_props(0);
  MESSAGE("device 0: " << p.name << ", " << p.target() << ", " << p.sm_count << " SMs, L2 "
                       << p.l2_bytes / 1024 << " KB, smem opt-in " << p.max_smem_per_block_optin
                       << " B, clock " << p.clock_khz / 1000 << " MHz, driver "
                       << driver_version_string(driver_version()));
  CHECK_FALSE(p.name.empty());
  CHECK(p.cc_major >= 7);
  CHECK(p.sm_count > 0);
  CHECK(p.max_smem_per_block_optin >= 48 * 1024);
  CHECK(p.l2_bytes > 0);
  WARN(p.clock_khz > 0);  // informational; a driver may retire the attribute
  CHECK(p.total_memory > 0);
  CHECK(ensure_context() == primary_context(0));
  CHECK(current_device() == 0);
  CHECK_THROWS_WITH_AS(device_props(device_count()), doctest::Contains("does not exist"), Error);
}

TEST_CASE("load a PTX module with a signature block and launch saxpy") {
  WEFT_REQUIRE_GPU();
  test::ScratchDir dir;
  DiskCache cache(dir.path);
  Module m = Module::from_ptx(test::test_module(), with_cache(cache));
  CHECK(m.kernel_names() == std::vector<std::string>{"saxpy", "smem_echo", "tmap_echo"});
  REQUIRE(m.signature().has_value());
  Kernel& k = m.kernel("saxpy");
  CHECK(k.signature() != nullptr);
  CHECK(k.registers() > 0);
  MESSAGE("saxpy: " << k.registers() << " registers; JIT " << m.info().compile_ms << " ms");
  run_saxpy(k, 1);
  run_saxpy(k, 1000);
  run_saxpy(k, 1 << 20);
  CHECK_THROWS_WITH_AS(m.kernel("nope"), doctest::Contains("has no kernel 'nope' (it has: saxpy, smem_echo, tmap_echo)"),
                       Error);
}

TEST_CASE("launch errors name the kernel and parameter, and leave the context usable") {
  WEFT_REQUIRE_GPU();
  Module m = Module::from_ptx(test::test_module());
  Kernel& k = m.kernel("saxpy");
  DeviceBuffer<float> x(256), y(256);
  LaunchConfig cfg{{1}, {256}};
  CHECK_THROWS_WITH_AS(k.launch(cfg, 256u, 1.0f, x), doctest::Contains("takes 4 arguments (n, a, x, y), the launch passes 3"),
                       Error);
  CHECK_THROWS_WITH_AS(k.launch(cfg, 256u, 1.0f, x, y, y), doctest::Contains("the launch passes 5"), Error);
  CHECK_THROWS_WITH_AS(k.launch(cfg, 256u, 1.0f, x.raw(), y), doctest::Contains("argument 3 'x'"), Error);
  CHECK_THROWS_WITH_AS(k.launch(cfg, 256u, 1, x, y), doctest::Contains("argument 2 'a'"), Error);
  CHECK_THROWS_WITH_AS(k.launch(cfg, std::uint64_t{256}, 1.0f, x, y), doctest::Contains("argument 1 'n'"), Error);
  CHECK_THROWS_WITH_AS(k.launch(cfg, 256u, 1.0f, DeviceBuffer<double>(4), y),
                       doctest::Contains("elements are 8 bytes, not 4"), Error);
  CHECK_THROWS_WITH_AS(k.launch(LaunchConfig{{1}, {512}}, 256u, 1.0f, x, y),
                       doctest::Contains(".maxntid 256x1x1"), Error);
  CHECK_THROWS_WITH_AS(m.kernel("smem_echo").launch(LaunchConfig{{1}, {256}}, x),
                       doctest::Contains("requires a block of 128x1x1 (.reqntid)"), Error);
  const auto p = device_props(0);
  LaunchConfig huge{{1}, {128}};
  huge.dynamic_smem = static_cast<std::uint32_t>(p.max_smem_per_block_optin) + 1024;
  CHECK_THROWS_WITH_AS(m.kernel("smem_echo").launch(huge, DeviceBuffer<std::uint32_t>(128)),
                       doctest::Contains("the device allows at most"), Error);
  run_saxpy(k, 4096);  // nothing above reached the GPU
}

TEST_CASE("dynamic shared memory above 48 KB is opted in") {
  WEFT_REQUIRE_GPU();
  Module m = Module::from_ptx(test::test_module());
  Kernel& k = m.kernel("smem_echo");
  DeviceBuffer<std::uint32_t> out(128);
  out.fill_bytes(0xff);
  k.launch(LaunchConfig{{1}, {128}}, out);  // 96 KB from the signature's default
  k.launch(LaunchConfig{{1}, {128}, 100 * 1024}, out);  // raises the limit again
  synchronize();
  const auto v = out.to_vector();
  for (std::uint32_t i = 0; i < 128; ++i) CHECK(v[i] == i + 1000);
  CHECK(k.attribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) == 100 * 1024);
}

TEST_CASE("a tensor map is encoded and reaches the kernel intact") {
  WEFT_REQUIRE_GPU();
  const auto p = device_props(0);
  if (p.cc_major < 9) {
    MESSAGE("skipped: tensor maps need sm_90+ (device is " << p.target() << ")");
    return;
  }
  DeviceBuffer<float> tensor(256 * 256);
  auto d = TmaDesc::packed(TmaDtype::f32, {256, 256}, {32, 32});
  d.swizzle = TmaSwizzle::b128;
  const TensorMap map = encode_tma(d, tensor.ptr());
  // A description the driver would reject is reported by check_tma, before the driver.
  auto bad = d;
  bad.box_dims[0] = 64;  // 256 bytes > 128-byte swizzle
  CHECK_THROWS_WITH_AS(encode_tma(bad, tensor.ptr()), doctest::Contains("wider than the 128-byte swizzle"), Error);

  Module m = Module::from_ptx(test::test_module());
  DeviceBuffer<std::uint64_t> out(16);
  m.kernel("tmap_echo").launch(LaunchConfig{{1}, {16}}, map, out);
  const auto v = out.to_vector();
  for (int i = 0; i < 16; ++i) CHECK(v[i] == map.map.opaque[i]);
}

TEST_CASE("bad PTX reports the JIT log with the line") {
  WEFT_REQUIRE_GPU();
  LoadOptions o;
  o.use_cache = false;
  o.origin = "broken.ptx";
  try {
    Module::from_ptx(test::bad_module(), o);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    MESSAGE(m);
    CHECK(m.find("JIT of broken.ptx failed") != std::string::npos);
    CHECK(m.find("line 6") != std::string::npos);
    CHECK(m.find("frobnicate") != std::string::npos);
    CHECK(e.result_name() == "CUDA_ERROR_INVALID_PTX");
    CHECK(e.call().starts_with("cuLink"));
  }
}

TEST_CASE("PTX newer than the driver names both versions") {
  WEFT_REQUIRE_GPU();
  LoadOptions o;
  o.use_cache = false;
  o.origin = "future.ptx";
  try {
    Module::from_ptx(test::test_module("99.0"), o);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    MESSAGE(m);
    CHECK(m.find("future.ptx is PTX ISA 99.0, newer than the CUDA driver " +
                 driver_version_string(driver_version())) != std::string::npos);
    CHECK(m.find("up to PTX ISA") != std::string::npos);
  }
}

TEST_CASE("PTX for another architecture is refused with the reason") {
  WEFT_REQUIRE_GPU();
  const auto p = device_props(0);
  const std::string t = foreign_arch_target(p);
  const std::string m = test::error_of([&] { Module::from_ptx(test::test_module("8.8", t)); });
  INFO(m);
  CHECK(m.find("is PTX for " + t + ", which cannot run on device 0") != std::string::npos);
  CHECK(m.find("arch-specific code runs only on") != std::string::npos);
}

TEST_CASE("from_best_ptx picks the exact arch-specific target") {
  WEFT_REQUIRE_GPU();
  const auto p = device_props(0);
  const std::string exact = p.target() + "a";
  std::vector<std::string> texts{test::test_module("8.0", "sm_80"), test::test_module("8.8", exact),
                                 test::test_module("8.8", foreign_arch_target(p))};
  Module m = Module::from_best_ptx(texts);
  CHECK(m.info().target == exact);
  run_saxpy(m.kernel("saxpy"), 5000);
  std::vector<std::string> none{test::test_module("8.8", foreign_arch_target(p))};
  CHECK_THROWS_WITH_AS(Module::from_best_ptx(none), doctest::Contains("no PTX target fits this device"), Error);
}

TEST_CASE("disk cache: cold JIT, then a hit; a corrupt entry is rebuilt") {
  WEFT_REQUIRE_GPU();
  test::ScratchDir dir;
  DiskCache cache(dir.path);
  // A module of its own (a comment makes the key new), so the driver's own cache does not hide the JIT.
  const std::string ptx = test::test_module() + "// " + dir.path.string() + "\n";
  Module cold = Module::from_ptx(ptx, with_cache(cache));
  CHECK_FALSE(cold.info().cache_hit);
  CHECK(cold.info().compile_ms > 0);
  Module hit = Module::from_ptx(ptx, with_cache(cache));
  CHECK(hit.info().cache_hit);
  CHECK(hit.info().compile_ms == 0);
  std::printf("cache: cold load %.2f ms (JIT %.2f ms), cache hit %.3f ms\n", cold.info().total_ms,
              cold.info().compile_ms, hit.info().total_ms);
  MESSAGE("cold " << cold.info().total_ms << " ms, hit " << hit.info().total_ms << " ms");
  if (!cold.info().resources.empty()) CHECK(hit.info().resources == cold.info().resources);
  run_saxpy(hit.kernel("saxpy"), 3000);

  // Truncate the stored cubin: the next load detects it, rebuilds once, and works.
  std::filesystem::path entry;
  for (auto& e : std::filesystem::directory_iterator(dir.path / "v1" / "entries")) entry = e.path();
  REQUIRE_FALSE(entry.empty());
  std::filesystem::resize_file(entry / "data", 100);
  Module rebuilt = Module::from_ptx(ptx, with_cache(cache));
  CHECK_FALSE(rebuilt.info().cache_hit);
  CHECK(cache.counters().corrupt == 1);
  run_saxpy(rebuilt.kernel("saxpy"), 3000);
  CHECK(Module::from_ptx(ptx, with_cache(cache)).info().cache_hit);
}

TEST_CASE("load a cubin, and refuse one for another architecture") {
  WEFT_REQUIRE_GPU();
  test::ScratchDir dir;
  DiskCache cache(dir.path);
  const std::string ptx = test::test_module();
  Module from_ptx = Module::from_ptx(ptx, with_cache(cache));
  std::filesystem::path entry;
  for (auto& e : std::filesystem::directory_iterator(dir.path / "v1" / "entries")) entry = e.path();
  REQUIRE_FALSE(entry.empty());
  Module m = Module::from_cubin_file(entry / "data", weft::sig::parse(ptx));
  CHECK(m.info().from_cubin);
  auto names = m.kernel_names();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"saxpy", "smem_echo", "tmap_echo"});
  run_saxpy(m.kernel("saxpy"), 2000);

  // A cubin for sm_75 (made by ptxas, if the toolkit is here) cannot load on sm_80+.
  const char* ptxas = "/usr/local/cuda/bin/ptxas";
  if (::access(ptxas, X_OK) != 0) {
    MESSAGE("skipped the foreign-cubin check: no " << ptxas);
    return;
  }
  std::ofstream(dir.path / "k.ptx") << test::test_module("8.0", "sm_75");
  const std::string cmd = std::string(ptxas) + " -arch=sm_75 " + (dir.path / "k.ptx").string() + " -o " +
                          (dir.path / "k75.cubin").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string m75 = test::error_of([&] { Module::from_cubin_file(dir.path / "k75.cubin"); });
  MESSAGE(m75);
  CHECK(m75.find("cuModuleLoadDataEx failed") != std::string::npos);
  CHECK(m75.find("built for another architecture") != std::string::npos);
}

TEST_CASE("occupancy, streams, events, pinned memory, PDL and clusters") {
  WEFT_REQUIRE_GPU();
  const auto p = device_props(0);
  Module m = Module::from_ptx(test::test_module());
  Kernel& k = m.kernel("saxpy");
  CHECK(k.max_active_blocks_per_sm(256) >= 1);
  CHECK(k.persistent_grid(256) >= static_cast<std::uint32_t>(p.sm_count));
  CHECK(m.kernel("smem_echo").persistent_grid(128, 96 * 1024) >= static_cast<std::uint32_t>(p.sm_count));

  Stream s;
  Event start, end;
  const std::uint32_t n = 1 << 16;
  PinnedBuffer<float> host(n);
  for (std::uint32_t i = 0; i < n; ++i) host[i] = static_cast<float>(i);
  DeviceBuffer<float> d(n);
  start.record(s);
  d.copy_from_async(host.span(), s);
  d.fill_bytes_async(0, s);
  d.copy_to_async(host.span(), s);
  end.record(s);
  s.synchronize();
  CHECK(s.done());
  CHECK(host[n - 1] == 0.0f);
  const float ms = elapsed_ms(start, end);
  CHECK(ms >= 0.0f);
  MESSAGE("async copy round trip of " << n * 4 / 1024 << " KB: " << ms << " ms");

  run_saxpy(k, 10000, s.get());
  if (p.cc_major >= 9) {
    run_saxpy(k, 10000, s.get(), /*pdl=*/true);
    run_saxpy(k, 10000, s.get(), false, Dim3{2});
  }
}
