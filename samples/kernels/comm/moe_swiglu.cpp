// MoE experts' activation between their two grouped GEMMs (DeepSeek-V3's SwiGLU FFN): the first GEMM
// leaves, per row, the gate and up projections side by side in h ([gate | up], 2 x inter bf16); this
// writes g[row][j] = silu(gate_j) * up_j (f32 math, silu(x) = x / (1 + 2^(-x log2 e)) on the special
// function unit; bf16 out), the second GEMM's A. Rows of padding tile rows (their tile_groups entry
// not below `groups`, as the GEMMs read it) are skipped: the GEMMs neither wrote h there nor read g.
// A warp per row, a bf16 pair (one 32-bit word of gate, one of up) per lane and trip; inter even (the
// host asks for a multiple of 8: the GEMMs' 16-byte TMA rows).
//
// fp8=1 (sm_89+; the fp8 MoE layer): g is written as the down GEMM's block-scaled A instead, e4m3 with
// one scale per 128 values (fp8_block_quant.h), scales g_scales[kb * rows + row]; a lane then takes
// four values of a 128-value block per trip (inter a multiple of 128, the host's check).
#include <optional>

#include "samples/kernels/comm/fp8_block_quant.h"
#include "samples/kernels/comm/moe_layout.h"
#include "samples/kernels/gemm/group_rows.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_swiglu, isa::TargetSet::from_sm(80),
                "MoE experts' SwiGLU between their grouped GEMMs: g = silu(gate) * up per row, padding tile rows "
                "skipped",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads), a row each", 1, 32},
                 {"fp8", 0, "1 (sm_89+): g as e4m3 with a 1 x 128 block scale each (g_scales), the block-scaled "
                            "down GEMM's A", 0, 1}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  const bool fp8 = params["fp8"] != 0;
  KernelBuilder k{"moe_swiglu", target};
  if (fp8 && !fp8_convert_supported(target))
    k.error("moe_swiglu: fp8=1 converts to e4m3, which " + target.name() + " cannot (sm_89+)",
            "fp8=0 (bf16 g) on this target");
  if (!k.diagnostics().empty()) return k.build();  // throws with the problem above
  k.reqntid(32 * warps);
  auto h = k.param_ptr<u32>("h");                      // [rows][2 * inter] bf16: gate, then up
  auto g = k.param_ptr<u32>("g");                      // [rows][inter] bf16 (fp8: e4m3, four per word)
  std::optional<Ptr<f32, Global>> g_scales;            // fp8: [inter / 128][rows]
  if (fp8) g_scales = k.param_ptr<f32>("g_scales");
  auto tile_groups = k.param_ptr<s32>("tile_groups");  // [rows / 128]
  auto groups = k.param<u32>("groups");
  auto rows = k.param<u32>("rows");
  auto inter = k.param<u32>("inter");  // even
  auto lane = k.laneid();
  auto pairs = inter / 2u;  // 32-bit words per row of g (and per half of a row of h)
  auto row = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  auto silu = [&](Reg<f32> x) { return x * rcp_approx(ex2_approx(x * -1.4426950408889634f) + 1.0f); };
  const auto lo = bf16_low, hi = bf16_high;
  k.while_([&] { return row < rows; }, [&] {
    auto group = bitcast<u32>(k.ld(tile_groups + row / kGroupRows, {q::nc}));
    k.if_(group < groups, [&] {
      auto gate_row = h + row * (pairs * 2u);
      auto up_row = gate_row + pairs;
      if (fp8) {
        auto out_row = g + row * (inter / 4u) + lane;
        k.for_(0u, inter / kQuantBlock, 1u, [&](Reg<u32> kb) {
          auto at = kb * 64u + lane * 2u;  // this lane's two words of the block: values 4 lane .. 4 lane + 3
          auto gate0 = k.ld(gate_row + at), gate1 = k.ld(gate_row + at + 1u);
          auto up0 = k.ld(up_row + at), up1 = k.ld(up_row + at + 1u);
          auto block = quantize_block_e4m3(k, {silu(lo(gate0)) * lo(up0), silu(hi(gate0)) * hi(up0),
                                               silu(lo(gate1)) * lo(up1), silu(hi(gate1)) * hi(up1)});
          k.st(out_row + kb * 32u, block.packed);
          k.if_(lane == 0u, [&] { k.st(*g_scales + kb * rows + row, block.scale); });
        });
        return;
      }
      auto out_row = g + row * pairs;
      k.for_(lane, pairs, 32u, [&](Reg<u32> j) {
        auto gate = k.ld(gate_row + j);
        auto upw = k.ld(up_row + j);
        Reg<f32> high = silu(hi(gate)) * hi(upw), low = silu(lo(gate)) * lo(upw);
        auto packed = k.reg<b32>();
        k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, high, low});
        k.st(out_row + j, bitcast<u32>(packed));
      });
    });
    k.assign(row, row + k.nctaid_x() * warps);
  });
  return k.build();
}

}  // namespace weft::samples
