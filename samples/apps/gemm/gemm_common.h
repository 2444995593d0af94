// Shared by the GEMM host app and benchmark: bf16 data, the weft kernel's launch, and cuBLAS
// (loaded with dlopen from the CUDA toolkit, so the programs build anywhere and say clearly when
// cuBLAS is missing).
#pragma once

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <cublasLt.h>
#include <cublas_api.h>

#include "codegen/printer.h"
#include "samples/apps/emit_for_device.h"
#include "dsl/registry.h"
#include "runtime/weft_rt.h"

namespace gemm {

using bf16 = std::uint16_t;

inline bf16 to_bf16(float f) {  // round to nearest even
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<bf16>(u >> 16);
}
inline float from_bf16(bf16 h) {
  const std::uint32_t u = std::uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline std::vector<float> values_of(const std::vector<bf16>& v) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = from_bf16(v[i]);
  return out;
}
inline std::vector<bf16> random_bf16(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<bf16> v(n);
  for (auto& x : v) x = to_bf16(d(g));
  return v;
}

// e4m3 (fp8): 1 sign, 4 exponent (bias 7), 3 mantissa bits; 0x7F / 0xFF are NaN, no infinities.
using e4m3 = std::uint8_t;
inline float from_e4m3(e4m3 v) {
  const int e = (v >> 3) & 0xF, m = v & 7;
  const float mag = e == 0 ? std::ldexp(float(m) / 8.0f, -6) : std::ldexp(1.0f + float(m) / 8.0f, e - 7);
  return (v & 0x80) ? -mag : mag;
}
// Random e4m3 values of magnitude 1/8 .. 3.75 (exponent field 4..8), either sign: every one is exact
// in bf16 as well, so a bf16 GEMM on the widened inputs is an exact-input reference.
inline std::vector<e4m3> random_e4m3(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> exp(4, 8), man(0, 7), sign(0, 1);
  std::vector<e4m3> v(n);
  for (auto& x : v) x = static_cast<e4m3>((sign(g) << 7) | (exp(g) << 3) | man(g));
  return v;
}
inline std::vector<bf16> widen_e4m3(const std::vector<e4m3>& v) {
  std::vector<bf16> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(from_e4m3(v[i]));
  return out;
}

// What a grouped build (groups=1, any of the GEMMs) requires: tile_groups and a group count, and B's
// rows (groups x n) within the kernels' 32-bit row numbers and TMA coordinates; a build that is not
// grouped takes neither.
inline void check_group_operands(const std::string& name, bool grouped, std::uint32_t n, CUdeviceptr tile_groups,
                                 std::uint32_t groups) {
  if (grouped && (!tile_groups || groups == 0))
    throw std::runtime_error(name + ": this build is grouped; pass tile_groups and the number of groups in B");
  if (!grouped && (tile_groups || groups))
    throw std::runtime_error(name + ": tile_groups given to a build that is not grouped (load with groups)");
  if (grouped && std::uint64_t{groups} * n > 0x7FFFFFFFu)
    throw std::runtime_error(name + ": " + std::to_string(groups) + " groups of n = " + std::to_string(n) +
                             " rows of B exceed the 2^31 rows the kernels' row numbers reach");
}

// The sm_80 path (samples/kernels/gemm/gemm_sm80.cpp): gemm_bf16_sm80 (TN or NN) and gemm_e4m3_sm89
// (TN), emitted in-process for this device's own target, with their launch shape (one CTA per tile).
struct WeftGemmSm80 {
  enum class Dtype { bf16, e4m3 };
  weft::rt::Module module;
  std::string name;
  Dtype dtype = Dtype::bf16;
  bool nn = false, bias = false;
  std::uint32_t bm = 128, bn = 128, threads = 256;
  bool groups = false;  // grouped (settings "groups=1"): run_grouped

