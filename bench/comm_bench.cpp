// Collective bandwidth with LocalSim virtual ranks on one GPU: all_gather, reduce_scatter and
// all_reduce (one-shot and two-shot, bf16) at 2, 4 and 8 ranks, for several sizes and SM budgets,
// and the MoE all-to-all's dispatch and combine (1024 tokens of 7168 bf16 per rank, top-8 of 64
// experts; "algorithm bandwidth" there is token-expert rows moved per second per rank), and on Hopper
// the whole MoE layer with the experts as SwiGLU FFNs on grouped GEMMs (its time, TFLOP/s over the routed
// rows; the CSV row's bandwidth columns are 0).
// On one GPU every "peer" access is a local HBM access, so these figures measure the kernels'
// memory efficiency and synchronisation cost, not NVLink. Reports the bytes each rank contributes
// per second of the collective ("algorithm bandwidth") and the HBM traffic it caused (read + write,
// all ranks). Median of 20 timed runs after 3 warm-ups. Each (ranks, SM budget) configuration is also
// checked once against the CPU reference (every collective at 1 MiB per rank, the MoE pair at a small
// shape, poisoned outputs); a
// failed check fails the run, so no figure stands for a wrong result. WEFT_APP_QUICK=1: 2 and 4
// ranks, 4 KiB, the device's own SM count, one timed run (the emulated device). Prints the card,
// writes a CSV (bench_comm.csv, or $OUT/bench_comm.csv) and prints the table last.
//   comm_bench [csv path]
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "runtime/comm/local_sim.h"
#include "runtime/driver.h"
#include "samples/apps/comm/checks.h"
#include "samples/apps/comm/collectives.h"
#include "samples/apps/comm/moe_experts.h"
#include "samples/apps/gpu_or_skip.h"
#include "samples/apps/quick.h"

using namespace weft;
using namespace weft::samples;

