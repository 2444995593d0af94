#include "samples/apps/comm/moe_experts.h"

#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/gemm/grouped_rows.h"
#include "samples/kernels/comm/fp8_block_quant.h"

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
  if (moe.shape().fp8 && o.inter % kQuantBlock)
    throw rt::Error("MoeExperts: with fp8 the activation is quantized in 1 x " + std::to_string(kQuantBlock) +
                    " blocks; an intermediate size of " + std::to_string(o.inter) + " is not a multiple of " +
                    std::to_string(kQuantBlock));
  if (moe.shape().fp8 && !MoeExperts::runs_on(rt::device_props(0).sm(), true))
    throw rt::Error("MoeExperts: fp8 experts use the block-scaled Hopper GEMM (gemm_e4m3_sm90), which an sm_" +
                    std::to_string(rt::device_props(0).sm()) + " device does not run (sm_90a only; dispatch in "
                    "bf16 there)");
  return moe.capacity();
}

// A glue kernel's module, emitted for this device.
rt::Module glue_module(const char* name, const std::vector<std::string>& settings) {
  return rt::Module::from_ptx(emit(name, rt::device_props(0).sm(), settings).ptx);
}

}  // namespace

bool MoeExperts::runs_on(int device_sm, bool fp8) {
  return samples::runs_on(fp8 ? "gemm_e4m3_sm90" : "gemm_bf16_sm80", device_sm);
}

MoeExperts::MoeExperts(MoeAllToAll& moe, MoeFfnOptions options)
    : moe_(moe),
      options_(options),
      capacity_(checked_capacity(moe, options)),
      groups_(glue_module("moe_tile_groups", {"block=" + std::to_string(kGlueBlock)})),
      swiglu_(glue_module("moe_swiglu", {"warps=" + std::to_string(kGlueBlock / 32),
                                         "fp8=" + std::to_string(moe.shape().fp8 ? 1 : 0)})),
      fp8_(moe.shape().fp8) {
  // The Hopper GEMM where the device runs it, else the sm_80 one (cp.async + mma.sync), both grouped;
  // fp8: the block-scaled Hopper GEMM (checked_capacity refused other devices).
  if (fp8_)
    hopper_.emplace(gemm::WeftGemmSm90::load(
        {.fp8 = true, .block_scales = true, .debug_waits = options.debug_waits, .groups = true}));
  else if (samples::runs_on("gemm_bf16_sm90", rt::device_props(0).sm()))
    hopper_.emplace(gemm::WeftGemmSm90::load({.debug_waits = options.debug_waits, .groups = true}));
  else
    ampere_.emplace(gemm::WeftGemmSm80::load(gemm::WeftGemmSm80::Dtype::bf16, false, false, {"groups=1"}));
  auto& heap = moe.heap();
  rows_ = moe.local_experts() * heap.nranks() * capacity_;
  out = heap.alloc(std::size_t{moe.recv_rows()} * moe.token_bytes());  // bf16 rows of recv's layout
  const std::size_t h = moe.shape().hidden, inter = options.inter, le = moe.local_experts();
  // fp8: block scales of W1 (2 inter x hidden per expert), W2 (hidden x inter) and g (rows x inter).
  const std::size_t q = kQuantBlock, w1_scales = fp8_ ? le * (2 * inter / q) * (h / q) : 0,
                    w2_scales = fp8_ ? le * (h / q) * (inter / q) : 0, g_scales = fp8_ ? inter / q * rows_ : 0;
  for (std::uint32_t row = 0; row < out.rows(); ++row)
    ranks_.push_back({rt::DeviceBuffer<std::uint16_t>(le * 2 * inter * h), rt::DeviceBuffer<std::uint16_t>(le * h * inter),
                      rt::DeviceBuffer<std::uint16_t>(std::size_t{rows_} * 2 * inter),
                      rt::DeviceBuffer<std::uint16_t>(std::size_t{rows_} * inter),
                      rt::DeviceBuffer<std::int32_t>(rows_ / gemm::kGroupedTileRows),
                      rt::DeviceBuffer<float>(w1_scales), rt::DeviceBuffer<float>(w2_scales),
                      rt::DeviceBuffer<float>(g_scales)});
}