  // `settings`: more --param values (bm=..., stages=..., groups=1); bm, bn, the warps and groups are
  // read back from them.
  static WeftGemmSm80 load(Dtype dtype, bool nn = false, bool bias = false, std::vector<std::string> settings = {}) {
    const char* name = dtype == Dtype::bf16 ? "gemm_bf16_sm80" : "gemm_e4m3_sm89";
    if (nn) settings.push_back("nn=1");
    if (bias) settings.push_back("bias=1");
    const auto em = weft::samples::emit(name, weft::rt::device_props(0).sm(), settings);
    WeftGemmSm80 g{weft::rt::Module::from_ptx(em.ptx), name, dtype, nn, bias};
    g.bm = static_cast<std::uint32_t>(em.params["bm"]);
    g.bn = static_cast<std::uint32_t>(em.params["bn"]);
    g.threads = static_cast<std::uint32_t>(em.params["warps_m"] * em.params["warps_n"] * 32);
    g.groups = em.params["groups"] != 0;
    return g;
  }
  // D = alpha * A * B + beta * C (+ bias): A m x k; B n x k (TN) or k x n (NN); C, D m x n; all
  // row-major. a and b hold bf16 or e4m3 by dtype; c, d and bias bf16. k must be a multiple of 16
  // bytes (8 bf16, 16 e4m3) and, for NN, n a multiple of 8.
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, CUdeviceptr a, CUdeviceptr b,
           weft::rt::DevicePtr<bf16> c, weft::rt::DevicePtr<bf16> d, weft::rt::DevicePtr<bf16> bias_ptr = {},
           CUstream stream = nullptr) {
    check_group_operands(name, groups, n, 0, 0);  // a grouped build refuses to run without its groups
    launch(m, n, k, alpha, beta, a, b, c, d, bias_ptr, 0, 0, stream);
  }
  // The grouped build (groups=1): B is `group_count` n x k matrices one after the other (the bias
  // group_count x n), tile_groups an s32 per 128-row tile row of A (gemm.md, "Grouped GEMM").
  void run_grouped(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, CUdeviceptr a,
                   CUdeviceptr b, weft::rt::DevicePtr<bf16> c, weft::rt::DevicePtr<bf16> d,
                   weft::rt::DevicePtr<bf16> bias_ptr, CUdeviceptr tile_groups, std::uint32_t group_count,
                   CUstream stream = nullptr) {
    check_group_operands(name, groups, n, tile_groups, group_count);
    launch(m, n, k, alpha, beta, a, b, c, d, bias_ptr, tile_groups, group_count, stream);
  }

 private:
  void launch(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, CUdeviceptr a, CUdeviceptr b,
              weft::rt::DevicePtr<bf16> c, weft::rt::DevicePtr<bf16> d, weft::rt::DevicePtr<bf16> bias_ptr,
              CUdeviceptr tile_groups, std::uint32_t group_count, CUstream stream) {
    using namespace weft::rt;
    const std::uint32_t chunk = dtype == Dtype::bf16 ? 8 : 16;
    if (k % chunk) throw std::runtime_error(name + ": k must be a multiple of " + std::to_string(chunk));
    if (nn && n % 8) throw std::runtime_error(name + ": NN needs n a multiple of 8");
    if (bias && !bias_ptr) throw std::runtime_error(name + ": this build adds a bias; pass one");
    const std::uint32_t tiles = ((m + bm - 1) / bm) * ((n + bn - 1) / bn);
    if (tiles == 0) return;  // an empty D: nothing to launch
    LaunchConfig cfg{{tiles}, {threads}};
    cfg.stream = stream;
    auto& kern = module.kernel(name);
    // The parameters in the kernel's order: m, n, k, alpha, beta, a, b, c, d, then each option's.
    ArgList args;
    args.push(m).push(n).push(k).push(alpha).push(beta);
    if (dtype == Dtype::bf16) args.push(DevicePtr<std::uint16_t>(a)).push(DevicePtr<std::uint16_t>(b));
    else args.push(DevicePtr<std::uint8_t>(a)).push(DevicePtr<std::uint8_t>(b));
    args.push(DevicePtr<std::uint16_t>(c.raw())).push(DevicePtr<std::uint16_t>(d.raw()));
    if (bias) args.push(DevicePtr<std::uint16_t>(bias_ptr.raw()));
    if (groups) args.push(DevicePtr<std::int32_t>(tile_groups)).push(group_count);
    kern.launch(cfg, args);
  }
};

// A buffer copy that the GEMM's copy role (gemm_bf16_sm90 with copy=1) performs while it runs.
struct GemmCopyJob {
  CUdeviceptr src = 0, dst = 0;
  std::uint32_t chunks = 0;  // of the kernel's copy_chunk bytes each
};

