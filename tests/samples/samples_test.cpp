// Every registered sample kernel, emitted for every target weft claims, assembles with ptxas with
// no spills; and emits for the three headline targets (sm_80, sm_90a, sm_100a) with defaults and
// with non-default parameters.
#include <doctest/doctest.h>

#include "codegen/diagnostic.h"
#include "codegen/isa/database.h"
#include "codegen/printer.h"
#include "codegen/signature.h"
#include "dsl/async/tcgen05.h"
#include "dsl/registry.h"
#include "samples/apps/comm/fp8_block_quant_host.h"
#include "samples/apps/emit_for_device.h"
#include "samples/apps/gemm/grouped_rows.h"
#include "samples/apps/gemm/tile_choice.h"
#include "tests/support/ptxas_env.h"

using namespace weft;

namespace {
// Assembles `ptx` for `arch` as <label>.ptx and checks what every sample must satisfy: ptxas accepts
// it, setmaxnreg is honoured (no C7508), one kernel, zero spills. Returns the result for more checks.
ptxas::Result assemble_clean(const std::string& ptxas, const std::string& ptx, const std::string& arch,
                             const std::string& label) {
  auto r = ptxas::assemble(ptxas, test::write_file(label + ".ptx", ptx), arch);
  INFO(r.output);
  REQUIRE(r.ok());
  CHECK(r.output.find("C7508") == std::string::npos);
  REQUIRE(r.kernels.size() == 1);
  CHECK(r.kernels[0].spill_stores == 0);
  CHECK(r.kernels[0].spill_loads == 0);
  return r;
}
// A kernel built with --param settings for `arch`: its label (kernel.arch.setting...) and its PTX.
struct BuiltVariant {
  std::string label, ptx;
};
BuiltVariant emit_variant(const char* kernel, const std::vector<std::string>& settings, const char* arch) {
  const auto* e = Registry::global().find(kernel);
  REQUIRE(e);
  auto p = parse_params(*e, settings);
  REQUIRE(p.params);
  std::string label = std::string(kernel) + "." + arch;
  for (const auto& s : settings) label += "." + s;
  return {label, emit_ptx(e->build(*isa::parse_target(arch).target, *p.params))};
}
// A kernel's settings and the targets a test builds them for.
struct TargetedVariant {
  const char* kernel;
  std::vector<std::string> params;
  std::vector<const char*> archs;
};
// The build diagnostic of a kernel with --param settings on a target, or "" when it builds.
std::string build_error(const char* kernel, const std::vector<std::string>& settings, const char* target) {
  const auto* e = Registry::global().find(kernel);
  REQUIRE(e);
  auto p = parse_params(*e, settings);
  REQUIRE(p.params);
  try {
    e->build(*isa::parse_target(target).target, *p.params);
  } catch (const DiagnosticError& err) {
    return err.what();
  }
  return "";
}
}  // namespace

TEST_CASE("every sample assembles on every target with zero spills") {
  const auto& all = Registry::global().all();
  REQUIRE(all.size() >= 6);
  auto ptxas = test::ptxas_or_skip();
  std::size_t assembled = 0;
  for (const auto& e : all) {
    auto params = parse_params(e, {});
    REQUIRE(params.params);
    for (const auto& t : isa::known_targets()) {
      if (!e.targets.contains(t)) continue;
      INFO(e.name << " for " << t.name());
      const auto ptx = emit_ptx(e.build(t, *params.params));
      if (!ptxas) continue;
      assemble_clean(*ptxas, ptx, t.name(), e.name + "." + t.name());
      ++assembled;
    }
  }
  MESSAGE(assembled << " (sample, target) pairs assembled with zero spills");
}

TEST_CASE("samples take their parameters") {
  const auto* e = Registry::global().find("transpose");
  REQUIRE(e);
  auto p = parse_params(*e, {"tile=16", "rows=4"});
  REQUIRE(p.params);
  const auto ptx = emit_ptx(e->build(*isa::parse_target("sm_90a").target, *p.params));
  CHECK(ptx.find(".reqntid 16, 4, 1") != std::string::npos);
  CHECK(ptx.find(".shared .align 16 .b8 tile[1088];") != std::string::npos);  // 16 x 17 floats
}

TEST_CASE("bad --param values are refused with the cause") {
  const auto* e = Registry::global().find("reduce_sum");
  REQUIRE(e);
  CHECK(parse_params(*e, {"block=abc"}).error == "--param block='abc': not an integer");
  CHECK(parse_params(*e, {"block=96"}).error == "--param block=96: must be a power of two");
  CHECK(parse_params(*e, {"block=4096"}).error == "--param block=4096: out of range [64, 1024]");
  CHECK(parse_params(*e, {"tile=8"}).error == "kernel 'reduce_sum' has no parameter 'tile' (it takes: block)");
  CHECK(parse_params(*e, {"block"}).error == "--param 'block': expected name=value");
}

TEST_CASE("the Hopper GEMM assembles with zero spills in each tile configuration") {
  const auto* e = Registry::global().find("gemm_bf16_sm90");
  REQUIRE(e);
  auto ptxas = test::ptxas_or_skip();
  for (const char* bn : {"bn=64", "bn=128", "bn=256"})
    for (const char* stages : {"stages=3", "stages=4"}) {
      INFO(bn << " " << stages);
      auto p = parse_params(*e, {bn, stages});
      REQUIRE(p.params);
      const auto ptx = emit_ptx(e->build(*isa::parse_target("sm_90a").target, *p.params));
      if (!ptxas) continue;
      assemble_clean(*ptxas, ptx, "sm_90a", std::string("gemm_") + bn + stages);
    }
}

