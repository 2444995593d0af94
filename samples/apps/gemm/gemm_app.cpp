// The GEMM sample's host program: emits the weft GEMMs this GPU can run, runs them on random data and
// checks every output element (D is poisoned with NaN first): against float64 on the CPU for small
// sizes, against cuBLAS for large ones. Relative Frobenius error: bf16 <= 1e-2, e4m3 <= 3e-2.
//   - gemm_bf16_sm90 and gemm_e4m3_sm90 (sm_90 GPUs): TMA + wgmma, each also with bn = 256, 2-CTA
//     cluster multicast, split-K (run twice: its counters must come back to zero) and f32 output
//     with bias; e4m3 with per-tensor scales (in alpha) and DeepSeek-V3 block scales (1 x 128 for A,
//     128 x 128 for B; float64 with the scales applied for small sizes, cuBLAS bf16 on the scaled
//     inputs, powers of two so exact in bf16, for large ones).
//   - gemm_bf16_sm80 (sm_80+), TN and NN, with and without bias; gemm_e4m3_sm89 (sm_89+), TN, with
//     per-tensor scales folded into alpha (the large e4m3 reference is cuBLAS bf16 on the widened
//     inputs, which e4m3 -> bf16 represents exactly).
//   gemm_app [m n k]   (default: a set of small and odd shapes, then large ones against cuBLAS;
//                       with sizes: the sm_90 kernel on sm_90, else the sm_80 bf16 TN kernel)
#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <tuple>
#include <type_traits>

#include "samples/apps/gemm/gemm_common.h"
#include "samples/apps/gemm/gemm_tuned.h"
#include "samples/apps/gemm/grouped_rows.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/quick.h"

using namespace gemm;
using namespace weft::rt;

namespace {

// The reference D = scale * A*B + beta * C: float64 on the CPU when `small`, else cuBLAS bf16 on the
// inputs rounded to bf16 (exact: they are bf16, widened e4m3, or scaled by powers of two), so only the
// summation differs. A is m x k row-major; B is n x k (TN) or k x n (nn). Without cuBLAS for a large
// problem: says so and returns nullopt.
std::optional<std::vector<double>> reference(Cublas* cublas, bool small, std::uint32_t m, std::uint32_t n,
                                             std::uint32_t k, float scale, float beta, const std::vector<float>& a,
                                             const std::vector<float>& b, bool nn, const std::vector<bf16>& c) {
  std::vector<double> want(std::size_t{m} * n);
  if (small) {
    for (std::uint32_t i = 0; i < m; ++i)
      for (std::uint32_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::uint32_t kk = 0; kk < k; ++kk)
          s += double(a[std::size_t{i} * k + kk]) * (nn ? b[std::size_t{kk} * n + j] : b[std::size_t{j} * k + kk]);
        want[std::size_t{i} * n + j] = double(scale) * s + beta * from_bf16(c[std::size_t{i} * n + j]);
      }
    return want;
  }
  if (!cublas) {
    std::printf("%ux%ux%u: no reference (cuBLAS missing)\n", m, n, k);
    return std::nullopt;
  }
  std::vector<bf16> a16(a.size()), b16(b.size());
  for (std::size_t i = 0; i < a.size(); ++i) a16[i] = to_bf16(a[i]);
  for (std::size_t i = 0; i < b.size(); ++i) b16[i] = to_bf16(b[i]);
  DeviceBuffer<bf16> ra(a16), rb(b16), ref(c);
  const auto* pa = reinterpret_cast<const bf16*>(ra.raw());
  const auto* pb = reinterpret_cast<const bf16*>(rb.raw());
  auto* pd = reinterpret_cast<bf16*>(ref.raw());
  if (nn) cublas->run_nn(m, n, k, scale, beta, pa, pb, pd);
  else cublas->run(m, n, k, scale, beta, pa, pb, pd);
  synchronize();
  const auto r = ref.to_vector();
  for (std::size_t i = 0; i < r.size(); ++i) want[i] = from_bf16(r[i]);
  return want;
}

// Under WEFT_APP_QUICK (the emulated device) only products of up to 2^26 multiply-adds run; the
// others print a `skip` line.
bool skipped_in_quick_mode(const char* label, std::uint32_t m, std::uint32_t n, std::uint32_t k) {
  if (!weft::samples::quick_mode() || std::uint64_t{m} * n * k <= (std::uint64_t{1} << 26)) return false;
  std::printf("skip   %s %5u x %5u x %5u (WEFT_APP_QUICK)\n", label, m, n, k);
  return true;
}

