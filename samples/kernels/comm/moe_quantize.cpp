// MoE dispatch in fp8 (DeepSeek-V3's recipe): before tokens travel, each rank quantizes its rows to
// e4m3 with one f32 scale per 128 values (fp8_block_quant.h), so dispatch moves half the bytes and the
// experts' block-scaled GEMM reads the rows and scales as they arrive. A warp per row; a block of 128
// values is two 32-bit words of bf16 pairs per lane, and a trip takes `unroll` blocks, their loads
// issued together (a lane with one block's loads in flight at a time would keep too few bytes on
// their way to read at HBM speed), then the rest of the row a block per trip. The scales are written
// K-block-major, scales[kb * rows + row], the layout of the block-scaled GEMM's a_scales.
#include <array>
#include <vector>

#include "samples/kernels/comm/fp8_block_quant.h"
#include "dsl/registry.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_quantize, isa::TargetSet::from_sm(89),
                "MoE fp8 dispatch: bf16 token rows to e4m3 with a 1 x 128 block scale each (warp per row)",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads), a row each", 1, 32},
                 {"unroll", 4, "128-value blocks a warp loads together per trip", 1, 8}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  const auto unroll = static_cast<std::uint32_t>(params["unroll"]);
  KernelBuilder k{"moe_quantize", target};
  k.reqntid(32 * warps);
  auto x = k.param_ptr<u32>("x");            // [rows][hidden] bf16, as pairs
  auto q8 = k.param_ptr<u32>("q");           // [rows][hidden] e4m3, four per word
  auto scales = k.param_ptr<f32>("scales");  // [hidden / 128][rows]
  auto rows = k.param<u32>("rows");
  auto hidden = k.param<u32>("hidden");  // a multiple of 128 (the host checks)
  auto lane = k.laneid();
  auto blocks = hidden / kQuantBlock;
  const auto lo = bf16_low, hi = bf16_high;
  auto row = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  auto whole_trips_end = blocks - blocks % unroll;  // blocks below it go `unroll` to a trip
  k.while_([&] { return row < rows; }, [&] {
    auto in = x + row * (hidden / 2u) + lane * 2u;
    auto out = q8 + row * (hidden / 4u) + lane;
    // Blocks first .. first + count - 1: every load, then each block's quantization and stores.
    auto trip = [&](Reg<u32> first, std::uint32_t count) {
      std::vector<std::array<Reg<u32>, 2>> words;
      for (std::uint32_t u = 0; u < count; ++u) {
        auto at = in + (first + u) * 64u;
        words.push_back({k.ld(at, {q::nc}), k.ld(at + 1u, {q::nc})});
      }
      for (std::uint32_t u = 0; u < count; ++u) {
        const auto& [w0, w1] = words[u];
        auto block = quantize_block_e4m3(k, {lo(w0), hi(w0), lo(w1), hi(w1)});
        auto kb = first + u;
        k.st(out + kb * 32u, block.packed);
        k.if_(lane == 0u, [&] { k.st(scales + kb * rows + row, block.scale); });
      }
    };
    auto kb = k.let<u32>(0u);
    if (unroll > 1)
      k.while_([&] { return kb < whole_trips_end; }, [&] {
        trip(kb, unroll);
        k.assign(kb, kb + unroll);
      });
    k.while_([&] { return kb < blocks; }, [&] {
      trip(kb, 1);
      k.assign(kb, kb + 1u);
    });
    k.assign(row, row + k.nctaid_x() * warps);
  });
  return k.build();
}

}  // namespace weft::samples
