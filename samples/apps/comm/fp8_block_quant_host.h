// The host's copy of the kernels' 1 x 128 e4m3 quantization (samples/kernels/comm/fp8_block_quant.h),
// the same f32 operations in the same order, so a check can demand dispatch's e4m3 rows and scales
// bit for bit: amax = max(max |v|, kMinAmax); q = e4m3_rn_satfinite(v * (448 / amax));
// scale = amax / 448.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "samples/apps/gemm/gemm_common.h"
#include "samples/kernels/comm/fp8_block_quant.h"

namespace weft::samples {

// v to e4m3, round to nearest with ties to the even code, saturating to +-448 (cvt.rn.satfinite),
// keeping the sign (zero's too), NaN to NaN (0x7F): the nearest of the 127 finite magnitudes, by
// binary search in the table of them (codes 0 .. 0x7E increase with their value).
inline std::uint8_t e4m3_rn_satfinite(float v) {
  if (std::isnan(v)) return 0x7F;  // as cvt: NaN stays NaN
  static const std::array<float, 0x7F> magnitudes = [] {
    std::array<float, 0x7F> m{};
    for (std::size_t c = 0; c < m.size(); ++c) m[c] = gemm::from_e4m3(static_cast<std::uint8_t>(c));
    return m;
  }();
  const float a = std::min(std::fabs(v), kE4m3Max);
  const auto hi = static_cast<std::size_t>(std::lower_bound(magnitudes.begin(), magnitudes.end(), a) - magnitudes.begin());
  std::size_t best = hi;  // a <= 448 = magnitudes.back(), so hi is a code
  if (hi > 0) {
    const float below = a - magnitudes[hi - 1], above = magnitudes[hi] - a;  // exact: neighbours within 2x
    if (below < above || (below == above && (hi - 1) % 2 == 0)) best = hi - 1;
  }
  return static_cast<std::uint8_t>(best | (std::signbit(v) ? 0x80 : 0));
}

// Rows x cols values (cols a multiple of 128) quantized as the kernels do: q row-major, scales
// [cols / 128][rows] (K-block-major, the block-scaled GEMM's a_scales).
struct BlockQuantized {
  std::vector<std::uint8_t> q;
  std::vector<float> scales;
  double value(std::size_t row, std::size_t col, std::size_t rows, std::size_t cols) const {
    return double(gemm::from_e4m3(q[row * cols + col])) * scales[col / kQuantBlock * rows + row];
  }
};
inline BlockQuantized quantize_rows(const std::vector<float>& v, std::size_t rows, std::size_t cols) {
  BlockQuantized out{std::vector<std::uint8_t>(rows * cols), std::vector<float>(rows * (cols / kQuantBlock))};
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t kb = 0; kb < cols / kQuantBlock; ++kb) {
      const float* block = &v[r * cols + kb * kQuantBlock];
      float amax = 0;
      for (std::size_t i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(block[i]));
      amax = std::max(amax, kMinAmax);
      const float to_q = kE4m3Max / amax;
      for (std::size_t i = 0; i < kQuantBlock; ++i) out.q[r * cols + kb * kQuantBlock + i] = e4m3_rn_satfinite(block[i] * to_q);
      out.scales[kb * rows + r] = amax / kE4m3Max;
    }
  return out;
}

}  // namespace weft::samples