// The sm_80 path: one case of gemm_bf16_sm80 / gemm_e4m3_sm89 (the layout, bias and dtype are g's).
struct Case80 {
  std::uint32_t m, n, k;
  float alpha = 1.0f, beta = 0.0f;
  float a_scale = 1.0f, b_scale = 1.0f;  // e4m3 per-tensor scales (folded into alpha for the launch)
};

bool check_sm80(WeftGemmSm80& g, Cublas* cublas, const Case80& cs) {
  const auto [m, n, k, alpha, beta, sa, sb] = cs;
  if (skipped_in_quick_mode(g.name.c_str(), m, n, k)) return true;
  const bool fp8 = g.dtype == WeftGemmSm80::Dtype::e4m3;
  // Inputs as bf16 bits (the widened e4m3 values for fp8): what the references multiply.
  std::vector<e4m3> a8, b8;
  std::vector<bf16> a, b;
  if (fp8) {
    a8 = random_e4m3(std::size_t{m} * k, 1);
    b8 = random_e4m3(std::size_t{n} * k, 2);
    a = widen_e4m3(a8);
    b = widen_e4m3(b8);
  } else {
    a = random_bf16(std::size_t{m} * k, 1);
    b = random_bf16(std::size_t{n} * k, 2);  // n x k (TN) or k x n (NN)
  }
  const auto c = random_bf16(std::size_t{m} * n, 3), bias = random_bf16(n, 4);
  const float scale = fp8 ? alpha * sa * sb : alpha;
  DeviceBuffer<bf16> da(a), db(b), dc(c), dd(std::size_t{m} * n), dbias(bias);
  DeviceBuffer<e4m3> da8(a8), db8(b8);
  dd.fill_bytes(0xFF);  // NaN in bf16: an element never written shows up
  g.run(m, n, k, scale, beta, fp8 ? da8.raw() : da.raw(), fp8 ? db8.raw() : db.raw(), dc.ptr(), dd.ptr(),
        g.bias ? dbias.ptr() : DevicePtr<bf16>{});
  const auto got = dd.to_vector();
  const bool small = std::uint64_t{m} * n * k <= (std::uint64_t{1} << 27);
  auto ref = reference(cublas, small, m, n, k, scale, beta, values_of(a), values_of(b), g.nn, c);
  if (!ref) return false;
  auto& want = *ref;
  if (g.bias)
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += from_bf16(bias[i % n]);
  const double err = rel_error(got, want);
  const double tol = fp8 ? 3e-2 : 1e-2;
  const bool ok = err <= tol;
  std::printf("%-6s %s %s%s %5u x %5u x %5u alpha %.2f beta %.2f%s: relative error %.2e vs %s\n", ok ? "ok" : "FAIL",
              g.name.c_str(), g.nn ? "NN" : "TN", g.bias ? "+bias" : "", m, n, k, alpha, beta,
              fp8 ? (" scales " + std::to_string(sa).substr(0, 4) + "/" + std::to_string(sb).substr(0, 4)).c_str() : "",
              err, small ? "float64" : "cuBLAS");
  return ok;
}

// The grouped GEMM's check (below), and the sm_80 GEMM as it sees a GEMM: the options it reads and
// run() over Sm90Operands.
template <class Gemm>
bool check_grouped(Gemm& g, Cublas* cublas, const std::vector<std::uint32_t>& rows_per_group, std::uint32_t n,
                   std::uint32_t k, float beta, std::uint32_t capacity);
struct GroupedSm80 {
  struct Options {
    bool fp8 = false, bias = false;
    static constexpr bool block_scales = false;
  };
  WeftGemmSm80& g;
  Options opt;
  std::string label() const { return g.name + (g.bias ? " +bias" : "") + " grouped"; }
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const Sm90Operands& x) {
    g.run_grouped(m, n, k, alpha, beta, x.a, x.b, DevicePtr<bf16>(x.c), DevicePtr<bf16>(x.d), DevicePtr<bf16>(x.bias),
                  x.tile_groups, x.groups);
  }
};

