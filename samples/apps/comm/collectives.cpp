#include "samples/apps/comm/collectives.h"

#include "runtime/device.h"
#include "runtime/error.h"
#include "samples/apps/emit_for_device.h"

namespace weft::samples {

namespace {
std::string fmt_bytes(std::size_t b) { return std::to_string(b) + " bytes"; }
}  // namespace

std::size_t elem_bytes(Elem e) { return e == Elem::f32 ? 4 : 2; }

Collectives::Collectives(rt::comm::SymmetricHeap& heap, CollectiveOptions options) : heap_(heap), options_(options) {
  if (options_.ctas == 0) throw rt::Error("Collectives: ctas (the SM budget) must be at least 1");
  if (options_.block < 64 || options_.block > 1024 || options_.block % 32)
    throw rt::Error("Collectives: block must be a multiple of 32 in [64, 1024], not " + std::to_string(options_.block));
  if (options_.unroll > 4 || options_.unroll * options_.block > 2048)
    throw rt::Error("Collectives: unroll " + std::to_string(options_.unroll) + " with block " +
                    std::to_string(options_.block) + ": unroll must be at most 4 and unroll x block at most 2048 "
                    "(0 takes the kernels' default)");
  if (heap.nranks() > options_.block)
    throw rt::Error("Collectives: " + std::to_string(heap.nranks()) + " ranks need at least as many threads per CTA (block " +
                    std::to_string(options_.block) + ")");
  // Two rendezvous phases, one u32 per (phase, source rank, CTA); fresh memory is zero, epochs start at 1.
  flags_ = heap.alloc(std::size_t{2} * heap.nranks() * options_.ctas * 4);
}

rt::Kernel& Collectives::kernel(const std::string& name, const std::vector<std::string>& params) {
  std::string key = name;
  for (const auto& p : params) key += " " + p;
  auto it = modules_.find(key);
  if (it == modules_.end()) {
    std::string ptx;
    try {
      ptx = emit(name, rt::device_props(heap_.device()).sm(), params, options_.debug_waits).ptx;
    } catch (const std::runtime_error& e) {
      throw rt::Error(std::string("Collectives: ") + e.what());
    }
    it = modules_.emplace(key, std::make_unique<rt::Module>(rt::Module::from_ptx(ptx))).first;
  }
  return it->second->kernel(name);
}

void Collectives::synchronize() const {
  try {
    rt::synchronize();
  } catch (const rt::Error& e) {
    for (const auto& [key, module] : modules_)
      if (auto report = module->debug_wait_report())
        throw rt::Error(std::string(e.what()) + "; " + key + ": " + report->describe());
    throw;
  }
}

void Collectives::check_buffer(const rt::comm::SymmetricBuffer& b, std::size_t need, const char* what,
                               const char* op) const {
  if (b.nranks() != heap_.nranks() || b.rows() != heap_.rows())
    throw rt::Error(std::string(op) + ": buffer '" + what + "' has a peer table for " + std::to_string(b.nranks()) +
                    " ranks and " + std::to_string(b.rows()) + " rows; this heap has " +
                    std::to_string(heap_.nranks()) + " ranks and " + std::to_string(heap_.rows()) + " rows");
  if (b.bytes() < need)
    throw rt::Error(std::string(op) + ": buffer '" + what + "' holds " + fmt_bytes(b.bytes()) + ", needs " +
                    fmt_bytes(need));
}

void Collectives::all_gather(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out,
                             std::size_t bytes_per_rank) {
  if (bytes_per_rank % 16)
    throw rt::Error("all_gather: bytes per rank (" + std::to_string(bytes_per_rank) +
                    ") must be a multiple of 16 (the kernel moves 16-byte packets)");
  check_buffer(in, bytes_per_rank, "in", "all_gather");
  check_buffer(out, bytes_per_rank * heap_.nranks(), "out", "all_gather");
  auto& k = kernel("all_gather", {"block=" + std::to_string(options_.block), unroll_setting()});
  launch(k, heap_.rank_base(), heap_.nranks(), in.peer_table(), out.peer_table(), flags_.peer_table(),
         static_cast<std::uint32_t>(bytes_per_rank / 16), next_epoch());
}

void Collectives::reduce_scatter(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out,
                                 std::size_t count, Elem elem) {
  const auto bytes = count * elem_bytes(elem);
  if (bytes % 16)
    throw rt::Error("reduce_scatter: a segment of " + std::to_string(count) + " elements is " + fmt_bytes(bytes) +
                    ", not a multiple of 16 (the kernel moves 16-byte packets)");
  check_buffer(in, bytes * heap_.nranks(), "in", "reduce_scatter");
  check_buffer(out, bytes, "out", "reduce_scatter");
  auto& k = kernel("reduce_scatter", {"block=" + std::to_string(options_.block), elem == Elem::bf16 ? "bf16=1" : "bf16=0",
                                     unroll_setting()});
  launch(k, heap_.rank_base(), heap_.nranks(), in.peer_table(), out.peer_table(), flags_.peer_table(),
         static_cast<std::uint32_t>(bytes / 16), next_epoch());
}

void Collectives::all_reduce(const rt::comm::SymmetricBuffer& in, const rt::comm::SymmetricBuffer& out,
                             std::size_t count, Elem elem, int shots) {
  if (shots != 1 && shots != 2) throw rt::Error("all_reduce: shots must be 1 or 2, not " + std::to_string(shots));
  const auto bytes = count * elem_bytes(elem);
  if (bytes % (16 * heap_.nranks()))
    throw rt::Error("all_reduce: " + std::to_string(count) + " elements are " + fmt_bytes(bytes) +
                    ", not a multiple of 16 * nranks = " + std::to_string(16 * heap_.nranks()) +
                    " (one 16-byte-aligned segment per rank)");
  check_buffer(in, bytes, "in", "all_reduce");
  check_buffer(out, bytes, "out", "all_reduce");
  auto& k = kernel("all_reduce", {"block=" + std::to_string(options_.block), elem == Elem::bf16 ? "bf16=1" : "bf16=0",
                                  "shots=" + std::to_string(shots), unroll_setting()});
  launch(k, heap_.rank_base(), heap_.nranks(), in.peer_table(), out.peer_table(), flags_.peer_table(),
         static_cast<std::uint32_t>(bytes / 16 / heap_.nranks()), next_epoch());
}

}  // namespace weft::samples