// How to build the Hopper GEMM (samples/kernels/gemm/gemm_sm90.cpp): gemm_bf16_sm90, or
// gemm_e4m3_sm90 with fp8. `extra`: more --param values (e.g. {"copy=1", "copy_chunk=16384"}).
struct Sm90Options {
  bool fp8 = false;
  std::uint32_t bn = 128, stages = 0;  // stages 0: as many as fit
  std::uint32_t cluster_m = 1;         // 2: CTA pairs share B through TMA multicast
  std::uint32_t splits = 1;            // split-K parts
  bool out_f32 = false, bias = false;
  bool block_scales = false;           // fp8 only: DeepSeek-V3 block scales
  bool tma_store = true;               // D through shared memory and TMA (needs n x element size % 16 == 0)
  bool nn = false;                     // bf16 only: B is k x n row-major (else n x k)
  bool debug_waits = false;            // bounded mbarrier waits: a protocol bug traps and names its wait
  bool pingpong = false;               // each consumer warpgroup whole 128 x bn tiles in turn (bn <= 128)
  // A and B loads ask L2 to fetch 256-byte runs (CU_TENSOR_MAP_L2_PROMOTION_L2_256B): each box row is
  // 128 bytes, and its neighbour along K is the next stage's. What public Hopper GEMMs use; off for
  // comparison.
  bool l2_promotion = true;
  // The last, partial wave's tiles shared out by K tiles over every CTA (cuts summed through a
  // workspace): no CTA idles while others finish the last wave.
  bool stream_k = false;
  // Grouped (MoE experts): B holds Sm90Operands::groups matrices, each 128-row tile row of A takes the
  // one Sm90Operands::tile_groups names (grouped_rows.h lays the rows out). No clusters, NN or stream-K.
  bool groups = false;
  std::vector<std::string> extra;
  // Split-K and stream-K take an fp32 workspace and per-tile counters (kernel parameters).
  bool uses_workspace() const { return splits > 1 || stream_k; }
};

// The operands of one Hopper GEMM: A m x k and B n x k row-major (bf16 or e4m3; NN: B k x n), C and D m x n
// row-major (bf16, or f32 with out_f32), bias n bf16 (with bias), and with block scales (fp32,
// KB = ceil(k / 128)):
//   a_scales: KB x m row-major, a_scales[kb * m + row] scales A[row][128 kb .. 128 kb + 127];
//   b_scales: ceil(n / 128) x KB row-major, b_scales[nb * KB + kb] scales the 128 x 128 block of B
//             rows 128 nb .. 128 nb + 127, columns 128 kb .. 128 kb + 127.
//
// Grouped builds: B is `groups` such matrices one after the other (groups x n x k), the bias groups x n,
// b_scales groups x ceil(n / 128) x KB; tile_groups holds an s32 per 128-row tile row of A (m / 128
// rounded up): the group it multiplies, or -1 for padding rows, which are neither computed nor written.
struct Sm90Operands {
  CUdeviceptr a = 0, b = 0, c = 0, d = 0, bias = 0, a_scales = 0, b_scales = 0;
  CUdeviceptr tile_groups = 0;
  std::uint32_t groups = 0;
};

// The registry name of the Hopper kernel for these options.
inline const char* sm90_kernel(const Sm90Options& o) { return o.fp8 ? "gemm_e4m3_sm90" : "gemm_bf16_sm90"; }

// "gemm_bf16_sm90 bn=256 cluster=2 ...": the kernel and the options that differ from the defaults.
inline std::string sm90_label(const Sm90Options& o) {
  std::string s = std::string(sm90_kernel(o)) + " bn=" + std::to_string(o.bn);
  if (o.cluster_m > 1) s += " cluster=" + std::to_string(o.cluster_m);
  if (o.splits > 1) s += " splits=" + std::to_string(o.splits);
  if (o.out_f32) s += " f32-out";
  if (o.bias) s += " +bias";
  if (o.block_scales) s += " block-scaled";
  if (!o.tma_store) s += " register-stores";
  if (o.nn) s += " NN";
  if (o.pingpong) s += " ping-pong";
  if (o.stream_k) s += " stream-K";
  if (o.groups) s += " grouped";
  for (const auto& e : o.extra) s += " " + e;
  return s;
}

// What both TMA GEMMs (sm_90a, sm_100a) require of their operands before a launch, as sentences:
// K rows of A and B on 16 bytes (TMA strides), A and B 16-byte aligned, a bias where the build adds one.
inline void check_tma_operands(const std::string& name, std::uint32_t k, std::uint32_t elem_bytes,
                               const Sm90Operands& x, bool bias) {
  if (k == 0 || (std::uint64_t{k} * elem_bytes) % 16)
    throw std::runtime_error(name + ": k = " + std::to_string(k) + " is not a positive multiple of " +
                             std::to_string(16 / elem_bytes) + ": TMA needs every row of A and B (k elements of " +
                             std::to_string(elem_bytes) + " bytes) to start on a 16-byte boundary (pad K with zeros)");
  if (x.a % 16 || x.b % 16) throw std::runtime_error(name + ": A and B must be 16-byte aligned (TMA)");
  if (bias && !x.bias) throw std::runtime_error(name + ": this build adds a bias; pass one");
}