TEST_CASE("the sm_80 GEMMs assemble with zero spills on sm_80, sm_89, sm_90a and sm_100a in each configuration") {
  auto ptxas = test::ptxas_or_skip();
  struct Combo {
    const char* kernel;
    std::vector<std::string> params;
    int max_registers;  // 128: two CTAs of 256 threads per SM (the .minnctapersm 2 default), where two fit
  };
  const std::vector<Combo> combos = {
      {"gemm_bf16_sm80", {}, 128},
      {"gemm_bf16_sm80", {"nn=1"}, 128},
      {"gemm_bf16_sm80", {"bias=1", "stages=3"}, 128},
      {"gemm_bf16_sm80", {"bk=64", "nn=1", "bias=1"}, 255},  // 4 x 32 KB stages: one CTA per SM
      {"gemm_bf16_sm80", {"bm=64", "bn=64", "warps_m=2", "warps_n=2", "stages=6"}, 128},
      {"gemm_bf16_sm80", {"bm=128", "bn=256", "stages=3"}, 255},  // 64 x 64 warp tiles: one CTA per SM
      {"gemm_bf16_sm80", {"bm=256", "bn=128", "warps_m=4", "warps_n=2", "nn=1", "stages=3"}, 255},
      {"gemm_e4m3_sm89", {}, 255},  // no .minnctapersm for e4m3: m16n8k32 needs > 128 registers on sm_90+
      {"gemm_e4m3_sm89", {"bk=128", "stages=3", "bias=1"}, 255},
      {"gemm_e4m3_sm89", {"bm=64", "bn=128", "warps_m=2", "warps_n=2", "stages=5"}, 255},
      {"gemm_bf16_sm80", {"groups=1", "bias=1"}, 128},  // grouped (MoE experts)
      {"gemm_bf16_sm80", {"groups=1", "bm=64", "bn=64", "warps_m=2", "warps_n=2"}, 128},
      {"gemm_e4m3_sm89", {"groups=1", "bias=1"}, 255},
  };
  std::size_t assembled = 0;
  for (const auto& c : combos) {
    const auto* e = Registry::global().find(c.kernel);
    REQUIRE(e);
    auto p = parse_params(*e, c.params);
    REQUIRE(p.params);
    for (const char* arch : {"sm_80", "sm_89", "sm_90a", "sm_100a"}) {
      const auto t = *isa::parse_target(arch).target;
      if (!e->targets.contains(t)) continue;
      std::string label = std::string(c.kernel) + "." + arch;
      for (const auto& s : c.params) label += "." + s;
      INFO(label);
      const auto ptx = emit_ptx(e->build(t, *p.params));
      if (!ptxas) continue;
      auto r = assemble_clean(*ptxas, ptx, arch, label);
      // Two CTAs' stages (the window: stages x stage bytes + its 1008-byte round-up) and their 1 KB
      // reserves must fit the SM (the per-CTA ceiling + 1 KB: 100 KB on sm_89, so one CTA there).
      const std::uint64_t window = sig::parse(ptx).kernels.at(0).dynamic_smem;
      const bool two_fit = 2 * (window + 16) <= std::uint64_t{t.max_shared_per_cta()} + 1024;
      CHECK(r.kernels[0].registers <= (two_fit ? c.max_registers : 255));
      ++assembled;
    }
  }
  MESSAGE(assembled << " sm_80-path GEMM configurations assembled with zero spills");
}

TEST_CASE("the sm_80 GEMM refuses tiles it cannot cover") {
  const auto* e = Registry::global().find("gemm_bf16_sm80");
  REQUIRE(e);
  auto build_error = [](const std::vector<std::string>& settings) {
    return ::build_error("gemm_bf16_sm80", settings, "sm_80");
  };
  CHECK(build_error({"bn=32", "nn=1"}).find("NN needs bn a multiple of 64") != std::string::npos);
  CHECK(build_error({"bm=256", "bn=256", "warps_m=2", "warps_n=2"}).find("accumulator registers") != std::string::npos);
  CHECK(build_error({"bm=32", "warps_m=4"}).find("multiple of 16 x 16") != std::string::npos);
  // Grouped: TN only, and no CTA tile spanning two 128-row tile rows (two groups).
  CHECK(build_error({"groups=1", "nn=1"}).find("groups takes TN only") != std::string::npos);
  CHECK(build_error({"groups=1", "bm=256", "warps_m=4", "warps_n=2"}).find("bm <= 128") != std::string::npos);
}