bool run_sm80(Cublas* cublas, int sm) {
  bool ok = true;
  using D = WeftGemmSm80::Dtype;
  {
    auto g = WeftGemmSm80::load(D::bf16);
    ok &= check_sm80(g, cublas, {128, 128, 64});
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.5f, 0.5f});
    ok &= check_sm80(g, cublas, {77, 200, 136, 1.0f, 1.0f});   // nothing a multiple of a tile
    ok &= check_sm80(g, cublas, {77, 199, 136, 1.0f, 1.0f});   // odd n: the unpaired stores
    ok &= check_sm80(g, cublas, {1000, 1536, 504});
    ok &= check_sm80(g, cublas, {4096, 4096, 4096});
  }
  {
    auto g = WeftGemmSm80::load(D::bf16, /*nn=*/true);
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.5f, 0.5f});
    ok &= check_sm80(g, cublas, {77, 200, 136, 1.0f, 1.0f});
    ok &= check_sm80(g, cublas, {2048, 2048, 2048});
  }
  {
    auto g = WeftGemmSm80::load(D::bf16, /*nn=*/false, /*bias=*/true);
    ok &= check_sm80(g, cublas, {130, 72, 96, 1.0f, 0.5f});
  }
  {  // grouped (MoE experts), as the Hopper GEMM's: bias per group, an empty group, padding tile rows
    auto g = WeftGemmSm80::load(D::bf16, /*nn=*/false, /*bias=*/true, {"groups=1"});
    GroupedSm80 view{g, {.fp8 = false, .bias = true}};
    ok &= check_grouped(view, cublas, {70, 0, 130}, 136, 208, 0.5f, 512);
    ok &= check_grouped(view, cublas, {1000, 3000, 0, 2048, 517}, 4096, 7168, 0.5f, 7168);
  }
  if (weft::samples::runs_on("gemm_e4m3_sm89", sm)) {
    {
      auto g = WeftGemmSm80::load(D::e4m3, /*nn=*/false, /*bias=*/false, {"groups=1"});
      GroupedSm80 view{g, {.fp8 = true, .bias = false}};
      ok &= check_grouped(view, cublas, {70, 0, 130}, 136, 208, 0.5f, 512);
    }
    auto g = WeftGemmSm80::load(D::e4m3);
    ok &= check_sm80(g, cublas, {128, 128, 128});
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.0f, 0.5f, 0.5f, 0.25f});
    ok &= check_sm80(g, cublas, {77, 200, 144, 1.0f, 1.0f, 2.0f, 1.0f});
    ok &= check_sm80(g, cublas, {4096, 4096, 4096, 1.0f, 0.0f, 0.125f, 0.25f});
    auto gb = WeftGemmSm80::load(D::e4m3, /*nn=*/false, /*bias=*/true);
    ok &= check_sm80(gb, cublas, {130, 72, 96, 1.0f, 0.5f, 0.5f, 0.5f});
  } else {
    std::printf("note: gemm_e4m3_sm89 not run (sm_%d has no fp8 mma)\n", sm);
  }
  return ok;
}

// The TMA GEMMs: one case of gemm_bf16_sm90 / gemm_e4m3_sm90 (dtype, output type, bias, block
// scales, cluster and split-K are g's), or of gemm_bf16_sm100 (output type and bias). Per-tensor e4m3
// scales are folded into alpha; block scales are random fp32 in the documented layouts (powers of two
// for the cuBLAS-checked sizes, so that the scaled inputs stay exact in bf16). An f32 C holds the same
// values as the bf16 one.
struct Case90 {
  std::uint32_t m, n, k;
  float alpha = 1.0f, beta = 0.0f;
  float a_scale = 1.0f, b_scale = 1.0f;  // e4m3 per-tensor (folded into alpha)
};