// The --param settings that build the Hopper kernel for `o` (`extra` last, so it may override).
// Throws for what no build has: block scales on bf16, NN on e4m3.
inline std::vector<std::string> sm90_settings(const Sm90Options& o) {
  auto flag = [](const char* name, bool on) { return std::string(name) + "=" + (on ? "1" : "0"); };
  std::vector<std::string> s = {"bn=" + std::to_string(o.bn), "stages=" + std::to_string(o.stages),
                                "cluster_m=" + std::to_string(o.cluster_m), "splits=" + std::to_string(o.splits),
                                flag("out_f32", o.out_f32), flag("bias", o.bias), flag("tma_store", o.tma_store),
                                flag("pingpong", o.pingpong), flag("stream_k", o.stream_k), flag("groups", o.groups)};
  if (o.fp8) s.push_back(flag("block_scales", o.block_scales));
  else if (o.block_scales) throw std::runtime_error("gemm_bf16_sm90: block scales are for the fp8 kernel");
  if (!o.fp8) s.push_back(flag("nn", o.nn));
  else if (o.nn) throw std::runtime_error("gemm_e4m3_sm90: fp8 wgmma takes K-major B only (TN); transpose B once");
  s.insert(s.end(), o.extra.begin(), o.extra.end());
  return s;
}

// What the Hopper GEMM built for `o` requires of a launch's shape and operands (the tile does not
// matter), each as a sentence: TMA's rows on 16 bytes, alignments, a bias and scales where the build
// takes them.
inline void check_sm90_operands(const Sm90Options& o, std::uint32_t n, std::uint32_t k, float beta,
                                const Sm90Operands& x) {
  const std::string name = sm90_kernel(o);
  const std::uint32_t elem = o.fp8 ? 1 : 2;
  check_tma_operands(name, k, elem, x, o.bias);
  if (o.nn && n % 8)
    throw std::runtime_error(name + ": NN: n = " + std::to_string(n) + " is not a multiple of 8: TMA needs every row "
                             "of B (n bf16) to start on a 16-byte boundary");
  const std::uint32_t out_bytes = o.out_f32 ? 4 : 2, pair = 2 * out_bytes;
  if (x.d % pair || (beta != 0.0f && x.c % pair))
    throw std::runtime_error(name + ": C and D must be " + std::to_string(pair) +
                             "-byte aligned (the epilogue stores column pairs)");
  if (o.tma_store && ((std::uint64_t{n} * out_bytes) % 16 || x.d % 16))
    throw std::runtime_error(name + ": n = " + std::to_string(n) + ": the TMA-store epilogue needs D 16-byte aligned "
                             "and every row of D (n x " + std::to_string(out_bytes) +
                             " bytes) to start on 16 bytes; load the kernel with tma_store = false for this shape");
  if (o.block_scales && (!x.a_scales || !x.b_scales))
    throw std::runtime_error(name + ": this build applies block scales; pass a_scales and b_scales");
  if (!o.block_scales && (x.a_scales || x.b_scales))
    throw std::runtime_error(name + ": scale arrays given to a per-tensor build (fold the scales into alpha, "
                             "or load with block_scales)");
  check_group_operands(name, o.groups, n, x.tile_groups, x.groups);
}

// The Hopper GEMM emitted in-process for this device (sm_90a), with its launch shape and, for
// split-K, its workspace (kept between runs; one run at a time per object).
struct WeftGemmSm90 {
  weft::rt::Module module;
  Sm90Options opt;
  bool copy = false;
  weft::rt::DeviceBuffer<float> workspace;
  weft::rt::DeviceBuffer<std::uint32_t> counters;  // zero; the kernel leaves them zero
  std::uint32_t last_grid = 0;                      // CTAs of the last launch (benchmarks report it)
  // Clusters resident at once (cuOccupancyMaxActiveClusters), asked at the first clustered launch
  // only: the answer depends on the kernel and the device, not on the launch, and the query would
  // otherwise cost every launch (a decode shape's kernel runs for tens of microseconds).
  std::uint32_t resident_clusters = 0;

  static WeftGemmSm90 load(Sm90Options o = {}) {
    const auto em = weft::samples::emit(sm90_kernel(o), weft::rt::device_props(0).sm(), sm90_settings(o), o.debug_waits);
    WeftGemmSm90 g{weft::rt::Module::from_ptx(em.ptx), std::move(o)};
    g.copy = em.params["copy"] != 0;
    return g;
  }
  static std::uint32_t k_blocks(std::uint32_t k) { return (k + 127) / 128; }
  std::string name() const { return sm90_kernel(opt); }
  std::string label() const { return sm90_label(opt); }