TEST_CASE("the communication samples assemble with zero spills in every variant, with and without debug waits") {
  auto ptxas = test::ptxas_or_skip();
  struct Variant {
    const char* kernel;
    std::vector<std::string> params;
  };
  const std::vector<Variant> variants = {
      {"all_gather", {}},          {"all_gather", {"block=1024"}},
      {"reduce_scatter", {}},      {"reduce_scatter", {"bf16=1"}},
      {"all_reduce", {}},          {"all_reduce", {"bf16=1"}},
      {"all_reduce", {"shots=2"}}, {"all_reduce", {"shots=2", "bf16=1"}},
      {"moe_dispatch", {}},        {"moe_combine", {}},
      {"moe_combine", {"warps=32"}},
      // One load in flight per thread (unroll 1), and the most registers: 1024-thread CTAs summing bf16
      // (unroll 2 by default), 256-thread ones with 4 packets.
      {"all_gather", {"unroll=1"}},  {"reduce_scatter", {"block=1024", "bf16=1"}},
      {"all_reduce", {"block=1024", "bf16=1", "shots=2"}}, {"all_reduce", {"unroll=1", "bf16=1"}},
      {"all_reduce", {"block=256", "unroll=4", "bf16=1", "shots=2"}},
  };
  for (const auto& v : variants)
    for (const char* arch : {"sm_80", "sm_90a", "sm_100a"})
      for (bool debug : {false, true}) {
        const auto* e = Registry::global().find(v.kernel);
        REQUIRE(e);
        auto p = parse_params(*e, v.params);
        REQUIRE(p.params);
        auto t = *isa::parse_target(arch).target;
        t.debug_waits = debug;
        std::string label = std::string(v.kernel) + "." + arch + (debug ? ".debug" : "");
        for (const auto& s : v.params) label += "." + s;
        INFO(label);
        const auto ptx = emit_ptx(e->build(t, *p.params));
        if (!ptxas) continue;
        assemble_clean(*ptxas, ptx, arch, label);
      }
}

TEST_CASE("the fp8 MoE kernels assemble with zero spills, and refuse targets without e4m3 conversion") {
  auto ptxas = test::ptxas_or_skip();
  const std::vector<TargetedVariant> variants = {
      {"moe_quantize", {}, {"sm_89", "sm_90a", "sm_100a", "sm_120a"}},
      {"moe_quantize", {"unroll=8"}, {"sm_89", "sm_90a", "sm_100a", "sm_120a"}},
      {"moe_swiglu", {"fp8=1"}, {"sm_89", "sm_90a", "sm_100a", "sm_120a"}},
      {"moe_dispatch", {"scales=1"}, {"sm_80", "sm_90a", "sm_100a"}},
      {"moe_dispatch", {"scales=1", "bulk=1"}, {"sm_90a", "sm_100a"}},
  };
  for (const auto& v : variants)
    for (const char* arch : v.archs) {
      const auto built = emit_variant(v.kernel, v.params, arch);
      INFO(built.label);
      CHECK(test::contains(built.ptx, v.kernel == std::string("moe_dispatch") ? "st.relaxed.sys.global.f32"
                                                                              : "cvt.rn.satfinite.e4m3x2.f32"));
      if (ptxas) assemble_clean(*ptxas, built.ptx, arch, built.label);
    }
  CHECK(build_error("moe_swiglu", {"fp8=1"}, "sm_80").find("fp8=1 converts to e4m3, which sm_80 cannot") != std::string::npos);
}

TEST_CASE("the copy kernels assemble with zero spills in the shapes copy_bench sweeps") {
  auto ptxas = test::ptxas_or_skip();
  const std::vector<TargetedVariant> variants = {
      {"copy_vec16", {"unroll=8"}, {"sm_80", "sm_90a", "sm_100a"}},
      {"copy_vec16", {"unroll=8", "l2_prefetch=1"}, {"sm_80", "sm_90a", "sm_100a"}},
      {"copy_vec16", {"cache=1"}, {"sm_80", "sm_90a", "sm_100a", "sm_120a"}},
      {"copy_vec16", {"cache=2", "unroll=8"}, {"sm_80", "sm_90a", "sm_100a", "sm_120a"}},
      {"copy_vec16", {"cache=1", "l2_prefetch=1"}, {"sm_90a"}},
      {"copy_vec16", {"unroll=1", "block=128"}, {"sm_80", "sm_90a"}},
      {"copy_bulk", {"stages=3", "lag=2"}, {"sm_90a", "sm_100a"}},
      {"copy_bulk", {"chunk=65536", "stages=3", "lag=1"}, {"sm_90a"}},
      {"copy_bulk", {"chunk=16384", "stages=6", "lag=2"}, {"sm_90a"}},
      {"copy_bulk", {"stages=3", "lag=1", "evict_first=1"}, {"sm_90a", "sm_100a"}},
  };
  for (const auto& v : variants)
    for (const char* arch : v.archs) {
      const auto built = emit_variant(v.kernel, v.params, arch);
      INFO(built.label);
      if (ptxas) assemble_clean(*ptxas, built.ptx, arch, built.label);
    }
  // copy_vec16's cache paths are what their names say.
  auto vec16 = [](const std::vector<std::string>& settings) {
    const auto* e = Registry::global().find("copy_vec16");
    auto p = parse_params(*e, settings);
    return emit_ptx(e->build(*isa::parse_target("sm_90a").target, *p.params));
  };
  CHECK(test::contains(vec16({}), "ld.global.nc.L1::no_allocate.v4.u32"));
  const auto plain = vec16({"cache=1"});
  CHECK(test::contains(plain, "ld.global.v4.u32"));
  CHECK(!test::contains(plain, ".nc"));
  const auto streaming = vec16({"cache=2"});
  CHECK(test::contains(streaming, "ld.global.cs.v4.u32"));
  CHECK(test::contains(streaming, "st.global.cs.v4.u32"));
  // Settings a kernel refuses when it is built, with a message naming the cause.
  auto refused = [](const char* kernel, const std::vector<std::string>& settings, const char* message) {
    const auto* e = Registry::global().find(kernel);
    REQUIRE(e);
    auto p = parse_params(*e, settings);
    REQUIRE(p.params);
    CHECK_THROWS_WITH(e->build(*isa::parse_target("sm_90a").target, *p.params), doctest::Contains(message));
  };
  // A lag as long as the ring would refill a stage its own store is still reading.
  refused("copy_bulk", {"stages=2", "lag=2"}, "store_lag 2 must be less than the ring's 2 stages");
  // copy_bulk's default ring is as many 32 KiB chunks as fit, at most 4: 4 on sm_90a, 3 in sm_120a's
  // 99 KiB; 4 there is refused at emit with the target's ceiling (ptxas would take it, the launch not).
  const auto* bulk = Registry::global().find("copy_bulk");
  REQUIRE(bulk);
  auto ring_bytes = [&](const char* arch, const std::vector<std::string>& settings) {
    auto p = parse_params(*bulk, settings);
    REQUIRE(p.params);
    return sig::parse(emit_ptx(bulk->build(*isa::parse_target(arch).target, *p.params))).kernels.at(0).dynamic_smem;
  };
  const std::uint32_t pad = 128 - 16;  // the window's round-up to 128 bytes
  CHECK(ring_bytes("sm_90a", {}) == 4 * 32768 + pad);
  CHECK(ring_bytes("sm_120a", {}) == 3 * 32768 + pad);
  CHECK(ring_bytes("sm_120a", {"chunk=16384"}) == 4 * 16384 + pad);
  auto four = parse_params(*bulk, {"stages=4"});
  REQUIRE(four.params);
  CHECK_THROWS_WITH(bulk->build(*isa::parse_target("sm_120a").target, *four.params),
                    doctest::Contains("over the 101376 bytes a CTA may use on sm_120a"));
  // A collective's batch too large for its block.
  refused("reduce_scatter", {"block=1024", "unroll=4"}, "unroll 4 x block 1024 is over 2048");
}

