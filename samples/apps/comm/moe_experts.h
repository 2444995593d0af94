// The experts of the MoE layer sample (samples/apps/comm/moe.h): each local expert one linear layer,
// W[le] (hidden x hidden bf16, n x k row-major), applied to the tokens dispatch received, as one
// grouped GEMM per rank (gemm_bf16_sm90 with groups=1 on sm_90a, else gemm_bf16_sm80's on sm_80+):
//   A = recv, whose regions of `capacity` rows per (local expert, source) are the groups' rows;
//   tile_groups from recv_count, on the device (moe_tile_groups), so a region's unfilled tile rows
//   cost no loads, MMAs or stores, and no count comes back to the host;
//   D = out, a symmetric buffer of recv's layout, which combine then gathers from the experts' owners.
//
//   MoeAllToAll moe(c, {.tokens = 256, .hidden = 1024, .topk = 8, .experts = 32});
//   MoeExperts experts(moe);
//   experts.upload_weights(row, w);   // every rank row of this process
//   moe.dispatch(); experts.run(); moe.combine(&experts.out);
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "samples/apps/comm/moe.h"
#include "samples/apps/gemm/gemm_common.h"

namespace weft::samples {

class MoeExperts {
 public:
  // Refuses a capacity (the MoE shape's tokens) that is not a multiple of the GEMM's 128-row tiles,
  // and a hidden size TMA cannot stride (hidden * 2 bytes a multiple of 16, which MoeAllToAll checks).
  explicit MoeExperts(MoeAllToAll& moe, bool debug_waits = false);
  // Whether a device of compute capability `device_sm` runs the experts' GEMM (sm_80 and later).
  static bool runs_on(int device_sm);

  // Rank rank_base() + row's weights: local_experts x hidden x hidden bf16 (expert le's n x k
  // matrix at le * hidden * hidden).
  void upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w);
  // Every rank of this process: its tile_groups from recv_count, then its experts' grouped GEMM, on
  // the collectives' stream (after dispatch, before combine).
  void run();

  rt::comm::SymmetricBuffer out;  // the experts' outputs, in recv's layout

 private:
  MoeAllToAll& moe_;
  std::uint32_t capacity_;  // checked before anything is emitted
  rt::Module groups_module_;
  std::optional<gemm::WeftGemmSm90> hopper_;  // sm_90a
  std::optional<gemm::WeftGemmSm80> ampere_;  // the others

  std::vector<rt::DeviceBuffer<std::uint16_t>> weights_;     // per rank row
  std::vector<rt::DeviceBuffer<std::int32_t>> tile_groups_;  // per rank row
  std::uint32_t rows_ = 0;                                    // of A and D per rank (recv's)
};

}  // namespace weft::samples
