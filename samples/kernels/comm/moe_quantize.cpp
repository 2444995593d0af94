// MoE dispatch in fp8 (DeepSeek-V3's recipe): before tokens travel, each rank quantizes its rows to
// e4m3 with one f32 scale per 128 values (fp8_block_quant.h), so dispatch moves half the bytes and the
// experts' block-scaled GEMM reads the rows and scales as they arrive. A warp per row, 128 values per
// trip (two 32-bit words of bf16 pairs per lane); the scales are written K-block-major,
// scales[kb * rows + row], the layout of the block-scaled GEMM's a_scales.
#include "samples/kernels/comm/fp8_block_quant.h"
#include "dsl/registry.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_quantize, isa::TargetSet::from_sm(89),
                "MoE fp8 dispatch: bf16 token rows to e4m3 with a 1 x 128 block scale each (warp per row)",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads), a row each", 1, 32}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  KernelBuilder k{"moe_quantize", target};
  k.reqntid(32 * warps);
  auto x = k.param_ptr<u32>("x");            // [rows][hidden] bf16, as pairs
  auto q8 = k.param_ptr<u32>("q");           // [rows][hidden] e4m3, four per word
  auto scales = k.param_ptr<f32>("scales");  // [hidden / 128][rows]
  auto rows = k.param<u32>("rows");
  auto hidden = k.param<u32>("hidden");  // a multiple of 128 (the host checks)
  auto lane = k.laneid();
  auto blocks = hidden / kQuantBlock;
  auto lo = [&](Reg<u32> w) { return bitcast<f32>(w << 16u); };
  auto hi = [&](Reg<u32> w) { return bitcast<f32>(w & 0xffff0000u); };
  auto row = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  k.while_([&] { return row < rows; }, [&] {
    auto in = x + row * (hidden / 2u) + lane * 2u;
    auto out = q8 + row * (hidden / 4u) + lane;
    k.for_(0u, blocks, 1u, [&](Reg<u32> kb) {
      auto w0 = k.ld(in + kb * 64u, {q::nc});
      auto w1 = k.ld(in + kb * 64u + 1u, {q::nc});
      auto block = quantize_block_e4m3(k, {lo(w0), hi(w0), lo(w1), hi(w1)});
      k.st(out + kb * 32u, block.packed);
      k.if_(lane == 0u, [&] { k.st(scales + kb * rows + row, block.scale); });
    });
    k.assign(row, row + k.nctaid_x() * warps);
  });
  return k.build();
}

}  // namespace weft::samples
