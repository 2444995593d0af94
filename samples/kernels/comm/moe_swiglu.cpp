// MoE experts' activation between their two grouped GEMMs (DeepSeek-V3's SwiGLU FFN): the first GEMM
// leaves, per row, the gate and up projections side by side in h ([gate | up], 2 x inter bf16); this
// writes g[row][j] = silu(gate_j) * up_j (f32 math, silu(x) = x / (1 + 2^(-x log2 e)) on the special
// function unit; bf16 out), the second GEMM's A. Rows of padding tile rows (their tile_groups entry
// not below `groups`, as the GEMMs read it) are skipped: the GEMMs neither wrote h there nor read g.
// A warp per row, a bf16 pair (one 32-bit word of gate, one of up) per lane and trip; inter even (the
// host asks for a multiple of 8: the GEMMs' 16-byte TMA rows).
#include "samples/kernels/comm/moe_layout.h"
#include "samples/kernels/gemm/group_rows.h"

namespace weft::samples {

WEFT_KERNEL_FOR(moe_swiglu, isa::TargetSet::from_sm(80),
                "MoE experts' SwiGLU between their grouped GEMMs: g = silu(gate) * up per row, padding tile rows "
                "skipped",
                {{"warps", 8, "warps per CTA (the launch gives 32 * warps threads), a row each", 1, 32}}) {
  const auto warps = static_cast<std::uint32_t>(params["warps"]);
  KernelBuilder k{"moe_swiglu", target};
  k.reqntid(32 * warps);
  auto h = k.param_ptr<u32>("h");                      // [rows][2 * inter] bf16: gate, then up
  auto g = k.param_ptr<u32>("g");                      // [rows][inter] bf16
  auto tile_groups = k.param_ptr<s32>("tile_groups");  // [rows / 128]
  auto groups = k.param<u32>("groups");
  auto rows = k.param<u32>("rows");
  auto inter = k.param<u32>("inter");  // even
  auto lane = k.laneid();
  auto pairs = inter / 2u;  // 32-bit words per row of g (and per half of a row of h)
  auto row = k.let<u32>(k.ctaid_x() * warps + k.tid_x() / 32u);
  auto silu = [&](Reg<f32> x) { return x * rcp_approx(ex2_approx(x * -1.4426950408889634f) + 1.0f); };
  auto lo = [&](Reg<u32> w) { return bitcast<f32>(w << 16u); };
  auto hi = [&](Reg<u32> w) { return bitcast<f32>(w & 0xffff0000u); };
  k.while_([&] { return row < rows; }, [&] {
    auto group = bitcast<u32>(k.ld(tile_groups + row / kGroupRows, {q::nc}));
    k.if_(group < groups, [&] {
      auto gate_row = h + row * (pairs * 2u);
      auto up_row = gate_row + pairs;
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
