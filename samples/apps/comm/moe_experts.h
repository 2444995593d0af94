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
  // Whether a device of compute capability `device_sm` runs the experts' GEMMs (sm_80 and later).
  static bool runs_on(int device_sm);

  // Rank rank_base() + row's weights, local_experts of each after one another: w1 local_experts x
  // 2 inter x hidden (per expert the gate rows, then the up rows), w2 local_experts x hidden x inter.
  void upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w1, const std::vector<std::uint16_t>& w2);
  // Every rank of this process, on the collectives' stream (after dispatch, before combine): its
  // tile_groups from recv_count, the up GEMM, the activation, the down GEMM.
  void run();
  // The FLOPs of run() over the rows dispatch routed to the experts (padding not counted).
  double flops(double routed_rows) const;

  rt::comm::SymmetricBuffer out;  // the experts' outputs, in recv's layout

 private:
  // One grouped GEMM: D (rows_ x n) = A (rows_ x k) times the group's B (n x k) transposed.
  void gemm(std::uint32_t row, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, std::uint32_t n, std::uint32_t k);

  MoeAllToAll& moe_;
  MoeFfnOptions options_;
  std::uint32_t capacity_;  // checked before anything is emitted
  rt::Module groups_, swiglu_;  // moe_tile_groups, moe_swiglu
  std::optional<gemm::WeftGemmSm90> hopper_;  // sm_90a
  std::optional<gemm::WeftGemmSm80> ampere_;  // the others
  struct Rank {             // per rank row of this process
    rt::DeviceBuffer<std::uint16_t> w1, w2, h, g;
    rt::DeviceBuffer<std::int32_t> tile_groups;
  };
  std::vector<Rank> ranks_;
  std::uint32_t rows_ = 0;  // of A and D per rank (recv's)
};

}  // namespace weft::samples