// `job`: the copy role's work (a WeftGemmSm90 built with copy=1), checked along with D.
template <class Gemm>  // WeftGemmSm90, WeftGemmSm100 or TunedGemmSm90
bool check_tma_gemm(Gemm& g, Cublas* cublas, const Case90& cs, const GemmCopyJob& job = {}) {
  const auto [m, n, k, alpha, beta, sa, sb] = cs;
  if (skipped_in_quick_mode(g.label().c_str(), m, n, k)) return true;
  const auto& o = g.opt;
  const bool small = std::uint64_t{m} * n * k <= (std::uint64_t{1} << 27);
  std::vector<e4m3> a8, b8;
  std::vector<bf16> a16, b16;
  std::vector<float> av, bv;  // the inputs as values (block scales applied)
  std::vector<float> a_scales, b_scales;
  if (o.fp8) {
    a8 = random_e4m3(std::size_t{m} * k, 1);
    b8 = random_e4m3(std::size_t{n} * k, 2);
    if (o.block_scales) {
      const std::uint32_t kb = WeftGemmSm90::k_blocks(k);
      a_scales = random_scales(std::size_t{kb} * m, 5, /*pow2=*/!small);
      b_scales = random_scales(std::size_t{(n + 127) / 128} * kb, 6, /*pow2=*/!small);
      av = scale_a_rows(a8, a_scales, m, k);
      bv = scale_b_blocks(b8, b_scales, n, k);
    } else {
      av.resize(a8.size());
      bv.resize(b8.size());
      for (std::size_t i = 0; i < a8.size(); ++i) av[i] = from_e4m3(a8[i]);
      for (std::size_t i = 0; i < b8.size(); ++i) bv[i] = from_e4m3(b8[i]);
    }
  } else {
    a16 = random_bf16(std::size_t{m} * k, 1);
    b16 = random_bf16(std::size_t{n} * k, 2);  // n x k (TN) or k x n (NN)
    av = values_of(a16);
    bv = values_of(b16);
  }
  const auto c = random_bf16(std::size_t{m} * n, 3), bias = random_bf16(n, 4);
  const float scale = o.fp8 ? alpha * sa * sb : alpha;
  DeviceBuffer<e4m3> da8(a8), db8(b8);
  DeviceBuffer<bf16> da16(a16), db16(b16), dc16(c), dd16(o.out_f32 ? 0 : std::size_t{m} * n), dbias(bias);
  DeviceBuffer<float> dc32(o.out_f32 ? values_of(c) : std::vector<float>{}), dd32(o.out_f32 ? std::size_t{m} * n : 0);
  DeviceBuffer<float> dsa(a_scales), dsb(b_scales);
  dd16.fill_bytes(0xFF);  // NaN in bf16 and f32: an element never written shows up
  dd32.fill_bytes(0xFF);
  Sm90Operands x{o.fp8 ? da8.raw() : da16.raw(), o.fp8 ? db8.raw() : db16.raw(), o.out_f32 ? dc32.raw() : dc16.raw(),
                 o.out_f32 ? dd32.raw() : dd16.raw()};
  if (o.bias) x.bias = dbias.raw();
  if (o.block_scales) x.a_scales = dsa.raw(), x.b_scales = dsb.raw();
  // Twice: split-K's counters must be left at zero for the next launch. A wait that times out (the
  // kernels are built with debug waits) traps: say which one, then fail (the context is lost).
  try {
    for (int run = 0; run < 2; ++run) {
      if constexpr (std::is_same_v<Gemm, WeftGemmSm90>) g.run(m, n, k, scale, beta, x, nullptr, 0, job);
      else g.run(m, n, k, scale, beta, x);
    }
    synchronize();
  } catch (const Error&) {
    if constexpr (requires { g.module; })  // the tuned GEMM's variants report through their own modules
      if (auto report = g.module.debug_wait_report())
        std::printf("FAIL   %s %u x %u x %u: %s\n", g.label().c_str(), m, n, k, report->describe().c_str());
    throw;
  }
  auto ref = reference(cublas, small, m, n, k, scale, beta, av, bv, o.nn, c);
  if (!ref) return false;
  auto& want = *ref;
  if (o.bias)
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += from_bf16(bias[i % n]);
  const double err = o.out_f32 ? rel_error(dd32.to_vector(), want) : rel_error(dd16.to_vector(), want);
  const bool ok = err <= (o.fp8 ? 3e-2 : 1e-2);
  std::printf("%-6s %s %5u x %5u x %5u alpha %.2f beta %.2f%s: relative error %.2e vs %s\n", ok ? "ok" : "FAIL",
              g.label().c_str(), m, n, k, alpha, beta,
              o.fp8 ? (" scales " + std::to_string(sa).substr(0, 4) + "/" + std::to_string(sb).substr(0, 4)).c_str() : "",
              err, small ? "float64" : "cuBLAS");
  return ok;
}

// Refused before launch: a K whose rows of A and B do not start on 16 bytes, or (TMA-store epilogue)
// an N whose rows of D do not.
bool check_sm90_refuses(WeftGemmSm90& g, std::uint32_t n, std::uint32_t k) {
  try {
    DeviceBuffer<std::uint8_t> a(std::size_t{k} * 64 * 2), b(std::size_t{k} * n * 2);
    DeviceBuffer<float> d(std::size_t{64} * n);
    g.run(64, n, k, 1.0f, 0.0f, {a.raw(), b.raw(), d.raw(), d.raw()});
    std::printf("FAIL   %s accepted n = %u, k = %u\n", g.label().c_str(), n, k);
    return false;
  } catch (const std::runtime_error& e) {
    std::printf("ok     %s refuses n = %u, k = %u: %s\n", g.label().c_str(), n, k, e.what());
    return true;
  }
}

