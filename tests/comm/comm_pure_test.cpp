// The pure parts of the comm host API: size agreement, the peer table layout, NCCL window addressing,
// the co-residency rule, NCCL versions and the library loader's errors, the window reader's PTX.
#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>

#include "runtime/comm/bootstrap.h"
#include "runtime/comm/ipc.h"
#include "runtime/comm/local_sim.h"
#include "runtime/comm/nccl_library.h"
#include "runtime/comm/nccl_window.h"
#include "runtime/comm/peer_table.h"
#include "runtime/error.h"

using namespace weft::rt;
using namespace weft::rt::comm;

TEST_CASE("check_same_size names every rank that differs from rank 0") {
  const std::vector<std::uint64_t> same{4096, 4096, 4096};
  CHECK_NOTHROW(check_same_size(same, "x"));
  const std::vector<std::uint64_t> one{1};
  CHECK_NOTHROW(check_same_size(one, "x"));
  const std::vector<std::uint64_t> differ{4096, 4096, 8192, 4096, 1};
  CHECK_THROWS_WITH_AS(check_same_size(differ, "Ipc::alloc size"),
                       "Ipc::alloc size differs across ranks: rank 0 has 4096 bytes, rank 2 has 8192 bytes, rank 4 "
                       "has 1 bytes (every rank must pass the same size)",
                       Error);
}

TEST_CASE("peer table layout: row r, peer p at r * nranks + p") {
  CHECK(peer_table_index(0, 0, 4) == 0);
  CHECK(peer_table_index(0, 3, 4) == 3);
  CHECK(peer_table_index(2, 1, 4) == 9);
  const auto t = build_peer_table(2, 3, [](std::uint32_t r, std::uint32_t p) { return 0x1000u * (r + 1) + p; });
  REQUIRE(t.size() == 6);
  CHECK(t == std::vector<std::uint64_t>{0x1000, 0x1001, 0x1002, 0x2000, 0x2001, 0x2002});
  CHECK_THROWS_WITH_AS(build_peer_table(2, 2, [](std::uint32_t r, std::uint32_t p) { return r == 1 && p == 0 ? 0u : 8u; }),
                       "peer table: row 1 has no address for rank 0", Error);
}

TEST_CASE("NCCL window addressing: lsaFlatBase + (lsaRank + peer - worldRank) * stride4G << 32") {
  const std::uint64_t flat = 0x7f0000000000ull;
  // Rank 1 of 4, all in one LSA team: peer p's slot is p.
  CHECK(nccl_lsa_peer_base(flat, 1, 1, 2, 0, 4) == flat);
  CHECK(nccl_lsa_peer_base(flat, 1, 1, 2, 1, 4) == flat + (2ull << 32));
  CHECK(nccl_lsa_peer_base(flat, 1, 1, 2, 3, 4) == flat + 3 * (2ull << 32));
  // World rank 5 as LSA rank 1 of a team of 4 (world ranks 4..7): world rank 4 is slot 0.
  CHECK(nccl_lsa_peer_base(flat, 1, 5, 1, 4, 4) == flat);
  CHECK_THROWS_WITH_AS(nccl_lsa_peer_base(flat, 1, 5, 1, 0, 4), doctest::Contains("rank 0 is not load/store accessible from rank 5"),
                       Error);
  CHECK_THROWS_AS(nccl_lsa_peer_base(flat, 1, 5, 1, 8, 4), Error);
}

TEST_CASE("LocalSim co-residency rule") {
  CHECK_NOTHROW(check_co_resident("k", 264, 2, 132, 4));
  CHECK_THROWS_WITH_AS(check_co_resident("allreduce", 272, 2, 132, 4),
                       "LocalSim::launch of 'allreduce': 272 CTAs (68 per rank x 4 ranks) cannot all be resident: at "
                       "most 2 per SM x 132 SMs = 264 (spin-waits between virtual ranks could deadlock; use fewer CTAs "
                       "or ranks)",
                       Error);
  CHECK_THROWS_AS(check_co_resident("k", 1, 0, 132, 1), Error);  // occupancy 0: nothing fits
}

TEST_CASE("Ipc sizes round up to the granularity") {
  CHECK(round_up(1, 2 << 20) == (2u << 20));
  CHECK(round_up(2 << 20, 2 << 20) == (2u << 20));
  CHECK(round_up((2 << 20) + 1, 2 << 20) == (4u << 20));
}

