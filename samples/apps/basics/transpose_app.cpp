// transpose (samples/kernels/transpose.cpp), out = transpose(in) for a height x width f32 matrix, on
// this GPU: emitted in-process, launched with one tile x rows CTA per tile x tile block of `in` (a
// ceil(width / tile) x ceil(height / tile) grid), checked against the CPU. Neither dimension is a
// multiple of the tile, so the edge tiles are partial in both directions.
//
// Tolerance: none. The kernel moves values without arithmetic: out (width x height, row-major) must
// equal in's transpose bit for bit. out is poisoned, with a guard past its end.
//
//   transpose_app [seed]
#include "samples/apps/basics/basics_common.h"

namespace rt = weft::rt;

namespace {

void check(basics::App& app, rt::Module& m, std::uint32_t tile, std::uint32_t rows, std::uint32_t height,
           std::uint32_t width) {
  const std::size_t n = std::size_t{height} * width;
  std::vector<float> in(n), want(n);
  for (auto& v : in) v = app.uniform_float(-1.0f, 1.0f);
  for (std::uint32_t y = 0; y < height; ++y)
    for (std::uint32_t x = 0; x < width; ++x) want[std::size_t{x} * height + y] = in[std::size_t{y} * width + x];
  rt::DeviceBuffer<float> din(in);
  auto dout = basics::poisoned_output<float>(n);
  const rt::Dim3 grid{basics::ceil_div(width, tile), basics::ceil_div(height, tile)};
  const double ms = basics::timed_ms(
      [&] { m.kernel("transpose").launch({.grid = grid, .block = {tile, rows}}, width, height, din, dout); });
  const std::string what = std::to_string(height) + " x " + std::to_string(width) + " (grid " + grid.str() +
                           ", block " + std::to_string(tile) + "x" + std::to_string(rows) + ")";
  // The first bad element is named by its index in out: out[x * height + y] = in[y][x].
  basics::expect_exact<float>(what, dout.to_vector(), want, "element (x * height + y)");
  std::printf("ok: %s, exact, %.3f ms\n", what.c_str(), ms);
  app.passed.push_back(std::to_string(height) + "x" + std::to_string(width) + " exact");
}

}  // namespace

int main(int argc, char** argv) {
  return basics::run_app(argc, argv, "transpose", [](basics::App& app) {
    basics::Emitted em;
    rt::Module m = app.load(&em);
    const auto tile = static_cast<std::uint32_t>(em.params["tile"]);
    const auto rows = static_cast<std::uint32_t>(em.params["rows"]);
    check(app, m, tile, rows, 45, 70);        // 2 x 3 tiles, every edge tile partial
    check(app, m, tile, rows, weft::samples::full_or_quick(3001u, 131u), weft::samples::full_or_quick(4099u, 97u));    // large, and again no dimension a multiple of the tile
  });
}
