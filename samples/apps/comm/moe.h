// Host side of the MoE all-to-all samples (moe_dispatch, moe_combine): the buffers of
// samples/kernels/comm/moe_layout.h, allocated from a SymmetricHeap, and the two launches.
//
//   MoeAllToAll moe(collectives, {.tokens = 128, .hidden = 7168, .topk = 8, .experts = 256});
//   ... write x, topk_idx, topk_w of each row (rank) ...
//   moe.dispatch();   // recv / recv_count complete on every rank afterwards
//   ... experts transform recv in place (recv_count[le][src] valid rows per region) ...
//   moe.combine();    // out = sum_k topk_w * expert output
//
// dispatch() opens with a rendezvous, so a rank's host may write its own buffers (recv included)
// before it; between dispatch() and combine(), only the experts on this rank touch recv.
#pragma once

#include "samples/apps/comm/collectives.h"

namespace weft::samples {

// The kernels' build options: warps per CTA (one token row each), and 16-byte packets a lane moves per
// trip (`unroll`, 0 for the kernels' default: 4; combine, which sums, 2 above 512 threads). Loads in flight
// per SM are warps x 32 x unroll.
// bulk (sm_90+): dispatch moves each row with bulk copies through shared memory (a row per warp).
struct MoeKernelOptions {
  std::uint32_t warps = 8, unroll = 0;
  bool bulk = false;
  std::string label() const;  // "warps 8", "warps 8, unroll 1", "warps 8, bulk"
};

struct MoeShape {
  std::uint32_t tokens = 128;   // per rank
  std::uint32_t hidden = 7168;  // bf16 elements per token (hidden * 2 a multiple of 16)
  std::uint32_t topk = 8;       // at most 32 (one lane per choice in combine)
  std::uint32_t experts = 64;   // a multiple of nranks
  // Dispatch in fp8 (DeepSeek-V3's recipe; sm_89+, hidden a multiple of 128): dispatch() first
  // quantizes x to e4m3 with a scale per 128 values (moe_quantize), then moves those rows and scales,
  // half the bytes: recv holds e4m3 rows and recv_scales their scales, the experts' block-scaled A.
  // combine stays bf16 and gathers from the experts' output buffer (MoeExperts::out).
  bool fp8 = false;
};

class MoeAllToAll {
 public:
  MoeAllToAll(Collectives& c, MoeShape shape, MoeKernelOptions options = {});
  // Whether a device of compute capability `device_sm` runs the bulk-copy dispatch (bulk = true).
  static bool bulk_runs_on(int device_sm);
  // Whether such a device runs fp8 dispatch (MoeShape::fp8; sm_89 and later).
  static bool fp8_runs_on(int device_sm);

  void dispatch();
  // Gathers the experts' outputs from `recv` (transformed in place), or from `expert_out`, a
  // symmetric buffer of recv's layout (MoeExperts::out).
  void combine(const rt::comm::SymmetricBuffer* expert_out = nullptr);

  const MoeShape& shape() const { return shape_; }
  CUstream stream() const { return c_.options().stream; }  // the collectives' stream, which dispatch and combine use
  rt::comm::SymmetricHeap& heap() const { return c_.heap(); }
  std::uint32_t local_experts() const { return local_experts_; }
  std::uint32_t capacity() const { return shape_.tokens; }
  // Rows of recv: local experts x ranks x capacity.
  std::uint32_t recv_rows() const { return local_experts_ * c_.heap().nranks() * capacity(); }
  // Bytes of a bf16 token row (x, out, the experts' outputs) and of a row as dispatch moves it
  // (recv's: e4m3 with fp8).
  std::size_t token_bytes() const { return std::size_t{shape_.hidden} * 2; }
  std::size_t row_bytes() const { return shape_.fp8 ? shape_.hidden : token_bytes(); }
  // fp8: the f32 scales per row (hidden / 128).
  std::uint32_t scale_blocks() const;
  // recv row (le, src, slot)'s index, and its byte offset in `recv`.
  std::size_t recv_index(std::uint32_t le, std::uint32_t src, std::uint32_t slot) const;
  std::size_t recv_offset(std::uint32_t le, std::uint32_t src, std::uint32_t slot) const;

  rt::comm::SymmetricBuffer x, topk_idx, topk_w, slot_map, counters, recv, recv_count, out;
  // fp8 only: x quantized (tokens x hidden e4m3) and its scales (scale_blocks x tokens f32), and the
  // received rows' scales (scale_blocks x recv_rows f32).
  rt::comm::SymmetricBuffer x8, x_scales, recv_scales;

 private:
  Collectives& c_;
  MoeShape shape_;
  MoeKernelOptions options_;
  std::vector<std::string> kernel_params() const;    // both kernels': warps=..., unroll=...
  std::vector<std::string> dispatch_params() const;  // and dispatch's bulk=1, row_bytes=... with bulk, scales=1 with fp8
  void quantize();  // fp8: x to x8 and x_scales on every rank of this process (moe_quantize)
  static constexpr std::uint32_t kQuantWarps = 8;  // moe_quantize's warps per CTA (a row each)
  std::uint32_t local_experts_;
  rt::comm::SymmetricBuffer dispatch_flags_;  // nranks words; not shared with rendezvous flags
};

}  // namespace weft::samples
