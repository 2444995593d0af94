// Warp-level matrix instructions (ldmatrix, stmatrix, mma.sync), warpgroup MMA (wgmma, sm_90a)
// and register reallocation (setmaxnreg). PTX ISA §9.7.14 - §9.7.15, §9.7.19.
#include <deque>
#include <string>

#include "codegen/isa/tables/row_builders.h"
#include "codegen/isa/tables/tables.h"

namespace weft::isa::tables {
using namespace rows;

namespace {
std::string_view keep(std::string s) {
  static std::deque<std::string> store;
  store.push_back(std::move(s));
  return store.back();
}
// A fixed-size register fragment: {r0, ..., r(n-1)}.
OperandSpec frag(std::string_view n, Role role, Type t, std::uint8_t count) {
  return {.name = n, .cls = OpClass::reg, .role = role, .tref = TypeRef::fixed, .fixed = t, .list = count};
}
// The wgmma accumulator: N/2 f32 or N/4 packed-f16 registers for shape m64nNkK.
OperandSpec accumulator(Type t) {
  return {.name = "d", .cls = OpClass::reg, .role = Role::read_write, .tref = TypeRef::fixed, .fixed = t,
          .count_from = QualKind::wgshape, .count_div = static_cast<std::uint16_t>(t == T::f32 ? 2 : 4)};
}
OperandSpec desc(std::string_view n) {
  return {.name = n, .cls = OpClass::reg, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::b64};
}
OperandSpec scale_d() {
  return {.name = "scale-d", .cls = OpClass::pred, .role = Role::read, .tref = TypeRef::fixed, .fixed = T::pred};
}
OperandSpec imm_of(std::string_view n, std::vector<std::int64_t> values) {
  auto o = imm(T::s32, n, -1, 1);
  o.imm_values = std::move(values);
  return o;
}
// "{!wgshape:m64n8kK|m64n16kK|...|m64n256kK}"
std::string shapes_k(int k) {
  std::string s = "{!wgshape:";
  for (int n = 8; n <= 256; n += 8) s += (n == 8 ? "" : "|") + ("m64n" + std::to_string(n) + "k" + std::to_string(k));
  return s + "}";
}
}  // namespace

std::vector<Form> matrix() {
  const auto f = "matrix";
  const auto hopper = sm(90);
  const auto sm90a = TargetSet::only({"sm_90a"});
  auto ld_frag = OperandSpec{.name = "d", .cls = OpClass::reg, .role = Role::write, .tref = TypeRef::fixed,
                             .fixed = T::b32, .count_from = QualKind::num};
  auto st_frag = ld_frag;
  st_frag.name = "r";
  st_frag.role = Role::read;
  std::vector<Form> v = {
      {.id = "ldmatrix", .pattern = "ldmatrix.sync.aligned.m8n8{!num:x1|x2|x4}{trans}{space:shared|shared::cta}.b16",
       .operands = {ld_frag, address()}, .targets = all(), .min_ptx = 65, .family = f,
       .summary = "load 1/2/4 8x8 b16 matrices from shared memory into the warp's fragments"},
      {.id = "stmatrix", .pattern = "stmatrix.sync.aligned.m8n8{!num:x1|x2|x4}{trans}{space:shared|shared::cta}.b16",
       .operands = {address(), st_frag}, .targets = hopper, .min_ptx = 78, .family = f,
       .summary = "store 1/2/4 8x8 b16 matrices from the warp's fragments to shared memory"},
  };
  // mma.sync: one row per shape and type, each with its fixed fragment sizes (PTX ISA §9.7.14.5).
  struct Mma {
    std::string_view id, pattern;
    std::uint8_t a, b, d;
    Type dtype;
    TargetSet targets;
    PtxVersion ptx;
    std::string_view what;
  };
  for (const auto& m : std::vector<Mma>{
           {"mma.m16n8k8.f16.f32", "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32", 2, 1, 4, T::f32, all(), 70, "D(16x8 f32) = A(16x8 f16) B(8x8 f16) + C"},
           {"mma.m16n8k8.f16.f16", "mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f16", 2, 1, 2, T::b32, all(), 70, "D(16x8 f16) = A(16x8 f16) B(8x8 f16) + C"},
           {"mma.m16n8k16.f16.f32", "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", 4, 2, 4, T::f32, all(), 70, "D(16x8 f32) = A(16x16 f16) B(16x8 f16) + C"},
           {"mma.m16n8k16.f16.f16", "mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16", 4, 2, 2, T::b32, all(), 70, "D(16x8 f16) = A(16x16 f16) B(16x8 f16) + C"},
           {"mma.m16n8k8.bf16", "mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32", 2, 1, 4, T::f32, all(), 70, "D(16x8 f32) = A(16x8 bf16) B(8x8 bf16) + C"},
           {"mma.m16n8k16.bf16", "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", 4, 2, 4, T::f32, all(), 70, "D(16x8 f32) = A(16x16 bf16) B(16x8 bf16) + C"},
           {"mma.m16n8k8.tf32", "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", 4, 2, 4, T::f32, all(), 70, "D(16x8 f32) = A(16x8 tf32) B(8x8 tf32) + C"},
           {"mma.m16n8k32.s8", "mma.sync.aligned.m16n8k32.row.col{satfinite}.s32.s8.s8.s32", 4, 2, 4, T::s32, all(), 70, "D(16x8 s32) = A(16x32 s8) B(32x8 s8) + C"},
           {"mma.m16n8k32.u8", "mma.sync.aligned.m16n8k32.row.col{satfinite}.s32.u8.u8.s32", 4, 2, 4, T::s32, all(), 70, "D(16x8 s32) = A(16x32 u8) B(32x8 u8) + C"},
           {"mma.m16n8k32.e4m3", "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32", 4, 2, 4, T::f32, sm(89), 84, "D(16x8 f32) = A(16x32 e4m3) B(32x8 e4m3) + C"},
           {"mma.m16n8k32.e5m2", "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32", 4, 2, 4, T::f32, sm(89), 84, "D(16x8 f32) = A(16x32 e5m2) B(32x8 e5m2) + C"},
       }) {
    v.push_back({.id = m.id, .pattern = m.pattern,
                 .operands = {frag("d", Role::write, m.dtype, m.d), frag("a", Role::read, T::b32, m.a),
                              frag("b", Role::read, T::b32, m.b), frag("c", Role::read, m.dtype, m.d)},
                 .targets = m.targets, .min_ptx = m.ptx, .family = f, .summary = m.what});
  }
  // wgmma (sm_90a): D += A * B over a warpgroup; A from shared memory (descriptor) or registers.
  struct Wg {
    std::string_view id;
    int k;
    std::string types;  // after the shape: ".f32.bf16.bf16"
    Type acc;
    bool transposable;  // f16/bf16 take transpose immediates
    bool a_in_regs;
  };
  for (const auto& w : std::vector<Wg>{
           {"wgmma.f16.f32.ss", 16, ".f32.f16.f16", T::f32, true, false},
           {"wgmma.f16.f32.rs", 16, ".f32.f16.f16", T::f32, true, true},
           {"wgmma.f16.f16.ss", 16, ".f16.f16.f16", T::b32, true, false},
           {"wgmma.f16.f16.rs", 16, ".f16.f16.f16", T::b32, true, true},
           {"wgmma.bf16.ss", 16, ".f32.bf16.bf16", T::f32, true, false},
           {"wgmma.bf16.rs", 16, ".f32.bf16.bf16", T::f32, true, true},
           {"wgmma.tf32.ss", 8, ".f32.tf32.tf32", T::f32, false, false},
           {"wgmma.tf32.rs", 8, ".f32.tf32.tf32", T::f32, false, true},
           {"wgmma.e4m3.ss", 32, ".f32.e4m3.e4m3", T::f32, false, false},
           {"wgmma.e4m3.rs", 32, ".f32.e4m3.e4m3", T::f32, false, true},
           {"wgmma.e5m2.ss", 32, ".f32.e5m2.e5m2", T::f32, false, false},
           {"wgmma.e5m2.rs", 32, ".f32.e5m2.e5m2", T::f32, false, true},
       }) {
    std::vector<OperandSpec> ops = {accumulator(w.acc)};
    ops.push_back(w.a_in_regs ? frag("a", Role::read, T::b32, 4) : desc("a-desc"));
    ops.push_back(desc("b-desc"));
    ops.push_back(scale_d());
    ops.push_back(imm_of("imm-scale-a", {1, -1}));
    ops.push_back(imm_of("imm-scale-b", {1, -1}));
    if (w.transposable && !w.a_in_regs) ops.push_back(imm_of("imm-trans-a", {0, 1}));
    if (w.transposable) ops.push_back(imm_of("imm-trans-b", {0, 1}));
    v.push_back({.id = w.id, .pattern = keep("wgmma.mma_async.sync.aligned" + shapes_k(w.k) + w.types),
                 .operands = ops, .targets = sm90a, .min_ptx = 80, .family = f,
                 .summary = keep(std::string("warpgroup D") + (w.acc == T::f32 ? "(f32)" : "(f16)") +
                                 " += A" + (w.a_in_regs ? "(registers)" : "(shared, descriptor)") +
                                 " * B(shared, descriptor), 64xN per warpgroup")});
  }
  v.push_back({.id = "wgmma.fence", .pattern = "wgmma.fence.sync.aligned", .targets = sm90a, .min_ptx = 80,
               .family = f, .summary = "order register accesses before the next wgmma.mma_async"});
  v.push_back({.id = "wgmma.commit_group", .pattern = "wgmma.commit_group.sync.aligned", .targets = sm90a,
               .min_ptx = 80, .family = f, .summary = "close the group of wgmma.mma_async issued so far"});
  v.push_back({.id = "wgmma.wait_group", .pattern = "wgmma.wait_group.sync.aligned",
               .operands = {imm(T::u32, "N", 0, 7)}, .targets = sm90a, .min_ptx = 80, .family = f,
               .summary = "wait until at most N wgmma groups are pending"});
  // setmaxnreg: arch-specific on every `a` target (docs/ptx-facts.md).
  auto budget = imm(T::u32, "imm-reg-count", 24, 256);
  budget.imm_multiple_of = 8;
  v.push_back({.id = "setmaxnreg.inc", .pattern = "setmaxnreg.inc.sync.aligned.u32", .operands = {budget},
               .targets = TargetSet::arch_specific_from(90), .min_ptx = 80, .family = f,
               .summary = "raise this warpgroup's registers per thread to the count (waits for free registers)"});
  v.push_back({.id = "setmaxnreg.dec", .pattern = "setmaxnreg.dec.sync.aligned.u32", .operands = {budget},
               .targets = TargetSet::arch_specific_from(90), .min_ptx = 80, .family = f,
               .summary = "lower this warpgroup's registers per thread to the count (releases them)"});
  return v;
}

}  // namespace weft::isa::tables
