#include "samples/apps/comm/moe_experts.h"

#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/gemm/grouped_rows.h"

namespace weft::samples {

namespace {

constexpr std::uint32_t kGroupsBlock = 128;  // moe_tile_groups' threads per CTA

std::uint32_t checked_capacity(const MoeAllToAll& moe) {
  if (moe.capacity() % gemm::kGroupedTileRows)
    throw rt::Error("MoeExperts: a capacity of " + std::to_string(moe.capacity()) + " rows per (expert, source) "
                    "region is not a multiple of the grouped GEMM's " + std::to_string(gemm::kGroupedTileRows) +
                    "-row tiles (use a multiple of 128 tokens per rank)");
  return moe.capacity();
}

}  // namespace

bool MoeExperts::runs_on(int device_sm) { return samples::runs_on("gemm_bf16_sm80", device_sm); }

MoeExperts::MoeExperts(MoeAllToAll& moe, bool debug_waits)
    : moe_(moe),
      capacity_(checked_capacity(moe)),
      groups_module_(rt::Module::from_ptx(
          emit("moe_tile_groups", rt::device_props(0).sm(), {"block=" + std::to_string(kGroupsBlock)}).ptx)) {
  // The Hopper GEMM where the device runs it, else the sm_80 one (cp.async + mma.sync), both grouped.
  if (samples::runs_on("gemm_bf16_sm90", rt::device_props(0).sm()))
    hopper_.emplace(gemm::WeftGemmSm90::load({.debug_waits = debug_waits, .groups = true}));
  else
    ampere_.emplace(gemm::WeftGemmSm80::load(gemm::WeftGemmSm80::Dtype::bf16, false, false, {"groups=1"}));
  auto& heap = moe.heap();
  rows_ = moe.local_experts() * heap.nranks() * capacity_;
  out = heap.alloc(moe.recv.bytes());
  for (std::uint32_t row = 0; row < out.rows(); ++row) {
    weights_.emplace_back(std::size_t{moe.local_experts()} * moe.shape().hidden * moe.shape().hidden);
    tile_groups_.emplace_back(rows_ / gemm::kGroupedTileRows);
  }
}

void MoeExperts::upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w) {
  if (row >= weights_.size())
    throw rt::Error("MoeExperts::upload_weights: rank row " + std::to_string(row) + " of " +
                    std::to_string(weights_.size()));
  if (w.size() != weights_[row].size())
    throw rt::Error("MoeExperts::upload_weights: " + std::to_string(w.size()) + " weights; " +
                    std::to_string(moe_.local_experts()) + " experts of " + std::to_string(moe_.shape().hidden) + " x " +
                    std::to_string(moe_.shape().hidden) + " need " + std::to_string(weights_[row].size()));
  weights_[row].copy_from(w);
}

void MoeExperts::run() {
  const auto& s = moe_.shape();
  const std::uint32_t nranks = moe_.heap().nranks(), tiles = rows_ / gemm::kGroupedTileRows;
  auto& groups = groups_module_.kernel("moe_tile_groups");
  for (std::uint32_t row = 0; row < out.rows(); ++row) {
    groups.launch({.grid = {(tiles + kGroupsBlock - 1) / kGroupsBlock}, .block = {kGroupsBlock}, .stream = moe_.stream()},
                  rt::DevicePtr<std::uint32_t>(moe_.recv_count.local(row)), tile_groups_[row].ptr(),
                  moe_.local_experts(), nranks, capacity_);
    const CUdeviceptr a = moe_.recv.local(row), b = weights_[row].ptr().raw(), d = out.local(row);
    if (hopper_) {
      gemm::Sm90Operands x{a, b, d, d};
      x.tile_groups = tile_groups_[row].ptr().raw();
      x.groups = moe_.local_experts();
      hopper_->run(rows_, s.hidden, s.hidden, 1.0f, 0.0f, x, moe_.stream());
    } else {
      ampere_->run_grouped(rows_, s.hidden, s.hidden, 1.0f, 0.0f, a, b, rt::DevicePtr<gemm::bf16>(d),
                           rt::DevicePtr<gemm::bf16>(d), {}, tile_groups_[row].ptr().raw(), moe_.local_experts(),
                           moe_.stream());
    }
  }
}

}  // namespace weft::samples
