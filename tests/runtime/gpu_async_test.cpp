// The async / tensor-core samples on a real GPU, each against a CPU reference: TMA tile load and
// store, a cluster of 2 exchanging data through distributed shared memory, one mma.sync tile and
// one wgmma tile (bf16) vs float64, a warp-specialised producer/consumer pipeline with setmaxnreg
// roles that runs to completion (the debug-wait trap has its own binary: gpu_debug_wait_test.cpp).
// Every test passes as "skipped" without a driver (label gpu); the kernels come from the DSL here.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "codegen/printer.h"
#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "tests/runtime/gpu_common.h"

using namespace weft::rt;
using weft::rt::test::have_gpu;

namespace {

// The target to emit for this device: its `a` variant when the kernel claims it (wgmma), else base.
weft::isa::Target device_target(const weft::KernelEntry& e) {
  const auto p = device_props(0);
  for (const char* suffix : {"a", ""}) {
    auto t = weft::isa::parse_target(p.target() + suffix);
    if (t.target && e.targets.contains(*t.target)) return *t.target;
  }
  return weft::isa::Target{};
}

// Emits a registered sample for this device and loads it; nullopt (with a message) when the
// device cannot run it.
std::optional<Module> load_sample(const std::string& name, std::vector<std::string> params = {}) {
  const auto* e = weft::Registry::global().find(name);
  REQUIRE(e);
  const auto t = device_target(*e);
  if (t.sm == 0) {
    MESSAGE("skipped: " << name << " needs " << e->targets.describe() << " (device is " << device_props(0).target() << ")");
    return std::nullopt;
  }
  auto p = weft::parse_params(*e, params);
  REQUIRE(p.params);
  return Module::from_ptx(weft::emit_ptx(e->build(t, *p.params)));
}

std::uint16_t to_bf16(float f) {  // round to nearest even
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<std::uint16_t>(u >> 16);
}
double from_bf16(std::uint16_t h) {
  const std::uint32_t u = std::uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
std::vector<std::uint16_t> random_bf16(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<std::uint16_t> v(n);
  for (auto& x : v) x = to_bf16(d(g));
  return v;
}
// Relative Frobenius error of got against want.
double rel_error(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace

TEST_CASE("TMA: a 2D tensor copied box by box through shared memory") {
  WEFT_REQUIRE_GPU();
  auto m = load_sample("tma_copy");
  if (!m) return;
  constexpr std::uint32_t n = 256, box = 64;
  std::vector<float> host(n * n);
  for (std::uint32_t i = 0; i < n * n; ++i) host[i] = static_cast<float>(i) * 0.5f;
  DeviceBuffer<float> src(host), dst(n * n);
  dst.fill_bytes(0xFF);  // poisoned: every element must be written
  const auto d = TmaDesc::packed(TmaDtype::f32, {n, n}, {box, box});
  auto& kernel = m->kernel("tma_copy");
  kernel.launch(LaunchConfig{{n / box, n / box}, {128}}, encode_tma(d, src.ptr()), encode_tma(d, dst.ptr()));
  CHECK(dst.to_vector() == host);
  // The same maps from the kernel's own boxes (its signature): what the host wrote by hand above.
  const auto from_kernel = kernel.tensor_map("src", {n, n}, src.ptr().raw());
  CHECK(tma_box_key(from_kernel.desc) == tma_box_key(d));
  const auto by_hand = encode_tma(d, src.ptr());
  CHECK(std::memcmp(&from_kernel.map, &by_hand.map, sizeof(CUtensorMap)) == 0);
  // Kept maps: the same tensor gives the same map again; another address or shape its own (also past
  // the 64 the kernel keeps).
  for (std::uint32_t rows = 1; rows <= 70; ++rows) {
    const auto part = kernel.tensor_map("src", {n, rows}, src.ptr().raw());
    const auto want = encode_tma(TmaDesc::packed(TmaDtype::f32, {n, rows}, {box, box}), src.ptr());
    CHECK(std::memcmp(&part.map, &want.map, sizeof(CUtensorMap)) == 0);
  }
  const auto again = kernel.tensor_map("src", {n, n}, src.ptr().raw());
  CHECK(std::memcmp(&again.map, &by_hand.map, sizeof(CUtensorMap)) == 0);
  const auto elsewhere = kernel.tensor_map("src", {n, n}, dst.ptr().raw());
  const auto elsewhere_by_hand = encode_tma(d, dst.ptr());
  CHECK(std::memcmp(&elsewhere.map, &elsewhere_by_hand.map, sizeof(CUtensorMap)) == 0);
  dst.fill_bytes(0xFF);
  kernel.launch(LaunchConfig{{n / box, n / box}, {128}}, from_kernel, kernel.tensor_map("dst", {n, n}, dst.ptr().raw()));
  CHECK(dst.to_vector() == host);
  // A map of another box is refused before the launch; so are names and ranks the kernel does not have.
  const auto other = TmaDesc::packed(TmaDtype::f32, {n, n}, {box, box / 2});
  CHECK_THROWS_WITH_AS(kernel.launch(LaunchConfig{{n / box, n / box}, {128}}, encode_tma(other, src.ptr()), from_kernel),
                       doctest::Contains("argument 1 'src': the parameter is a tensor map for boxes f32:64x64:none"), Error);
  CHECK_THROWS_WITH_AS(kernel.tensor_map("source", {n, n}, src.ptr().raw()),
                       "kernel 'tma_copy', tensor map 'source': no such parameter (its tensor maps: src, dst)", Error);
  CHECK_THROWS_WITH_AS(kernel.tensor_map("src", {n * n}, src.ptr().raw()),
                       doctest::Contains("1 dimensions given for a rank-2 box (f32:64x64:none)"), Error);
}

TEST_CASE("a cluster of two exchanges values through distributed shared memory") {
  WEFT_REQUIRE_GPU();
  auto m = load_sample("cluster_exchange");
  if (!m) return;
  DeviceBuffer<std::uint32_t> out(4);
  m->kernel("cluster_exchange").launch(LaunchConfig{{4}, {32}}, out);
  CHECK(out.to_vector() == std::vector<std::uint32_t>{101, 100, 101, 100});
}

TEST_CASE("mma.sync m16n8k16 bf16 against float64") {
  WEFT_REQUIRE_GPU();
  auto m = load_sample("mma_sync_tile");
  if (!m) return;
  const auto a = random_bf16(16 * 16, 1), bt = random_bf16(8 * 16, 2);
  std::vector<double> want(16 * 8, 0.0);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j)
      for (int kk = 0; kk < 16; ++kk) want[i * 8 + j] += from_bf16(a[i * 16 + kk]) * from_bf16(bt[j * 16 + kk]);
  DeviceBuffer<std::uint16_t> da(a), dbt(bt);
  DeviceBuffer<float> dd(16 * 8);
  dd.fill_bytes(0xFF);
  m->kernel("mma_sync_tile").launch(LaunchConfig{{1}, {32}}, DevicePtr<std::uint32_t>(da.ptr().raw()),
                                    DevicePtr<std::uint32_t>(dbt.ptr().raw()), dd);
  const double err = rel_error(dd.to_vector(), want);
  MESSAGE("mma.sync relative error " << err);
  CHECK(err < 1e-5);
}

TEST_CASE("wgmma m64n64k16 x4 bf16 with TMA and 128B swizzle against float64") {
  WEFT_REQUIRE_GPU();
  auto m = load_sample("wgmma_tile", {"n=64"});
  if (!m) return;
  constexpr std::uint32_t M = 64, N = 64, K = 64;
  const auto a = random_bf16(M * K, 3), b = random_bf16(N * K, 4);
  std::vector<double> want(M * N, 0.0);
  for (std::uint32_t i = 0; i < M; ++i)
    for (std::uint32_t j = 0; j < N; ++j)
      for (std::uint32_t kk = 0; kk < K; ++kk) want[i * N + j] += from_bf16(a[i * K + kk]) * from_bf16(b[j * K + kk]);
  DeviceBuffer<std::uint16_t> da(a), db(b);
  DeviceBuffer<float> dd(M * N);
  dd.fill_bytes(0xFF);
  auto ad = TmaDesc::packed(TmaDtype::bf16, {K, M}, {K, M});
  auto bd = TmaDesc::packed(TmaDtype::bf16, {K, N}, {K, N});
  ad.swizzle = bd.swizzle = TmaSwizzle::b128;
  m->kernel("wgmma_tile").launch(LaunchConfig{{1}, {128}}, encode_tma(ad, da.ptr()), encode_tma(bd, db.ptr()), dd);
  const double err = rel_error(dd.to_vector(), want);
  MESSAGE("wgmma relative error " << err);
  CHECK(err < 1e-5);
}

TEST_CASE("warp-specialised bulk-copy pipeline with setmaxnreg roles runs to completion") {
  WEFT_REQUIRE_GPU();
  auto m = load_sample("bulk_pipeline_sum");
  if (!m) return;
  constexpr std::uint32_t chunk = 2048, chunks = 64, ctas = 16;
  std::vector<float> in(std::size_t{chunk} * chunks * ctas);
  std::mt19937 g(5);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  double want = 0;
  for (auto& x : in) want += (x = d(g));
  DeviceBuffer<float> din(in), out(1);
  out.fill_bytes(0);
  m->kernel("bulk_pipeline_sum").launch(LaunchConfig{{ctas}, {256}}, chunks, DevicePtr<std::uint8_t>(din.ptr().raw()), out);
  const double got = out.to_vector()[0];
  MESSAGE("pipeline sum " << got << " vs " << want);
  CHECK(std::abs(got - want) / want < 1e-4);
}