  // D = alpha * A * B^T + beta * C (+ bias). `ctas`: the persistent grid (0: as many CTAs, or
  // clusters, as are resident at once, at most one per work unit). `job`: the copy role's work (copy=1).
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const Sm90Operands& x,
           CUstream stream = nullptr, std::uint32_t ctas = 0, const GemmCopyJob& job = {}) {
    using namespace weft::rt;
    check_sm90_operands(opt, n, k, beta, x);
    const std::uint32_t tiles_m = (m + 127) / 128, tiles_n = (n + opt.bn - 1) / opt.bn;
    const std::uint32_t tiles = tiles_m * tiles_n;
    if (tiles == 0) return;  // an empty D: nothing to launch
    const std::uint32_t cm = opt.cluster_m;
    const std::uint32_t units = (tiles_m + cm - 1) / cm * tiles_n * opt.splits;  // per cluster
    auto& kern = module.kernel(name());
    // The tensor maps take their boxes from the kernel's signature (A's tile or half tile, B's tile,
    // cluster slice or NN panel, D's store box); the host gives the tensors' shapes.
    const auto promotion = opt.l2_promotion ? TmaL2Promotion::b256 : TmaL2Promotion::none;
    const auto a_map = kern.tensor_map("a", {k, m}, x.a, promotion);
    const std::uint32_t b_rows = opt.groups ? x.groups * n : n;  // grouped: every group's B, one after the other
    const auto b_map = opt.nn ? kern.tensor_map("b", {n, k}, x.b, promotion) : kern.tensor_map("b", {k, b_rows}, x.b, promotion);
    LaunchConfig cfg{{cm}, {384}};
    cfg.stream = stream;
    std::uint32_t clusters = ctas ? std::max(1u, ctas / cm) : 0;
    if (!clusters && cm > 1 && !resident_clusters)
      resident_clusters = static_cast<std::uint32_t>(std::max(1, kern.max_active_clusters(cfg)));
    if (!clusters) clusters = cm > 1 ? resident_clusters : static_cast<std::uint32_t>(device_props(0).sm_count);
    // Stream-K keeps every CTA busy even with fewer tiles than CTAs: the grid is not cut to the units.
    cfg.grid = {(opt.stream_k ? clusters : std::min(units, clusters)) * cm};
    if (opt.uses_workspace()) {
      // Split-K: an fp32 partial tile per (tile, part); stream-K: two per CTA. A counter per tile.
      const std::size_t slots = opt.stream_k ? std::size_t{2} * cfg.grid.x : std::size_t{tiles} * opt.splits;
      const std::size_t need = slots * 128 * opt.bn;
      if (workspace.size() < need) workspace = DeviceBuffer<float>(need);
      if (counters.size() < tiles) {
        counters = DeviceBuffer<std::uint32_t>(tiles);
        counters.fill_bytes(0);
      }
    }
    // The parameters in the kernel's order: m, n, k, alpha, beta, a, b, c, d, then each option's.
    ArgList args;
    args.push(m).push(n).push(k).push(alpha).push(beta).push(a_map).push(b_map);
    if (opt.out_f32) args.push(DevicePtr<float>(x.c));
    else args.push(DevicePtr<std::uint16_t>(x.c));
    if (opt.tma_store) args.push(kern.tensor_map("d", {n, m}, x.d));  // D as a tensor map
    else if (opt.out_f32) args.push(DevicePtr<float>(x.d));
    else args.push(DevicePtr<std::uint16_t>(x.d));
    if (opt.bias) args.push(DevicePtr<std::uint16_t>(x.bias));
    if (opt.block_scales) args.push(DevicePtr<float>(x.a_scales)).push(DevicePtr<float>(x.b_scales));
    if (opt.groups) args.push(DevicePtr<std::int32_t>(x.tile_groups)).push(x.groups);
    if (opt.uses_workspace()) args.push(workspace.ptr()).push(counters.ptr());
    if (copy) args.push(DevicePtr<std::uint8_t>(job.src)).push(DevicePtr<std::uint8_t>(job.dst)).push(job.chunks);
    last_grid = cfg.grid.x;
    kern.launch(cfg, args);
  }
};

// The sm_100a GEMM (samples/kernels/gemm/gemm_sm100.cpp): bf16 TN, bf16 or f32 output, optional
// bias; TMA loads, tcgen05 MMAs into tensor memory, persistent over the SMs (one CTA of 256 threads
// per SM). No sm_100 GPU has run it; the emulated device does (WEFT_EMU_SM=100, docs/emulator.md).
struct Sm100Options {
  std::uint32_t bn = 256, stages = 4;
  bool out_f32 = false, bias = false;
  bool debug_waits = false;
  bool groups = false;  // grouped (MoE experts), as Sm90Options::groups
  // What this kernel does not have, named as in Sm90Options so that one checking routine serves both.
  static constexpr bool fp8 = false, block_scales = false, nn = false;
};

inline constexpr const char* kSm100Kernel = "gemm_bf16_sm100";

// "gemm_bf16_sm100 bn=128 f32-out +bias".
inline std::string sm100_label(const Sm100Options& o) {
  return std::string(kSm100Kernel) + " bn=" + std::to_string(o.bn) + (o.out_f32 ? " f32-out" : "") +
         (o.bias ? " +bias" : "") + (o.groups ? " grouped" : "");
}

