// Reading PTX text and JIT logs (pure; no GPU).
#include <doctest/doctest.h>

#include "runtime/ptx_text.h"
#include "tests/runtime/test_kernels.h"

using namespace weft::rt;

TEST_CASE("ptx_version_of, ptx_target_of and ptx_entries_of read the directives") {
  const std::string ptx = test::test_module("8.7", "sm_90a");
  CHECK(ptx_version_of(ptx) == PtxIsa{8, 7});
  CHECK(ptx_target_of(ptx) == "sm_90a");
  CHECK(ptx_entries_of(ptx) == std::vector<std::string>{"saxpy", "smem_echo", "tmap_echo"});
}

TEST_CASE("the readers skip comments and tolerate spacing") {
  const std::string ptx =
      "//! weft-signature 1\n// .version 1.0 in a comment\n  .version\t9.0 // trailing\n"
      ".target sm_100f, texmode_independent\n.address_size 64\n"
      "// .entry not_me(\n.entry   k1 (\n.param .u32 a)\n{ ret; }\n.visible .entry k2(){ret;}\n"
      ".func helper() { ret; }\n";
  CHECK(ptx_version_of(ptx) == PtxIsa{9, 0});
  CHECK(ptx_target_of(ptx) == "sm_100f");
  CHECK(ptx_entries_of(ptx) == std::vector<std::string>{"k1", "k2"});
}

TEST_CASE("missing or malformed directives give nullopt") {
  CHECK_FALSE(ptx_version_of(".target sm_80\n").has_value());
  CHECK_FALSE(ptx_version_of(".version x.y\n").has_value());
  CHECK_FALSE(ptx_target_of(".version 8.0\n").has_value());
  CHECK(ptx_entries_of("").empty());
}

TEST_CASE("parse_jit_info_log reads registers and spills per function") {
  // The lines ptxas 13.0 prints with -v (the driver's JIT info log uses the same words).
  const std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'saxpy' for 'sm_90'\n"
      "ptxas info    : Function properties for saxpy\n"
      "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 10 registers, used 0 barriers\n"
      "ptxas info    : Compiling entry function 'gemm' for 'sm_90a'\n"
      "ptxas info    : Function properties for gemm\n"
      "    16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 1 barriers, 1024 bytes smem, 400 bytes cmem[0]\n"
      "ptxas info    : Compile time = 10.422 ms\n";
  auto r = parse_jit_info_log(log);
  REQUIRE(r.size() == 2);
  CHECK(r["saxpy"].registers == 10);
  CHECK(r["saxpy"].spill_stores == 0);
  CHECK(r["gemm"].registers == 168);
  CHECK(r["gemm"].stack_frame == 16);
  CHECK(r["gemm"].spill_stores == 8);
  CHECK(r["gemm"].spill_loads == 12);
  CHECK(r["gemm"].smem == 1024);
  CHECK(parse_jit_info_log("").empty());
}