TEST_CASE("NCCL versions") {
  CHECK(nccl_version_string(22803) == "2.28.3");
  CHECK(nccl_version_string(22809) == "2.28.9");
  CHECK(nccl_version_string(21903) == "2.19.3");
  CHECK(nccl_version_string(2804) == "2.8.4");
  CHECK_NOTHROW(check_nccl_version(22800, "libnccl.so.2"));
  CHECK_NOTHROW(check_nccl_version(22803, "libnccl.so.2"));
  CHECK_NOTHROW(check_nccl_version(23001, "libnccl.so.2"));
  CHECK_THROWS_WITH_AS(check_nccl_version(22705, "/opt/nccl/lib/libnccl.so.2"),
                       "NCCL 2.27.5 (/opt/nccl/lib/libnccl.so.2) is too old: weft needs 2.28.0 or newer (symmetric "
                       "memory windows, ncclCommWindowRegister)",
                       Error);
  CHECK_THROWS_WITH_AS(check_nccl_version(2804, "libnccl.so.2"), doctest::Contains("NCCL 2.8.4"), Error);
}

TEST_CASE("NCCL loader: a missing library names every path tried") {
  try {
    load_nccl({"/nonexistent/libnccl.so.2", "/nonexistent2/libnccl.so"});
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.starts_with("NCCL not found"));
    CHECK(m.find("set WEFT_NCCL_LIBRARY") != std::string::npos);
    CHECK(m.find("tried /nonexistent/libnccl.so.2 (") != std::string::npos);
    CHECK(m.find("; /nonexistent2/libnccl.so (") != std::string::npos);
  }
  // A library that is not NCCL.
  CHECK_THROWS_WITH_AS(load_nccl({"libm.so.6"}), "NCCL library libm.so.6 does not provide ncclGetVersion", Error);
}

TEST_CASE("NCCL loader: WEFT_NCCL_LIBRARY replaces the default paths") {
  const char* old = std::getenv("WEFT_NCCL_LIBRARY");
  const std::string saved = old ? old : "";
  ::unsetenv("WEFT_NCCL_LIBRARY");
  CHECK(nccl_library_paths() == std::vector<std::string>{"libnccl.so.2", "libnccl.so"});
  ::setenv("WEFT_NCCL_LIBRARY", "/opt/x/libnccl.so.2", 1);
  CHECK(nccl_library_paths() == std::vector<std::string>{"/opt/x/libnccl.so.2"});
  ::setenv("WEFT_NCCL_LIBRARY", saved.c_str(), 1);
  if (!old) ::unsetenv("WEFT_NCCL_LIBRARY");
}

TEST_CASE("NCCL loader: a real libnccl.so.2, where this machine has one") {
  std::optional<NcclLibrary> lib;
  try {
    lib = load_nccl({"libnccl.so.2"});
  } catch (const Error& e) {
    MESSAGE("no usable libnccl.so.2 here: " << e.what());
    return;
  }
  MESSAGE("NCCL " << nccl_version_string(lib->version) << " from " << lib->path);
  CHECK(lib->version >= kMinNcclVersion);
  // Every entry point the heap calls resolved (load_nccl throws otherwise), and errors have text.
  CHECK(static_cast<bool>(lib->CommWindowRegister));
  CHECK(static_cast<bool>(lib->AllGather));
  CHECK_THROWS_WITH_AS(lib->check(2, "ncclCommInitRank"), doctest::Contains("ncclCommInitRank failed: "), Error);
  CHECK_THROWS_WITH_AS(lib->check(2, "ncclCommInitRank"), doctest::Contains("(ncclResult_t 2)"), Error);
}

TEST_CASE("the NCCL window reader reads the 2.28 field offsets through the non-coherent path") {
  const std::string ptx = nccl_window_reader_ptx("sm_90");
  INFO(ptx);
  CHECK(ptx.find(".entry weft_nccl_window_fields") != std::string::npos);
  CHECK(ptx.find("ld.global.nc.u64") != std::string::npos);
  for (const char* off : {"+8]", "+16]", "+20]", "+24]"}) CHECK(ptx.find(off) != std::string::npos);
  CHECK_THROWS_WITH_AS(nccl_window_reader_ptx("sm_99"), doctest::Contains("NCCL window reader"), Error);
}