struct WeftGemmSm100 {
  weft::rt::Module module;
  Sm100Options opt;

  static constexpr const char* kName = kSm100Kernel;
  static WeftGemmSm100 load(Sm100Options o = {}) {
    const std::vector<std::string> settings = {"bn=" + std::to_string(o.bn), "stages=" + std::to_string(o.stages),
                                               std::string("out_f32=") + (o.out_f32 ? "1" : "0"),
                                               std::string("bias=") + (o.bias ? "1" : "0"),
                                               std::string("groups=") + (o.groups ? "1" : "0")};
    const auto em = weft::samples::emit(kName, weft::rt::device_props(0).sm(), settings, o.debug_waits);
    return WeftGemmSm100{weft::rt::Module::from_ptx(em.ptx), o};
  }
  std::string label() const { return sm100_label(opt); }

  // D = alpha * A * B^T + beta * C (+ bias): A m x k, B n x k, C and D m x n, row-major.
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const Sm90Operands& x,
           CUstream stream = nullptr) {
    using namespace weft::rt;
    check_tma_operands(label(), k, 2, x, opt.bias);
    if (x.a_scales || x.b_scales)
      throw std::runtime_error(label() + ": no block-scaled build on sm_100a yet (the Hopper GEMM has one)");
    check_group_operands(label(), opt.groups, n, x.tile_groups, x.groups);
    const std::uint32_t tiles = (m + 127) / 128 * ((n + opt.bn - 1) / opt.bn);
    if (tiles == 0) return;
    auto& kern = module.kernel(kName);
    // Boxes from the kernel's signature; L2 promotion as the Hopper GEMM's (Sm90Options::l2_promotion).
    const auto a_map = kern.tensor_map("a", {k, m}, x.a, TmaL2Promotion::b256);
    const auto b_map = kern.tensor_map("b", {k, opt.groups ? x.groups * n : n}, x.b, TmaL2Promotion::b256);
    LaunchConfig cfg{{std::min(tiles, static_cast<std::uint32_t>(device_props(0).sm_count))}, {256}};
    cfg.stream = stream;
    ArgList args;
    args.push(m).push(n).push(k).push(alpha).push(beta).push(a_map).push(b_map);
    if (opt.out_f32) args.push(DevicePtr<float>(x.c)).push(DevicePtr<float>(x.d));
    else args.push(DevicePtr<std::uint16_t>(x.c)).push(DevicePtr<std::uint16_t>(x.d));
    if (opt.bias) args.push(DevicePtr<std::uint16_t>(x.bias));
    if (opt.groups) args.push(DevicePtr<std::int32_t>(x.tile_groups)).push(x.groups);
    kern.launch(cfg, args);
  }
};

// Random block scales (fp32): powers of two in [2^-3, 2^3] when `pow2` (then A * scale stays exact in
// bf16, so a bf16 GEMM on the scaled inputs is an exact-input reference), else uniform in [0.25, 2).
inline std::vector<float> random_scales(std::size_t count, unsigned seed, bool pow2) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> e(-3, 3);
  std::uniform_real_distribution<float> u(0.25f, 2.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = pow2 ? std::ldexp(1.0f, e(g)) : u(g);
  return v;
}
// The block-scaled inputs as values: A[i][kk] * a_scales[kk / 128 * m + i], B[j][kk] * b_scales[j / 128 * KB + kk / 128].
inline std::vector<float> scale_a_rows(const std::vector<e4m3>& a, const std::vector<float>& sa, std::uint32_t m,
                                       std::uint32_t k) {
  std::vector<float> out(a.size());
  for (std::uint32_t i = 0; i < m; ++i)
    for (std::uint32_t kk = 0; kk < k; ++kk)
      out[std::size_t{i} * k + kk] = from_e4m3(a[std::size_t{i} * k + kk]) * sa[std::size_t{kk / 128} * m + i];
  return out;
}
inline std::vector<float> scale_b_blocks(const std::vector<e4m3>& b, const std::vector<float>& sb, std::uint32_t n,
                                         std::uint32_t k) {
  const std::uint32_t kb = (k + 127) / 128;
  std::vector<float> out(b.size());
  for (std::uint32_t j = 0; j < n; ++j)
    for (std::uint32_t kk = 0; kk < k; ++kk)
      out[std::size_t{j} * k + kk] = from_e4m3(b[std::size_t{j} * k + kk]) * sb[std::size_t{j / 128} * kb + kk / 128];
  return out;
}

