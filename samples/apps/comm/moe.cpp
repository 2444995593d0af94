#include "samples/apps/comm/moe.h"

#include <algorithm>
#include <optional>

#include "runtime/device.h"
#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"
#include "samples/kernels/comm/fp8_block_quant.h"
#include "samples/kernels/comm/moe_layout.h"

namespace weft::samples {

std::string MoeKernelOptions::label() const {
  return "warps " + std::to_string(warps) + (unroll ? ", unroll " + std::to_string(unroll) : std::string()) +
         (bulk ? ", bulk" : "");
}

MoeAllToAll::MoeAllToAll(Collectives& c, MoeShape shape, MoeKernelOptions options)
    : c_(c), shape_(shape), options_(options) {
  const auto warps = options.warps;
  auto& heap = c.heap();
  const auto n = heap.nranks();
  if (shape.experts == 0 || shape.experts % n)
    throw rt::Error("MoeAllToAll: " + std::to_string(shape.experts) + " experts do not split evenly over " +
                    std::to_string(n) + " ranks");
  if ((std::size_t{shape.hidden} * 2) % 16)
    throw rt::Error("MoeAllToAll: a token of " + std::to_string(shape.hidden) +
                    " bf16 elements is not a multiple of 16 bytes (the kernels move 16-byte packets)");
  if (shape.topk == 0 || shape.topk > 32)
    throw rt::Error("MoeAllToAll: topk " + std::to_string(shape.topk) + " is outside [1, 32]");
  if (shape.tokens == 0) throw rt::Error("MoeAllToAll: no tokens");
  if (shape.fp8 && shape.hidden % kQuantBlock)
    throw rt::Error("MoeAllToAll: fp8 dispatch quantizes 1 x " + std::to_string(kQuantBlock) + " blocks; a hidden size of " +
                    std::to_string(shape.hidden) + " is not a multiple of " + std::to_string(kQuantBlock));
  if (shape.fp8 && !fp8_runs_on(rt::device_props(0).sm()))
    throw rt::Error("MoeAllToAll: fp8 dispatch converts tokens to e4m3, which needs an sm_89 or later device, not sm_" +
                    std::to_string(rt::device_props(0).sm()));
  if (n > 32 * warps)
    throw rt::Error("MoeAllToAll: " + std::to_string(n) + " ranks need at least as many threads per CTA (" +
                    std::to_string(warps) + " warps)");
  local_experts_ = shape.experts / n;
  const std::size_t pairs = std::size_t{shape.tokens} * shape.topk;
  x = heap.alloc(shape.tokens * token_bytes());
  topk_idx = heap.alloc(pairs * 4);
  topk_w = heap.alloc(pairs * 4);
  slot_map = heap.alloc(pairs * 4);
  counters = heap.alloc((std::size_t{shape.experts} + 1) * 4);  // zeroed by alloc; the kernel re-zeroes them
  recv = heap.alloc(std::size_t{recv_rows()} * row_bytes());
  recv_count = heap.alloc(std::size_t{local_experts_} * n * 4);
  out = heap.alloc(shape.tokens * token_bytes());
  if (shape.fp8) {
    x8 = heap.alloc(shape.tokens * row_bytes());
    x_scales = heap.alloc(std::size_t{scale_blocks()} * shape.tokens * 4);
    recv_scales = heap.alloc(std::size_t{scale_blocks()} * recv_rows() * 4);
  }
  dispatch_flags_ = heap.alloc(std::size_t{n} * 4);
}

namespace {
// The target a device of compute capability `device_sm` runs `kernel` as, if any.
std::optional<isa::Target> device_target(const char* kernel, int device_sm) {
  const auto* e = Registry::global().find(kernel);
  return e ? target_for(*e, device_sm) : std::nullopt;
}
}  // namespace

bool MoeAllToAll::bulk_runs_on(int device_sm) {
  const auto t = device_target("moe_dispatch", device_sm);
  return t && moe_bulk_supported(*t);
}

bool MoeAllToAll::fp8_runs_on(int device_sm) { return device_target("moe_quantize", device_sm).has_value(); }

std::uint32_t MoeAllToAll::scale_blocks() const { return shape_.fp8 ? shape_.hidden / kQuantBlock : 0; }

std::vector<std::string> MoeAllToAll::kernel_params() const {
  return {"warps=" + std::to_string(options_.warps), "unroll=" + std::to_string(options_.unroll)};
}

std::vector<std::string> MoeAllToAll::dispatch_params() const {
  auto p = kernel_params();
  if (options_.bulk) p.insert(p.end(), {"bulk=1", "row_bytes=" + std::to_string(row_bytes())});
  if (shape_.fp8) p.push_back("scales=1");
  return p;
}

std::size_t MoeAllToAll::recv_index(std::uint32_t le, std::uint32_t src, std::uint32_t slot) const {
  return (std::size_t{le} * c_.heap().nranks() + src) * capacity() + slot;
}

std::size_t MoeAllToAll::recv_offset(std::uint32_t le, std::uint32_t src, std::uint32_t slot) const {
  return recv_index(le, src, slot) * row_bytes();
}

void MoeAllToAll::quantize() {
  auto& heap = c_.heap();
  auto& k = c_.kernel("moe_quantize", {"warps=" + std::to_string(kQuantWarps)});
  const std::uint32_t ctas = std::min((shape_.tokens + kQuantWarps - 1) / kQuantWarps,
                                      4u * static_cast<std::uint32_t>(rt::device_props(0).sm_count));
  for (std::uint32_t row = 0; row < heap.rows(); ++row)
    k.launch({.grid = {ctas}, .block = {32 * kQuantWarps}, .stream = stream()}, rt::DevicePtr<std::uint32_t>(x.local(row)),
             rt::DevicePtr<std::uint32_t>(x8.local(row)), rt::DevicePtr<float>(x_scales.local(row)), shape_.tokens,
             shape_.hidden);
}

void MoeAllToAll::dispatch() {
  auto& heap = c_.heap();
  if (shape_.fp8) quantize();
  auto& k = c_.kernel("moe_dispatch", dispatch_params());
  const auto h16 = static_cast<std::uint32_t>(row_bytes() / 16);
  if (shape_.fp8)
    c_.launch_with_block(k, 32 * options_.warps, heap.rank_base(), heap.nranks(), x8.peer_table(), topk_idx.peer_table(),
                         slot_map.peer_table(), counters.peer_table(), recv.peer_table(), recv_count.peer_table(),
                         dispatch_flags_.peer_table(), c_.flags().peer_table(), shape_.tokens, shape_.topk,
                         local_experts_, capacity(), h16, c_.next_epoch(), shape_.experts, x_scales.peer_table(),
                         recv_scales.peer_table(), scale_blocks());
  else
    c_.launch_with_block(k, 32 * options_.warps, heap.rank_base(), heap.nranks(), x.peer_table(), topk_idx.peer_table(),
                         slot_map.peer_table(), counters.peer_table(), recv.peer_table(), recv_count.peer_table(),
                         dispatch_flags_.peer_table(), c_.flags().peer_table(), shape_.tokens, shape_.topk,
                         local_experts_, capacity(), h16, c_.next_epoch(), shape_.experts);
}

void MoeAllToAll::combine(const rt::comm::SymmetricBuffer* expert_out) {
  const std::size_t out_bytes = std::size_t{recv_rows()} * token_bytes();  // bf16 rows of recv's layout
  if (!expert_out && shape_.fp8)
    throw rt::Error("MoeAllToAll::combine: with fp8 dispatch recv holds e4m3 rows; pass the experts' bf16 outputs "
                    "(a buffer of recv's rows, MoeExperts::out)");
  if (expert_out && (expert_out->bytes() < out_bytes || expert_out->rows() != recv.rows() ||
                     expert_out->nranks() != recv.nranks()))
    throw rt::Error("MoeAllToAll::combine: the expert outputs (" + std::to_string(expert_out->bytes()) + " bytes on " +
                    std::to_string(expert_out->rows()) + " of " + std::to_string(expert_out->nranks()) +
                    " ranks) do not have recv's layout (" + std::to_string(out_bytes) + " bytes on " +
                    std::to_string(recv.rows()) + " of " + std::to_string(recv.nranks()) + "): allocate them from this heap");
  auto& heap = c_.heap();
  auto& k = c_.kernel("moe_combine", kernel_params());
  c_.launch_with_block(k, 32 * options_.warps, heap.rank_base(), heap.nranks(), topk_idx.peer_table(), topk_w.peer_table(),
                       slot_map.peer_table(), (expert_out ? *expert_out : recv).peer_table(), out.peer_table(),
                       c_.flags().peer_table(),
                       shape_.tokens, shape_.topk, local_experts_, capacity(),
                       static_cast<std::uint32_t>(token_bytes() / 16), c_.next_epoch());
}

}  // namespace weft::samples
