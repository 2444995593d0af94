// The collective samples on a real GPU, checked against a CPU reference (samples/apps/comm/checks.h):
// LocalSim at 2, 4 and 8 ranks, flags reused over many launches (epochs) without a reset, Ipc with
// two processes on one GPU, and NCCL with one rank. Skips (and passes) without a driver (label gpu).
// The kernels are built with debug waits: a rank that never arrives fails the test within about 2 s,
// naming the flag and epoch, instead of hanging it.
#include <doctest/doctest.h>

#include "runtime/comm/bootstrap.h"
#include "runtime/comm/ipc.h"
#include "runtime/comm/local_sim.h"
#include "runtime/comm/nccl_heap.h"
#include "runtime/comm/nccl_library.h"
#include "runtime/comm/socket_bootstrap.h"
#include "samples/apps/comm/checks.h"
#include "tests/comm/fork_ranks.h"
#include "tests/comm/spawn_ranks.h"
#include "tests/runtime/gpu_common.h"

using namespace weft::rt;
using namespace weft::rt::comm;
using namespace weft::samples;
using weft::rt::test::have_gpu;

namespace {

void expect(const CheckReport& r) {
  INFO(r.name << ": " << r.detail << " (max error " << r.max_error << ")");
  CHECK(r.ok);
}

// Every collective once on `c`, sizes chosen so that the grid-stride loops run several trips and
// the packet counts are not multiples of the grid.
void all_checks(Collectives& c, std::uint32_t seed) {
  const auto n = c.heap().nranks();
  expect(check_all_gather(c, 16 * 3001, seed));
  for (auto elem : {Elem::f32, Elem::bf16}) {
    expect(check_reduce_scatter(c, 8 * 1237, elem, seed));
    for (int shots : {1, 2}) expect(check_all_reduce(c, std::size_t{8} * 1237 * n, elem, shots, seed));
  }
  expect(check_moe(c, {.tokens = 96, .hidden = 1064, .topk = 4, .experts = 4 * n}, seed));
  // Rows by bulk copies through shared memory (cp.async.bulk: sm_90 and later).
  if (MoeAllToAll::bulk_runs_on(device_props(0).sm()))
    expect(check_moe(c, {.tokens = 96, .hidden = 1064, .topk = 4, .experts = 4 * n}, seed, {.bulk = true}));
}

// One rank of the Ipc test, in a process of its own.
std::string ipc_collectives_rank(int rank, const std::string& path) {
  SocketBootstrap boot(rank, 2, path, std::chrono::seconds(60));
  Ipc heap(boot, 0);
  Collectives c(heap, {.ctas = 8, .block = 256, .debug_waits = true});
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    for (const auto& r : {check_all_gather(c, 16 * 1000, seed), check_reduce_scatter(c, 8 * 1000, Elem::bf16, seed),
                          check_all_reduce(c, 8 * 2000, Elem::f32, 1, seed),
                          check_all_reduce(c, 8 * 2000, Elem::bf16, 2, seed),
                          check_moe(c, {.tokens = 64, .hidden = 512, .topk = 4, .experts = 8}, seed),
                          check_moe(c, {.tokens = 64, .hidden = 512, .topk = 4, .experts = 8}, seed,
                                    {.bulk = MoeAllToAll::bulk_runs_on(device_props(0).sm())})})
      if (!r.ok) return r.name + ": " + r.detail;
  }
  boot.barrier();  // nobody unmaps while the other still reads
  return "";
}

[[maybe_unused]] const int ipc_child =
    weft::rt::comm::test::run_spawned_rank("WEFT_COMM_TEST_COLLECTIVES_RANK", "ipc collectives rank", ipc_collectives_rank);

}  // namespace

TEST_CASE("LocalSim: every collective at 2, 4 and 8 ranks matches the CPU reference") {
  WEFT_REQUIRE_GPU();
  for (std::uint32_t n : {2u, 4u, 8u}) {
    INFO(n << " ranks");
    LocalSim heap(n, 0);
    Collectives c(heap, {.ctas = 6, .block = 128, .debug_waits = true});
    all_checks(c, 7 * n);
  }
}

