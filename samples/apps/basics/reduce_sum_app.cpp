// reduce_sum (samples/kernels/reduce_sum.cpp), *out += the sum of n f32, on this GPU: emitted
// in-process, checked against the CPU. The kernel strides over the input by the whole grid, so it is
// run with one thread per element (the last CTA partly idle) and with a grid of 4 CTAs per SM (each
// thread sums many elements). It adds into *out, so out[0] starts at 0; out[1..] is a poisoned guard.
//
// Two kinds of input per size:
//   - exact: random integers in [-R, R] with n * R < 2^24. Every partial sum, in any order, is then an
//     integer below 2^24 in magnitude, which f32 holds exactly: the sum must be exact, so one element
//     lost or counted twice is caught however the additions are grouped.
//   - rounding: random floats in [0, 1). The GPU's grouping is a tree: each thread's sequential sum of
//     at most L = ceil(n / threads) elements, 5 butterfly levels per warp, 5 over the warp sums, then
//     one atomic add per CTA into *out. With at most h = L + 10 + grid rounded adds on any element's
//     path and u = 2^-24, the standard bound for summation is
//     |gpu - exact| <= h*u/(1 - h*u) * sum|x|; the reference is a double sum (its own error, n * 2^-53
//     * sum|x|, is added to the bound). All inputs are non-negative, so this is a relative tolerance of
//     about h * 6e-8 of the sum.
//
//   reduce_sum_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

void run_case(basics::App& app, rt::Module& m, std::uint32_t block, std::uint32_t n, std::uint32_t grid, bool exact) {
  std::vector<float> x(n);
  double want = 0, abs_sum = 0;
  if (exact) {
    const auto r = static_cast<std::int32_t>(std::max<std::uint32_t>(1, ((1u << 24) - 1) / n));
    for (auto& v : x) v = static_cast<float>(app.uniform_int<std::int32_t>(-r, r));
  } else {
    for (auto& v : x) v = app.uniform_float(0.0f, 1.0f);
  }
  for (float v : x) {
    want += v;
    abs_sum += std::fabs(v);
  }
  rt::DeviceBuffer<float> dx(x);
  std::vector<float> out_init(1 + basics::kGuard, basics::poison<float>());
  out_init[0] = 0.0f;  // the kernel adds into out[0]; the rest is the poisoned guard
  rt::DeviceBuffer<float> dout(out_init);
  const double ms = basics::timed_ms([&] { m.kernel("reduce_sum").launch({.grid = {grid}, .block = {block}}, n, dx, dout); });
  const auto out = dout.to_vector();
  const std::string what = "n=" + std::to_string(n) + " grid " + std::to_string(grid) + " x " + std::to_string(block) +
                           (exact ? " integer inputs" : " inputs in [0, 1)");
  std::string how;
  if (exact) {
    // The exact sum, as the f32 it must be (|sum| < 2^24).
    basics::expect_exact<float>(what, out, std::vector<float>{static_cast<float>(want)}, "output");
    how = "exact";
  } else {
    const std::uint64_t threads = std::uint64_t{grid} * block;
    const double l = static_cast<double>((n + threads - 1) / threads);
    const double h = l + 10 + grid, u = std::ldexp(1.0, -24);
    const double tol = h * u / (1 - h * u) * abs_sum + n * std::ldexp(1.0, -53) * abs_sum;
    const double err = std::fabs(static_cast<double>(out[0]) - want);
    if (!(err <= tol))  // also catches a NaN
      throw basics::Mismatch(what + ": the sum is " + basics::show(out[0]) + ", want " + basics::show(static_cast<float>(want)) +
                             " (double " + std::to_string(want) + "): error " + std::to_string(err) + " > bound " +
                             std::to_string(tol));
    basics::expect_exact<float>(what, out, std::vector<float>{out[0]}, "output");  // the guard
    char s[96];
    std::snprintf(s, sizeof s, "error %.3g <= bound %.3g (%.2g of the sum)", err, tol, tol / want);
    how = s;
  }
  std::printf("ok: %s, %s, %.3f ms\n", what.c_str(), how.c_str(), ms);
  app.passed.push_back("n=" + std::to_string(n) + (exact ? " exact" : " within bound"));
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "reduce_sum", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto block = static_cast<std::uint32_t>(em.params["block"]);
    const auto wide = static_cast<std::uint32_t>(4 * app.dev.sm_count);  // a grid-stride grid
    for (const bool exact : {true, false}) {
      const std::uint32_t small = 1000, large = weft::samples::full_or_quick((1u << 24) - 3, 20011u);  // neither a multiple of the block; large * 1 < 2^24
      run_case(app, m, block, small, basics::ceil_div(small, block), exact);  // one element per thread
      run_case(app, m, block, large, wide, exact);                           // many per thread
    }
  });
}
