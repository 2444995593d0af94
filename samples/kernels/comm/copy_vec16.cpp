// Device copy with 16-byte vector loads and stores over a grid-stride loop: the baseline way to move
// memory with a budget of SMs (launch one CTA per SM you can spare). Sources are read once through
// the non-coherent path without L1 allocation; `unroll` 16-byte loads (4 by default) are in flight per
// thread.
#include <vector>

#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL(copy_vec16, "dst = src for n16 16-byte vectors, grid-stride, `unroll` loads in flight per thread",
            {{"block", 1024, "threads per CTA (the launch must match)", 128, 1024},
             {"unroll", 4, "16-byte loads issued before their stores, per thread and trip", 1, 8},
             {"l2_prefetch", 0, "1: loads ask L2 to fetch 256 bytes (ld...L2::256B: whole DRAM bursts for a stream)", 0, 1},
             {"cache", 0, "0: loads ld.global.nc.L1::no_allocate; 1: plain ld / st.global (what CUDA C++'s "
                          "dst[i] = src[i] compiles to); 2: streaming, ld.global.cs / st.global.cs (evict-first)", 0, 2}}) {
  const auto unroll = static_cast<std::uint32_t>(params["unroll"]);
  const auto block = static_cast<std::uint32_t>(params["block"]);
  const bool l2_prefetch = params["l2_prefetch"] != 0;
  const auto cache = static_cast<std::uint32_t>(params["cache"]);
  KernelBuilder k{"copy_vec16", target};
  k.reqntid(block);
  auto n16 = k.param<u32>("n16");  // number of 16-byte vectors
  auto src = k.param_ptr<u32>("src");
  auto dst = k.param_ptr<u32>("dst");
  // The same copy through three cache paths, for the benchmark to compare at full bandwidth.
  auto load = [&](Ptr<u32, Global> p) {
    if (cache == 1) return l2_prefetch ? k.ld_vec<u32, Global, 4>(p, {q::L2_256B}) : k.ld_vec<u32, Global, 4>(p);
    if (cache == 2)
      return l2_prefetch ? k.ld_vec<u32, Global, 4>(p, {q::cs, q::L2_256B}) : k.ld_vec<u32, Global, 4>(p, {q::cs});
    return l2_prefetch ? k.ld_vec<u32, Global, 4>(p, {q::nc, q::L1_no_allocate, q::L2_256B})
                       : k.ld_vec<u32, Global, 4>(p, {q::nc, q::L1_no_allocate});
  };
  auto store = [&](Ptr<u32, Global> p, const comm::Packet& v) {
    if (cache == 2) k.st_vec(p, v, {q::cs});
    else k.st_vec(p, v);
  };
  // Grid-stride batches of `unroll` vectors per thread, all loads issued before the stores, then the tail.
  for_each_packet(k, block, n16, unroll, [&](const std::vector<Reg<u32>>& packets) {
    std::vector<comm::Packet> v;
    for (const auto& i : packets) v.push_back(load(src + i * 4u));
    for (std::size_t u = 0; u < v.size(); ++u) store(dst + packets[u] * 4u, v[u]);
  });
  return k.build();
}

}  // namespace weft::samples