// The grouped GEMM (groups=1, MoE experts): groups of rows_per_group[g] rows of A (laid out by
// grouped_rows, each group on a 128-row boundary, some empty, then padding tile rows up to
// `capacity`), each multiplied by its own B (and bias, and block scales), checked group by group
// against float64 or cuBLAS over every row the kernel stores for it (its tile rows); the padding tile
// rows must keep their poison (not written).
template <class Gemm>  // WeftGemmSm90 or WeftGemmSm100, loaded with groups
bool check_grouped(Gemm& g, Cublas* cublas, const std::vector<std::uint32_t>& rows_per_group, std::uint32_t n,
                   std::uint32_t k, float beta, std::uint32_t capacity) {
  const auto& o = g.opt;
  const auto layout = grouped_rows(rows_per_group, capacity);
  const std::uint32_t m = layout.m, groups = static_cast<std::uint32_t>(rows_per_group.size());
  if (skipped_in_quick_mode(g.label().c_str(), m, n, k)) return true;
  const bool small = std::uint64_t{m} * n * k <= (std::uint64_t{1} << 27);
  const std::size_t bn_rows = std::size_t{groups} * n;
  std::vector<e4m3> a8, b8;
  std::vector<bf16> a16, b16;
  std::vector<float> av, bv, a_scales, b_scales;
  const std::uint32_t kb = WeftGemmSm90::k_blocks(k), nb = (n + 127) / 128;
  if (o.fp8) {
    a8 = random_e4m3(std::size_t{m} * k, 11);
    b8 = random_e4m3(bn_rows * k, 12);
    if (o.block_scales) {  // B's scales: each group's nb x kb after the previous group's
      a_scales = random_scales(std::size_t{kb} * m, 15, /*pow2=*/!small);
      b_scales = random_scales(std::size_t{groups} * nb * kb, 16, /*pow2=*/!small);
      av = scale_a_rows(a8, a_scales, m, k);
      for (std::uint32_t gi = 0; gi < groups; ++gi) {
        const std::vector<e4m3> bg(b8.begin() + std::size_t{gi} * n * k, b8.begin() + std::size_t{gi + 1} * n * k);
        const std::vector<float> sg(b_scales.begin() + std::size_t{gi} * nb * kb,
                                    b_scales.begin() + std::size_t{gi + 1} * nb * kb);
        const auto vg = scale_b_blocks(bg, sg, n, k);
        bv.insert(bv.end(), vg.begin(), vg.end());
      }
    } else {
      for (auto v : a8) av.push_back(from_e4m3(v));
      for (auto v : b8) bv.push_back(from_e4m3(v));
    }
  } else {
    a16 = random_bf16(std::size_t{m} * k, 11);
    b16 = random_bf16(bn_rows * k, 12);
    av = values_of(a16);
    bv = values_of(b16);
  }
  const auto c = random_bf16(std::size_t{m} * n, 13), bias = random_bf16(bn_rows, 14);
  DeviceBuffer<e4m3> da8(a8), db8(b8);
  DeviceBuffer<bf16> da16(a16), db16(b16), dc(c), dd(std::size_t{m} * n), dbias(bias);
  DeviceBuffer<float> dsa(a_scales), dsb(b_scales);
  DeviceBuffer<std::int32_t> dgroups(layout.tile_groups);
  dd.fill_bytes(0xFF);  // NaN: a row written that should not be, or one not written, shows up
  Sm90Operands x{o.fp8 ? da8.raw() : da16.raw(), o.fp8 ? db8.raw() : db16.raw(), dc.raw(), dd.raw()};
  if (o.bias) x.bias = dbias.raw();
  if (o.block_scales) x.a_scales = dsa.raw(), x.b_scales = dsb.raw();
  x.tile_groups = dgroups.raw();
  x.groups = groups;
  check_tile_groups(layout.tile_groups, m, groups);
  g.run(m, n, k, 1.0f, beta, x);
  synchronize();
  const auto got = dd.to_vector();
  // Each group's rows against its own product; the padding tile rows must still be NaN.
  double worst = 0;
  for (std::uint32_t gi = 0; gi < groups; ++gi) {
    const std::uint32_t rows = layout.stored[gi], first = layout.first[gi];
    if (rows == 0) continue;
    const std::vector<float> ag(av.begin() + std::size_t{first} * k, av.begin() + std::size_t{first + rows} * k);
    const std::vector<float> bg(bv.begin() + std::size_t{gi} * n * k, bv.begin() + std::size_t{gi + 1} * n * k);
    const std::vector<bf16> cg(c.begin() + std::size_t{first} * n, c.begin() + std::size_t{first + rows} * n);
    auto ref = reference(cublas, small, rows, n, k, 1.0f, beta, ag, bg, false, cg);
    if (!ref) return false;
    auto& want = *ref;
    if (o.bias)
      for (std::size_t i = 0; i < want.size(); ++i) want[i] += from_bf16(bias[std::size_t{gi} * n + i % n]);
    const std::vector<bf16> mine(got.begin() + std::size_t{first} * n, got.begin() + std::size_t{first + rows} * n);
    worst = std::max(worst, rel_error(mine, want));
  }
  const std::size_t padding_written = padding_elements_written(got, layout, n);
  const bool ok = worst <= (o.fp8 ? 3e-2 : 1e-2) && padding_written == 0;
  std::printf("%-6s %s %u groups (%u rows with padding) x %5u x %5u beta %.2f: worst group's relative error %.2e "
              "vs %s, %zu padding elements written\n",
              ok ? "ok" : "FAIL", g.label().c_str(), groups, m, n, k, beta, worst, small ? "float64" : "cuBLAS",
              padding_written);
  return ok;
}

