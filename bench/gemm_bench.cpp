// GEMM: weft against cuBLAS in the same process and run, on the same inputs.
//   - gemm_bf16_sm90 (sm_90 GPUs: bn 128, 256, 192, 256 in 2-CTA clusters, ping-pong 128 x 128 tiles alone
//     and in 2-CTA clusters, stream-K, split-K 4 and 2 and 128 x 64 tiles for m <= 256; NN with
//     bn 256 against cuBLAS NN at 2048^3, 4096^3 and 8192^3) and
//     gemm_bf16_sm80 (sm_80+, TN) against cuBLAS bf16 (cublasGemmEx);
//   - gemm_e4m3_sm89 (sm_89+, TN, scales in alpha) against cuBLASLt fp8 (e4m3 in, bf16 out);
//   - gemm_e4m3_sm90 (sm_90 GPUs: the same variants, and with block scales) against cuBLASLt fp8.
// Median of 20 timed runs (CUDA events) after 3 warm-up runs; inputs rotate over enough copies that
// L2 does not hold them. Every weft row is checked: its D from the last timed run against cuBLAS's D
// on the same inputs (relative Frobenius error; bf16 <= 1e-2, fp8 <= 3e-2), D poisoned with NaN before
// each kernel's runs so that a tile left unwritten fails; block-scaled rows, which no cuBLAS call
// matches, against float64 at 512 sampled elements, with every element required finite. A row that
// fails is marked WRONG and the run exits 1, so no figure is reported for a wrong result. Prints the
// card, a table, and writes a CSV:
//   gemm_bench [csv path]     (default bench_gemm.csv, or $OUT/bench_gemm.csv on the GPU machine)
// A shorter run for a follow-up measurement: $WEFT_GEMM_SHAPES (e.g. "64x7168x7168,8192x8192x8192")
// keeps those shapes only, $WEFT_GEMM_VARIANTS (e.g. "ahalf,tuned,bf16_sm90/bn256") the rows whose
// label contains one of the words (the cuBLAS reference always runs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>

#include "bench/bench_common.h"
#include "samples/apps/gemm/gemm_common.h"
#include "samples/apps/gemm/gemm_tuned.h"
#include "samples/apps/gemm/tile_choice.h"
#include "samples/apps/gpu_or_skip.h"

using namespace gemm;
using namespace weft::rt;

