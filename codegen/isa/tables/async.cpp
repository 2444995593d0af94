// Asynchronous copies, mbarriers, bulk and tensor (TMA) copies, proxy fences, clusters, dependent
// launch and multimem (PTX ISA §9.7.9.25 - §9.7.9.27, §9.7.13.15, §9.7.13.4).
#include <deque>
#include <string>

#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
// A shared-memory operand of a form whose pattern names the space: a 32-bit address is fine.
OperandSpec smem(std::string_view n) {
  auto o = address(n);
  o.shared_address = true;
  return o;
}
// The phase token of an arrive; ptxas takes the sink `_` for it from sm_90 ("Result discard mode
// is not allowed" before).
OperandSpec b64_sink(std::string_view n) {
  return {.name = n, .cls = OpClass::sink_or_reg, .role = Role::write, .tref = TypeRef::fixed, .fixed = T::b64,
          .sink_min_sm = 90};
}
OperandSpec parity() {
  auto o = src_fixed(T::u32, "phaseParity");
  o.imm_values = {0, 1};
  return o;
}
OperandSpec u32_src(std::string_view n) { return src_fixed(T::u32, n); }
OperandSpec tensor_operand() {
  return {.name = "tensor", .cls = OpClass::tensor, .role = Role::read, .tref = TypeRef::fixed,
          .count_from = QualKind::dim};
}
OperandSpec cta_mask() {
  auto o = src_fixed(T::b16, "ctaMask");
  o.present_if = QualKind::multicast;
  return o;
}
OperandSpec bytes_operand() {
  auto o = u32_src("size");
  o.imm_min = 16;
  o.imm_max = 1048560;     // ptxas: at most 2^20 - 16
  o.imm_multiple_of = 16;  // bulk copies move multiples of 16 bytes
  return o;
}
// An mbarrier operand of a form whose space qualifier is optional: without `.shared` the address
// is generic and must be 64-bit; the verifier decides from the qualifier.
OperandSpec generic_or_shared(std::string_view n) { return address(n); }

// cp.async's src-size: bytes actually read (the rest zero-filled), 0..cp-size.
OperandSpec src_size(std::int64_t max) {
  auto o = u32_src("src-size");
  o.imm_min = 0;
  o.imm_max = max;
  o.imm_at_most = "cp-size";
  return o;
}
std::string_view keep(std::string s) {
  static std::deque<std::string> store;
  store.push_back(std::move(s));
  return store.back();
}
}  // namespace