// cuBLAS through dlopen: the same D = alpha * A * B^T + beta * C, bf16 in/out, fp32 compute.
class Cublas {
 public:
  Cublas() {
    lib_ = ::dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) lib_ = ::dlopen("/usr/local/cuda/lib64/libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) throw std::runtime_error(std::string("cuBLAS not found: libcublas.so.13 (") + ::dlerror() + ")");
    create_ = sym<decltype(create_)>("cublasCreate_v2");
    destroy_ = sym<decltype(destroy_)>("cublasDestroy_v2");
    set_stream_ = sym<decltype(set_stream_)>("cublasSetStream_v2");
    gemm_ = sym<decltype(gemm_)>("cublasGemmEx");
    if (create_(&handle_) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
  }
  ~Cublas() {
    if (handle_) destroy_(handle_);
  }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const bf16* a, const bf16* b,
           bf16* d, cudaStream_t stream = nullptr) {
    // Row-major D (m x n) is column-major D^T (n x m) = B (n x k, op T of the k x n column-major view)
    // times A^T (k x m column-major view of row-major A).
    set_stream_(handle_, stream);
    auto s = gemm_(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
                   &alpha, b, CUDA_R_16BF, static_cast<int>(k), a, CUDA_R_16BF, static_cast<int>(k), &beta, d,
                   CUDA_R_16BF, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasGemmEx failed: status " + std::to_string(s));
  }
  // The NN layout: B is k x n row-major. Column-major, D^T (n x m) = B^T (the n x k view, op N) * A^T.
  void run_nn(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const bf16* a, const bf16* b,
              bf16* d, cudaStream_t stream = nullptr) {
    set_stream_(handle_, stream);
    auto s = gemm_(handle_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
                   &alpha, b, CUDA_R_16BF, static_cast<int>(n), a, CUDA_R_16BF, static_cast<int>(k), &beta, d,
                   CUDA_R_16BF, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasGemmEx (NN) failed: status " + std::to_string(s));
  }

 private:
  template <class F>
  F sym(const char* name) {
    auto* f = reinterpret_cast<F>(::dlsym(lib_, name));
    if (!f) throw std::runtime_error(std::string("cuBLAS lacks ") + name);
    return f;
  }
  void* lib_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  cublasStatus_t (*create_)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy_)(cublasHandle_t) = nullptr;
  cublasStatus_t (*set_stream_)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*gemm_)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
                          cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
                          cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

// cuBLASLt's fp8 GEMM through dlopen, for the benchmark: D (bf16) = alpha * A * B^T, A m x k and
// B n x k row-major e4m3 (the TN layout, the one cuBLASLt takes for fp8), fp32 compute, the scales
// folded into alpha (no scale pointers). Column-major, D^T (n x m) = B (op T of the k x n view) * A.
class CublasLtFp8 {
 public:
  CublasLtFp8() {
    lib_ = ::dlopen("libcublasLt.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) lib_ = ::dlopen("/usr/local/cuda/lib64/libcublasLt.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) throw std::runtime_error(std::string("cuBLASLt not found: libcublasLt.so.13 (") + ::dlerror() + ")");
    create_ = sym<decltype(create_)>("cublasLtCreate");
    destroy_ = sym<decltype(destroy_)>("cublasLtDestroy");
    desc_create_ = sym<decltype(desc_create_)>("cublasLtMatmulDescCreate");
    desc_destroy_ = sym<decltype(desc_destroy_)>("cublasLtMatmulDescDestroy");
    desc_set_ = sym<decltype(desc_set_)>("cublasLtMatmulDescSetAttribute");
    layout_create_ = sym<decltype(layout_create_)>("cublasLtMatrixLayoutCreate");
    layout_destroy_ = sym<decltype(layout_destroy_)>("cublasLtMatrixLayoutDestroy");
    pref_create_ = sym<decltype(pref_create_)>("cublasLtMatmulPreferenceCreate");
    pref_destroy_ = sym<decltype(pref_destroy_)>("cublasLtMatmulPreferenceDestroy");
    pref_set_ = sym<decltype(pref_set_)>("cublasLtMatmulPreferenceSetAttribute");
    heuristic_ = sym<decltype(heuristic_)>("cublasLtMatmulAlgoGetHeuristic");
    matmul_ = sym<decltype(matmul_)>("cublasLtMatmul");
    check(create_(&handle_), "cublasLtCreate");
    workspace_ = weft::rt::DeviceBuffer<std::uint8_t>(kWorkspace);
  }
  ~CublasLtFp8() {
    release_plan();
    if (handle_) destroy_(handle_);
  }
  CublasLtFp8(const CublasLtFp8&) = delete;
  CublasLtFp8& operator=(const CublasLtFp8&) = delete;

  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, const e4m3* a, const e4m3* b, bf16* d,
           cudaStream_t stream = nullptr) {
    plan(m, n, k);
    const float beta = 0.0f;
    check(matmul_(handle_, desc_, &alpha, b, a_layout_, a, b_layout_, &beta, d, d_layout_, d, d_layout_, &algo_,
                  reinterpret_cast<void*>(workspace_.raw()), kWorkspace, stream),
          "cublasLtMatmul (fp8)");
  }