namespace {

struct Shape {
  std::uint32_t m, n, k;
};

double median_ms(const std::function<void(int)>& run) { return weft::bench::median_ms(run, 3, 20); }

// One table row per shape: weft's kernel and the cuBLAS call, each timed on rotating input copies.
struct Rows {
  std::string card, date,
      csv = "card,date,dtype,m,n,k,weft_tflops,cublas_tflops,ratio,weft_ms,cublas_ms,kernel,rel_error\n";
  std::vector<std::string> lines;
  bool wrong = false;
  // Rewritten after every row, so that a run cut short (a hung kernel, the device's time limit) still
  // leaves the rows measured before it.
  std::string csv_path;
  // The fastest correct weft row per dtype and shape, for the targets' digest.
  struct Best {
    std::string kernel;
    double weft = 0, cublas = 0;
  };
  std::map<std::string, Best> best;
  std::map<std::string, double> tflops;  // kernel + " " + key: every correct row's weft TFLOP/s
  static std::string key(const std::string& dtype, const Shape& s) {
    return dtype + " " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
  }
  // `err`: D's relative error against the reference (cuBLAS's D, or float64 for block scales).
  void add(const std::string& kernel, const std::string& dtype, const Shape& s, double weft_ms, double cublas_ms,
           double err) {
    const double flops = 2.0 * s.m * s.n * s.k;
    const double wt = flops / weft_ms / 1e9, ct = flops / cublas_ms / 1e9;
    const double tol = dtype.starts_with("e4m3") ? 3e-2 : 1e-2;
    const bool bad = !(err <= tol);  // NaN and infinity too
    wrong |= bad;
    char check[32];
    std::snprintf(check, sizeof check, "%s %.1e", bad ? "WRONG" : "ok", err);
    char line[256];
    std::snprintf(line, sizeof line, "%-15s %-5s %6u %6u %6u %12.1f %14.1f %7.2f  %s", kernel.c_str(), dtype.c_str(),
                  s.m, s.n, s.k, wt, ct, wt / ct, check);
    lines.emplace_back(line);
    std::printf("%s\n", line);
    if (auto& b = best[key(dtype, s)]; !bad && wt > b.weft) b = {kernel, wt, ct};
    if (!bad) tflops[kernel + " " + key(dtype, s)] = wt;
    csv += card + "," + date + "," + dtype + "," + std::to_string(s.m) + "," + std::to_string(s.n) + "," +
           std::to_string(s.k) + "," + std::to_string(wt) + "," + std::to_string(ct) + "," + std::to_string(wt / ct) +
           "," + std::to_string(weft_ms) + "," + std::to_string(cublas_ms) + "," + kernel + "," + std::to_string(err) +
           "\n";
    if (!csv_path.empty()) std::ofstream(csv_path) << csv;
  }
};

// D against the reference D (both bf16, both from the same rotated inputs).
double error_vs(const DeviceBuffer<bf16>& d, const DeviceBuffer<bf16>& ref) {
  const auto r = ref.to_vector();
  std::vector<double> want(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) want[i] = from_bf16(r[i]);
  return rel_error(d.to_vector(), want);
}

// D's relative error against float64 at 512 sampled elements, for the block-scaled rows, which no
// cuBLAS call matches; INFINITY when any element of D is not finite (D is poisoned before each run, so
// an unwritten tile shows). `a` and `b`: the inputs with their block scales applied (scale_a_rows,
// scale_b_blocks: exact, the bench's scales being powers of two).
double sampled_error_block_scaled(const DeviceBuffer<bf16>& d, const std::vector<float>& a, const std::vector<float>& b,
                                  const Shape& s) {
  const auto got = d.to_vector();
  for (bf16 x : got)
    if (!std::isfinite(from_bf16(x))) return INFINITY;
  std::mt19937 g(5);
  double num = 0, den = 0;
  for (int t = 0; t < 512; ++t) {
    const std::uint32_t i = g() % s.m, j = g() % s.n;
    double want = 0;
    for (std::uint32_t kk = 0; kk < s.k; ++kk)
      want += double{a[std::size_t{i} * s.k + kk]} * b[std::size_t{j} * s.k + kk];
    const double e = from_bf16(got[std::size_t{i} * s.n + j]) - want;
    num += e * e;
    den += want * want;
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

// How many copies of the inputs (bytes per copy) keep L2 from holding them.
int copies_for(std::size_t bytes) { return static_cast<int>(std::clamp<std::size_t>((256u << 20) / bytes + 1, 1, 16)); }

// The Hopper kernels' variants: the default tile (128 x 128), 128 x 256, 128 x 192, 128 x 256 in
// 2-CTA clusters sharing B by multicast, ping-pong 128 x 128 tiles alone and in 2-CTA clusters,
// stream-K, and split-K for the skinny decode shapes (m <= 256, where 128 x 128 tiles
// leave SMs idle). fp8 adds the block-scaled kernel (cuBLASLt runs per-tensor, so that ratio is
// against the plain fp8 GEMM).
// Which shapes a variant runs at: every one, the decode shapes (m <= 256), the cubes the targets
// name (2048^3, 4096^3, 8192^3: the comparisons that only matter there, which keeps the run short),
// or every shape but those cubes (the odd and decode shapes).
enum class ShapeSet { all, skinny, cubes, not_cubes };
struct Sm90Variant {
  std::string label;
  WeftGemmSm90 g;
  ShapeSet rows = ShapeSet::all;
  bool grid_shown = false;
  // Once per variant, the grid its first launch used: for clusters it comes from
  // cuOccupancyMaxActiveClusters, and a grid of fewer CTAs than SMs would explain a slow variant.
  void show_grid(int sms) {
    if (grid_shown || (g.opt.cluster_m == 1 && !g.opt.stream_k)) return;
    grid_shown = true;
    std::printf("note: %s launches %u CTAs (%u clusters of %u) on %d SMs\n", label.c_str(), g.last_grid,
                g.last_grid / g.opt.cluster_m, g.opt.cluster_m, sms);
  }
  bool runs_at(const Shape& s) const {
    if (rows == ShapeSet::skinny) return s.m <= 256;
    const bool cube = s.m == s.n && s.n == s.k && (s.m == 2048 || s.m == 4096 || s.m == 8192);
    if (rows == ShapeSet::cubes) return cube;
    if (rows == ShapeSet::not_cubes) return !cube;
    return true;
  }
};
// The comma-separated words of an environment variable (none when unset or empty).
std::vector<std::string> env_words(const char* name) {
  std::vector<std::string> w;
  const char* v = std::getenv(name);
  for (std::string s = v ? v : ""; !s.empty();) {
    const auto comma = s.find(',');
    if (const auto word = s.substr(0, comma); !word.empty()) w.push_back(word);
    s = comma == std::string::npos ? "" : s.substr(comma + 1);
  }
  return w;
}

// `shapes` less those $WEFT_GEMM_SHAPES leaves out.
std::vector<Shape> selected(const std::vector<Shape>& shapes) {
  const auto want = env_words("WEFT_GEMM_SHAPES");
  if (want.empty()) return shapes;
  std::vector<Shape> v;
  for (const auto& s : shapes)
    if (std::find(want.begin(), want.end(), std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k)) !=
        want.end())
      v.push_back(s);
  return v;
}

// Whether a row's label is one $WEFT_GEMM_VARIANTS keeps (all, when it is unset).
bool wanted(const std::string& label) {
  const auto words = env_words("WEFT_GEMM_VARIANTS");
  return words.empty() || std::any_of(words.begin(), words.end(), [&](const std::string& w) {
           return label.find(w) != std::string::npos;
         });
}

std::vector<Sm90Variant> sm90_variants(bool fp8) {
  const std::string p = fp8 ? "e4m3_sm90" : "bf16_sm90";
  std::vector<Sm90Variant> v;
  // A variant that fails to emit or load (a JIT error) is reported and left out: the others still run.
  auto add = [&](std::string label, Sm90Options o, ShapeSet rows = ShapeSet::all) {
    if (!wanted(label)) return;
    o.fp8 = fp8;
    try {
      v.push_back({label, WeftGemmSm90::load(std::move(o)), rows});
    } catch (const std::exception& e) {
      std::printf("note: %s left out: %s\n", label.c_str(), e.what());
    }
  };
  add("gemm_" + p, {});
  add(p + "/bn256", {.bn = 256});
  // Stream-K: the last wave's tiles shared out by K tiles (4096^3 at 128 x 256: 512 tiles are 3.9 waves
  // of 132; decode shapes: 28 tiles for 132 CTAs).
  add(p + "/bn256sk", {.bn = 256, .stream_k = true});
  // 128 x 128 stream-K also at the odd shapes: 1000 x 1536 is 96 tiles for 132 SMs (0.90x cuBLAS in
  // the first run), 4000^3 at 128 x 128 is 1000 tiles, 7.6 waves.
  add(p + "/sk", {.stream_k = true}, ShapeSet::not_cubes);
  // What L2 promotion of the A/B loads is worth.
  add(p + "/bn256nopro", {.bn = 256, .l2_promotion = false}, ShapeSet::cubes);
  // 128 x 192 tiles: 21 waves of 132 CTAs at 8192^3 are 98.5% busy where 128 x 256's 16 are 97%.
  add(p + "/bn192", {.bn = 192}, ShapeSet::cubes);
  // The epilogue's exposed time: four staging buffers per warpgroup (a whole 64 x 256 block, no box
  // waiting for another's store) cost the fourth stage; bn256s3 is that stage count alone.
  add(p + "/bn256sb4", {.bn = 256, .extra = {"store_buffers=4"}}, ShapeSet::cubes);
  add(p + "/bn256s3", {.bn = 256, .stages = 3}, ShapeSet::cubes);
  add(p + "/bn256c2", {.bn = 256, .cluster_m = 2});
  add(p + "/pp128", {.pingpong = true}, ShapeSet::cubes);  // ping-pong alone, to tell its cost from the cluster's
  add(p + "/pp128c2", {.cluster_m = 2, .pingpong = true});
  add(p + "/split4", {.splits = 4}, ShapeSet::skinny);
  // Decode shapes stream B from memory: one unit per CTA at most (7168 / 64 = 112 tiles of 64 columns,
  // or 56 of 128 split in 2) keeps every CTA streaming and no CTA with a second round.
  add(p + "/bn64", {.bn = 64}, ShapeSet::skinny);
  add(p + "/split2", {.splits = 2}, ShapeSet::skinny);
  // The first run's decode rows moved B at about 36 GB/s per CTA (bn 128: 56 CTAs, 2 TB/s): what the
  // stages hold in flight. L2 prefetches 8 K tiles ahead of the loads put more on its way.
  add(p + "/pf8", {.extra = {"prefetch=8"}}, ShapeSet::skinny);
  // The decode rows without the A/B maps' L2 promotion (the first run's form): each load then fetches
  // 128 bytes of every B row from DRAM, and every decode shape sat near 2 TB/s of B, e4m3 too.
  add(p + "/nopro", {.l2_promotion = false}, ShapeSet::skinny);
  add(p + "/skpf8", {.stream_k = true, .extra = {"prefetch=8"}}, ShapeSet::skinny);
  // M = 64 took longer than M = 128 in the first run with the same MMAs and B bytes; what M = 64 adds
  // is TMA zero-filling half of every A box. A in 64-row boxes skips the box past M.
  add(p + "/ahalf", {.extra = {"a_halves=1"}}, ShapeSet::skinny);
  add(p + "/skahalf", {.stream_k = true, .extra = {"a_halves=1"}}, ShapeSet::skinny);
  if (fp8) {
    add(p + "/block", {.block_scales = true});
    // The block-scaled kernel with both warpgroups issuing each K block at once (the first run's form):
    // what the turns (one promotes under the other's MMAs) are worth.
    add(p + "/block_noturns", {.block_scales = true, .extra = {"scale_turns=0"}}, ShapeSet::cubes);
    // The scales loaded at their own K block (the first run's form) instead of one K block ahead.
    add(p + "/block_noahead", {.block_scales = true, .extra = {"scale_ahead=0"}}, ShapeSet::cubes);
  }
  return v;
}

// What an application gets from TunedGemmSm90 (gemm_tuned.h) at shape s: its first run times its
// candidates (a few runs each, its own timing), then the winner is timed and checked like every row.
// `operands(i)` gives run i's inputs (rotating like the other rows') with D in `d`.
void add_tuned_row(Rows& rows, TunedGemmSm90& tuned, const std::string& label, const char* dtype, const Shape& s,
                   const std::function<Sm90Operands(int)>& operands, DeviceBuffer<bf16>& d,
                   const DeviceBuffer<bf16>& dref, double cublas_ms) {
  try {
    tuned.run(s.m, s.n, s.k, 1.0f, 0.0f, operands(0));  // this shape's tuning
    std::printf("note: %s picks %s at %ux%ux%u\n", label.c_str(), tuned.last_choice().c_str(), s.m, s.n, s.k);
    d.fill_bytes(0xff);
    const double ms = median_ms([&](int i) { tuned.run(s.m, s.n, s.k, 1.0f, 0.0f, operands(i)); });
    rows.add(label, dtype, s, ms, cublas_ms, error_vs(d, dref));
  } catch (const std::exception& e) {
    std::printf("note: no %s row at %ux%ux%u: %s\n", label.c_str(), s.m, s.n, s.k, e.what());
  }
}

// The cubes first, then the decode shapes, the odd ones last: a run cut short by the device's
// time limit (the CSV is rewritten after every row) keeps the targets and the decode rows.
const std::vector<Shape> kAllShapes = {{2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192},
                                       {64, 7168, 7168},   {128, 7168, 7168},  {256, 7168, 7168},
                                       {4000, 4000, 4000}, {1000, 1536, 4032}};

const std::vector<Shape> kShapes = selected(kAllShapes);

// gemm_e4m3_sm90's variants against cuBLASLt fp8 at the sizes.
void bench_e4m3_sm90(Rows& rows, CublasLtFp8& lt, int sms) {
  auto variants = sm90_variants(true);
  TunedGemmSm90 tuned({.fp8 = true});
  for (const auto& s : kShapes) {
    const std::size_t a_n = std::size_t{s.m} * s.k, b_n = std::size_t{s.n} * s.k, d_n = std::size_t{s.m} * s.n;
    const int copies = copies_for(a_n + b_n);
    // One random matrix each, uploaded `copies` times: the addresses rotate past L2, and generating
    // every copy on the CPU would cost more than the timed runs.
    const auto a_host = random_e4m3(a_n, 10), b_host = random_e4m3(b_n, 100);
    std::vector<DeviceBuffer<e4m3>> as, bs;
    for (int i = 0; i < copies; ++i) {
      as.emplace_back(a_host);
      bs.emplace_back(b_host);
    }
    const std::uint32_t kb = WeftGemmSm90::k_blocks(s.k);
    const auto sa_host = random_scales(std::size_t{kb} * s.m, 7, true),
               sb_host = random_scales(std::size_t{(s.n + 127) / 128} * kb, 8, true);
    DeviceBuffer<float> sa(sa_host), sb(sb_host);
    DeviceBuffer<bf16> d(d_n), dref(d_n);
    double cublas_ms = 0;
    try {
      cublas_ms = median_ms([&](int i) {
        lt.run(s.m, s.n, s.k, 1.0f, reinterpret_cast<const e4m3*>(as[i % copies].raw()),
               reinterpret_cast<const e4m3*>(bs[i % copies].raw()), reinterpret_cast<bf16*>(dref.raw()));
      });
    } catch (const std::exception& e) {
      std::printf("note: no fp8 row for %ux%ux%u: %s\n", s.m, s.n, s.k, e.what());
      continue;
    }
    for (auto& v : variants) {
      if (!v.runs_at(s)) continue;
      const bool blk = v.g.opt.block_scales;
      d.fill_bytes(0xff);  // NaN: a tile the kernel leaves unwritten fails the check
      const double ms = median_ms([&](int i) {
        Sm90Operands x{as[i % copies].raw(), bs[i % copies].raw(), d.raw(), d.raw()};
        if (blk) x.a_scales = sa.raw(), x.b_scales = sb.raw();
        v.g.run(s.m, s.n, s.k, 1.0f, 0.0f, x);
      });
      v.show_grid(sms);
      rows.add(v.label, blk ? "e4m3b" : "e4m3", s, ms, cublas_ms,
               blk ? sampled_error_block_scaled(d, scale_a_rows(a_host, sa_host, s.m, s.k),
                                                scale_b_blocks(b_host, sb_host, s.n, s.k), s)
                   : error_vs(d, dref));
    }
    if (wanted("e4m3_sm90/tuned"))
      add_tuned_row(rows, tuned, "e4m3_sm90/tuned", "e4m3", s, [&](int i) {
        return Sm90Operands{as[i % copies].raw(), bs[i % copies].raw(), d.raw(), d.raw()};
      }, d, dref, cublas_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  const std::string csv_path = weft::bench::csv_path(argc, argv, "bench_gemm.csv");
  try {
    const auto props = device_props(0);
    const int sm = props.sm();
    if (!weft::samples::runs_on("gemm_bf16_sm80", sm)) {
      std::printf("skipped: the weft GEMMs need sm_80 or later (this is %s)\n", props.target().c_str());
      return 0;
    }
    Cublas cublas;
    Rows rows{props.name, weft::bench::today_utc()};
    rows.csv_path = csv_path;
    std::printf("card: %s (%s, %d SMs), %s\n", props.name.c_str(), props.target().c_str(), props.sm_count,
                rows.date.c_str());
    std::printf("%-15s %-5s %6s %6s %6s %12s %14s %7s  %s\n", "kernel", "dtype", "m", "n", "k", "weft TFLOP/s",
                "cuBLAS TFLOP/s", "ratio", "check");
    // bf16 (TN): every weft kernel this GPU runs, on one set of inputs per shape.
    std::vector<Sm90Variant> g90;
    std::optional<TunedGemmSm90> tuned90;
    std::optional<WeftGemmSm90> g90_nn;  // NN (B k x n row-major) against cuBLAS NN, at the square sizes
    if (weft::samples::runs_on("gemm_bf16_sm90", sm)) {
      g90 = sm90_variants(false);
      tuned90.emplace();
      try {
        if (wanted("bf16_sm90/nn256")) g90_nn = WeftGemmSm90::load({.bn = 256, .nn = true});
      } catch (const std::exception& e) {
        std::printf("note: bf16_sm90/nn256 left out: %s\n", e.what());
      }
    }
    std::optional<WeftGemmSm80> g80;
    if (wanted("gemm_bf16_sm80")) g80 = WeftGemmSm80::load(WeftGemmSm80::Dtype::bf16);
    if (kShapes.empty()) std::printf("note: WEFT_GEMM_SHAPES selects none of the benchmark's shapes\n");
    for (const auto& s : kShapes) {
      const std::size_t a_n = std::size_t{s.m} * s.k, b_n = std::size_t{s.n} * s.k, d_n = std::size_t{s.m} * s.n;
      const int copies = copies_for((a_n + b_n) * 2);
      std::vector<DeviceBuffer<bf16>> as, bs;
      for (int i = 0; i < copies; ++i) {
        as.emplace_back(random_bf16(a_n, 10 + i));
        bs.emplace_back(random_bf16(b_n, 100 + i));
      }
      DeviceBuffer<bf16> d(d_n), dref(d_n);
      const double cublas_ms = median_ms([&](int i) {
        cublas.run(s.m, s.n, s.k, 1.0f, 0.0f, reinterpret_cast<const bf16*>(as[i % copies].ptr().raw()),
                   reinterpret_cast<const bf16*>(bs[i % copies].ptr().raw()), reinterpret_cast<bf16*>(dref.ptr().raw()));
      });
      for (auto& v : g90) {
        if (!v.runs_at(s)) continue;
        d.fill_bytes(0xff);  // NaN: a tile the kernel leaves unwritten fails the check
        const double ms = median_ms([&](int i) {
          v.g.run(s.m, s.n, s.k, 1.0f, 0.0f, {as[i % copies].raw(), bs[i % copies].raw(), d.raw(), d.raw()});
        });
        v.show_grid(props.sm_count);
        rows.add(v.label, "bf16", s, ms, cublas_ms, error_vs(d, dref));
      }
      if (tuned90 && wanted("bf16_sm90/tuned"))
        add_tuned_row(rows, *tuned90, "bf16_sm90/tuned", "bf16", s, [&](int i) {
          return Sm90Operands{as[i % copies].raw(), bs[i % copies].raw(), d.raw(), d.raw()};
        }, d, dref, cublas_ms);
      if (g80) {
        d.fill_bytes(0xff);
        const double ms = median_ms([&](int i) {
          g80->run(s.m, s.n, s.k, 1.0f, 0.0f, as[i % copies].raw(), bs[i % copies].raw(), d.ptr(), d.ptr());
        });
        rows.add("gemm_bf16_sm80", "bf16", s, ms, cublas_ms, error_vs(d, dref));
      }
      if (g90_nn && wanted("bf16_sm90/nn256") && s.m == s.n && s.n == s.k && s.m % 2048 == 0) {  // the same B buffers, read as k x n
        const double nn_cublas_ms = median_ms([&](int i) {
          cublas.run_nn(s.m, s.n, s.k, 1.0f, 0.0f, reinterpret_cast<const bf16*>(as[i % copies].ptr().raw()),
                        reinterpret_cast<const bf16*>(bs[i % copies].ptr().raw()), reinterpret_cast<bf16*>(dref.ptr().raw()));
        });
        d.fill_bytes(0xff);
        const double nn_ms = median_ms([&](int i) {
          g90_nn->run(s.m, s.n, s.k, 1.0f, 0.0f, {as[i % copies].raw(), bs[i % copies].raw(), d.raw(), d.raw()});
        });
        rows.add("bf16_sm90/nn256", "bf16nn", s, nn_ms, nn_cublas_ms, error_vs(d, dref));
      }
    }
    // e4m3 (TN) against cuBLASLt fp8, where the GPU has fp8 mma.
    if (weft::samples::runs_on("gemm_e4m3_sm89", sm)) {
      std::unique_ptr<CublasLtFp8> lt;
      try {
        lt = std::make_unique<CublasLtFp8>();
      } catch (const std::exception& e) {
        std::printf("note: no fp8 rows: %s\n", e.what());
      }
      std::optional<WeftGemmSm80> g8;
      if (wanted("gemm_e4m3_sm89")) g8 = WeftGemmSm80::load(WeftGemmSm80::Dtype::e4m3);
      const auto fp8_shapes = selected({{4096, 4096, 4096}, {8192, 8192, 8192}, {1024, 7168, 7168}});
      for (const auto& s : fp8_shapes) {
        if (!lt || !g8) break;
        const std::size_t a_n = std::size_t{s.m} * s.k, b_n = std::size_t{s.n} * s.k, d_n = std::size_t{s.m} * s.n;
        const int copies = copies_for(a_n + b_n);
        std::vector<DeviceBuffer<e4m3>> as, bs;
        for (int i = 0; i < copies; ++i) {
          as.emplace_back(random_e4m3(a_n, 10 + i));
          bs.emplace_back(random_e4m3(b_n, 100 + i));
        }
        DeviceBuffer<bf16> d(d_n), dref(d_n);
        double cublas_ms = 0;
        try {
          cublas_ms = median_ms([&](int i) {
            lt->run(s.m, s.n, s.k, 1.0f, reinterpret_cast<const e4m3*>(as[i % copies].raw()),
                    reinterpret_cast<const e4m3*>(bs[i % copies].raw()), reinterpret_cast<bf16*>(dref.raw()));
          });
        } catch (const std::exception& e) {
          std::printf("note: no fp8 rows: %s\n", e.what());
          break;
        }
        d.fill_bytes(0xff);
        const double ms = median_ms([&](int i) {
          g8->run(s.m, s.n, s.k, 1.0f, 0.0f, as[i % copies].raw(), bs[i % copies].raw(), d.ptr(), d.ptr());
        });
        rows.add("gemm_e4m3_sm89", "e4m3", s, ms, cublas_ms, error_vs(d, dref));
      }
    }
    if (weft::samples::runs_on("gemm_e4m3_sm90", sm)) {
      try {
        CublasLtFp8 lt;
        bench_e4m3_sm90(rows, lt, props.sm_count);
      } catch (const std::exception& e) {
        std::printf("note: no gemm_e4m3_sm90 rows: %s\n", e.what());
      }
    }
    std::ofstream(csv_path) << rows.csv;
    std::printf("\n== gemm, %s, %s (CSV: %s)\n", props.name.c_str(), rows.date.c_str(), csv_path.c_str());
    for (const auto& r : rows.lines) std::printf("%s\n", r.c_str());
    // The targets, each against the best correct weft row of its shape.
    std::printf("\n== targets (best weft row / cuBLAS in the same run)\n");
    struct Target {
      const char* dtype;
      std::uint32_t size;
      double ratio;
    };
    for (const Target t : {Target{"bf16", 8192, 1.0}, {"bf16", 4096, 1.0}, {"bf16", 2048, 0.9}, {"e4m3", 8192, 1.0},
                           {"e4m3", 4096, 1.0}}) {
      const auto it = rows.best.find(Rows::key(t.dtype, {t.size, t.size, t.size}));
      if (it == rows.best.end() || it->second.kernel.empty()) {
        std::printf("%s %u^3: no correct row\n", t.dtype, t.size);
        continue;
      }
      const auto& b = it->second;
      // What a caller gets from the tile rule (samples/apps/gemm/tile_choice.h) without trying variants.
      const std::string dt = std::string(t.dtype) + "_sm90";
      const std::string rule = weft::samples::sm90_bn_for(t.size, t.size, static_cast<std::uint32_t>(props.sm_count)) == 256
                                   ? dt + "/bn256" : "gemm_" + dt;
      const auto r = rows.tflops.find(rule + " " + Rows::key(t.dtype, {t.size, t.size, t.size}));
      // And what TunedGemmSm90 (gemm_tuned.h) gets by timing its candidates.
      const auto tuned = rows.tflops.find(dt + "/tuned " + Rows::key(t.dtype, {t.size, t.size, t.size}));
      char picked[160] = "", tuned_ratio[16] = "n/a";
      if (tuned != rows.tflops.end()) std::snprintf(tuned_ratio, sizeof tuned_ratio, "%.2f", tuned->second / b.cublas);
      if (r != rows.tflops.end())
        std::snprintf(picked, sizeof picked, "  (tile rule: %s, %.2f; tuned: %s)", rule.c_str(), r->second / b.cublas,
                      tuned_ratio);
      std::printf("%-5s %5u^3  %-18s %8.1f / %8.1f = %5.2f  target >= %.1f: %s%s\n", t.dtype, t.size, b.kernel.c_str(), b.weft,
                  b.cublas, b.weft / b.cublas, t.ratio, b.weft / b.cublas >= t.ratio ? "met" : "not met", picked);
    }
    if (rows.wrong) std::printf("error: a row marked WRONG computed a wrong D; its figures do not count\n");
    return rows.wrong ? 1 : 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
