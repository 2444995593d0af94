// saxpy (samples/kernels/saxpy.cpp), y = a*x + y over n f32 in place, on this GPU: emitted in-process,
// launched with one thread per element (the last CTA partly idle), checked against the CPU.
//
// Tolerance: none. The kernel computes fma.rn.f32(a, x[i], y[i]), one rounding, and the CPU's
// std::fma(float, float, float) is the same correctly rounded operation, so the result must match bit
// for bit. y is read and written, so it is not poisoned; its guard past n is, and must stay so.
//
//   saxpy_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

void check(basics::App& app, rt::Module& m, std::uint32_t block, std::uint32_t n) {
  const float a = app.uniform_float(-2.0f, 2.0f);
  std::vector<float> x(n), y(n + basics::kGuard, basics::poison<float>()), want(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    x[i] = app.uniform_float(-1.0f, 1.0f);
    y[i] = app.uniform_float(-1.0f, 1.0f);
    want[i] = std::fma(a, x[i], y[i]);
  }
  rt::DeviceBuffer<float> dx(x), dy(y);
  const std::uint32_t grid = basics::ceil_div(n, block);
  const double ms = basics::timed_ms([&] { m.kernel("saxpy").launch({.grid = {grid}, .block = {block}}, n, a, dx, dy); });
  const std::string what = "n=" + std::to_string(n) + " a=" + basics::show(a) + " (grid " + std::to_string(grid) +
                           " x " + std::to_string(block) + ")";
  basics::expect_exact<float>(what, dy.to_vector(), want);
  std::printf("ok: %s, exact, %.3f ms\n", what.c_str(), ms);
  app.passed.push_back("n=" + std::to_string(n) + " exact");
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "saxpy", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto block = static_cast<std::uint32_t>(em.params["block"]);
    check(app, m, block, 1000);               // not a multiple of the block
    check(app, m, block, weft::samples::full_or_quick((1u << 24) + 3, 5003u));     // large, and again not a multiple
  });
}