TEST_CASE("the Hopper GEMM with a bulk-copy warp role assembles with zero spills and setmaxnreg honoured") {
  const auto* e = Registry::global().find("gemm_bf16_sm90");
  REQUIRE(e);
  auto ptxas = test::ptxas_or_skip();
  for (const char* bn : {"bn=128", "bn=256"})
    for (const bool evict_first : {false, true}) {
      const std::string ef = evict_first ? "copy_evict_first=1" : "copy_evict_first=0";
      INFO(bn << " " << ef);
      auto p = parse_params(*e, {bn, "stages=3", "copy=1", ef});
      REQUIRE(p.params);
      const auto ptx = emit_ptx(e->build(*isa::parse_target("sm_90a").target, *p.params));
      CHECK(ptx.find("cp.async.bulk.shared::cluster.global") != std::string::npos);
      CHECK(ptx.find(".param .u64 copy_dst") != std::string::npos);
      // The copy role's loads and stores carry the hint only when asked for.
      CHECK((ptx.find("createpolicy.fractional.L2::evict_first") != std::string::npos) == evict_first);
      if (!ptxas) continue;
      assemble_clean(*ptxas, ptx, "sm_90a", std::string("gemm_copy_") + bn + (evict_first ? "_ef" : ""));
    }
}

TEST_CASE("the fp8 Hopper GEMM assembles with zero spills and setmaxnreg honoured in each configuration") {
  const auto* e = Registry::global().find("gemm_e4m3_sm90");
  REQUIRE(e);
  auto ptxas = test::ptxas_or_skip();
  const std::vector<std::vector<std::string>> combos = {
      {},
      {"bn=256"},
      {"bn=64", "stages=4"},
      {"bn=128", "stages=3", "group_m=4"},
      {"bn=192", "stages=4"},  // 4 x 40 KB stages + 32 KB of store staging
      {"bn=192", "stages=5", "tma_store=0"},
      {"block_scales=1"},
      {"block_scales=1", "bn=64", "stages=8"},
      {"block_scales=1", "bn=128", "stages=3"},
      {"block_scales=1", "bn=32", "tma_store=0"},  // a 32-column tile: register stores
  };
  for (const auto& c : combos) {
    std::string label = "gemm_e4m3_sm90";
    for (const auto& s : c) label += "." + s;
    INFO(label);
    auto p = parse_params(*e, c);
    REQUIRE(p.params);
    const auto ptx = emit_ptx(e->build(*isa::parse_target("sm_90a").target, *p.params));
    const auto bn = (*p.params)["bn"];
    CHECK(ptx.find("wgmma.mma_async.sync.aligned.m64n" + std::to_string(bn) + "k32.f32.e4m3.e4m3") != std::string::npos);
    const bool block = (*p.params)["block_scales"] != 0;
    CHECK((ptx.find(".param .u64 a_scales") != std::string::npos) == block);
    if (!ptxas) continue;
    auto r = assemble_clean(*ptxas, ptx, "sm_90a", label);
    INFO(r.output);
    CHECK(r.output.find("wgmma") == std::string::npos);  // no "wgmma serialized" performance warning
  }
}

