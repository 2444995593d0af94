// The communication samples on one GPU: every collective, the MoE all-to-all and a whole MoE layer
// whose experts (SwiGLU FFNs) run as grouped GEMMs per rank (sm_90a's, or sm_80's elsewhere), with
// LocalSim virtual ranks (2, 4 and 8 by default, or the counts given), checked against a CPU
// reference with fresh inputs and poisoned outputs. Prints a table; exits 1 if any check fails.
//
//   comm_app [ranks...]      e.g. comm_app 4
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "runtime/comm/local_sim.h"
#include "runtime/device.h"
#include "runtime/driver.h"
#include "samples/apps/comm/checks.h"
#include "samples/apps/comm/moe_experts.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/quick.h"

using namespace weft;
using namespace weft::samples;

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  std::vector<std::uint32_t> rank_counts;
  for (int i = 1; i < argc; ++i) rank_counts.push_back(static_cast<std::uint32_t>(std::atoi(argv[i])));
  // WEFT_APP_QUICK: 2 and 4 ranks, smaller buffers (the emulated device).
  const bool quick = quick_mode();
  if (rank_counts.empty()) rank_counts = quick ? std::vector<std::uint32_t>{2, 4} : std::vector<std::uint32_t>{2, 4, 8};
  std::printf("device: %s\n", rt::device_props(0).name.c_str());
  std::vector<CheckReport> reports;
  try {
    for (auto n : rank_counts) {
      rt::comm::LocalSim heap(n, 0);
      Collectives c(heap, {.ctas = quick ? 2u : 8u, .block = 256, .debug_waits = true});  // a hang becomes a named wait
      const std::uint32_t seed = 1000 + n;
      const std::uint32_t scale = quick ? 16 : 1;  // element counts divided by this
      reports.push_back(check_all_gather(c, (1 << 16) / scale, seed));
      for (auto elem : {Elem::f32, Elem::bf16}) {
        reports.push_back(check_reduce_scatter(c, 4096 / scale, elem, seed));
        for (int shots : {1, 2}) reports.push_back(check_all_reduce(c, 8192 * n / scale, elem, shots, seed));
      }
      const std::uint32_t tokens = quick ? 16 : 64, hidden = quick ? 128 : 512;
      reports.push_back(check_moe(c, {.tokens = tokens, .hidden = hidden, .topk = 4, .experts = 8 * n}, seed));
      // The whole layer, the experts SwiGLU FFNs on grouped GEMMs: 256 tokens a rank in regions of 256
      // rows per (expert, source), each holding about 256 x topk / experts: 64 on the emulated device (its
      // second tile row padding), 256 / n on a GPU (at 4 and 8 ranks most second tile rows padding).
      if (MoeExperts::runs_on(rt::device_props(0).sm()))
        reports.push_back(check_moe_layer(c, {.tokens = 256, .hidden = quick ? 64u : 256u, .topk = quick ? 2u : 8u,
                                              .experts = quick ? 4 * n : 8 * n}, quick ? 64u : 128u, seed));
      else if (n == rank_counts.front())
        std::printf("note: the MoE layer check needs an sm_80+ GEMM (this is %s)\n",
                    rt::device_props(0).target().c_str());
      // The layer in fp8 (DeepSeek-V3's recipe: e4m3 tokens with 1 x 128 scales through dispatch, the
      // block-scaled Hopper GEMM): sm_90a, at the first rank count (hidden 256: two scale blocks per token,
      // so a transposed scale layout shows), with dispatch's bulk-copy rows (comm_bench checks the register path).
      if (MoeExperts::runs_on(rt::device_props(0).sm(), true) && n == rank_counts.front())
        reports.push_back(check_moe_layer(c, {.tokens = 256, .hidden = 256, .topk = quick ? 2u : 8u,
                                              .experts = quick ? 4 * n : 8 * n, .fp8 = true}, 128, seed + 1,
                                          {.bulk = MoeAllToAll::bulk_runs_on(rt::device_props(0).sm())}));
    }
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  int failed = 0;
  std::printf("\n%-70s %-6s %s\n", "check", "result", "max rel. error");
  for (const auto& r : reports) {
    std::printf("%-70s %-6s %.2e %s\n", r.name.c_str(), r.ok ? "pass" : "FAIL", r.max_error, r.detail.c_str());
    failed += !r.ok;
  }
  return failed ? 1 : 0;
}
