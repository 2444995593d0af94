// The grouped GEMMs' unit of grouping (groups=1): one tile_groups entry per this many rows of A, the
// Hopper and tcgen05 kernels' tile rows. The kernels that read or write tile_groups (the GEMMs, the
// MoE glue) and the host's layout (samples/apps/gemm/grouped_rows.h) all take it from here.
#pragma once

#include <cstdint>

namespace weft::samples {

inline constexpr std::uint32_t kGroupRows = 128;

}  // namespace weft::samples