TEST_CASE("the fp8 Hopper GEMM refuses tiles it cannot cover") {
  const auto* e = Registry::global().find("gemm_e4m3_sm90");
  REQUIRE(e);
  auto build_error = [](const std::vector<std::string>& settings) {
    return ::build_error("gemm_e4m3_sm90", settings, "sm_90a");
  };
  CHECK(build_error({"block_scales=1", "bn=256"}).find("block_scales needs bn dividing 128") != std::string::npos);
  CHECK(build_error({"bn=256", "stages=8"}).find("bytes of shared memory") != std::string::npos);
  CHECK(build_error({"bn=24"}).find("multiple of 16") != std::string::npos);
  CHECK(build_error({}).empty());
}

TEST_CASE("the Hopper GEMMs' cluster multicast, split-K, f32 output and bias assemble with zero spills") {
  auto ptxas = test::ptxas_or_skip();
  struct Combo {
    const char* kernel;
    std::vector<std::string> params;
  };
  const std::vector<Combo> combos = {
      {"gemm_bf16_sm90", {"cluster_m=2"}},
      {"gemm_bf16_sm90", {"cluster_m=2", "bn=256", "stages=4"}},
      {"gemm_bf16_sm90", {"splits=3", "bn=128"}},
      {"gemm_bf16_sm90", {"out_f32=1", "bias=1", "bn=256"}},
      {"gemm_bf16_sm90", {"out_f32=1", "bias=1", "tma_store=0"}},
      {"gemm_bf16_sm90", {"splits=2", "tma_store=0", "bn=96"}},
      {"gemm_bf16_sm90", {"nn=1"}},
      {"gemm_bf16_sm90", {"pingpong=1"}},
      {"gemm_bf16_sm90", {"pingpong=1", "cluster_m=2", "splits=2", "out_f32=1", "bias=1"}},
      {"gemm_e4m3_sm90", {"pingpong=1", "block_scales=1", "bn=64"}},
      {"gemm_bf16_sm90", {"nn=1", "bn=256", "cluster_m=2", "splits=2", "out_f32=1"}},
      {"gemm_bf16_sm90", {"cluster_m=2", "splits=2", "out_f32=1", "bias=1", "copy=1", "stages=4"}},
      {"gemm_e4m3_sm90", {"cluster_m=2", "bn=256"}},
      // The overlap sample's copy role beside a 128 x 256 tile: one staging box per warpgroup, 2 stores in flight.
      {"gemm_bf16_sm90", {"bn=256", "cluster_m=2", "store_buffers=1", "copy=1", "copy_stages=2", "copy_lag=1"}},
      {"gemm_e4m3_sm90", {"splits=4", "bias=1"}},
      {"gemm_e4m3_sm90", {"block_scales=1", "cluster_m=2", "splits=2", "out_f32=1"}},
      {"gemm_bf16_sm90", {"stream_k=1", "bn=256"}},
      {"gemm_bf16_sm90", {"stream_k=1", "out_f32=1", "bias=1", "tma_store=0"}},
      {"gemm_e4m3_sm90", {"stream_k=1", "block_scales=1"}},
      {"gemm_e4m3_sm90", {"block_scales=1", "scale_turns=0"}},
      {"gemm_bf16_sm90", {"bn=256", "store_buffers=4"}},
      {"gemm_bf16_sm90", {"prefetch=8", "nn=1"}},
      {"gemm_e4m3_sm90", {"prefetch=8", "stream_k=1"}},
      {"gemm_bf16_sm90", {"a_halves=1"}},
      {"gemm_bf16_sm90", {"a_halves=1", "stream_k=1", "prefetch=8"}},
      {"gemm_e4m3_sm90", {"a_halves=1", "block_scales=1", "cluster_m=2"}},
      // Grouped (MoE experts): with split-K and a bias per group, block scales per group, ping-pong.
      {"gemm_bf16_sm90", {"groups=1", "bias=1", "splits=2"}},
      {"gemm_e4m3_sm90", {"groups=1", "block_scales=1", "a_halves=1"}},
      {"gemm_bf16_sm90", {"groups=1", "pingpong=1", "prefetch=4", "copy=1", "stages=4"}},
      {"gemm_e4m3_sm90", {"groups=1", "bn=256", "out_f32=1"}},
  };
  for (const auto& c : combos) {
    std::string label = c.kernel;
    for (const auto& s : c.params) label += "." + s;
    INFO(label);
    const auto* e = Registry::global().find(c.kernel);
    REQUIRE(e);
    auto p = parse_params(*e, c.params);
    REQUIRE(p.params);
    const auto& v = *p.params;
    const auto ptx = emit_ptx(e->build(*isa::parse_target("sm_90a").target, v));
    auto has = [&](const std::string& s) { return ptx.find(s) != std::string::npos; };
    // Split-K and stream-K share the workspace and its counters.
    const bool cluster = v["cluster_m"] == 2, split = v["splits"] > 1 || v["stream_k"] != 0;
    CHECK(has(".reqnctapercluster 2, 1, 1") == cluster);
    CHECK(has(".multicast::cluster") == cluster);
    CHECK(has("mbarrier.arrive.shared::cluster.b64") == cluster);
    CHECK_FALSE(has("mbarrier.arrive.release.cluster"));  // the stage release is a signal (pipeline.cpp)
    CHECK(has(".param .u64 workspace") == split);
    CHECK(has("atom.acq_rel.gpu.global.add.u32") == split);
    const bool tma_store = v["tma_store"] != 0;
    CHECK(has(tma_store ? "st.shared.v2.f32" : "st.global.v2.f32") == (v["out_f32"] != 0));
    CHECK(has(".param .align 64 .b8 d[128]") == tma_store);  // D is a tensor map
    CHECK(has("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group") == tma_store);
    CHECK(has(".param .u64 bias") == (v["bias"] != 0));
    CHECK(has(".param .u64 tile_groups") == (v["groups"] != 0));  // grouped: a group per tile row
    CHECK(has("ld.global.nc.s32") == (v["groups"] != 0));
    const bool nn = std::string(c.kernel) == "gemm_bf16_sm90" && v["nn"] != 0;
    CHECK(has(", 1, 1, 0, 1;") == nn);  // wgmma imm-trans-b: B MN-major
    // The warpgroups' turns: per tile in ping-pong, per K block with (cooperative) block scales.
    const bool fp8 = std::string(c.kernel) == "gemm_e4m3_sm90";
    const bool scale_turns = fp8 && v["block_scales"] != 0 && v["scale_turns"] != 0 && v["pingpong"] == 0;
    CHECK(has("bar.arrive %r") == (v["pingpong"] != 0 || scale_turns));
    CHECK(has("cp.async.bulk.prefetch.tensor.2d.L2.global.tile") == (v["prefetch"] != 0));  // L2 prefetches ahead
    // a_halves: A's map loads 64-row boxes (the signature says so), the box past M is completed instead.
    const bool a_halves = v["a_halves"] != 0;
    CHECK(has("mbarrier.complete_tx.relaxed.cta.shared.b64") == a_halves);
    CHECK(has(std::string("//! param a bytes tma 128 64 ") + (fp8 ? "u8:128x" : "bf16:64x") + (a_halves ? "64" : "128") +
              ":128B\n"));
    if (!ptxas) continue;
    auto r = assemble_clean(*ptxas, ptx, "sm_90a", label);
    INFO(r.output);
    CHECK(r.output.find("wgmma") == std::string::npos);  // no "wgmma serialized" performance warning
  }
}

