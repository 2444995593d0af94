#include "samples/apps/comm/moe.h"

#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"
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
  if (n > 32 * warps)
    throw rt::Error("MoeAllToAll: " + std::to_string(n) + " ranks need at least as many threads per CTA (" +
                    std::to_string(warps) + " warps)");
  local_experts_ = shape.experts / n;
  const std::size_t pairs = std::size_t{shape.tokens} * shape.topk;
  x = heap.alloc(shape.tokens * row_bytes());
  topk_idx = heap.alloc(pairs * 4);
  topk_w = heap.alloc(pairs * 4);
  slot_map = heap.alloc(pairs * 4);
  counters = heap.alloc((std::size_t{shape.experts} + 1) * 4);  // zeroed by alloc; the kernel re-zeroes them
  recv = heap.alloc(std::size_t{local_experts_} * n * capacity() * row_bytes());
  recv_count = heap.alloc(std::size_t{local_experts_} * n * 4);
  out = heap.alloc(shape.tokens * row_bytes());
  dispatch_flags_ = heap.alloc(std::size_t{n} * 4);
}

bool MoeAllToAll::bulk_runs_on(int device_sm) {
  const auto* e = Registry::global().find("moe_dispatch");
  const auto t = e ? target_for(*e, device_sm) : std::nullopt;
  return t && moe_bulk_supported(*t);
}

std::vector<std::string> MoeAllToAll::kernel_params() const {
  return {"warps=" + std::to_string(options_.warps), "unroll=" + std::to_string(options_.unroll)};
}

std::vector<std::string> MoeAllToAll::dispatch_params() const {
  auto p = kernel_params();
  if (options_.bulk) p.insert(p.end(), {"bulk=1", "row_bytes=" + std::to_string(row_bytes())});
  return p;
}

std::size_t MoeAllToAll::recv_offset(std::uint32_t le, std::uint32_t src, std::uint32_t slot) const {
  return ((std::size_t{le} * c_.heap().nranks() + src) * capacity() + slot) * row_bytes();
}

void MoeAllToAll::dispatch() {
  auto& heap = c_.heap();
  auto& k = c_.kernel("moe_dispatch", dispatch_params());
  c_.launch_with_block(k, 32 * options_.warps, heap.rank_base(), heap.nranks(), x.peer_table(), topk_idx.peer_table(),
                       slot_map.peer_table(), counters.peer_table(), recv.peer_table(), recv_count.peer_table(),
                       dispatch_flags_.peer_table(), c_.flags().peer_table(), shape_.tokens, shape_.topk,
                       local_experts_, capacity(), static_cast<std::uint32_t>(row_bytes() / 16), c_.next_epoch(),
                       shape_.experts);
}

void MoeAllToAll::combine(const rt::comm::SymmetricBuffer* expert_out) {
  if (expert_out && (expert_out->bytes() < recv.bytes() || expert_out->rows() != recv.rows() ||
                     expert_out->nranks() != recv.nranks()))
    throw rt::Error("MoeAllToAll::combine: the expert outputs (" + std::to_string(expert_out->bytes()) + " bytes on " +
                    std::to_string(expert_out->rows()) + " of " + std::to_string(expert_out->nranks()) +
                    " ranks) do not have recv's layout (" + std::to_string(recv.bytes()) + " bytes on " +
                    std::to_string(recv.rows()) + " of " + std::to_string(recv.nranks()) + "): allocate them from this heap");
  auto& heap = c_.heap();
  auto& k = c_.kernel("moe_combine", kernel_params());
  c_.launch_with_block(k, 32 * options_.warps, heap.rank_base(), heap.nranks(), topk_idx.peer_table(), topk_w.peer_table(),
                       slot_map.peer_table(), (expert_out ? *expert_out : recv).peer_table(), out.peer_table(),
                       c_.flags().peer_table(),
                       shape_.tokens, shape_.topk, local_experts_, capacity(),
                       static_cast<std::uint32_t>(row_bytes() / 16), c_.next_epoch());
}

}  // namespace weft::samples