int main(int argc, char** argv) {
  if (!weft::samples::gpu_or_skip()) return 0;
  const std::string csv_path = bench::csv_path(argc, argv, "bench_comm.csv");
  try {
    const auto props = rt::device_props(0);
    const std::string date = bench::today_utc();
    std::printf("card: %s (%s, %d SMs), %s\n", props.name.c_str(), props.target().c_str(), props.sm_count, date.c_str());
    std::string csv = "card,date,collective,ranks,bytes_per_rank,sms,us,algbw_gbps,hbm_gbps\n";
    std::vector<std::string> rows, layer_lines;
    std::vector<CheckReport> checks;
    const bool quick = quick_mode();
    const auto ranks = quick ? std::vector<std::uint32_t>{2, 4} : std::vector<std::uint32_t>{2, 4, 8};
    const auto budgets = quick ? std::vector<std::uint32_t>{static_cast<std::uint32_t>(props.sm_count)}
                               : std::vector<std::uint32_t>{20, 66, 132};
    const auto sizes = quick ? std::vector<std::size_t>{4096}
                             : std::vector<std::size_t>{std::size_t{1} << 20, std::size_t{16} << 20, std::size_t{64} << 20};
    const std::size_t check_bytes = quick ? 4096 : std::size_t{1} << 20;
    // The largest budget this GPU has SMs for (an H100 PCIe's 114 leave out 132): the MoE layer's.
    std::uint32_t largest_budget = 0;
    for (auto b : budgets)
      if (b <= static_cast<std::uint32_t>(props.sm_count)) largest_budget = std::max(largest_budget, b);
    // One row: per rank, `moved` bytes of payload (the algorithm bandwidth's numerator) and, over all
    // ranks, `hbm` bytes read and written.
    auto add = [&](const std::string& name, std::uint32_t n, std::size_t bytes, std::uint32_t sms_used, double ms,
                   double moved, double hbm) {
      const double algbw = moved / (ms * 1e-3) / 1e9, hbm_gbps = hbm / (ms * 1e-3) / 1e9;
      char line[200];
      std::snprintf(line, sizeof line, "%-30s %5u %10zu %5u %10.1f %10.1f %10.1f", name.c_str(), n, bytes, sms_used,
                    ms * 1e3, algbw, hbm_gbps);
      rows.emplace_back(line);
      std::printf("%s\n", line);
      csv += bench::csv_field(props.name) + "," + date + "," + bench::csv_field(name) + "," + std::to_string(n) + "," +
             std::to_string(bytes) + "," + std::to_string(sms_used) + "," + std::to_string(ms * 1e3) + "," +
             std::to_string(algbw) + "," + std::to_string(hbm_gbps) + "\n";
      std::ofstream(csv_path) << csv;  // after every row: a run cut short keeps what it measured
    };
    for (std::uint32_t n : ranks) {
      rt::comm::LocalSim heap(n, 0);
      for (std::uint32_t sms : budgets) {
        if (sms > static_cast<std::uint32_t>(props.sm_count)) continue;
        const std::uint32_t ctas = std::max(1u, sms / n);  // the budget is shared by the virtual ranks
        Collectives c(heap, {.ctas = ctas, .block = 512});
        const std::uint32_t seed = 7000 + n * 1000 + sms;
        for (auto r : {check_all_gather(c, check_bytes, seed), check_reduce_scatter(c, check_bytes / 2, Elem::bf16, seed),
                       check_all_reduce(c, check_bytes / 2, Elem::bf16, 1, seed),
                       check_all_reduce(c, check_bytes / 2, Elem::bf16, 2, seed)}) {
          r.name += ", " + std::to_string(ctas * n) + " CTAs";
          checks.push_back(std::move(r));
        }
        // One load in flight per thread, as the kernels were before their batches (unroll 1), beside the
        // default at the smallest budget and the largest size: the batches' gain in one run.
        // And all_gather with 1024 threads per CTA (its batches of 4: 64 KiB in flight per SM, as
        // copy_vec16 keeps, where 512 threads keep 32).
        std::optional<Collectives> single, wide;
        if (n == ranks.front() && sms == budgets.front()) {
          single.emplace(heap, CollectiveOptions{.ctas = ctas, .block = 512, .unroll = 1});
          for (auto r : {check_all_gather(*single, check_bytes, seed + 1),
                         check_reduce_scatter(*single, check_bytes / 2, Elem::bf16, seed + 1)}) {
            r.name += ", unroll 1, " + std::to_string(ctas * n) + " CTAs";
            checks.push_back(std::move(r));
          }
          wide.emplace(heap, CollectiveOptions{.ctas = ctas, .block = 1024});
          auto r = check_all_gather(*wide, check_bytes, seed + 2);
          r.name += ", 1024 threads, " + std::to_string(ctas * n) + " CTAs";
          checks.push_back(std::move(r));
        }
        for (std::size_t bytes : sizes) {
          auto in = heap.alloc(bytes * n), out = heap.alloc(bytes * n);
          struct Case {
            const char* name;
            std::function<void()> run;
            double hbm_bytes;  // per rank and launch: reads + writes
          };
          const double nb = static_cast<double>(bytes);
          std::vector<Case> cases = {
              {"all_gather", [&] { c.all_gather(in, out, bytes); }, nb + nb * n},
              {"reduce_scatter bf16", [&] { c.reduce_scatter(in, out, bytes / 2, Elem::bf16); }, nb * n + nb},
              {"all_reduce bf16 1-shot", [&] { c.all_reduce(in, out, bytes / 2, Elem::bf16, 1); }, nb * n + nb},
              {"all_reduce bf16 2-shot", [&] { c.all_reduce(in, out, bytes / 2, Elem::bf16, 2); }, 2 * nb + nb},
          };
          if (single && bytes == sizes.back()) {
            cases.push_back({"all_gather unroll 1", [&] { single->all_gather(in, out, bytes); }, nb + nb * n});
            cases.push_back({"all_gather 1024 threads", [&] { wide->all_gather(in, out, bytes); }, nb + nb * n});
            cases.push_back({"reduce_scatter bf16 unroll 1",
                             [&] { single->reduce_scatter(in, out, bytes / 2, Elem::bf16); }, nb * n + nb});
          }
          for (const auto& cs : cases) {
            const double ms = bench::median_ms([&](int) { cs.run(); }, quick ? 0 : 3, quick ? 1 : 20);
            add(cs.name, n, bytes, ctas * n, ms, nb, cs.hbm_bytes * n);
          }
        }
        // MoE all-to-all (DeepSeek-V3's routing: top-8 of the experts, 7168-wide bf16 tokens): dispatch
        // and combine on random distinct choices, one of every five tokens with one choice fewer
        // (upload_moe_inputs). A small shape is checked against the CPU first (check_moe; rows of 133
        // packets: the batched trips and the one-packet tail). Beside the default (8 warps, 4 packets
        // per lane and trip), where the collectives run unroll 1 too: one packet per lane and trip (as
        // the kernels were first written), and 32 warps (dispatch 4 packets each, 64 KiB in flight per
        // SM as copy_vec16 keeps; combine 2 each).
        // And rows by bulk copies through shared memory (sm_90+, where a row per warp fits the block's
        // shared memory: 112 KiB at 8 warps of 7168 bf16, over an sm_120's 99 KiB).
        std::vector<MoeKernelOptions> moe_builds{{}};
        if (single) moe_builds.insert(moe_builds.end(), {{.warps = 8, .unroll = 1}, {.warps = 32, .unroll = 0}});
        const std::size_t bulk_smem = std::size_t{8} * (quick ? 64u : 7168u) * 2 + 1024;
        if (single && MoeAllToAll::bulk_runs_on(props.sm()) && static_cast<std::size_t>(props.max_smem_per_block_optin) >= bulk_smem)
          moe_builds.push_back({.warps = 8, .bulk = true});
        for (const auto& build : moe_builds) {
          const std::string suffix = build.label() == MoeKernelOptions{}.label() ? "" : " (" + build.label() + ")";
          const MoeShape check_shape{.tokens = 24, .hidden = 1064, .topk = 4, .experts = 4 * n};
          auto r = check_moe(c, check_shape, seed, build);
          r.name += ", " + std::to_string(ctas * n) + " CTAs";
          checks.push_back(std::move(r));
          const MoeShape s = quick ? MoeShape{.tokens = 16, .hidden = 64, .topk = 4, .experts = 4 * n}
                                   : MoeShape{.tokens = 1024, .hidden = 7168, .topk = 8, .experts = 64};
          MoeAllToAll moe(c, s, build);
          upload_moe_inputs(moe, seed);
          const double row = 2.0 * s.hidden;
          const double pairs = moe_routed_pairs(s);  // token-expert pairs per rank
          const double dispatch_ms = bench::median_ms([&](int) { moe.dispatch(); }, quick ? 0 : 3, quick ? 1 : 20);
          add("moe dispatch" + suffix, n, s.tokens * static_cast<std::size_t>(row), ctas * n, dispatch_ms, pairs * row,
              (s.tokens + pairs) * row * n);  // each token read once here, each pair's row written on its owner
          const double combine_ms = bench::median_ms([&](int) { moe.combine(); }, quick ? 0 : 3, quick ? 1 : 20);
          add("moe combine" + suffix, n, s.tokens * static_cast<std::size_t>(row), ctas * n, combine_ms, pairs * row,
              (pairs + s.tokens) * row * n);  // each pair's row read from its owner, each token's sum written
        }
        // A whole MoE layer (on Hopper: the sm_90a GEMM is the one worth timing), at the largest budget:
        // dispatch, the experts as DeepSeek-V3's SwiGLU FFNs (hidden 7168, intermediate 2048: per rank two
        // grouped GEMMs around the activation, on dispatch's recv with its unfilled tile rows skipped),
        // combine from the experts' outputs. Checked first at a small shape against float64
        // (check_moe_layer); the timed layer's weights are left as allocated (the arithmetic is what the
        // check covers, and the tensor cores' speed does not depend on the values).
        // (The emulated device: 2 ranks only, where the four GEMM launches of 4 ranks take a minute.)
        // With fp8 the tokens travel as e4m3 with 1 x 128 scales and both GEMMs are block-scaled
        // (DeepSeek-V3's recipe), timed beside the bf16 layer.
        if (sms == largest_budget && runs_on("gemm_bf16_sm90", props.sm()) && (!quick || n == ranks.front()))
          for (bool fp8 : {false, true}) {
            const std::uint32_t check_hidden = fp8 ? 256u : (quick ? 64u : 256u);  // fp8: two scale blocks
            const std::uint32_t check_inter = fp8 ? 128u : (quick ? 64u : 128u);
            auto r = check_moe_layer(c, {.tokens = 256, .hidden = check_hidden, .topk = quick ? 2u : 8u,
                                         .experts = 4 * n, .fp8 = fp8}, check_inter, seed + 3);
            r.name += ", " + std::to_string(ctas * n) + " CTAs";
            checks.push_back(std::move(r));
            const MoeShape s = quick ? MoeShape{.tokens = 128, .hidden = 128, .topk = 2, .experts = 4 * n, .fp8 = fp8}
                                     : MoeShape{.tokens = 1024, .hidden = 7168, .topk = 8, .experts = 64, .fp8 = fp8};
            const std::uint32_t inter = quick ? 128u : 2048u;
            MoeAllToAll moe(c, s);
            MoeExperts experts(moe, {.inter = inter});
            upload_moe_inputs(moe, seed);
            const int warm = quick ? 0 : 3, timed = quick ? 1 : 20;
            const double dispatch_ms = bench::median_ms([&](int) { moe.dispatch(); }, warm, timed);
            const double experts_ms = bench::median_ms([&](int) { experts.run(); }, warm, timed);
            const double combine_ms = bench::median_ms([&](int) { moe.combine(&experts.out); }, warm, timed);
            const double pairs = moe_routed_pairs(s) * n;  // the routed rows the experts multiply, all ranks
            const double tflops = experts.flops(pairs) / (experts_ms * 1e-3) / 1e12;
            add(std::string("moe layer: experts (SwiGLU FFN") + (fp8 ? ", fp8)" : ")"), n,
                s.tokens * std::size_t{s.hidden} * 2, static_cast<std::uint32_t>(props.sm_count), experts_ms, 0, 0);
            char line[260];
            std::snprintf(line, sizeof line,
                          "%s%u ranks, %u tokens x %u, top-%u of %u, FFN %u: dispatch %.1f us, experts %.1f us (%.1f "
                          "TFLOP/s over the routed rows), combine %.1f us; layer %.1f us",
                          fp8 ? "fp8: " : "bf16: ", n, s.tokens, s.hidden, s.topk, s.experts, inter, dispatch_ms * 1e3,
                          experts_ms * 1e3, tflops, combine_ms * 1e3, (dispatch_ms + experts_ms + combine_ms) * 1e3);
            layer_lines.emplace_back(line);
            std::printf("moe layer: %s\n", line);
          }
      }
    }
    std::ofstream(csv_path) << csv;
    std::printf("\n== collectives with LocalSim, %s, %s (CSV: %s)\n", props.name.c_str(), date.c_str(), csv_path.c_str());
    std::printf("%-30s %5s %10s %5s %10s %10s %10s\n", "collective", "ranks", "bytes/rank", "SMs", "us", "algbw GB/s",
                "HBM GB/s");
    for (const auto& r : rows) std::printf("%s\n", r.c_str());
    if (!layer_lines.empty()) {
      std::printf("\n== MoE layer with LocalSim (the experts' grouped GEMM on every SM, ranks one after another)\n");
      for (const auto& l : layer_lines) std::printf("%s\n", l.c_str());
    }
    bool ok = true;
    for (const auto& r : checks) {
      if (!r.ok) std::printf("WRONG: %s: %s\n", r.name.c_str(), r.detail.c_str());
      ok &= r.ok;
    }
    std::printf("checks against the CPU reference: %zu, %s\n", checks.size(),
                ok ? "all passed" : "FAILED (the figures above do not count)");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
