// cuTensorMapEncodeTiled for the emulated device: the driver's documented argument rules, then the
// emulator's own 128-byte encoding of the map (tools/ptxemu/tma.py, TMAP_FORMAT), which its TMA
// instructions read. Maps the emulator cannot model (interleaved layouts, element strides other than
// 1, NaN fill, an inner box narrower than its swizzle span) are refused with CUDA_ERROR_NOT_SUPPORTED
// and a line on stderr, so a host program never runs with a map that is emulated by guess.
#pragma once

#include <cuda.h>

namespace weft::emu {

CUresult encode_tiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                      const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                      const cuuint32_t* element_strides, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                      CUtensorMapFloatOOBfill fill);

}  // namespace weft::emu
