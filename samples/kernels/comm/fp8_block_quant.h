// DeepSeek-V3's 1 x 128 activation quantization, done by one warp for a block of 128 consecutive
// values, four per lane (lane i holds elements 4i .. 4i + 3):
//   amax  = max(max |v| over the block, kMinAmax)
//   q     = e4m3(v * (448 / amax)), round to nearest even, saturating to +-448
//   scale = amax / 448 (f32), so v ~ q * scale: the block-scaled GEMM's 1 x 128 scale of A
// Each step is one IEEE f32 operation (div.rn, mul.rn, cvt.rn.satfinite), so the host repeats it bit
// for bit (samples/apps/comm/fp8_block_quant_host.h) and checks dispatch's e4m3 rows exactly.
// kMinAmax keeps an all-zero block finite (its scale is then tiny and its values 0).
#pragma once

#include <array>

#include "codegen/isa/database.h"
#include "dsl/weft.h"

namespace weft::samples {

inline constexpr float kE4m3Max = 448.0f;
inline constexpr float kMinAmax = 1e-4f;
inline constexpr std::uint32_t kQuantBlock = 128;  // values per scale (DeepSeek-V3's 1 x 128 tiles)

// Whether target t converts to e4m3 (cvt ... e4m3x2 is sm_89+): the kernels' check and the host's.
inline bool fp8_convert_supported(const isa::Target& t) { return isa::form("cvt.fp8x2.f32").targets.contains(t); }

// The two bf16 values of a 32-bit word (element 2i in the low half), widened to f32 (exact).
inline Reg<f32> bf16_low(Reg<u32> w) { return bitcast<f32>(w << 16u); }
inline Reg<f32> bf16_high(Reg<u32> w) { return bitcast<f32>(w & 0xffff0000u); }

struct QuantizedBlock {
  Reg<u32> packed;  // this lane's four e4m3 values, element 4i in the low byte
  Reg<f32> scale;   // the block's scale, the same in every lane
};

inline QuantizedBlock quantize_block_e4m3(KernelBuilder& k, const std::array<Reg<f32>, 4>& v,
                                          Loc loc = Loc::current()) {
  auto amax = max(max(abs(v[0]), abs(v[1])), max(abs(v[2]), abs(v[3])));
  for (std::uint32_t offset = 16; offset > 0; offset /= 2) k.assign(amax, max(amax, k.shfl(q::bfly, amax, offset)));
  k.assign(amax, max(amax, kMinAmax));
  auto to_q = k.let<f32>(kE4m3Max) / amax;
  std::array<Reg<e4m3x2>, 2> pairs{k.reg<e4m3x2>(), k.reg<e4m3x2>()};
  for (std::size_t p = 0; p < 2; ++p)  // d = {a (high byte), b (low byte)}
    k.instr("cvt", {isa::Type::e4m3x2, isa::Type::f32}, {q::rn, q::satfinite},
            {pairs[p], v[2 * p + 1] * to_q, v[2 * p] * to_q});
  auto packed = k.reg<b32>();  // {low pair, high pair}
  k.emit_form("mov.pack", isa::Type::b32, isa::Type::none, {},
              {ir::Operand::r(packed.id()), ir::Operand::list({pairs[0].id(), pairs[1].id()})}, SourceLoc::from(loc));
  return {bitcast<u32>(packed), amax / kE4m3Max};
}

}  // namespace weft::samples