TEST_CASE("the Hopper GEMMs with debug waits (as gemm_app builds them) assemble with zero spills") {
  auto ptxas = test::ptxas_or_skip();
  auto t = *isa::parse_target("sm_90a").target;
  t.debug_waits = true;
  for (const char* kernel : {"gemm_bf16_sm90", "gemm_e4m3_sm90"})
    for (const auto& settings : std::vector<std::vector<std::string>>{{}, {"bn=256", "cluster_m=2", "splits=2"}}) {
      const auto* e = Registry::global().find(kernel);
      REQUIRE(e);
      auto p = parse_params(*e, settings);
      REQUIRE(p.params);
      const auto ptx = emit_ptx(e->build(t, *p.params));
      CHECK(ptx.find("%globaltimer") != std::string::npos);  // the waits are bounded in time
      CHECK(ptx.find("trap;") != std::string::npos);
      if (ptxas) assemble_clean(*ptxas, ptx, "sm_90a", std::string(kernel) + "_debug" + std::to_string(settings.size()));
    }
}

TEST_CASE("the Hopper GEMM refuses stream-K with ping-pong, clusters or split-K") {
  for (const auto& other : {"pingpong=1", "cluster_m=2", "splits=2"}) {
    INFO(other);
    const auto what = build_error("gemm_bf16_sm90", {"stream_k=1", other}, "sm_90a");
    CHECK(what.find("it takes neither ping-pong, clusters nor split-K") != std::string::npos);
    CHECK(what.find("gemm_sm90_config.h:") != std::string::npos);
  }
}

TEST_CASE("the Hopper GEMM refuses groups with stream-K, clusters or NN, naming the rule's line") {
  const std::vector<std::pair<const char*, const char*>> refused = {
      {"stream_k=1", "stream_k (whose pieces cross tile rows)"},
      {"cluster_m=2", "clusters (a CTA pair's tile rows share one B tile)"},
      {"nn=1", "NN (a group's K tail would read the next group's rows of B)"}};
  for (const auto& [other, why] : refused) {
    INFO(other);
    const auto what = build_error("gemm_bf16_sm90", {"groups=1", other}, "sm_90a");
    CHECK(what.find(why) != std::string::npos);
    CHECK(what.find("gemm_sm90_config.h:") != std::string::npos);
  }
  CHECK(build_error("gemm_bf16_sm90", {"groups=1", "splits=2", "pingpong=1", "bias=1"}, "sm_90a").empty());
}

