// scan (samples/kernels/scan.cpp), the block-level inclusive prefix sum of u32, on this GPU: emitted
// in-process, launched with one thread per element (ceil(n / block) CTAs, the last one partial),
// checked against the CPU. The kernel's contract, checked here element by element:
//   out[i] = in[s] + ... + in[i], where s is the first index of i's segment (s = i - i % block);
//   block_sums[c] = the total of segment c (in the last, partial segment: of the elements below n).
// Joining the segments into a full prefix sum is a second pass's (or the host's) job.
//
// Tolerance: none. u32 addition wraps modulo 2^32 on both sides; the inputs are full-range random u32,
// so the sums do wrap. out and block_sums are poisoned, each with a guard past its end.
//
//   scan_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

void check(basics::App& app, rt::Module& m, std::uint32_t block, std::uint32_t n) {
  const std::uint32_t grid = basics::ceil_div(n, block);
  std::vector<std::uint32_t> in(n), want(n), want_sums(grid);
  for (auto& v : in) v = app.uniform_int<std::uint32_t>(0, 0xFFFFFFFFu);
  for (std::uint32_t i = 0; i < n; ++i) {
    want[i] = (i % block == 0 ? 0u : want[i - 1]) + in[i];
    want_sums[i / block] = want[i];
  }
  rt::DeviceBuffer<std::uint32_t> din(in);
  auto dout = basics::poisoned_output<std::uint32_t>(n);
  auto dsums = basics::poisoned_output<std::uint32_t>(grid);
  const double ms = basics::timed_ms(
      [&] { m.kernel("scan").launch({.grid = {grid}, .block = {block}}, n, din, dout, dsums); });
  const std::string what = "n=" + std::to_string(n) + " (grid " + std::to_string(grid) + " x " + std::to_string(block) +
                           ", last segment " + std::to_string(n - (grid - 1) * block) + " elements)";
  basics::expect_exact<std::uint32_t>(what + ", out", dout.to_vector(), want);
  basics::expect_exact<std::uint32_t>(what + ", block_sums", dsums.to_vector(), want_sums, "segment");
  std::printf("ok: %s, exact, %.3f ms\n", what.c_str(), ms);
  app.passed.push_back("n=" + std::to_string(n) + " exact");
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "scan", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto block = static_cast<std::uint32_t>(em.params["block"]);
    check(app, m, block, 1000);             // not a multiple of the block: the last segment has 232
    check(app, m, block, weft::samples::full_or_quick((1u << 24) + 5, 5005u));   // large, and again not a multiple
  });
}
