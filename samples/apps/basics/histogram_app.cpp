// histogram (samples/kernels/histogram.cpp), hist[b] += the count of bytes equal to b over n bytes
// (256 bins), on this GPU: emitted in-process, checked against the CPU. The kernel strides over the
// input by the whole grid, so it is run with one thread per byte (the last CTA partly idle) and with
// a grid of 4 CTAs per SM (each thread counts many bytes). It adds into hist, so the 256 bins start at
// 0; a poisoned guard follows them.
//
// Tolerance: none (integer counts). Two inputs: uniform bytes, and a skewed mix where half the bytes
// are one value and most of the rest a few others (contention on a few shared-memory bins).
//
//   histogram_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

constexpr std::uint32_t kBins = 256;

void check(basics::App& app, rt::Module& m, std::uint32_t block, std::uint32_t n, std::uint32_t grid, bool skewed) {
  std::vector<std::uint8_t> data(n);
  const auto hot = app.uniform_int<std::uint32_t>(0, 255);
  for (auto& v : data) {
    const std::uint64_t r = app.rng();  // bits 0-7: a uniform byte; bits 8-63: the skewed mix's choice
    std::uint32_t b = static_cast<std::uint32_t>(r & 0xFF);
    const auto pick = (r >> 8) % 100;
    if (skewed && pick < 50) b = hot;
    else if (skewed && pick < 90) b = (hot + 1 + b % 4) % kBins;
    v = static_cast<std::uint8_t>(b);
  }
  std::vector<std::uint32_t> want(kBins, 0);
  for (auto v : data) ++want[v];
  std::vector<std::uint32_t> hist_init(kBins + basics::kGuard, basics::poison<std::uint32_t>());
  std::fill_n(hist_init.begin(), kBins, 0u);
  rt::DeviceBuffer<std::uint8_t> ddata(data);
  rt::DeviceBuffer<std::uint32_t> dhist(hist_init);
  const double ms = basics::timed_ms(
      [&] { m.kernel("histogram").launch({.grid = {grid}, .block = {block}}, n, ddata, dhist); });
  const std::string what = "n=" + std::to_string(n) + " grid " + std::to_string(grid) + " x " + std::to_string(block) +
                           (skewed ? " skewed bytes" : " uniform bytes");
  basics::expect_exact<std::uint32_t>(what, dhist.to_vector(), want, "bin");
  std::printf("ok: %s, exact, %.3f ms\n", what.c_str(), ms);
  app.passed.push_back("n=" + std::to_string(n) + (skewed ? " skewed" : " uniform") + " exact");
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "histogram", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto block = static_cast<std::uint32_t>(em.params["block"]);
    const auto wide = static_cast<std::uint32_t>(4 * app.dev.sm_count);  // a grid-stride grid
    for (const bool skewed : {false, true}) {
      const std::uint32_t small = 1000, large = weft::samples::full_or_quick((1u << 25) + 1, 20011u);  // neither a multiple of the block
      check(app, m, block, small, basics::ceil_div(small, block), skewed);  // one byte per thread
      check(app, m, block, large, wide, skewed);                           // many per thread
    }
  });
}