TEST_CASE("the host's e4m3 conversion (the fp8 dispatch check's reference) rounds as cvt.rn.satfinite does") {
  using samples::e4m3_rn_satfinite;
  using samples::quantize_rows;
  // Every code round-trips; every midpoint between neighbours goes to the even code and its float
  // neighbours to the nearer code; beyond 448 saturates; the sign is kept; NaN stays NaN.
  for (std::uint8_t c = 0; c < 0x7F; ++c) {
    const float m = gemm::from_e4m3(c);
    CHECK(e4m3_rn_satfinite(m) == c);
    CHECK(e4m3_rn_satfinite(-m) == (c | 0x80));
    if (c == 0x7E) continue;
    const float next = gemm::from_e4m3(static_cast<std::uint8_t>(c + 1)), mid = (m + next) / 2;
    INFO("code " << int(c) << ", midpoint " << mid);
    CHECK(e4m3_rn_satfinite(mid) == (c % 2 == 0 ? c : c + 1));
    CHECK(e4m3_rn_satfinite(std::nextafter(mid, 0.0f)) == c);
    CHECK(e4m3_rn_satfinite(std::nextafter(mid, 1e9f)) == c + 1);
  }
  CHECK(e4m3_rn_satfinite(449.0f) == 0x7E);
  CHECK(e4m3_rn_satfinite(-INFINITY) == 0xFE);
  CHECK(e4m3_rn_satfinite(std::ldexp(1.0f, -10)) == 0x00);  // half the smallest subnormal: a tie, to 0
  CHECK(e4m3_rn_satfinite(-0.0f) == 0x80);
  CHECK(e4m3_rn_satfinite(NAN) == 0x7F);
  // One 1 x 128 block as moe_quantize writes it: amax 448 keeps the values, the scale is 1.
  std::vector<float> block(128, 0.5f);
  block[7] = -448.0f;
  const auto q = quantize_rows(block, 1, 128);
  CHECK(q.scales[0] == 1.0f);
  CHECK(q.q[7] == 0xFE);
  CHECK(q.q[0] == 0x30);  // 0.5: exponent field 6, mantissa 0
}

