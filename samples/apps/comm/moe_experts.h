// The experts of the MoE layer sample (samples/apps/comm/moe.h): each local expert a SwiGLU FFN, as
// DeepSeek-V3's: y = W2 (silu(W1_gate x) * W1_up x), with W1 (2 * inter x hidden: the gate rows, then
// the up rows) and W2 (hidden x inter), bf16, n x k row-major. It runs on the tokens dispatch received,
// per rank, as two grouped GEMMs (gemm_bf16_sm90 with groups=1 on sm_90a, else gemm_bf16_sm80's on
// sm_80+) around an activation kernel (moe_swiglu):
//   A = recv, whose regions of `capacity` rows per (local expert, source) are the groups' rows;
//   tile_groups from recv_count, on the device (moe_tile_groups): a region's unfilled tile rows cost
//   no loads, MMAs or stores in either GEMM nor work in the activation, and no count returns to the host;
//   h = recv W1^T (rows x 2 inter), g = silu(gate) * up (rows x inter), out = g W2^T, a symmetric buffer
//   of recv's layout, which combine then gathers from the experts' owners.
//
// With fp8 dispatch (MoeShape::fp8) the experts run DeepSeek-V3's fp8 FFN on sm_90a: recv's e4m3 rows
// and 1 x 128 scales are the up GEMM's block-scaled A, the weights e4m3 with 128 x 128 block scales
// (upload_weights_fp8), the activation writes g as e4m3 with 1 x 128 scales (moe_swiglu fp8=1), the
// down GEMM's A; h and out stay bf16. Hidden and inter are then multiples of 128.
//
//   MoeAllToAll moe(c, {.tokens = 256, .hidden = 1024, .topk = 8, .experts = 32});
//   MoeExperts experts(moe, {.inter = 512});
//   experts.upload_weights(row, w1, w2);   // every rank row of this process
//   moe.dispatch(); experts.run(); moe.combine(&experts.out);
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "samples/apps/comm/moe.h"
#include "samples/apps/gemm/gemm_common.h"

namespace weft::samples {

struct MoeFfnOptions {
  std::uint32_t inter = 256;  // the FFN's intermediate size (a multiple of 8: the GEMMs' 16-byte rows)
  bool debug_waits = false;   // the Hopper GEMMs' bounded mbarrier waits
};

class MoeExperts {
 public:
  // Refuses a capacity (the MoE shape's tokens) that is not a multiple of the GEMMs' 128-row tiles and
  // an intermediate size that is not a multiple of 8 (hidden's 16 bytes MoeAllToAll checks).
  MoeExperts(MoeAllToAll& moe, MoeFfnOptions options);
  // Whether a device of compute capability `device_sm` runs the experts' GEMMs (sm_80 and later; with
  // fp8, the block-scaled Hopper GEMM: sm_90a).
  static bool runs_on(int device_sm, bool fp8 = false);

  // Rank rank_base() + row's weights, local_experts of each after one another: w1 local_experts x
  // 2 inter x hidden (per expert the gate rows, then the up rows), w2 local_experts x hidden x inter.
  void upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w1, const std::vector<std::uint16_t>& w2);
  // fp8: the same weights as e4m3, with their block scales per expert as the block-scaled GEMM takes
  // them: w1_scales local_experts x (2 inter / 128) x (hidden / 128), w2_scales local_experts x
  // (hidden / 128) x (inter / 128); scales[(e * NB + nb) * KB + kb] scales expert e's 128 x 128 block
  // (rows 128 nb.., columns 128 kb..).
  void upload_weights_fp8(std::uint32_t row, const std::vector<std::uint8_t>& w1, const std::vector<float>& w1_scales,
                          const std::vector<std::uint8_t>& w2, const std::vector<float>& w2_scales);
  // Every rank of this process, on the collectives' stream (after dispatch, before combine): its
  // tile_groups from recv_count, the up GEMM, the activation, the down GEMM.
  void run();
  // The FLOPs of run() over the rows dispatch routed to the experts (padding not counted).
  double flops(double routed_rows) const;

  rt::comm::SymmetricBuffer out;  // the experts' outputs, in recv's layout

 private:
  // One grouped GEMM: D (rows_ x n) = A (rows_ x k) times the group's B (n x k) transposed; with fp8,
  // A's and B's block scales.
  void gemm(std::uint32_t row, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, std::uint32_t n, std::uint32_t k,
            CUdeviceptr a_scales = 0, CUdeviceptr b_scales = 0);

  MoeAllToAll& moe_;
  MoeFfnOptions options_;
  std::uint32_t capacity_;  // checked before anything is emitted
  rt::Module groups_, swiglu_;  // moe_tile_groups, moe_swiglu
  std::optional<gemm::WeftGemmSm90> hopper_;  // sm_90a
  std::optional<gemm::WeftGemmSm80> ampere_;  // the others
  bool fp8_;
  struct Rank {             // per rank row of this process
    rt::DeviceBuffer<std::uint16_t> w1, w2, h, g;  // fp8: w1, w2 and g hold e4m3 (half their bytes used)
    rt::DeviceBuffer<std::int32_t> tile_groups;
    rt::DeviceBuffer<float> w1_scales, w2_scales, g_scales;  // fp8 only
  };
  std::vector<Rank> ranks_;
  std::uint32_t rows_ = 0;  // of A and D per rank (recv's)
};

}  // namespace weft::samples
