#include "samples/apps/comm/moe_experts.h"

#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/gemm/grouped_rows.h"

namespace weft::samples {

namespace {

constexpr std::uint32_t kGlueBlock = 128;  // moe_tile_groups' and moe_swiglu's threads per CTA (4 warps)

std::uint32_t checked_capacity(const MoeAllToAll& moe, const MoeFfnOptions& o) {
  if (moe.capacity() % gemm::kGroupedTileRows)
    throw rt::Error("MoeExperts: a capacity of " + std::to_string(moe.capacity()) + " rows per (expert, source) "
                    "region is not a multiple of the grouped GEMM's " + std::to_string(gemm::kGroupedTileRows) +
                    "-row tiles (use a multiple of 128 tokens per rank)");
  if (o.inter == 0 || o.inter % 8)
    throw rt::Error("MoeExperts: an intermediate size of " + std::to_string(o.inter) +
                    " is not a positive multiple of 8 (the GEMMs' rows of bf16 start on 16 bytes)");
  return moe.capacity();
}

// A glue kernel's module, emitted for this device.
rt::Module glue_module(const char* name, const std::string& setting) {
  return rt::Module::from_ptx(emit(name, rt::device_props(0).sm(), {setting}).ptx);
}

}  // namespace

bool MoeExperts::runs_on(int device_sm) { return samples::runs_on("gemm_bf16_sm80", device_sm); }

MoeExperts::MoeExperts(MoeAllToAll& moe, MoeFfnOptions options)
    : moe_(moe),
      options_(options),
      capacity_(checked_capacity(moe, options)),
      groups_(glue_module("moe_tile_groups", "block=" + std::to_string(kGlueBlock))),
      swiglu_(glue_module("moe_swiglu", "warps=" + std::to_string(kGlueBlock / 32))) {
  // The Hopper GEMM where the device runs it, else the sm_80 one (cp.async + mma.sync), both grouped.
  if (samples::runs_on("gemm_bf16_sm90", rt::device_props(0).sm()))
    hopper_.emplace(gemm::WeftGemmSm90::load({.debug_waits = options.debug_waits, .groups = true}));
  else
    ampere_.emplace(gemm::WeftGemmSm80::load(gemm::WeftGemmSm80::Dtype::bf16, false, false, {"groups=1"}));
  auto& heap = moe.heap();
  rows_ = moe.local_experts() * heap.nranks() * capacity_;
  out = heap.alloc(moe.recv.bytes());
  const std::size_t h = moe.shape().hidden, inter = options.inter, le = moe.local_experts();
  for (std::uint32_t row = 0; row < out.rows(); ++row)
    ranks_.push_back({rt::DeviceBuffer<std::uint16_t>(le * 2 * inter * h), rt::DeviceBuffer<std::uint16_t>(le * h * inter),
                      rt::DeviceBuffer<std::uint16_t>(std::size_t{rows_} * 2 * inter),
                      rt::DeviceBuffer<std::uint16_t>(std::size_t{rows_} * inter),
                      rt::DeviceBuffer<std::int32_t>(rows_ / gemm::kGroupedTileRows)});
}

void MoeExperts::upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w1,
                                const std::vector<std::uint16_t>& w2) {
  if (row >= ranks_.size())
    throw rt::Error("MoeExperts::upload_weights: rank row " + std::to_string(row) + " of " + std::to_string(ranks_.size()));
  auto& r = ranks_[row];
  if (w1.size() != r.w1.size() || w2.size() != r.w2.size())
    throw rt::Error("MoeExperts::upload_weights: " + std::to_string(w1.size()) + " and " + std::to_string(w2.size()) +
                    " weights; " + std::to_string(moe_.local_experts()) + " experts of hidden " +
                    std::to_string(moe_.shape().hidden) + " and intermediate " + std::to_string(options_.inter) +
                    " need " + std::to_string(r.w1.size()) + " (W1) and " + std::to_string(r.w2.size()) + " (W2)");
  r.w1.copy_from(w1);
  r.w2.copy_from(w2);
}

double MoeExperts::flops(double routed_rows) const {
  return routed_rows * 6.0 * moe_.shape().hidden * options_.inter;  // 2 x hidden x 2 inter, then 2 x inter x hidden
}

void MoeExperts::gemm(std::uint32_t row, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, std::uint32_t n, std::uint32_t k) {
  const CUdeviceptr tile_groups = ranks_[row].tile_groups.ptr().raw();
  if (hopper_) {
    gemm::Sm90Operands x{a, b, d, d};
    x.tile_groups = tile_groups;
    x.groups = moe_.local_experts();
    hopper_->run(rows_, n, k, 1.0f, 0.0f, x, moe_.stream());
  } else {
    ampere_->run_grouped(rows_, n, k, 1.0f, 0.0f, a, b, rt::DevicePtr<gemm::bf16>(d), rt::DevicePtr<gemm::bf16>(d), {},
                         tile_groups, moe_.local_experts(), moe_.stream());
  }
}

void MoeExperts::run() {
  const std::uint32_t hidden = moe_.shape().hidden, inter = options_.inter, nranks = moe_.heap().nranks();
  const std::uint32_t tiles = rows_ / gemm::kGroupedTileRows;
  auto& groups = groups_.kernel("moe_tile_groups");
  auto& swiglu = swiglu_.kernel("moe_swiglu");
  // The activation: a warp per row, as many CTAs as keep every SM busy.
  const std::uint32_t act_ctas = std::min((rows_ + 3) / 4, 4u * static_cast<std::uint32_t>(rt::device_props(0).sm_count));
  for (std::uint32_t row = 0; row < out.rows(); ++row) {
    auto& r = ranks_[row];
    groups.launch({.grid = {(tiles + kGlueBlock - 1) / kGlueBlock}, .block = {kGlueBlock}, .stream = moe_.stream()},
                  rt::DevicePtr<std::uint32_t>(moe_.recv_count.local(row)), r.tile_groups.ptr(), moe_.local_experts(),
                  nranks, capacity_);
    gemm(row, moe_.recv.local(row), r.w1.ptr().raw(), r.h.ptr().raw(), 2 * inter, hidden);
    swiglu.launch({.grid = {act_ctas}, .block = {kGlueBlock}, .stream = moe_.stream()},
                  rt::DevicePtr<std::uint32_t>(r.h.ptr().raw()), rt::DevicePtr<std::uint32_t>(r.g.ptr().raw()),
                  r.tile_groups.ptr(), moe_.local_experts(), rows_, inter);
    gemm(row, r.g.ptr().raw(), r.w2.ptr().raw(), out.local(row), hidden, inter);
  }
}

}  // namespace weft::samples