// The copy role (the overlap sample's design b): one producer-side warp of the GEMM's own CTAs
// copies a buffer with bulk copies while the GEMM runs. Both the product and every copied byte are
// checked (the destination poisoned first).
bool check_copy_role(Cublas* cublas) {
  constexpr std::uint32_t chunk = 16384, chunks = 37;  // not a multiple of the grid
  auto g = WeftGemmSm90::load({.debug_waits = true,
                               .extra = {"copy=1", "copy_chunk=" + std::to_string(chunk), "copy_stages=2"}});
  std::vector<std::uint8_t> bytes(std::size_t{chunk} * chunks);
  std::mt19937 gen(7);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(gen());
  DeviceBuffer<std::uint8_t> src(bytes), dst(bytes.size());
  dst.fill_bytes(0xA5);
  bool ok = check_tma_gemm(g, cublas, {256, 384, 512, 1.0f, 0.5f}, {src.raw(), dst.raw(), chunks});
  const bool copied = dst.to_vector() == bytes;
  std::printf("%-6s %s copy role: %u chunks of %u bytes copied while the GEMM ran\n", copied ? "ok" : "FAIL",
              g.label().c_str(), chunks, chunk);
  return ok && copied;
}

bool run_sm90(Cublas* cublas, bool fp8) {
  const std::uint32_t k_tail = fp8 ? 144 : 136;  // no tile multiple, a K tail, rows on 16 bytes
  struct Variant {
    const char* why;
    Sm90Options opts;
    std::vector<Case90> cases;
    bool refusals = false;  // also check the refused shapes
  };
  std::vector<Variant> variants = {
      {"defaults", {},
       {{128, 128, 128}, {256, 384, 512, 1.5f, 0.5f, 0.5f, 0.25f}, {77, 200, k_tail, 1.0f, 1.0f, 2.0f, 1.0f},
        {1000, 1536, 4032, 1.0f, 0.0f, 0.125f, 0.25f}, {4096, 4096, 4096, 1.0f, 0.0f, 0.125f, 0.25f}},
       true},
      {"128 x 256 tiles", {.bn = 256}, {{77, 304, 272, 1.0f, 0.5f, 0.5f, 0.5f}, {4096, 4096, 4096}}},
      {"bias and beta through the bf16 TMA-store epilogue (stmatrix staging)", {.bn = 256, .bias = true},
       {{77, 304, 272, 1.0f, 0.5f}, {2048, 2048, 2048, 1.0f, 1.0f}}},
      {"register stores: any N (odd N: the unpaired stores)", {.bn = 256, .tma_store = false},
       {{77, 301, 272, 1.0f, 0.5f, 0.5f, 0.5f}, {1000, 1536, 4032}}},
      {"2-CTA clusters sharing B; three tile rows leave a CTA without rows", {.bn = 256, .cluster_m = 2},
       {{384, 512, 256, 1.0f, 0.5f}, {2048, 2048, 2048}}},
      {"split-K: the decode shape, an uneven K, fewer K tiles than parts (empty parts add zero)", {.splits = 4},
       {{64, 7168, 7168}, {200, 296, 720, 1.0f, 0.5f}, {100, 104, 64}}},
      {"ping-pong: each consumer warpgroup whole tiles in turn", {.pingpong = true},
       {{256, 384, 512, 1.5f, 0.5f, 0.5f, 0.25f}, {77, 200, k_tail, 1.0f, 1.0f}, {4096, 4096, 4096}}},
      {"ping-pong in clusters with split-K", {.cluster_m = 2, .splits = 2, .pingpong = true},
       {{384, 512, 256, 1.0f, 0.5f}, {2048, 2048, 2048}}},
      {"f32 output with bias, in a cluster with split-K", {.cluster_m = 2, .splits = 2, .out_f32 = true, .bias = true},
       {{130, 72, 192, 1.0f, 0.5f}, {2048, 2048, 2048, 1.0f, 1.0f}}},
      // Shapes whose tiles leave a partial last wave on any card: their K tiles are shared out, and
      // tiles cut between CTAs are summed through the workspace (fewer tiles than CTAs: every tile cut).
      {"stream-K: the last wave's tiles shared out by K tiles", {.bn = 256, .stream_k = true},
       {{384, 512, 256, 1.0f, 0.5f}, {77, 304, 272, 1.0f, 0.5f, 0.5f, 0.5f}, {4000, 4000, 4000}, {64, 7168, 7168}}},
      {"stream-K with f32 output and bias", {.out_f32 = true, .bias = true, .stream_k = true},
       {{200, 296, 720, 1.0f, 0.5f}, {1000, 1536, 4032, 1.0f, 1.0f}}},
      // A in 64-row boxes, the one past M completed instead of loaded: decode (M = 64), a last tile
      // row with one box inside M (M = 130) and with both (M = 200), and stream-K at M = 64.
      {"A in 64-row boxes (a_halves)", {.extra = {"a_halves=1"}},
       {{64, 7168, 7168}, {130, 296, 720, 1.0f, 0.5f}, {200, 384, 512}}},
      {"A in 64-row boxes with stream-K", {.stream_k = true, .extra = {"a_halves=1"}}, {{64, 7168, 7168}}},
  };
  if (!fp8) {  // NN: B k x n row-major, MN-major tiles; also in clusters with split-K
    variants.push_back({"NN", {.nn = true}, {{256, 384, 512, 1.5f, 0.5f}, {77, 200, 136, 1.0f, 1.0f}, {2048, 2048, 2048}}});
    variants.push_back({"NN in clusters with split-K", {.bn = 256, .cluster_m = 2, .splits = 2, .nn = true},
                        {{384, 512, 256, 1.0f, 0.5f}, {2048, 2048, 2048}}});
  } else {  // DeepSeek-V3 block scales
    variants.push_back({"block scales (a partial K block; no tile multiple)", {.block_scales = true},
                        {{128, 128, 256}, {256, 384, 640, 1.0f, 0.5f}, {77, 200, 400, 1.0f, 1.0f}, {4096, 4096, 4096},
                         {1000, 1536, 4032}}});
    variants.push_back({"block scales, 64-column tiles", {.bn = 64, .block_scales = true, .tma_store = false},
                        {{200, 330, 528, 1.0f, 0.5f}}});
    variants.push_back({"block scales with stream-K", {.block_scales = true, .stream_k = true},
                        {{256, 384, 640, 1.0f, 0.5f}, {4096, 4096, 4096}}});
  }
  bool ok = true;
  if (!fp8) {
    try {  // isolated like the variants below
      ok &= check_copy_role(cublas);
    } catch (const std::exception& e) {
      std::printf("FAIL   gemm_bf16_sm90 copy role: %s\n", e.what());
      ok = false;
    }
  }
  for (auto& v : variants) {
    v.opts.fp8 = fp8;
    v.opts.debug_waits = true;  // a hang in a protocol becomes a report naming the wait (2 s)
    try {  // a variant that fails to load or launch is one failure; the next one still runs
      auto g = WeftGemmSm90::load(v.opts);
      for (const auto& c : v.cases) ok &= check_tma_gemm(g, cublas, c);
      if (v.refusals) {
        ok &= check_sm90_refuses(g, 64, fp8 ? 130 : 129);
        ok &= check_sm90_refuses(g, 100, 128);  // rows of D of 200 bytes: no TMA store
      }
    } catch (const std::exception& e) {
      std::printf("FAIL   %s (%s): %s\n", sm90_label(v.opts).c_str(), v.why, e.what());
      ok = false;
    }
  }
  // Grouped: bias per group (bf16) or block scales per group (e4m3), also with split-K; an empty group,
  // groups that end inside a tile row, and padding tile rows up to a capacity (left unwritten). Large:
  // MoE-like groups of 7168-wide rows.
  {
    Sm90Options grouped{.fp8 = fp8, .bias = !fp8, .block_scales = fp8, .debug_waits = true, .groups = true};
    Sm90Options split = grouped, pingpong = grouped;
    split.splits = 2;
    pingpong.pingpong = true;
    pingpong.bn = 64;  // ping-pong holds a whole 128 x bn tile per warpgroup: 64 with block scales
    for (const auto& [opts, rows, n, k, capacity] :
         {std::tuple{grouped, std::vector<std::uint32_t>{70, 0, 130}, 136u, 208u, 512u},
          std::tuple{split, std::vector<std::uint32_t>{64, 129}, 72u, 400u, 512u},
          std::tuple{pingpong, std::vector<std::uint32_t>{130, 0, 64}, 136u, 144u, 512u},
          std::tuple{grouped, std::vector<std::uint32_t>{1000, 3000, 0, 2048, 517}, 4096u, 7168u, 7168u}}) {
      try {
        auto g = WeftGemmSm90::load(opts);
        ok &= check_grouped(g, cublas, rows, n, k, 0.5f, capacity);
      } catch (const std::exception& e) {
        std::printf("FAIL   grouped %s: %s\n", sm90_label(opts).c_str(), e.what());
        ok = false;
      }
    }
  }
  // The tuned GEMM (gemm_tuned.h): the first run of a shape times its candidates into a scratch D and
  // the winner writes D; the second (check_tma_gemm runs each case twice) uses the remembered choice.
  try {
    TunedGemmSm90 tuned({.fp8 = fp8, .debug_waits = true}, weft::samples::quick_mode() ? TuneRuns{0, 1} : TuneRuns{});
    for (const Case90& c : {Case90{64, 7168, 7168}, Case90{4096, 4096, 4096}, Case90{64, 256, 512},
                            Case90{200, 384, 256, 1.0f, 0.5f}})
      ok &= check_tma_gemm(tuned, cublas, c);
  } catch (const std::exception& e) {
    std::printf("FAIL   tuned %s: %s\n", fp8 ? "gemm_e4m3_sm90" : "gemm_bf16_sm90", e.what());
    ok = false;
  }
  return ok;
}

