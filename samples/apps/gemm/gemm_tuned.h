// The Hopper GEMM with its configuration chosen per shape by timing (rt::autotune): what an
// application calls for the fastest of weft's Hopper variants on its card, without reading the
// benchmark tables.
//
// The first run of a shape on a machine times each candidate (into a scratch D, so the caller's D is
// written once, by the winner, and a C that is the caller's D is read unchanged); later runs, in this
// process or another (the choice is kept beside the cubin cache), run the winner at once.
// $WEFT_TUNE=off runs the first candidate, the tile rule's choice (tile_choice.h), untimed.
#pragma once

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "samples/apps/gemm/gemm_common.h"
#include "samples/apps/gemm/tile_choice.h"

namespace gemm {

// The configurations worth timing for a shape, labelled: the tile rule's first; 128 x 128 and
// 128 x 256 tiles, each also with stream-K; where 128 x 256 tiles make two waves or more, also in
// 2-CTA clusters sharing B (multicast); at M <= 256 (decode) 128 x 64 tiles, and at M <= 64 A in
// 64-row boxes (a_halves), alone and with stream-K. Every candidate keeps what `base` asks of the
// result (element types, f32 output, bias, NN, block scales, register stores, groups); one that cannot
// be built for it (128 x 256 with block scales) fails to load and is left out when timed. A grouped
// base gets neither stream-K nor clusters, which the grouped kernel refuses.
inline std::vector<std::pair<std::string, Sm90Options>> sm90_candidates(const Sm90Options& base, std::uint32_t m,
                                                                          std::uint32_t n, std::uint32_t sms) {
  auto with = [&](std::uint32_t bn, bool stream_k, bool a_halves, std::uint32_t cluster_m = 1) {
    Sm90Options o = base;
    o.bn = bn;
    o.stream_k = stream_k;
    o.cluster_m = cluster_m;
    if (a_halves) o.extra.push_back("a_halves=1");
    return std::pair{"bn" + std::to_string(bn) + (stream_k ? "sk" : "") + (a_halves ? "ahalf" : "") +
                         (cluster_m > 1 ? "c" + std::to_string(cluster_m) : ""),
                     o};
  };
  std::vector<std::pair<std::string, Sm90Options>> c;
  const std::uint32_t rule = weft::samples::sm90_bn_for(m, n, sms);
  c.push_back(with(rule, false, false));
  const bool whole_tiles_only = base.groups;  // no stream-K, no clusters
  for (const std::uint32_t bn : {128u, 256u})
    for (const bool sk : {false, true})
      if ((bn != rule || sk) && !(sk && whole_tiles_only)) c.push_back(with(bn, sk, false));
  if (rule == 256 && !whole_tiles_only) c.push_back(with(256, false, false, 2));
  if (m <= 256) c.push_back(with(64, false, false));
  if (m <= 64) {
    c.push_back(with(128, false, true));
    if (!whole_tiles_only) c.push_back(with(128, true, true));
  }
  return c;
}

// How a candidate is timed: rt::median_ms of `timed` runs after `warmup`.
struct TuneRuns {
  int warmup = 1, timed = 5;
};

class TunedGemmSm90 {
 public:
  // `base`: what every candidate keeps (kept as `opt`); bn, stream_k, cluster_m and a_halves are the
  // tuner's to choose. Leave base.stages at 0 (as many as fit): a fixed count that 128 x 256 tiles
  // cannot hold leaves those candidates out.
  explicit TunedGemmSm90(Sm90Options base = {}, TuneRuns runs = {}) : opt(std::move(base)), runs_(runs) {}

  // D = alpha * A * B^T + beta * C (+ bias), as WeftGemmSm90::run, through the shape's chosen variant.
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const Sm90Operands& x,
           CUstream stream = nullptr) {
    using namespace weft::rt;
    if (m == 0 || n == 0) return;  // an empty D: nothing to choose
    check_sm90_operands(opt, n, k, beta, x);  // once, not as seven candidates' failures
    const std::array<std::uint32_t, 3> shape{m, n, k};
    auto chosen = chosen_.find(shape);
    if (chosen == chosen_.end()) chosen = chosen_.emplace(shape, choose(m, n, k, alpha, beta, x, stream)).first;
    last_ = &chosen->second;
    chosen->second.gemm->run(m, n, k, alpha, beta, x, stream);
  }

  Sm90Options opt;

  // "tuned gemm_bf16_sm90 bn=128 (bn256sk, timed)": the base, the variant the last run used and how
  // it was chosen.
  std::string label() const {
    static const char* how[] = {"timed", "remembered", "remembered on disk", "untimed: WEFT_TUNE=off"};
    return "tuned " + sm90_label(opt) + (last_ ? " (" + last_->label + ", " + how[static_cast<int>(last_->source)] + ")" : "");
  }
  // The label of the variant the last run used ("bn256sk"); empty before the first run.
  std::string last_choice() const { return last_ ? last_->label : std::string(); }

 private:
  // Tunes (or recalls) a shape: the problem names everything that builds or times the candidates
  // (the base's settings, debug waits, L2 promotion, the timing runs), so that choices made under
  // other conditions (a test's debug build, a quick timing) are not taken for this one's.
  struct Chosen {
    std::string label;
    WeftGemmSm90* gemm = nullptr;
    weft::rt::TuneChoice::Source source = weft::rt::TuneChoice::Source::timed;
  };
  Chosen choose(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta,
                                               const Sm90Operands& x, CUstream stream) {
    using namespace weft::rt;
    const auto candidates = sm90_candidates(opt, m, n, static_cast<std::uint32_t>(device_props(0).sm_count));
    std::string name = std::string(sm90_kernel(opt)) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                       std::to_string(k);
    for (const auto& setting : sm90_settings(opt)) name += " " + setting;
    name += std::string(" debug_waits=") + (opt.debug_waits ? "1" : "0") + " l2_promotion=" +
            (opt.l2_promotion ? "1" : "0") + " runs=" + std::to_string(runs_.warmup) + "+" + std::to_string(runs_.timed);
    TuneProblem problem{name, {}, tune_device()};
    for (const auto& [label, o] : candidates) problem.candidates.push_back(label);
    const auto tune = autotune(problem, [&](std::size_t i) {
      auto& g = variant(candidates[i]);
      const std::size_t d_bytes = std::size_t{m} * n * (opt.out_f32 ? 4 : 2);
      if (scratch_.size() < d_bytes) scratch_ = DeviceBuffer<std::uint8_t>(d_bytes);
      Sm90Operands into_scratch = x;
      into_scratch.d = scratch_.ptr().raw();
      return median_ms([&](int) { g.run(m, n, k, alpha, beta, into_scratch, stream); }, runs_.warmup, runs_.timed, stream);
    });
    const auto& winner = candidates[tune.index];
    return {winner.first, &variant(winner), tune.source};
  }

  WeftGemmSm90& variant(const std::pair<std::string, Sm90Options>& c) {
    auto it = loaded_.find(c.first);
    if (it == loaded_.end()) it = loaded_.emplace(c.first, WeftGemmSm90::load(c.second)).first;
    return it->second;
  }

  TuneRuns runs_;
  std::map<std::string, WeftGemmSm90> loaded_;  // by label, loaded when first timed or run (stable addresses)
  std::map<std::array<std::uint32_t, 3>, Chosen> chosen_;  // per shape (m, n, k)
  const Chosen* last_ = nullptr;                           // the last run's
  weft::rt::DeviceBuffer<std::uint8_t> scratch_;
};

}  // namespace gemm
