// The symmetric heap on a real GPU: LocalSim tables, Ipc between two processes on one GPU, Nccl with
// one rank. Peer pointers are checked by writing and reading through them with cuMemcpy; the only
// kernel is the Nccl backend's own window reader. Skips (and passes) without a driver (label gpu).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "runtime/comm/comm.h"
#include "runtime/comm/nccl_window.h"
#include "tests/comm/fork_ranks.h"
#include "tests/comm/spawn_ranks.h"
#include "tests/runtime/gpu_common.h"

using namespace weft::rt;
using namespace weft::rt::comm;
using weft::rt::test::have_gpu;

namespace {

std::uint32_t read_u32(CUdeviceptr p) {
  std::uint32_t v = 0;
  mem::copy_to_host(&v, p, sizeof v);
  return v;
}

// A copy from pageable host memory may return before its DMA lands (the driver's documented
// behaviour, seen on an H200: the other process read 0): synchronize before another process reads.
void write_u32(CUdeviceptr p, std::uint32_t v) {
  mem::copy_to_device(p, &v, sizeof v);
  synchronize();
}

std::vector<std::uint64_t> device_table(const SymmetricBuffer& b) {
  std::vector<std::uint64_t> t(b.host_table().size());
  mem::copy_to_host(t.data(), b.peer_table().raw(), t.size() * sizeof(std::uint64_t));
  return t;
}

// One rank of the Ipc test, in a process of its own (spawned, so CUDA starts fresh in it). Returns
// "" or what went wrong.
std::string ipc_rank(int rank, const std::string& path) {
  SocketBootstrap boot(rank, 2, path, std::chrono::seconds(30));
  Ipc heap(boot, 0);
  if (heap.nranks() != 2 || heap.rank_base() != static_cast<std::uint32_t>(rank) || heap.rows() != 1)
    return "heap shape";
  SymmetricBuffer buf = heap.alloc(1000);
  if (buf.bytes() != 1000 || buf.rows() != 1 || buf.nranks() != 2) return "buffer shape";
  if (device_table(buf) != std::vector<std::uint64_t>(buf.host_table().begin(), buf.host_table().end()))
    return "the device table differs from the host copy";
  if (buf.peer(0, rank) != buf.local()) return "own table entry is not the local buffer";
  if (read_u32(buf.local()) != 0) return "not zeroed";
  // Each rank writes its own buffer; after the barrier each reads the other's through the table.
  write_u32(buf.local(), 0xA0 + rank);
  boot.barrier();
  const int other = 1 - rank;
  const std::uint32_t seen = read_u32(buf.peer(0, other));
  if (seen != 0xA0u + other) return "read " + std::to_string(seen) + " through rank " + std::to_string(other) + "'s entry";
  // And writes through the peer entry land in the peer's own buffer.
  boot.barrier();
  write_u32(buf.peer(0, other) + 4, 0xB0 + rank);
  boot.barrier();
  if (read_u32(buf.local() + 4) != 0xB0u + other) return "a peer's write did not land in the local buffer";
  // A second buffer, and a size mismatch reported on both ranks.
  SymmetricBuffer second = heap.alloc(4 << 20);
  if (second.peer(0, other) == buf.peer(0, other)) return "two buffers share an address";
  std::string mismatch;
  try {
    heap.alloc(rank == 0 ? 64 : 128);
  } catch (const Error& e) {
    mismatch = e.what();
  }
  if (mismatch.find("Ipc::alloc size differs across ranks: rank 0 has 64 bytes, rank 1 has 128 bytes") ==
      std::string::npos)
    return "size mismatch: " + mismatch;
  boot.barrier();  // nobody unmaps while the other still reads
  return "";
}

// The child side: the test spawns this binary with WEFT_COMM_TEST_IPC_RANK set; it runs one rank
// before doctest's main and exits (tests/comm/spawn_ranks.h).
[[maybe_unused]] const int ipc_child = comm::test::run_spawned_rank("WEFT_COMM_TEST_IPC_RANK", "ipc rank", ipc_rank);

}  // namespace