// The sm_100a GEMM (tcgen05), where the device runs it: no GPU of the project's has, so this runs on
// the emulated device (WEFT_EMU_SM=100) until one does.
bool run_sm100(Cublas* cublas) {
  const std::vector<std::pair<Sm100Options, std::vector<Case90>>> variants = {
      {{}, {{128, 256, 128}, {256, 512, 320, 1.5f, 0.5f}, {77, 200, 136, 1.0f, 1.0f}, {4096, 4096, 4096}}},
      {{.bn = 128, .out_f32 = true, .bias = true}, {{130, 72, 192, 1.0f, 0.5f}, {2048, 2048, 2048, 1.0f, 1.0f}}},
  };
  bool ok = true;
  for (auto [opts, cases] : variants) {
    opts.debug_waits = true;  // a protocol bug traps and names its wait
    try {
      auto g = WeftGemmSm100::load(opts);
      for (const auto& c : cases) ok &= check_tma_gemm(g, cublas, c);
    } catch (const std::exception& e) {
      std::printf("FAIL   %s: %s\n", sm100_label(opts).c_str(), e.what());
      ok = false;
    }
  }
  // Grouped, as the Hopper GEMM's: bias per group, an empty group, padding tile rows up to a capacity.
  const Sm100Options grouped{.bn = 128, .bias = true, .debug_waits = true, .groups = true};
  try {
    auto g = WeftGemmSm100::load(grouped);
    ok &= check_grouped(g, cublas, {70, 0, 130}, 136, 208, 0.5f, 512);
    ok &= check_grouped(g, cublas, {1000, 3000, 0, 2048, 517}, 4096, 7168, 0.5f, 7168);
  } catch (const std::exception& e) {
    std::printf("FAIL   %s: %s\n", sm100_label(grouped).c_str(), e.what());
    ok = false;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  try {
    const int sm = device_props(0).sm();
    if (!weft::samples::runs_on("gemm_bf16_sm80", sm)) {
      std::printf("skipped: the weft GEMMs need sm_80 or later (this is %s)\n", device_props(0).target().c_str());
      return 0;
    }
    std::unique_ptr<Cublas> cublas;
    try {
      cublas = std::make_unique<Cublas>();
    } catch (const std::exception& e) {
      std::printf("note: %s\n", e.what());
    }
    bool ok = true;
    if (argc == 4) {
      const std::uint32_t m = std::stoul(argv[1]), n = std::stoul(argv[2]), k = std::stoul(argv[3]);
      if (weft::samples::runs_on("gemm_bf16_sm90", sm)) {
        auto g = WeftGemmSm90::load();
        ok = check_tma_gemm(g, cublas.get(), {m, n, k});
      } else {
        auto g = WeftGemmSm80::load(WeftGemmSm80::Dtype::bf16);
        ok = check_sm80(g, cublas.get(), {m, n, k});
      }
      return ok ? 0 : 1;
    }
    // Each kernel family on its own, so that an error in one still lets the other report.
    auto guarded = [&](const char* what, const std::function<bool()>& f) {
      try {
        return f();
      } catch (const std::exception& e) {
        std::printf("error (%s): %s\n", what, e.what());
        return false;
      }
    };
    for (const bool fp8 : {false, true}) {
      const char* name = fp8 ? "gemm_e4m3_sm90" : "gemm_bf16_sm90";
      if (weft::samples::runs_on(name, sm)) ok &= guarded(name, [&] { return run_sm90(cublas.get(), fp8); });
      else std::printf("note: %s not run (written for sm_90a, this is sm_%d)\n", name, sm);
    }
    if (weft::samples::runs_on(WeftGemmSm100::kName, sm))
      ok &= guarded(WeftGemmSm100::kName, [&] { return run_sm100(cublas.get()); });
    ok &= guarded("sm_80 path", [&] { return run_sm80(cublas.get(), sm); });
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
