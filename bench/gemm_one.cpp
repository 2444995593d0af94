// One Hopper GEMM configuration on one shape, for a profiler to look at (tools/gpu/check.sh runs it
// under ncu at the decode shapes): loads gemm_bf16_sm90 (gemm_e4m3_sm90 with --fp8) with the given
// settings, runs it on random inputs `--warmup` times and then `--runs` times, and prints the median
// of the timed runs, its TFLOP/s and the bandwidth of B (the matrix a decode shape streams).
// --cublas runs cuBLAS (cuBLASLt with --fp8) on the same shape instead, the reference to profile
// beside it.
//
//   gemm_one [--fp8] [--cublas] [--warmup N] [--runs N] M N K [name=value ...]
//
// Settings are the kernel's parameters (`weft list`): bn, stages, cluster_m, splits, pingpong,
// stream_k, out_f32, tma_store and nn also set the host's side; bias, block_scales and groups, which
// need more operands, are refused; the others go to the kernel as they are. Not run by check.sh's benchmark
// phase (it takes arguments); bad arguments print the usage and exit 2.
#include <array>
#include <cstdio>
#include <functional>
#include <optional>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "runtime/timing.h"
#include "samples/apps/gemm/gemm_common.h"
#include "samples/apps/gpu_or_skip.h"

using namespace gemm;
using namespace weft::rt;

namespace {

int usage(const char* why) {
  std::fprintf(stderr, "gemm_one: %s\nusage: gemm_one [--fp8] [--cublas] [--warmup N] [--runs N] M N K [name=value ...]\n",
               why);
  return 2;
}

// A positive decimal, or 0 for anything else.
std::uint32_t number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<std::uint32_t>(std::stoul(s));
}

}  // namespace

int main(int argc, char** argv) {
  Sm90Options o;
  int warmup = 3, runs = 10;
  bool cublas = false, settings = false;
  std::vector<std::uint32_t> shape;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--fp8") {
      o.fp8 = true;
    } else if (a == "--cublas") {
      cublas = true;
    } else if (a == "--warmup" || a == "--runs") {
      if (i + 1 >= argc) return usage((a + " needs a count").c_str());
      const std::string v = argv[++i];
      const auto n = number(v);
      if (n == 0 && v != "0") return usage((a + " " + v + ": not a count").c_str());
      (a == "--runs" ? runs : warmup) = static_cast<int>(n);
    } else if (const auto eq = a.find('='); eq != std::string::npos) {
      const std::string name = a.substr(0, eq), value = a.substr(eq + 1);
      const auto v = number(value);
      settings = true;
      const bool host_side = name == "bn" || name == "stages" || name == "cluster_m" || name == "splits" ||
                             name == "pingpong" || name == "stream_k" || name == "out_f32" || name == "tma_store" ||
                             name == "nn";
      if (host_side && v == 0 && value != "0") return usage(("'" + a + "': not a number").c_str());
      if (name == "bias" || name == "block_scales" || name == "groups")
        return usage(("'" + a + "': gemm_one times plain GEMMs (no bias, scale or group operands; "
                      "bench/grouped_bench times the grouped GEMM)").c_str());
      if (name == "bn") o.bn = v;
      else if (name == "stages") o.stages = v;
      else if (name == "cluster_m") o.cluster_m = v;
      else if (name == "splits") o.splits = v;
      else if (name == "pingpong") o.pingpong = v != 0;
      else if (name == "stream_k") o.stream_k = v != 0;
      else if (name == "out_f32") o.out_f32 = v != 0;
      else if (name == "tma_store") o.tma_store = v != 0;
      else if (name == "nn") o.nn = v != 0;
      else o.extra.push_back(a);  // the kernel's parameter parser judges it
    } else if (const auto n = number(a); n > 0 && shape.size() < 3) {
      shape.push_back(n);
    } else {
      return usage(("'" + a + "': not M, N, K, a setting or an option").c_str());
    }
  }
  if (shape.size() != 3) return usage("M, N and K are needed");
  if (runs < 1) return usage("--runs must be at least 1");
  if (cublas && settings) return usage("--cublas takes no kernel settings");
  if (!weft::samples::gpu_or_skip()) return 0;
  try {
    const auto [m, n, k] = std::array{shape[0], shape[1], shape[2]};
    const std::size_t elem = o.fp8 ? 1 : 2;
    DeviceBuffer<std::uint8_t> a(std::size_t{m} * k * elem), b(std::size_t{n} * k * elem);
    DeviceBuffer<std::uint8_t> d(std::size_t{m} * n * (o.out_f32 ? 4 : 2));
    // Random inputs: bf16 in [-1, 1]; e4m3 of magnitude 1/8 .. 3.75 (zeros would make the tensor cores' work easy).
    if (o.fp8) {
      a.copy_from(random_e4m3(std::size_t{m} * k, 1));
      b.copy_from(random_e4m3(std::size_t{n} * k, 2));
    } else {
      const auto ah = random_bf16(std::size_t{m} * k, 1), bh = random_bf16(std::size_t{n} * k, 2);
      a.copy_from(std::span(reinterpret_cast<const std::uint8_t*>(ah.data()), ah.size() * 2));
      b.copy_from(std::span(reinterpret_cast<const std::uint8_t*>(bh.data()), bh.size() * 2));
    }
    std::function<void()> run;
    std::string label;
    std::optional<WeftGemmSm90> g;
    std::optional<Cublas> blas;
    std::optional<CublasLtFp8> lt;
    if (!cublas) {
      g = WeftGemmSm90::load(o);
      label = g->label();
      const Sm90Operands x{a.raw(), b.raw(), d.raw(), d.raw()};
      run = [&, x] { g->run(m, n, k, 1.0f, 0.0f, x); };
    } else if (o.fp8) {
      lt.emplace();
      label = "cuBLASLt fp8";
      run = [&] {
        lt->run(m, n, k, 1.0f, reinterpret_cast<const e4m3*>(a.raw()), reinterpret_cast<const e4m3*>(b.raw()),
                reinterpret_cast<bf16*>(d.raw()));
      };
    } else {
      blas.emplace();
      label = "cuBLAS bf16";
      run = [&] {
        blas->run(m, n, k, 1.0f, 0.0f, reinterpret_cast<const bf16*>(a.raw()), reinterpret_cast<const bf16*>(b.raw()),
                  reinterpret_cast<bf16*>(d.raw()));
      };
    }
    const double ms = median_ms([&](int) { run(); }, warmup, runs);
    std::printf("%s %ux%ux%u: %.4f ms, %.1f TFLOP/s, B %.0f GB/s (%d runs after %d)\n", label.c_str(), m, n, k, ms,
                2.0 * m * n * k / (ms * 1e-3) / 1e12, double(n) * k * elem / (ms * 1e-3) / 1e9, runs, warmup);
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