TEST_CASE("LocalSim: every table entry reaches its rank's allocation") {
  WEFT_REQUIRE_GPU();
  REQUIRE(ipc_child == 0);
  const std::uint32_t n = 4;
  LocalSim sim(n, 0);
  CHECK(sim.nranks() == n);
  CHECK(sim.rows() == n);
  CHECK(sim.rank_base() == 0);
  SymmetricBuffer buf = sim.alloc(256);
  REQUIRE(buf.rows() == n);
  REQUIRE(buf.host_table().size() == n * n);
  CHECK(device_table(buf) == std::vector<std::uint64_t>(buf.host_table().begin(), buf.host_table().end()));
  for (std::uint32_t p = 0; p < n; ++p) CHECK(read_u32(buf.local(p)) == 0);
  // Write through entry (row, p) at a slot per row; rank p's allocation must hold it.
  for (std::uint32_t row = 0; row < n; ++row)
    for (std::uint32_t p = 0; p < n; ++p) write_u32(buf.peer(row, p) + 4 * row, 100 * row + p);
  for (std::uint32_t p = 0; p < n; ++p)
    for (std::uint32_t row = 0; row < n; ++row) CHECK(read_u32(buf.local(p) + 4 * row) == 100 * row + p);
  // Separate allocations.
  for (std::uint32_t p = 1; p < n; ++p) CHECK(buf.local(p) != buf.local(0));
  CHECK_THROWS_WITH_AS(buf.local(n), doctest::Contains("row 4 does not exist"), Error);
  CHECK_THROWS_WITH_AS(buf.peer(0, n), doctest::Contains("rank 4 does not exist"), Error);
}

TEST_CASE("Ipc: two processes on one GPU read and write each other's buffers") {
  WEFT_REQUIRE_GPU();
  for (const auto& r : comm::test::spawn_ranks(2, "WEFT_COMM_TEST_IPC_RANK", comm::test::socket_path())) {
    INFO("rank " << r.rank << ": " << r.output);
    CHECK(r.exited_ok);
    CHECK(r.output.find("ipc rank ok") != std::string::npos);
  }
}

// NCCL 2.28 returns a host-side record instead of a device window description when the communicator
// has no symmetric memory support (one rank, on the H200: reading it faulted); the heap tells the two
// apart by asking the driver for the handle's memory type.
TEST_CASE("window handles: device memory is told from host memory") {
  WEFT_REQUIRE_GPU();
  DeviceBuffer<std::uint64_t> device(4);
  CHECK(nccl_window_is_device_side(device.raw()));
  CHECK(nccl_window_is_device_side(device.raw() + 8));  // inside the allocation, not only its start
  std::vector<std::uint64_t> pageable(4);
  CHECK_FALSE(nccl_window_is_device_side(reinterpret_cast<CUdeviceptr>(pageable.data())));
  PinnedBuffer<std::uint64_t> pinned(4);
  CHECK_FALSE(nccl_window_is_device_side(reinterpret_cast<CUdeviceptr>(pinned.data())));
}

TEST_CASE("Nccl: one rank, window peer table, write and read through it") {
  WEFT_REQUIRE_GPU();
  std::string why;
  try {
    nccl();
  } catch (const Error& e) {
    why = e.what();
  }
  if (!why.empty()) {
    // Not "skipped: " on stdout: on the GPU machine NCCL is expected, so this fails there.
    FAIL_CHECK("NCCL is not usable: " << why);
    return;
  }
  MESSAGE("NCCL " << nccl_version_string(nccl().version) << " from " << nccl().path);
  SingleProcessBootstrap boot;
  Nccl heap(boot, 0);
  CHECK(heap.nranks() == 1);
  CHECK(heap.rank_base() == 0);
  CHECK(heap.rows() == 1);
  {
    SymmetricBuffer buf = heap.alloc(1 << 20);
    REQUIRE(buf.host_table().size() == 1);
    MESSAGE("local " << buf.local() << ", table entry " << buf.peer(0, 0));
    CHECK(device_table(buf)[0] == buf.peer(0, 0));
    CHECK(read_u32(buf.local()) == 0);
    write_u32(buf.peer(0, 0) + 64, 0x5151);  // through the window's address
    CHECK(read_u32(buf.local() + 64) == 0x5151);
    write_u32(buf.local() + 128, 0x7272);  // and the other way round
    CHECK(read_u32(buf.peer(0, 0) + 128) == 0x7272);
  }
  // A heap over the application's communicator (sizes agreed through ncclAllGather).
  Nccl app(heap.comm(), 0);
  CHECK(app.nranks() == 1);
  SymmetricBuffer b2 = app.alloc(4096);
  write_u32(b2.peer(0, 0), 9);
  CHECK(read_u32(b2.local()) == 9);
}