void MoeExperts::upload_weights(std::uint32_t row, const std::vector<std::uint16_t>& w1,
                                const std::vector<std::uint16_t>& w2) {
  if (fp8_) throw rt::Error("MoeExperts::upload_weights: fp8 experts take e4m3 weights and scales (upload_weights_fp8)");
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

void MoeExperts::upload_weights_fp8(std::uint32_t row, const std::vector<std::uint8_t>& w1,
                                    const std::vector<float>& w1_scales, const std::vector<std::uint8_t>& w2,
                                    const std::vector<float>& w2_scales) {
  if (!fp8_) throw rt::Error("MoeExperts::upload_weights_fp8: these experts are bf16 (MoeShape::fp8 is off)");
  if (row >= ranks_.size())
    throw rt::Error("MoeExperts::upload_weights_fp8: rank row " + std::to_string(row) + " of " + std::to_string(ranks_.size()));
  auto& r = ranks_[row];
  // The e4m3 weights fill half of the bf16-sized buffers.
  const std::size_t w1_count = r.w1.size(), w2_count = r.w2.size();
  if (w1.size() != w1_count || w2.size() != w2_count || w1_scales.size() != r.w1_scales.size() ||
      w2_scales.size() != r.w2_scales.size())
    throw rt::Error("MoeExperts::upload_weights_fp8: " + std::to_string(w1.size()) + " and " + std::to_string(w2.size()) +
                    " weights with " + std::to_string(w1_scales.size()) + " and " + std::to_string(w2_scales.size()) +
                    " scales; " + std::to_string(moe_.local_experts()) + " experts of hidden " +
                    std::to_string(moe_.shape().hidden) + " and intermediate " + std::to_string(options_.inter) + " need " +
                    std::to_string(w1_count) + " and " + std::to_string(w2_count) + " weights with " +
                    std::to_string(r.w1_scales.size()) + " and " + std::to_string(r.w2_scales.size()) + " scales");
  rt::mem::copy_to_device(r.w1.ptr().raw(), w1.data(), w1.size());
  rt::mem::copy_to_device(r.w2.ptr().raw(), w2.data(), w2.size());
  r.w1_scales.copy_from(w1_scales);
  r.w2_scales.copy_from(w2_scales);
}

double MoeExperts::flops(double routed_rows) const {
  return routed_rows * 6.0 * moe_.shape().hidden * options_.inter;  // 2 x hidden x 2 inter, then 2 x inter x hidden
}

void MoeExperts::gemm(std::uint32_t row, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, std::uint32_t n, std::uint32_t k,
                      CUdeviceptr a_scales, CUdeviceptr b_scales) {
  const CUdeviceptr tile_groups = ranks_[row].tile_groups.ptr().raw();
  if (hopper_) {
    gemm::Sm90Operands x{a, b, d, d};
    x.a_scales = a_scales;
    x.b_scales = b_scales;
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
    const auto launch = rt::LaunchConfig{.grid = {act_ctas}, .block = {kGlueBlock}, .stream = moe_.stream()};
    if (fp8_) {
      gemm(row, moe_.recv.local(row), r.w1.ptr().raw(), r.h.ptr().raw(), 2 * inter, hidden, moe_.recv_scales.local(row),
           r.w1_scales.ptr().raw());
      swiglu.launch(launch, rt::DevicePtr<std::uint32_t>(r.h.ptr().raw()), rt::DevicePtr<std::uint32_t>(r.g.ptr().raw()),
                    r.g_scales.ptr(), r.tile_groups.ptr(), moe_.local_experts(), rows_, inter);
      gemm(row, r.g.ptr().raw(), r.w2.ptr().raw(), out.local(row), hidden, inter, r.g_scales.ptr().raw(),
           r.w2_scales.ptr().raw());
      continue;
    }
    gemm(row, moe_.recv.local(row), r.w1.ptr().raw(), r.h.ptr().raw(), 2 * inter, hidden);
    swiglu.launch(launch, rt::DevicePtr<std::uint32_t>(r.h.ptr().raw()), rt::DevicePtr<std::uint32_t>(r.g.ptr().raw()),
                  r.tile_groups.ptr(), moe_.local_experts(), rows_, inter);
    gemm(row, r.g.ptr().raw(), r.w2.ptr().raw(), out.local(row), hidden, inter);
  }
}

}  // namespace weft::samples
