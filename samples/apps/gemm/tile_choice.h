// Which tile width the Hopper GEMM should use for a shape, as a rule a caller can apply before
// loading a kernel (WeftGemmSm90::load({.bn = sm90_bn_for(m, n, sms)})).
//
// The rule is what the first H200 run measured (docs/benchmarks.md): 128 x 256 tiles won wherever
// they still make at least two waves over the SMs (4096^3, 8192^3, 4000^3 on 132 SMs: 512 to 2048
// tiles), and 128 x 128 won everywhere else (2048^3, where 128 x 256 would make 128 tiles for 132
// SMs; 1000 x 1536; the decode shapes, M <= 256 with N = 7168). Narrower tiles there keep every SM
// busy; wider ones elsewhere halve the shared-memory reads of A per FLOP.
#pragma once

#include <cstdint>

namespace weft::samples {

inline std::uint32_t sm90_bn_for(std::uint32_t m, std::uint32_t n, std::uint32_t sms) {
  const std::uint64_t wide_tiles = std::uint64_t{(m + 127) / 128} * ((n + 255) / 256);
  return wide_tiles >= 2ull * sms ? 256 : 128;
}

}  // namespace weft::samples