TEST_CASE("grouped_rows lays each group on whole 128-row tiles, pads to a capacity, and bad entries are refused") {
  const auto l = gemm::grouped_rows({70, 0, 130, 128});
  CHECK(l.m == 512);
  CHECK(l.first == std::vector<std::uint32_t>{0, 128, 128, 384});
  CHECK(l.stored == std::vector<std::uint32_t>{128, 0, 256, 128});
  CHECK(l.tile_groups == std::vector<std::int32_t>{0, 2, 2, 3});
  const auto padded = gemm::grouped_rows({1, 129}, 640);  // 3 tile rows of groups, then 2 of padding
  CHECK(padded.m == 640);
  CHECK_THROWS_WITH_AS(gemm::grouped_rows({1}, 600), doctest::Contains("not a multiple of the 128-row tiles"),
                       std::runtime_error);
  CHECK(padded.tile_groups == std::vector<std::int32_t>{0, 1, 1, -1, -1});
  CHECK_THROWS_WITH_AS(gemm::grouped_rows({300}, 256), doctest::Contains("need 384 rows"), std::runtime_error);
  CHECK(gemm::grouped_rows({}).m == 0);
  gemm::check_tile_groups(padded.tile_groups, 640, 2);  // fits
  CHECK_THROWS_WITH_AS(gemm::check_tile_groups(padded.tile_groups, 640, 1), doctest::Contains("tile_groups[1] = 1"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(gemm::check_tile_groups({0, -2}, 256, 2), doctest::Contains("tile_groups[1] = -2"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(gemm::check_tile_groups({0}, 129, 2), doctest::Contains("needs one per 128-row tile row, 2"),
                       std::runtime_error);
}

TEST_CASE("the Hopper GEMM refuses a cluster whose B slices break the swizzle atom") {
  const auto what = build_error("gemm_bf16_sm90", {"cluster_m=2", "bn=48"}, "sm_90a");
  CHECK(what.find("each CTA multicasts bn / 2 rows of B") != std::string::npos);
  CHECK(what.find("gemm_sm90_config.h:") != std::string::npos);  // the file and line of the rule
}

TEST_CASE("the Hopper GEMM's TMA-store epilogue refuses a tile of partial 128-byte boxes") {
  const auto* e = Registry::global().find("gemm_bf16_sm90");
  REQUIRE(e);
  auto error_of = [](const std::vector<std::string>& settings) {
    return build_error("gemm_bf16_sm90", settings, "sm_90a");
  };
  CHECK(error_of({"bn=96"}).find("bn must be a multiple of 64") != std::string::npos);        // bf16: 64 columns
  CHECK(error_of({"bn=48", "out_f32=1"}).find("bn must be a multiple of 32") != std::string::npos);  // f32: 32
  CHECK(error_of({"bn=96", "tma_store=0"}).empty());  // register stores take any multiple of 16
  CHECK(error_of({"bn=96", "out_f32=1"}).empty());
  // Ping-pong holds a whole 128-row tile per warpgroup: 128 accumulators at bn = 128, too many beyond.
  CHECK(error_of({"pingpong=1", "bn=256"}).find("256 accumulator registers per thread") != std::string::npos);
  // NN loads B in panels of 64 columns, split between the CTAs of a cluster.
  CHECK(error_of({"nn=1", "bn=96", "tma_store=0"}).find("bn must be a multiple of 64") != std::string::npos);
  CHECK(error_of({"nn=1", "bn=64", "cluster_m=2"}).find("bn must be a multiple of 128") != std::string::npos);
}

// The Blackwell GEMM (samples/kernels/gemm/gemm_sm100.cpp): tcgen05 rows' targets, several tiles,
// zero spills, the instruction descriptor it embeds, and the configurations it refuses.

TEST_CASE("the Blackwell GEMM assembles with zero spills on every tcgen05 target in each tile configuration") {
  const auto* e = Registry::global().find("gemm_bf16_sm100");
  REQUIRE(e);
  const auto& tc = isa::form("tcgen05.mma").targets;
  for (const auto& t : isa::known_targets()) {
    INFO(t.name());
    CHECK(e->targets.contains(t) == tc.contains(t));  // exactly the targets with tcgen05
  }
  auto ptxas = test::ptxas_or_skip();
  const std::vector<std::vector<std::string>> configs = {
      {}, {"bn=128", "stages=6"}, {"bn=64", "stages=8"}, {"bn=48"}, {"bn=144", "stages=3", "group_m=4"}, {"bn=16", "stages=2"},
      {"out_f32=1", "bias=1"}, {"out_f32=1", "bn=48"}, {"bias=1", "bn=16", "stages=2"},
      {"groups=1", "bias=1", "bn=128"}, {"groups=1", "out_f32=1", "bn=64"},  // grouped (MoE experts)
  };
  std::size_t assembled = 0;
  for (const auto& cfg : configs) {
    auto p = parse_params(*e, cfg);
    REQUIRE(p.params);
    const auto bn = static_cast<std::uint32_t>((*p.params)["bn"]);
    for (const auto& t : isa::known_targets()) {
      if (!e->targets.contains(t)) continue;
      for (bool debug : {false, true}) {
        if (debug && !cfg.empty()) continue;  // bounded waits: the default configuration only
        auto target = t;
        target.debug_waits = debug;
        std::string label = "gemm_bf16_sm100." + t.name() + (debug ? ".debug" : "");
        for (const auto& s : cfg) label += "." + s;
        INFO(label);
        const auto ptx = emit_ptx(e->build(target, *p.params));
        CHECK(ptx.find("tcgen05.mma.cta_group::1.kind::f16") != std::string::npos);
        CHECK(ptx.find("tcgen05.relinquish_alloc_permit.cta_group::1") != std::string::npos);
        CHECK(ptx.find(std::to_string(tcgen05_idesc_f16({.m = 128, .n = bn}))) != std::string::npos);
        CHECK((ptx.find(".param .u64 bias") != std::string::npos) == ((*p.params)["bias"] != 0));
        CHECK((ptx.find(".param .u64 tile_groups") != std::string::npos) == ((*p.params)["groups"] != 0));
        CHECK((ptx.find("st.global.v4.f32") != std::string::npos) == ((*p.params)["out_f32"] != 0));
        if (!ptxas) continue;
        auto r = assemble_clean(*ptxas, ptx, t.name(), label);
        CHECK(r.kernels[0].registers <= 128);
        ++assembled;
      }
    }
  }
  MESSAGE(assembled << " Blackwell GEMM (configuration, target) pairs assembled with zero spills");

  auto build_error = [](const std::vector<std::string>& settings) {
    return ::build_error("gemm_bf16_sm100", settings, "sm_100a");
  };
  CHECK(build_error({"bn=24"}).find("N = 24 with M = 128 (N is a multiple of 16 in [16, 256])") != std::string::npos);
  CHECK(build_error({"bn=256", "stages=5"}).find("over the 232448 of a CTA") != std::string::npos);
}

TEST_CASE("the host programs pick each kernel's target for the device from the registry") {
  auto target_of = [](const char* kernel, int sm) -> std::string {
    const auto* e = Registry::global().find(kernel);
    REQUIRE(e);
    const auto t = samples::target_for(*e, sm);
    return t ? t->name() : "none";
  };
  CHECK(target_of("saxpy", 90) == "sm_90");             // the base target first
  CHECK(target_of("gemm_bf16_sm90", 90) == "sm_90a");   // written for sm_90a only
  CHECK(target_of("gemm_bf16_sm90", 80) == "none");
  CHECK(target_of("copy_bulk", 89) == "none");           // bulk copies need sm_90
  CHECK(target_of("gemm_e4m3_sm89", 86) == "none");
  CHECK(target_of("gemm_bf16_sm80", 121) == "sm_120");  // the highest base target below the device
  CHECK(samples::runs_on("gemm_bf16_sm100", 100));
  CHECK_FALSE(samples::runs_on("gemm_bf16_sm100", 90));
  CHECK_FALSE(samples::runs_on("no_such_kernel", 90));
}

TEST_CASE("the Hopper tile rule picks what the H200 measured fastest at the benchmark's shapes") {
  using weft::samples::sm90_bn_for;
  // 132 SMs (H100 SXM / H200): the winners of docs/benchmarks.md's first run.
  CHECK(sm90_bn_for(8192, 8192, 132) == 256);
  CHECK(sm90_bn_for(4096, 4096, 132) == 256);
  CHECK(sm90_bn_for(4000, 4000, 132) == 256);
  CHECK(sm90_bn_for(2048, 2048, 132) == 128);
  CHECK(sm90_bn_for(1000, 1536, 132) == 128);
  for (std::uint32_t m : {64u, 128u, 256u}) CHECK(sm90_bn_for(m, 7168, 132) == 128);
  // The boundary: two waves of 128 x 256 tiles exactly.
  CHECK(sm90_bn_for(128 * 24, 256 * 11, 132) == 256);  // 264 tiles
  CHECK(sm90_bn_for(128 * 23, 256 * 11, 132) == 128);  // 253 tiles
  // Fewer SMs (a partitioned GPU) make the wide tile worth it sooner.
  CHECK(sm90_bn_for(2048, 2048, 16) == 256);
  CHECK(sm90_bn_for(0, 0, 132) == 128);
}