TEST_CASE("LocalSim: flags are reused across 50 launches without a reset") {
  WEFT_REQUIRE_GPU();
  LocalSim heap(4, 0);
  Collectives c(heap, {.ctas = 4, .block = 128, .debug_waits = true});
  for (std::uint32_t i = 0; i < 50; ++i) {
    const auto r = (i % 2) ? check_all_reduce(c, 4096, Elem::f32, 1 + (i / 2) % 2, i) : check_all_gather(c, 4096, i);
    expect(r);
    if (!r.ok) break;
  }
  CHECK(c.epoch() >= 50);
}

TEST_CASE("LocalSim: a grid that cannot be co-resident is refused before it could deadlock") {
  WEFT_REQUIRE_GPU();
  LocalSim heap(8, 0);
  Collectives c(heap, {.ctas = 100000, .block = 1024});
  auto in = heap.alloc(1 << 16), out = heap.alloc(8 << 16);
  CHECK_THROWS_WITH_AS(c.all_gather(in, out, 1 << 16), doctest::Contains("resident"), Error);
}

TEST_CASE("Collectives: a batch the block cannot hold is refused, and unroll 1 still gathers") {
  WEFT_REQUIRE_GPU();
  LocalSim heap(2, 0);
  CHECK_THROWS_WITH_AS(Collectives(heap, {.block = 1024, .unroll = 4}), doctest::Contains("unroll x block at most 2048"),
                       Error);
  CHECK_THROWS_WITH_AS(Collectives(heap, {.unroll = 5}), doctest::Contains("unroll must be at most 4"), Error);
  Collectives c(heap, {.ctas = 2, .block = 128, .unroll = 1, .debug_waits = true});
  const auto r = check_all_gather(c, 16 * 1000, 11);
  CHECK_MESSAGE(r.ok, r.detail);
}

TEST_CASE("Collectives: sizes and tables that do not fit are clear errors") {
  WEFT_REQUIRE_GPU();
  LocalSim heap(2, 0);
  Collectives c(heap, {.ctas = 2, .block = 128, .debug_waits = true});
  auto small = heap.alloc(64), big = heap.alloc(1 << 12);
  CHECK_THROWS_WITH_AS(c.all_gather(big, big, 24), doctest::Contains("multiple of 16"), Error);
  CHECK_THROWS_WITH_AS(c.all_gather(big, small, 64), doctest::Contains("buffer 'out' holds 64 bytes, needs 128"), Error);
  CHECK_THROWS_WITH_AS(c.all_reduce(big, big, 12, Elem::f32, 1), doctest::Contains("16 * nranks"), Error);
  CHECK_THROWS_WITH_AS(c.all_reduce(big, big, 64, Elem::f32, 3), doctest::Contains("shots must be 1 or 2"), Error);
  LocalSim other(4, 0);
  auto foreign = other.alloc(1 << 12);
  CHECK_THROWS_WITH_AS(c.all_reduce(foreign, big, 64, Elem::f32, 1), doctest::Contains("peer table for 4 ranks"), Error);
}

TEST_CASE("Ipc: every collective between two processes on one GPU, three times over") {
  WEFT_REQUIRE_GPU();
  const auto ranks = weft::rt::comm::test::spawn_ranks(2, "WEFT_COMM_TEST_COLLECTIVES_RANK",
                                                       weft::rt::comm::test::socket_path());
  for (const auto& r : ranks) {
    INFO("rank " << r.rank << ": " << r.output);
    CHECK(r.exited_ok);
    CHECK(r.output.find("ipc collectives rank ok") != std::string::npos);
  }
}

// The kernels the one-rank NCCL case runs, on a table of one local pointer (what the Nccl heap builds
// for one rank, NCCL giving it no device window): checked wherever a device is, the emulated one too.
TEST_CASE("LocalSim: every collective with one rank") {
  WEFT_REQUIRE_GPU();
  LocalSim heap(1, 0);
  Collectives c(heap, {.ctas = 4, .block = 128, .debug_waits = true});
  all_checks(c, 98);
}

TEST_CASE("Nccl: every collective with one rank") {
  WEFT_REQUIRE_GPU();
  SingleProcessBootstrap boot;
  Nccl heap(boot, 0);  // throws (fails the test) where NCCL is missing: the GPU machine has it
  Collectives c(heap, {.ctas = 4, .block = 128, .debug_waits = true});
  all_checks(c, 99);
}
