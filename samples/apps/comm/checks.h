// Run-and-check routines for the collective samples, shared by the host app, the GPU tests and the
// benchmark. Inputs are a pure function of (seed, rank, index), so every process can compute the
// reference for all ranks without exchanging data (Ipc and Nccl hold one rank per process).
// Outputs are poisoned (all bits set: NaN) before each run, so an element never written fails.
#pragma once

#include <string>

#include "samples/apps/comm/collectives.h"
#include "samples/apps/comm/moe.h"

namespace weft::samples {

struct CheckReport {
  std::string name;     // "all_reduce bf16 two-shot, 4 ranks, 1048576 elements"
  bool ok = false;
  double max_error = 0;  // largest |got - want| / max(|want|, 1)
  std::string detail;    // the first mismatch, when !ok
};

CheckReport check_all_gather(Collectives& c, std::size_t bytes_per_rank, std::uint32_t seed);
CheckReport check_reduce_scatter(Collectives& c, std::size_t count, Elem elem, std::uint32_t seed);
CheckReport check_all_reduce(Collectives& c, std::size_t count, Elem elem, int shots, std::uint32_t seed);
// Dispatch, a host-side "expert" (row *= global expert id + 1, in place in recv), combine; checks the
// counts, that every received row is one its source sent to that expert, and the combined output.
CheckReport check_moe(Collectives& c, const MoeShape& shape, std::uint32_t seed, MoeKernelOptions options = {});
// The inputs check_moe uses (tokens, distinct random top-k choices, weights), on every row of the heap.
void upload_moe_inputs(MoeAllToAll& moe, std::uint32_t seed);
// The token-expert pairs those inputs route per rank: every token's top-k, less the empty last choice
// of every fifth token.
double moe_routed_pairs(const MoeShape& shape);
// A whole MoE layer: dispatch, the experts as SwiGLU FFNs of intermediate size `inter` (MoeExperts: two
// grouped GEMMs per rank around the activation, random bf16 weights; sm_80+), combine from the
// experts' outputs; checks every rank's output against float64 (rounded to bf16 where the kernels
// store: the up projection, the activation, the expert output). The shape's tokens (the capacity
// per region) must be a multiple of 128, inter of 8. With shape.fp8 (sm_90a): random e4m3 weights with
// 128 x 128 block scales; every received e4m3 row and its scales must be the host's quantization of a
// token sent there, bit for bit, and the output is held to 3e-2 against float64 on the quantized values.
CheckReport check_moe_layer(Collectives& c, const MoeShape& shape, std::uint32_t inter, std::uint32_t seed,
                            MoeKernelOptions options = {});

// Helpers shared with the benchmark.
float bf16_to_float(std::uint16_t b);
std::uint16_t float_to_bf16(float f);  // round to nearest even
float input_value(std::uint32_t seed, std::uint32_t rank, std::uint64_t index);  // in [-1, 1)

}  // namespace weft::samples
