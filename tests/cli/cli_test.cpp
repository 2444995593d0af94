// The weft CLI as a user runs it: exit codes (0 success, 1 diagnostics, 2 usage) and the one-line
// messages for each failure mode.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/run_cli.h"

namespace {

using weft::test::run_weft;
using Run = weft::test::CliRun;

bool has(const Run& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("version, help and list succeed") {
  auto v = run_weft("--version");
  CHECK(v.code == 0);
  CHECK(has(v, "weft 0."));
  auto h = run_weft("emit --help");
  CHECK(h.code == 0);
  CHECK(has(h, "--arch"));
  auto l = run_weft("list");
  CHECK(l.code == 0);
  for (const char* k : {"vector_add", "saxpy", "reduce_sum", "transpose", "histogram", "scan"}) CHECK(has(l, k));
}

TEST_CASE("usage errors exit 2 with one clear line") {
  struct Case {
    std::string args, message;
  };
  const auto dir = (weft::test::scratch_dir() / "usage").string();
  for (const auto& c : std::vector<Case>{
           {"", "A subcommand is required"},
           {"frobnicate", "weft: error: unknown command 'frobnicate' (commands: list, emit, check, info, cache, reference)"},
           {"emit nope --arch sm_90a -o " + dir, "weft: error: unknown kernel 'nope' (see `weft list`)"},
           {"emit saxpy --arch sm_99 -o " + dir, "weft: error: unknown target 'sm_99' (known targets: sm_80,"},
           {"emit saxpy --arch sm90 -o " + dir, "weft: error: malformed target 'sm90': write sm_90"},
           {"emit saxpy --arch compute_90 -o " + dir, "is a virtual architecture"},
           {"emit saxpy --param block=abc -o " + dir, "weft: error: --param block='abc': not an integer"},
           {"emit saxpy --param block=4096 -o " + dir, "out of range [32, 1024]"},
           {"emit saxpy --param tile=4 -o " + dir, "kernel 'saxpy' has no parameter 'tile'"},
           {"emit -o " + dir, "name at least one kernel, or pass --all"},
           {"emit saxpy --bogus", "--bogus"},
           {"check", "nothing to check"},
           {"check /nonexistent/x.ptx --arch sm_90", "no such file '/nonexistent/x.ptx'"},
           {"cache", "action is required"},
       }) {
    INFO("weft " << c.args);
    auto r = run_weft(c.args);
    CHECK(r.code == 2);
    CHECK(has(r, c.message));
  }
}

TEST_CASE("an unwritable output directory exits 1 and names it") {
  auto r = run_weft("emit saxpy --arch sm_90a -o /proc/weft-cannot-write");
  CHECK(r.code == 1);
  CHECK(has(r, "weft: error: cannot create output directory '/proc/weft-cannot-write'"));
}

TEST_CASE("emit writes one file per kernel and target; info reads its signature") {
  const auto dir = weft::test::scratch_dir() / "emit";
  auto r = run_weft("emit saxpy vector_add --arch sm_80,sm_90a -o " + dir.string());
  CHECK(r.code == 0);
  for (const char* f : {"saxpy.sm_80.ptx", "saxpy.sm_90a.ptx", "vector_add.sm_80.ptx", "vector_add.sm_90a.ptx"})
    CHECK(std::filesystem::exists(dir / f));
  auto i = run_weft("info " + (dir / "saxpy.sm_90a.ptx").string());
  CHECK(i.code == 0);
  CHECK(has(i, "target sm_90a"));
  CHECK(has(i, "kernel saxpy"));
  CHECK(has(i, "block 256x1x1 (required)"));
  // A tensor map's parameter shows the box its copies expect.
  REQUIRE(run_weft("emit tma_copy --arch sm_90a -o " + dir.string()).code == 0);
  auto t = run_weft("info " + (dir / "tma_copy.sm_90a.ptx").string());
  CHECK(t.code == 0);
  CHECK(has(t, "bytes    tma      size 128 align  64 box "));
  auto bad = run_weft("info " + weft::test::write_file("nosig.ptx", ".version 8.0\n"));
  CHECK(bad.code == 1);
  CHECK(has(bad, "no '//! weft-signature' block found"));
}

TEST_CASE("check assembles with ptxas and reports failures with exit 1") {
  if (!weft::test::ptxas_or_skip()) return;
  auto ok = run_weft("check reduce_sum --arch sm_90a");
  CHECK(ok.code == 0);
  CHECK(has(ok, "reduce_sum  sm_90a"));
  CHECK(has(ok, "ok"));
  // The dynamic shared memory each kernel asks its launch for (the signature's, which ptxas does not
  // see): copy_bulk's ring is 4 chunks of 32 KiB on sm_90a and 3 in sm_120a's 99 KiB (+ 112 bytes of
  // alignment slack).
  auto bulk = run_weft("check copy_bulk --arch sm_90a,sm_120a");
  CHECK(bulk.code == 0);
  CHECK(has(bulk, "dyn smem"));
  CHECK(has(bulk, "131184"));
  CHECK(has(bulk, "98416"));
  const auto bad = weft::test::write_file("bad.ptx", ".version 8.0\n.target sm_90a\n.address_size 64\n"
                                                     ".visible .entry k() { add.u32 %r1, %r2; }\n");
  auto r = run_weft("check " + bad + " --arch sm_90a");
  CHECK(r.code == 1);
  CHECK(has(r, "ptxas: "));
}

TEST_CASE("a missing ptxas makes check say where it looked") {
  const auto f = weft::test::write_file("any.ptx", "");
  auto r = run_weft("check " + f + " --arch sm_90a", "WEFT_PTXAS=/nonexistent/ptxas");
  CHECK(r.code == 1);
  CHECK(has(r, "weft: error: ptxas not found (looked at $WEFT_PTXAS=/nonexistent/ptxas (not an executable file))"));
  auto r2 = run_weft("check " + f + " --arch sm_90a", "env -u WEFT_PTXAS PATH=/nonexistent CUDA_HOME=/nonexistent/cuda");
  CHECK(r2.code == 1);
  CHECK(has(r2, "ptxas not found (looked at $WEFT_PTXAS (unset), PATH, /nonexistent/cuda/bin/ptxas)"));
}

TEST_CASE("info without a file: the driver and devices, or a clear line and exit 0 without one") {
  auto none = run_weft("info", "WEFT_LIBCUDA=/nonexistent/libcuda.so.1");
  CHECK(none.code == 0);
  CHECK(has(none, "no CUDA driver found: /nonexistent/libcuda.so.1"));
  CHECK(has(none, "note: weft emits and checks PTX without one"));
#ifdef WEFT_EMUDEVICE
  auto emu = run_weft("info", std::string("WEFT_LIBCUDA=") + WEFT_EMUDEVICE);
  CHECK(emu.code == 0);
  CHECK(has(emu, "(CUDA 13.0), 1 device"));
  CHECK(has(emu, "device 0: weft emulated device (tools/ptxemu), sm_90, 4 SMs"));
#endif
}

TEST_CASE("cache stats and clear act on the default cache directory") {
  const auto dir = weft::test::scratch_dir() / "cli-cache";
  std::filesystem::remove_all(dir);
  const auto entry = dir / "v1" / "entries" / "0123abcd";
  std::filesystem::create_directories(entry);
  std::ofstream(entry / "data") << std::string(100, 'x');
  std::ofstream(entry / "meta") << std::string(20, 'y');
  const std::string env = "WEFT_CACHE_DIR=" + dir.string();
  auto stats = run_weft("cache stats", env);
  CHECK(stats.code == 0);
  CHECK(has(stats, "1 entries, 120 bytes"));
  auto clear = run_weft("cache clear", env);
  CHECK(clear.code == 0);
  CHECK(has(clear, "removed 1 entries (120 bytes)"));
  CHECK_FALSE(std::filesystem::exists(entry));
  CHECK(has(run_weft("cache stats", env), "0 entries, 0 bytes"));
  // An autotune choice is an entry too; `tunes` lists it.
  const auto tune = dir / "v1" / "entries" / "4567cdef";
  std::filesystem::create_directories(tune);
  std::ofstream(tune / "data") << "weft-tune 1\nproblem gemm_bf16_sm90 64x7168x7168 bn=128\ndevice Test GPU sm_90 132 SMs\n"
                                  "choice bn128skahalf\ncandidate bn128 0.1 ms\n";
  std::ofstream(tune / "meta") << "m";
  CHECK(has(run_weft("cache stats", env), "1 of them autotune choices (weft cache tunes lists them)"));
  auto tunes = run_weft("cache tunes", env);
  CHECK(tunes.code == 0);
  CHECK(has(tunes, "autotune choices in "));
  CHECK(has(tunes, "  gemm_bf16_sm90 64x7168x7168 bn=128 on Test GPU sm_90 132 SMs: bn128skahalf"));
  CHECK(run_weft("cache clear", env).code == 0);
  CHECK(has(run_weft("cache tunes", env), ": 0"));
  auto off = run_weft("cache stats", "WEFT_CACHE=off");
  CHECK(off.code == 0);
  CHECK(has(off, "cubin cache: off"));
  auto bad = run_weft("cache tidy");
  CHECK(bad.code == 2);
  std::filesystem::remove_all(dir);
}