 private:
  static constexpr std::size_t kWorkspace = 32u << 20;
  static void check(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + " failed: status " + std::to_string(s));
  }
  // Descriptors and the heuristic's algorithm for one shape, kept until the shape changes.
  void plan(std::uint32_t m, std::uint32_t n, std::uint32_t k) {
    if (desc_ && m == m_ && n == n_ && k == k_) return;
    release_plan();
    check(desc_create_(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    const cublasOperation_t t = CUBLAS_OP_T, nop = CUBLAS_OP_N;
    check(desc_set_(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t), "TRANSA");
    check(desc_set_(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &nop, sizeof nop), "TRANSB");
    check(layout_create_(&a_layout_, CUDA_R_8F_E4M3, k, n, k), "layout A");  // our B: k x n column-major
    check(layout_create_(&b_layout_, CUDA_R_8F_E4M3, k, m, k), "layout B");  // our A: k x m column-major
    check(layout_create_(&d_layout_, CUDA_R_16BF, n, m, n), "layout D");
    cublasLtMatmulPreference_t pref = nullptr;
    check(pref_create_(&pref), "cublasLtMatmulPreferenceCreate");
    const std::uint64_t ws = kWorkspace;
    pref_set_(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const auto s = heuristic_(handle_, desc_, a_layout_, b_layout_, d_layout_, d_layout_, pref, 1, &result, &found);
    pref_destroy_(pref);
    check(s, "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) throw std::runtime_error("cuBLASLt has no fp8 algorithm for this shape");
    algo_ = result.algo;
    m_ = m, n_ = n, k_ = k;
  }
  void release_plan() {
    if (desc_) desc_destroy_(desc_);
    for (auto* l : {a_layout_, b_layout_, d_layout_})
      if (l) layout_destroy_(l);
    desc_ = nullptr;
    a_layout_ = b_layout_ = d_layout_ = nullptr;
  }
  template <class F>
  F sym(const char* name) {
    auto* f = reinterpret_cast<F>(::dlsym(lib_, name));
    if (!f) throw std::runtime_error(std::string("cuBLASLt lacks ") + name);
    return f;
  }
  void* lib_ = nullptr;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr, b_layout_ = nullptr, d_layout_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  std::uint32_t m_ = 0, n_ = 0, k_ = 0;
  weft::rt::DeviceBuffer<std::uint8_t> workspace_;
  cublasStatus_t (*create_)(cublasLtHandle_t*) = nullptr;
  cublasStatus_t (*destroy_)(cublasLtHandle_t) = nullptr;
  cublasStatus_t (*desc_create_)(cublasLtMatmulDesc_t*, cublasComputeType_t, cudaDataType_t) = nullptr;
  cublasStatus_t (*desc_destroy_)(cublasLtMatmulDesc_t) = nullptr;
  cublasStatus_t (*desc_set_)(cublasLtMatmulDesc_t, cublasLtMatmulDescAttributes_t, const void*, std::size_t) = nullptr;
  cublasStatus_t (*layout_create_)(cublasLtMatrixLayout_t*, cudaDataType, std::uint64_t, std::uint64_t,
                                   std::int64_t) = nullptr;
  cublasStatus_t (*layout_destroy_)(cublasLtMatrixLayout_t) = nullptr;
  cublasStatus_t (*pref_create_)(cublasLtMatmulPreference_t*) = nullptr;
  cublasStatus_t (*pref_destroy_)(cublasLtMatmulPreference_t) = nullptr;
  cublasStatus_t (*pref_set_)(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t, const void*,
                              std::size_t) = nullptr;
  cublasStatus_t (*heuristic_)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                               cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatmulPreference_t, int,
                               cublasLtMatmulHeuristicResult_t*, int*) = nullptr;
  cublasStatus_t (*matmul_)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*, cublasLtMatrixLayout_t,
                            const void*, cublasLtMatrixLayout_t, const void*, const void*, cublasLtMatrixLayout_t,
                            void*, cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t*, void*, std::size_t,
                            cudaStream_t) = nullptr;
};

// The relative Frobenius error of D (bf16 bits, or f32) against the reference; infinite when an
// element is not finite (a poisoned element that was never written).
template <class T>
double rel_error(const std::vector<T>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    double g;
    if constexpr (std::is_same_v<T, bf16>) g = from_bf16(got[i]);
    else g = got[i];
    if (!std::isfinite(g)) return INFINITY;
    num += (g - want[i]) * (g - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace gemm
