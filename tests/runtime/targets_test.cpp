// Target selection and the driver-version -> PTX ISA table (pure; no GPU).
#include <doctest/doctest.h>

#include <vector>

#include "runtime/error.h"
#include "runtime/targets.h"

using namespace weft::rt;

TEST_CASE("max_ptx_isa maps CUDA driver versions to the newest PTX ISA they JIT") {
  CHECK(max_ptx_isa(13000) == PtxIsa{9, 0});
  CHECK(max_ptx_isa(12090) == PtxIsa{8, 8});
  CHECK(max_ptx_isa(12080) == PtxIsa{8, 7});
  CHECK(max_ptx_isa(12060) == PtxIsa{8, 5});
  CHECK(max_ptx_isa(12040) == PtxIsa{8, 4});
  CHECK(max_ptx_isa(12000) == PtxIsa{8, 0});
  CHECK(max_ptx_isa(11080) == PtxIsa{7, 8});
  CHECK(max_ptx_isa(12070) == PtxIsa{8, 5});  // between releases: the older one
  CHECK(max_ptx_isa(12081) == PtxIsa{8, 7});  // a patch release of 12.8
  CHECK_FALSE(max_ptx_isa(10020).has_value());  // older than the table: unknown
  CHECK_FALSE(max_ptx_isa(13010).has_value());  // newer than the table: unknown, not "9.0"
  CHECK(PtxIsa{9, 0}.str() == "9.0");
  CHECK(PtxIsa{8, 7} < PtxIsa{8, 8});
  CHECK(PtxIsa{8, 8} < PtxIsa{9, 0});
}

TEST_CASE("Target::parse reads base, arch-specific and family targets") {
  auto t = Target::parse("sm_90a");
  REQUIRE(t);
  CHECK(t->sm == 90);
  CHECK(t->variant == TargetVariant::arch);
  CHECK(t->str() == "sm_90a");
  CHECK(Target::parse("sm_100f")->variant == TargetVariant::family);
  CHECK(Target::parse("sm_103")->cc_major() == 10);
  CHECK(Target::parse("sm_103")->cc_minor() == 3);
  CHECK(Target::parse("compute_80")->sm == 80);
  CHECK_FALSE(Target::parse("sm_"));
  CHECK_FALSE(Target::parse("sm_9"));
  CHECK_FALSE(Target::parse("sm_90b"));
  CHECK_FALSE(Target::parse("gfx90a"));
  CHECK_FALSE(Target::parse("sm_1000"));
}

TEST_CASE("target_runs_on follows base, a and f compatibility") {
  std::string why;
  CHECK(target_runs_on(*Target::parse("sm_80"), 90));
  CHECK(target_runs_on(*Target::parse("sm_90"), 90));
  CHECK_FALSE(target_runs_on(*Target::parse("sm_100"), 90, &why));
  CHECK(why.find("compute capability 10.0 or newer") != std::string::npos);
  CHECK(why.find("device is sm_90") != std::string::npos);
  CHECK(target_runs_on(*Target::parse("sm_90a"), 90));
  CHECK_FALSE(target_runs_on(*Target::parse("sm_90a"), 100, &why));
  CHECK(why.find("only on sm_90") != std::string::npos);
  CHECK(target_runs_on(*Target::parse("sm_100f"), 103));
  CHECK(target_runs_on(*Target::parse("sm_100f"), 100));
  CHECK_FALSE(target_runs_on(*Target::parse("sm_103f"), 100));
  CHECK_FALSE(target_runs_on(*Target::parse("sm_100f"), 120, &why));
  CHECK(why.find("10.x") != std::string::npos);
}

TEST_CASE("select_target prefers the exact a target, then f, then the highest base target") {
  const std::optional<PtxIsa> v80 = PtxIsa{8, 0};
  std::vector<TargetCandidate> c = {
      {"sm_80", v80, "a.ptx"}, {"sm_90a", v80, "b.ptx"}, {"sm_90", v80, "c.ptx"}, {"sm_100a", v80, "d.ptx"}};
  CHECK(select_target(c, 90, PtxIsa{9, 0}) == 1);   // H100/H200: exact sm_90a
  CHECK(select_target(c, 100, PtxIsa{9, 0}) == 3);  // B200: sm_100a
  CHECK(select_target(c, 89, PtxIsa{9, 0}) == 0);   // L40: only sm_80 fits
  CHECK(select_target(c, 120, PtxIsa{9, 0}) == 2);  // RTX 50: highest base (sm_90)

  std::vector<TargetCandidate> fam = {{"sm_90", v80, ""}, {"sm_100f", v80, ""}, {"sm_103a", v80, ""}};
  CHECK(select_target(fam, 103, std::nullopt) == 2);  // exact a first
  CHECK(select_target(fam, 100, std::nullopt) == 1);  // then the family target
  CHECK(select_target(fam, 110, std::nullopt) == 0);  // other family: base

  // Order does not matter; equal candidates keep the first.
  std::vector<TargetCandidate> rev = {{"sm_90", v80, "x"}, {"sm_80", v80, "y"}, {"sm_90", v80, "z"}};
  CHECK(select_target(rev, 90, std::nullopt) == 0);
}

TEST_CASE("select_target skips PTX newer than the driver and explains every rejection") {
  std::vector<TargetCandidate> c = {{"sm_90a", PtxIsa{9, 1}, "new.ptx"}, {"sm_80", PtxIsa{8, 0}, "old.ptx"}};
  CHECK(select_target(c, 90, PtxIsa{9, 0}, 13000) == 1);

  std::vector<TargetCandidate> none = {{"sm_100a", PtxIsa{8, 7}, "gemm.sm_100a.ptx"},
                                       {"sm_90a", PtxIsa{9, 1}, "gemm.sm_90a.ptx"},
                                       {"sm_120", PtxIsa{8, 7}, "gemm.sm_120.ptx"},
                                       {"bogus", std::nullopt, "weird.ptx"}};
  try {
    select_target(none, 90, PtxIsa{9, 0}, 13000);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("no PTX target fits this device (sm_90, compute capability 9.0, driver JITs PTX ISA up to 9.0)") == 0);
    CHECK(m.find("sm_100a (gemm.sm_100a.ptx): arch-specific code runs only on sm_100 (device is sm_90)") != std::string::npos);
    CHECK(m.find("sm_90a (gemm.sm_90a.ptx): PTX ISA 9.1 is newer than the driver 13.0 supports (up to PTX ISA 9.0)") != std::string::npos);
    CHECK(m.find("sm_120 (gemm.sm_120.ptx): needs compute capability 12.0 or newer") != std::string::npos);
    CHECK(m.find("'bogus' is not a target name") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(select_target({}, 90, std::nullopt), doctest::Contains("no candidates were given"), Error);
}
