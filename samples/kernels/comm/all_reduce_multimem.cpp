// All-reduce through NVLink SHARP (multimem, sm_90+ with an NVSwitch): rank r reads segment r once
// through the multicast address — the switch returns the sum over every GPU's copy — and stores the
// sum back through the multicast address, which writes it into every GPU's copy. Each byte crosses
// NVLink twice in total, whatever the number of ranks. bf16 sums accumulate in f32 (.acc::f32).
//
// `mc` holds one multicast address per table row (the multicast object's mapping on that row's
// rank); `in` is the unicast view of the same buffer, used only for its flags-free size check by the
// host. A rendezvous before (every rank's data is in place) and after (every rank's segment has been
// written everywhere) makes the call self-contained. Assembled only: the GPU machine has no
// NVSwitch, so multicast objects cannot be created there (DEVICE_FACTS.md).
#include "samples/kernels/comm/collective_common.h"

namespace weft::samples {

WEFT_KERNEL_FOR(all_reduce_multimem, isa::TargetSet::from_sm(90),
                "buf = sum over ranks of buf, in place, through a multicast address (NVLink SHARP)",
                {{"block", 512, "threads per CTA (the launch must match)", 64, 1024},
                 {"bf16", 1, "element type: 0 f32, 1 bf16 (summed in f32 by the switch)", 0, 1}, unroll_param()}) {
  const auto block = static_cast<std::uint32_t>(params["block"]);
  const bool bf16 = params["bf16"] != 0;
  KernelBuilder k{"all_reduce_multimem", target};
  const auto unroll = packets_per_batch(k, params, block);
  comm::one_cta_per_sm(k, block);
  comm::CommContext ctx(k);
  auto mc_table = k.param_ptr<u64>("mc");  // rows entries: this row's multicast address
  auto flags = ctx.table("flags");         // 2 phases
  auto n16 = k.param<u32>("n16");          // packets per segment (the buffer is nranks segments)
  auto epoch = k.param<u32>("epoch");
  comm::Rendezvous rendezvous(k, ctx, flags);
  rendezvous.arrive_and_wait(0, epoch);
  auto mc = Ptr<u32, Global>(k.ld(mc_table + ctx.row(), {q::nc}));
  auto first = ctx.rank() * n16;
  const auto type = bf16 ? isa::Type::bf16x2 : isa::Type::f32;
  for_each_packet(k, block, n16, unroll, [&](const std::vector<Reg<u32>>& packets) {
    std::vector<std::vector<ir::RegId>> sums;  // per packet, 4 registers of the element type: f32, or bf16x2 pairs
    for (const auto& i : packets) {  // every reduction issued before the first store
      auto& ids = sums.emplace_back();
      for (int j = 0; j < 4; ++j) ids.push_back(bf16 ? k.reg<bf16x2>().id() : k.reg<f32>().id());
      if (bf16)
        k.instr("multimem.ld_reduce", {type}, {q::relaxed, q::sys, q::add, q::acc_f32, q::v4},
                {Arg(ir::Operand::list(ids)), mc + (first + i) * 4u});
      else
        k.instr("multimem.ld_reduce", {type}, {q::relaxed, q::sys, q::add, q::v4},
                {Arg(ir::Operand::list(ids)), mc + (first + i) * 4u});
    }
    for (std::size_t u = 0; u < packets.size(); ++u)
      k.instr("multimem.st", {type}, {q::relaxed, q::sys, q::v4},
              {mc + (first + packets[u]) * 4u, Arg(ir::Operand::list(sums[u]))});
  });
  rendezvous.arrive_and_wait(1, epoch);
  return k.build();
}

}  // namespace weft::samples
