// out = transpose(in) for a height x width f32 matrix, through a shared tile padded by one column
// so that reading a tile column touches 32 different banks (no bank conflicts).
#include "dsl/registry.h"
#include "dsl/weft.h"

namespace weft::samples {

WEFT_KERNEL(transpose, "out[x][y] = in[y][x], tiled through conflict-free shared memory",
            {{"tile", 32, "tile edge (CTA is tile x rows threads)", 8, 32, true},
             {"rows", 8, "thread rows per CTA; each thread moves tile/rows elements", 1, 32, true}}) {
  const auto tile = static_cast<std::uint32_t>(params["tile"]);
  const auto rows = static_cast<std::uint32_t>(params["rows"]);
  KernelBuilder k{"transpose", target};
  if (rows > tile) k.error("transpose: rows must not exceed tile");
  k.reqntid(tile, rows);
  auto width = k.param<u32>("width");
  auto height = k.param<u32>("height");
  auto in = k.param_ptr<f32>("in");
  auto out = k.param_ptr<f32>("out");
  const std::uint32_t pitch = tile + 1;  // the padding column
  auto smem = k.shared<f32>("tile", tile * pitch, 16);

  auto tx = k.tid_x();
  auto ty = k.tid_y();
  auto bx = k.ctaid_x() * tile;
  auto by = k.ctaid_y() * tile;

  auto x = bx + tx;
  k.for_(0u, tile, rows, [&](Reg<u32> j) {
    auto y = by + ty + j;
    k.if_(x < width && y < height, [&] { k.st(smem + ((ty + j) * pitch + tx), k.ld(in + (y * width + x))); });
  }, Unroll::full);
  k.bar_sync();
  auto ox = by + tx;
  k.for_(0u, tile, rows, [&](Reg<u32> j) {
    auto oy = bx + ty + j;
    k.if_(ox < height && oy < width, [&] { k.st(out + (oy * height + ox), k.ld(smem + (tx * pitch + ty + j))); });
  }, Unroll::full);
  return k.build();
}

}  // namespace weft::samples
