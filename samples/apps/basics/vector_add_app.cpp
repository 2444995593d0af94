// vector_add (samples/kernels/vector_add.cpp), c[i] = a[i] + b[i] over n f32, on this GPU: emitted
// in-process, launched with one thread per element (the last CTA partly idle), checked against the CPU.
//
// Tolerance: none. The kernel does one add.f32 (round to nearest) per element and the CPU does the
// same IEEE single-precision add, so the result must match bit for bit.
//
//   vector_add_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

void check(basics::App& app, rt::Module& m, std::uint32_t block, std::uint32_t n) {
  std::vector<float> a(n), b(n), want(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    a[i] = app.uniform_float(-1.0f, 1.0f);
    b[i] = app.uniform_float(-1.0f, 1.0f);
    want[i] = a[i] + b[i];
  }
  rt::DeviceBuffer<float> da(a), db(b);
  auto dc = basics::poisoned_output<float>(n);
  const std::uint32_t grid = basics::ceil_div(n, block);
  const double ms = basics::timed_ms([&] { m.kernel("vector_add").launch({.grid = {grid}, .block = {block}}, n, da, db, dc); });
  const std::string what = "n=" + std::to_string(n) + " (grid " + std::to_string(grid) + " x " + std::to_string(block) + ")";
  basics::expect_exact<float>(what, dc.to_vector(), want);
  std::printf("ok: %s, exact, %.3f ms\n", what.c_str(), ms);
  app.passed.push_back("n=" + std::to_string(n) + " exact");
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "vector_add", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto block = static_cast<std::uint32_t>(em.params["block"]);
    check(app, m, block, 1000);               // not a multiple of the block: 4 CTAs, the last 232/256 used
    check(app, m, block, weft::samples::full_or_quick((1u << 24) + 3, 5003u));     // large, and again not a multiple
  });
}