std::vector<Form> async_copy() {
  const auto f = "async";
  const auto hopper = sm(90);
  const std::string mb_space = "{space:shared|shared::cta}";
  auto mb = [&](std::string_view head, std::string_view tail = ".b64") {
    return keep(std::string(head) + mb_space + std::string(tail));
  };
  auto cp_size = imm(T::u32, "cp-size", 4, 16);
  cp_size.imm_values = {4, 8, 16};
  auto cp_size16 = imm(T::u32, "cp-size", 16, 16);
  auto count = u32_src("count");
  count.imm_min = 1;
  count.imm_max = (1 << 20) - 1;
  auto tx = u32_src("txCount");
  tx.imm_min = 0;
  tx.imm_max = (1 << 20) - 1;
  auto wait_n = imm(T::u32, "N", 0, 7);
  std::vector<Form> v = {
      // cp.async (sm_80): 4/8/16 bytes global -> shared, optional zero fill of the tail.
      {.id = "cp.async.ca", .pattern = "cp.async{!cop:ca}.shared.global{l2hint}{prefetch}",
       .operands = {smem("dst"), address("src"), cp_size, policy_operand()}, .targets = all(), .min_ptx = 70,
       .family = f, .summary = "copy 4/8/16 bytes global -> shared asynchronously, through L1"},
      {.id = "cp.async.cg", .pattern = "cp.async{!cop:cg}.shared.global{l2hint}{prefetch}",
       .operands = {smem("dst"), address("src"), cp_size16, policy_operand()}, .targets = all(), .min_ptx = 70,
       .family = f, .summary = "copy 16 bytes global -> shared asynchronously, bypassing L1"},
      {.id = "cp.async.ca.zfill", .pattern = "cp.async{!cop:ca}.shared.global{l2hint}{prefetch}",
       .operands = {smem("dst"), address("src"), cp_size, src_size(16), policy_operand()},
       .targets = all(), .min_ptx = 70, .family = f,
       .summary = "cp.async.ca reading src-size bytes and zero-filling the rest (src-size 0: all zeros)"},
      {.id = "cp.async.cg.zfill", .pattern = "cp.async{!cop:cg}.shared.global{l2hint}{prefetch}",
       .operands = {smem("dst"), address("src"), cp_size16, src_size(16), policy_operand()},
       .targets = all(), .min_ptx = 70, .family = f, .summary = "cp.async.cg with zero fill"},
      {.id = "cp.async.commit_group", .pattern = "cp.async.commit_group", .targets = all(), .min_ptx = 70,
       .family = f, .summary = "close the group of cp.async issued so far by this thread"},
      {.id = "cp.async.wait_group", .pattern = "cp.async.wait_group", .operands = {wait_n}, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "wait until at most N of this thread's cp.async groups are pending"},
      {.id = "cp.async.wait_all", .pattern = "cp.async.wait_all", .targets = all(), .min_ptx = 70, .family = f,
       .summary = "wait for all of this thread's cp.async"},
      {.id = "cp.async.mbarrier.arrive", .pattern = mb("cp.async.mbarrier.arrive{noinc}"),
       .operands = {generic_or_shared("mbar")}, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "arrive on the mbarrier when this thread's prior cp.async complete"},
      // mbarrier (sm_80; try_wait and transaction counts from sm_90).
      {.id = "mbarrier.init", .pattern = mb("mbarrier.init"), .operands = {generic_or_shared("mbar"), count},
       .targets = all(), .min_ptx = 70, .family = f, .summary = "initialise an mbarrier expecting count arrivals per phase"},
      {.id = "mbarrier.inval", .pattern = mb("mbarrier.inval"), .operands = {generic_or_shared("mbar")}, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "invalidate an mbarrier before reusing its memory"},
      {.id = "mbarrier.arrive", .pattern = mb("mbarrier.arrive"), .operands = {b64_sink("state"), generic_or_shared("mbar")},
       .targets = all(), .min_ptx = 70, .family = f, .summary = "arrive once; state = the phase token (or _)"},
      // Two remote arrivals. The plain one (release at CTA scope, PTX's default) only signals: ptxas
      // emits the arrive alone. The cluster-scope release also publishes this thread's earlier writes
      // to the barrier's CTA, and ptxas puts four more instructions in front of it (opcodes of a
      // memory barrier), a cost the 2-CTA GEMM's per-stage release cannot afford (decisions.md).
      {.id = "mbarrier.arrive.remote", .pattern = "mbarrier.arrive.shared::cluster.b64",
       .operands = {b64_sink("state"), smem("mbar")}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "arrive on an mbarrier of another CTA of the cluster (address from mapa), release at CTA "
                  "scope: a signal that publishes no data; the state must be _"},
      {.id = "mbarrier.arrive.remote.release", .pattern = "mbarrier.arrive.release.cluster.shared::cluster.b64",
       .operands = {b64_sink("state"), smem("mbar")}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "arrive on an mbarrier of another CTA of the cluster, release at cluster scope: this "
                  "thread's earlier writes (e.g. st.shared::cluster into that CTA) are visible to its waiters"},
      {.id = "mbarrier.arrive.count", .pattern = mb("mbarrier.arrive"),
       .operands = {b64_sink("state"), generic_or_shared("mbar"), count}, .targets = hopper, .min_ptx = 78, .family = f,
       .summary = "arrive count times"},
      {.id = "mbarrier.arrive_drop", .pattern = mb("mbarrier.arrive_drop"),
       .operands = {b64_sink("state"), generic_or_shared("mbar")}, .targets = all(), .min_ptx = 70, .family = f,
       .summary = "arrive and leave: later phases expect one arrival fewer"},
      {.id = "mbarrier.test_wait", .pattern = mb("mbarrier.test_wait"),
       .operands = {pred_dst("waitComplete"), generic_or_shared("mbar"), src_fixed(T::b64, "state")}, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "p = whether the phase of state has completed (no wait)"},
      {.id = "mbarrier.test_wait.parity", .pattern = mb("mbarrier.test_wait.parity"),
       .operands = {pred_dst("waitComplete"), generic_or_shared("mbar"), parity()}, .targets = all(),
       .min_ptx = 71, .family = f, .summary = "p = whether the phase with this parity has completed"},
      {.id = "mbarrier.try_wait", .pattern = mb("mbarrier.try_wait"),
       .operands = {pred_dst("waitComplete"), generic_or_shared("mbar"), src_fixed(T::b64, "state")}, .targets = hopper,
       .min_ptx = 78, .family = f, .summary = "wait a bounded time for the phase of state; p = completed"},
      {.id = "mbarrier.try_wait.parity", .pattern = mb("mbarrier.try_wait.parity"),
       .operands = {pred_dst("waitComplete"), generic_or_shared("mbar"), parity()}, .targets = hopper,
       .min_ptx = 78, .family = f, .summary = "wait a bounded time for the phase with this parity; p = completed"},
      {.id = "mbarrier.pending_count", .pattern = "mbarrier.pending_count.b64",
       .operands = {dst_fixed(T::u32, "count"),
                    {.name = "state", .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b64}}, .targets = all(),
       .min_ptx = 70, .family = f, .summary = "count = arrivals still pending in the phase of state"},
      {.id = "mbarrier.arrive.expect_tx", .pattern = mb("mbarrier.arrive.expect_tx"),
       .operands = {b64_sink("state"), generic_or_shared("mbar"), tx}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "expect txCount more bytes in this phase, then arrive"},
      {.id = "mbarrier.expect_tx", .pattern = keep("mbarrier.expect_tx.relaxed.cta" + mb_space + ".b64"),
       .operands = {generic_or_shared("mbar"), tx}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "expect txCount more bytes in this phase (no arrival)"},
      {.id = "mbarrier.complete_tx", .pattern = keep("mbarrier.complete_tx.relaxed.cta" + mb_space + ".b64"),
       .operands = {generic_or_shared("mbar"), tx}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "count txCount bytes as arrived in this phase"},
      // Bulk copies (sm_90): one thread moves a contiguous block; completion through an mbarrier
      // (global -> shared) or a bulk group (shared -> global).
      {.id = "cp.async.bulk.g2s",
       .pattern = "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes{multicast}{l2hint}",
       .operands = {smem("dst"), address("src"), bytes_operand(), smem("mbar"), cta_mask(), policy_operand()},
       .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "copy size bytes global -> shared (of each CTA in ctaMask with .multicast::cluster); completes tx on mbar"},
      {.id = "cp.async.bulk.s2g", .pattern = "cp.async.bulk.global.shared::cta.bulk_group{l2hint}",
       .operands = {address("dst"), smem("src"), bytes_operand(), policy_operand()}, .targets = hopper,
       .min_ptx = 80, .family = f, .summary = "copy size bytes shared -> global, tracked by bulk groups"},
      {.id = "cp.async.bulk.s2s", .pattern = "cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes",
       .operands = {smem("dst"), smem("src"), bytes_operand(), smem("mbar")}, .targets = hopper, .min_ptx = 80,
       .family = f, .summary = "copy size bytes into another CTA's shared memory in the cluster"},
      {.id = "cp.async.bulk.prefetch", .pattern = "cp.async.bulk.prefetch.L2.global{l2hint}",
       .operands = {address("src"), bytes_operand(), policy_operand()}, .targets = hopper, .min_ptx = 80,
       .family = f, .summary = "prefetch size bytes into L2"},
      {.id = "cp.async.bulk.tensor.g2s",
       .pattern = "cp.async.bulk.tensor{!dim}.shared::cluster.global.tile.mbarrier::complete_tx::bytes{multicast}{l2hint}",
       .operands = {smem("dst"), tensor_operand(), smem("mbar"), cta_mask(), policy_operand()}, .targets = hopper,
       .min_ptx = 80, .family = f, .summary = "TMA: load a tile of the tensor map at the coordinates into shared memory"},
      {.id = "cp.async.bulk.tensor.s2g", .pattern = "cp.async.bulk.tensor{!dim}.global.shared::cta.tile.bulk_group{l2hint}",
       .operands = {tensor_operand(), smem("src"), policy_operand()}, .targets = hopper, .min_ptx = 80,
       .family = f, .summary = "TMA: store a tile from shared memory to the tensor map at the coordinates"},
      {.id = "cp.reduce.async.bulk.tensor",
       .pattern = "cp.reduce.async.bulk.tensor{!dim}.global.shared::cta{!atomop:add|min|max|inc|dec|and|or|xor}.tile.bulk_group",
       .operands = {tensor_operand(), smem("src")}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "TMA: reduce a tile from shared memory into the tensor"},
      {.id = "cp.async.bulk.prefetch.tensor", .pattern = "cp.async.bulk.prefetch.tensor{!dim}.L2.global.tile{l2hint}",
       .operands = {tensor_operand(), policy_operand()}, .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "TMA: prefetch a tile of the tensor into L2"},
      {.id = "prefetch.tensormap", .pattern = "prefetch.tensormap", .operands = {address()}, .targets = hopper,
       .min_ptx = 80, .family = f,
       .summary = "fetch the tensor map at generic address a ahead of its first TMA (e.g. a kernel parameter's)"},
      {.id = "cp.async.bulk.commit_group", .pattern = "cp.async.bulk.commit_group", .targets = hopper,
       .min_ptx = 80, .family = f, .summary = "close the bulk group of this thread's bulk copies"},
      {.id = "cp.async.bulk.wait_group", .pattern = "cp.async.bulk.wait_group{read}", .operands = {wait_n},
       .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "wait until at most N bulk groups are pending (.read: until their sources may be reused)"},
      // Fences between the generic and async proxies, and for mbarrier initialisation.
      {.id = "fence.proxy.async", .pattern = "fence.proxy.async{space:global|shared::cta|shared::cluster}",
       .targets = hopper, .min_ptx = 80, .family = f,
       .summary = "order generic-proxy accesses before async-proxy ones (TMA, wgmma operands)"},
      {.id = "fence.mbarrier_init", .pattern = "fence.mbarrier_init.release.cluster", .targets = hopper,
       .min_ptx = 80, .family = f, .summary = "make mbarrier.init visible to the cluster (async proxy)"},
      // Clusters.
      {.id = "barrier.cluster.arrive", .pattern = "barrier.cluster.arrive{sem:release|relaxed}{aligned}",
       .targets = hopper, .min_ptx = 78, .family = f, .summary = "arrive at the cluster barrier",
       .qual_min_ptx = {{QualKind::sem, 80}}},
      {.id = "barrier.cluster.wait", .pattern = "barrier.cluster.wait{sem:acquire}{aligned}", .targets = hopper,
       .min_ptx = 78, .family = f, .summary = "wait for every thread of the cluster to arrive",
       .qual_min_ptx = {{QualKind::sem, 80}}},
      {.id = "mapa", .pattern = "mapa{space:shared::cluster}{T}", .types0 = {T::u32, T::u64},
       .operands = {dst(), src_reg("a"), u32_src("rank")}, .targets = hopper, .min_ptx = 78, .family = f,
       .summary = "d = the address of a's variable in the shared memory of CTA rank"},
      // Programmatic dependent launch.
      {.id = "griddepcontrol.launch_dependents", .pattern = "griddepcontrol.launch_dependents", .targets = hopper,
       .min_ptx = 78, .family = f, .summary = "let the dependent grid start launching"},
      {.id = "griddepcontrol.wait", .pattern = "griddepcontrol.wait", .targets = hopper, .min_ptx = 78,
       .family = f, .summary = "wait until the prerequisite grids completed and their memory is visible"},
  };
  // multimem (NVLink SHARP): operations on a multicast address, performed on every GPU of it.
  struct Mm {
    std::string_view suffix, op;
    std::vector<Type> types;
  };
  for (const auto& g : std::vector<Mm>{{"add", "{!atomop:add}", {T::u32, T::s32, T::u64, T::f32, T::f64}},
                                       {"minmax", "{!atomop:min|max}", {T::u32, T::s32, T::u64, T::s64}},
                                       {"bit", "{!atomop:and|or|xor}", {T::b32, T::b64}}}) {
    v.push_back({.id = keep("multimem.ld_reduce." + std::string(g.suffix)),
                 .pattern = keep("multimem.ld_reduce{!sem:relaxed|acquire}{!scope:cta|cluster|gpu|sys}.global" +
                                 std::string(g.op) + "{T}"),
                 .types0 = g.types, .operands = {dst(), address()}, .targets = hopper, .min_ptx = 81, .family = f,
                 .summary = "d = the reduction over every GPU's copy at a multimem address"});
    v.push_back({.id = keep("multimem.red." + std::string(g.suffix)),
                 .pattern = keep("multimem.red{!sem:relaxed|release}{!scope:cta|cluster|gpu|sys}.global" +
                                 std::string(g.op) + "{T}"),
                 .types0 = g.types, .operands = {address(), src_reg("b")}, .targets = hopper, .min_ptx = 81,
                 .family = f, .summary = "reduce b into every GPU's copy at a multimem address"});
  }
  v.push_back({.id = "multimem.st", .pattern = "multimem.st{!sem:relaxed|release}{!scope:cta|cluster|gpu|sys}.global{T}",
               .types0 = {T::b32, T::b64, T::u32, T::s32, T::u64, T::s64, T::f32, T::f64},
               .operands = {address(), src_reg("b")}, .targets = hopper, .min_ptx = 81, .family = f,
               .summary = "store b to every GPU's copy at a multimem address"});
  // Vector and half-precision forms (floating point only; 64 or 128 bits per access). f16x2/bf16x2
  // sums can accumulate in f32 across the GPUs (.acc::f32), as NCCL's NVLS all-reduce does.
  const OperandSpec vec_dst = {.name = "d", .cls = OpClass::reg, .role = Role::write, .tref = TypeRef::t0, .vec = true};
  const OperandSpec vec_src = {.name = "b", .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::t0, .vec = true};
  v.push_back({.id = "multimem.ld_reduce.f32.vec",
               .pattern = "multimem.ld_reduce{!sem:relaxed|acquire}{!scope:cta|cluster|gpu|sys}.global{!atomop:add}{!vec:v2|v4}{T}",
               .types0 = {T::f32}, .operands = {vec_dst, address()}, .targets = hopper, .min_ptx = 81, .family = f,
               .summary = "{d..} = the sum over every GPU's copy of 2 or 4 f32 at a multimem address (f32: add only)"});
  v.push_back({.id = "multimem.ld_reduce.half2",
               .pattern = "multimem.ld_reduce{!sem:relaxed|acquire}{!scope:cta|cluster|gpu|sys}.global{!atomop:add|min|max}{vec:v2|v4}{T}",
               .types0 = {T::f16x2, T::bf16x2}, .operands = {vec_dst, address()}, .targets = hopper, .min_ptx = 81,
               .family = f, .summary = "the reduction of packed f16x2/bf16x2 pairs over every GPU's copy"});
  v.push_back({.id = "multimem.ld_reduce.half2.acc",
               .pattern = "multimem.ld_reduce{!sem:relaxed|acquire}{!scope:cta|cluster|gpu|sys}.global{!atomop:add}{!acc}{vec:v2|v4}{T}",
               .types0 = {T::f16x2, T::bf16x2}, .operands = {vec_dst, address()}, .targets = hopper, .min_ptx = 82,
               .family = f, .summary = "the sum of packed f16x2/bf16x2 pairs over every GPU's copy, accumulated in f32"});
  v.push_back({.id = "multimem.st.vec",
               .pattern = "multimem.st{!sem:relaxed|release}{!scope:cta|cluster|gpu|sys}.global{!vec:v2|v4}{T}",
               .types0 = {T::f32, T::f16x2, T::bf16x2}, .operands = {address(), vec_src}, .targets = hopper,
               .min_ptx = 81, .family = f, .summary = "store 2 or 4 values to every GPU's copy at a multimem address"});
  v.push_back({.id = "multimem.red.vec",
               .pattern = "multimem.red{!sem:relaxed|release}{!scope:cta|cluster|gpu|sys}.global{!atomop:add}{!vec:v2|v4}{T}",
               .types0 = {T::f32, T::f16x2, T::bf16x2}, .operands = {address(), vec_src}, .targets = hopper,
               .min_ptx = 81, .family = f, .summary = "add 2 or 4 values into every GPU's copy at a multimem address"});
  return v;
}

}  // namespace weft::isa::tables
