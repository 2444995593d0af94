// SocketBootstrap with real processes (fork): collectives, descriptor passing, and the errors for a
// size mismatch and for ranks that never arrive. No GPU involved.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "runtime/comm/socket_bootstrap.h"
#include "runtime/error.h"
#include "tests/comm/fork_ranks.h"

using namespace weft::rt;
using namespace weft::rt::comm;
using namespace std::chrono_literals;
using test::all_ranks;
using test::run_ranks;

namespace {

// Fails the child with `what` unless `ok`.
void expect(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

void check_all_ok(const std::vector<test::RankResult>& results) {
  for (const auto& r : results) {
    INFO("rank " << r.rank << ": " << r.report);
    CHECK(r.finished);
    CHECK(r.report.empty());
  }
}

std::string collectives(int rank, int size, const std::string& path) {
  SocketBootstrap boot(rank, size, path, 10s);
  expect(boot.rank() == rank && boot.size() == size, "rank/size");
  // Small values, in rank order.
  const auto values = boot.allgather_value<int>(rank * 10 + 1);
  for (int r = 0; r < size; ++r) expect(values[r] == r * 10 + 1, "allgather_value of rank " + std::to_string(r));
  // A larger payload (several socket buffers' worth in total).
  const std::size_t n = 100000;
  std::vector<std::uint8_t> mine(n), all(n * size);
  for (std::size_t i = 0; i < n; ++i) mine[i] = static_cast<std::uint8_t>(rank * 7 + i);
  boot.allgather(mine.data(), all.data(), n);
  for (int r = 0; r < size; ++r)
    for (std::size_t i = 0; i < n; i += 997)
      expect(all[r * n + i] == static_cast<std::uint8_t>(r * 7 + i), "allgather byte of rank " + std::to_string(r));
  for (int i = 0; i < 5; ++i) boot.barrier();
  // Zero bytes per rank is allowed.
  boot.allgather(nullptr, nullptr, 0);
  return "";
}

}  // namespace

TEST_CASE("SocketBootstrap: allgather and barrier with 2 and 4 processes") {
  for (int size : {2, 4}) {
    CAPTURE(size);
    const std::string path = test::socket_path();
    check_all_ok(run_ranks(all_ranks(size), [&](int r) { return collectives(r, size, path); }));
    CHECK_FALSE(std::filesystem::exists(path));  // rank 0 removes the socket once everyone is in
  }
}

TEST_CASE("SocketBootstrap: ranks may start in any order") {
  const std::string path = test::socket_path();
  check_all_ok(run_ranks(all_ranks(3), [&](int r) {
    if (r == 0) std::this_thread::sleep_for(300ms);  // the others retry until rank 0 listens
    return collectives(r, 3, path);
  }));
}

TEST_CASE("SocketBootstrap: file descriptors pass between processes (pipes)") {
  for (int size : {2, 4}) {
    CAPTURE(size);
    const std::string path = test::socket_path();
    check_all_ok(run_ranks(all_ranks(size), [&](int rank) -> std::string {
      SocketBootstrap boot(rank, size, path, 10s);
      int p[2];
      expect(::pipe(p) == 0, "pipe");
      // Every rank reads one int from every rank's pipe: write one per reader, then close.
      for (int i = 0; i < size; ++i) expect(::write(p[1], &rank, sizeof rank) == sizeof rank, "write");
      ::close(p[1]);
      const std::vector<int> fds = boot.allgather_fds(p[0]);
      ::close(p[0]);
      expect(static_cast<int>(fds.size()) == size, "one descriptor per rank");
      for (int q = 0; q < size; ++q) {
        int got = -1;
        expect(fds[q] >= 0 && ::read(fds[q], &got, sizeof got) == sizeof got, "read from rank " + std::to_string(q));
        expect(got == q, "rank " + std::to_string(q) + "'s pipe gave " + std::to_string(got));
        ::close(fds[q]);
      }
      boot.barrier();
      return "";
    }));
  }
}

TEST_CASE("SocketBootstrap: different bytes_per_rank is an error on every rank, naming sizes and ranks") {
  const std::string path = test::socket_path();
  const auto results = run_ranks(all_ranks(3), [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 3, path, 10s);
    std::vector<char> mine(rank == 2 ? 16 : 8), all(3 * mine.size());
    boot.allgather(mine.data(), all.data(), mine.size());
    return "allgather returned";
  });
  for (const auto& r : results) {
    INFO("rank " << r.rank << ": " << r.report);
    CHECK(r.finished);
    CHECK(r.report.find("allgather size mismatch: rank 0 passes 8 bytes per rank, rank 2 passes 16") != std::string::npos);
  }
}

TEST_CASE("SocketBootstrap: a rank that never starts is named in a timeout error") {
  const std::string path = test::socket_path();
  const auto results = run_ranks({0, 1}, [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 3, path, 300ms);
    return "constructed";
  });
  for (const auto& r : results) {
    INFO("rank " << r.rank << ": " << r.report);
    CHECK(r.finished);
    CHECK(r.report.find("rank 2 of 3 did not arrive within 300 ms") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("SocketBootstrap: rank 0 never starts") {
  const std::string path = test::socket_path();
  const auto results = run_ranks({1}, [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 2, path, 200ms);
    return "constructed";
  });
  REQUIRE(results.size() == 1);
  INFO(results[0].report);
  CHECK(results[0].report.find("rank 0 did not arrive") != std::string::npos);
  CHECK(results[0].report.find(path) != std::string::npos);
}

TEST_CASE("SocketBootstrap: a rank that skips a collective is named; one that exits is reported") {
  const std::string path = test::socket_path();
  auto results = run_ranks(all_ranks(3), [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 3, path, 300ms);
    if (rank == 2) {
      std::this_thread::sleep_for(1500ms);  // alive, but never calls the barrier
      return "";
    }
    boot.barrier();
    return "barrier returned";
  });
  for (int r : {0, 1}) {
    INFO("rank " << r << ": " << results[r].report);
    CHECK(results[r].report.find("rank 2 did not arrive at barrier within 300 ms") != std::string::npos);
  }

  const std::string path2 = test::socket_path();
  results = run_ranks(all_ranks(2), [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 2, path2, 5s);
    if (rank == 1) return "";  // exits without the barrier
    boot.barrier();
    return "barrier returned";
  });
  INFO(results[0].report);
  CHECK(results[0].report.find("rank 1 closed its connection before barrier") != std::string::npos);
}

TEST_CASE("SocketBootstrap: different collectives on different ranks are an error") {
  const std::string path = test::socket_path();
  const auto results = run_ranks(all_ranks(2), [&](int rank) -> std::string {
    SocketBootstrap boot(rank, 2, path, 5s);
    if (rank == 1) {
      boot.barrier();
    } else {
      boot.allgather_value<int>(1);
    }
    return "returned";
  });
  for (const auto& r : results) {
    INFO("rank " << r.rank << ": " << r.report);
    CHECK(r.report.find("rank 1 called barrier while rank 0 called allgather") != std::string::npos);
  }
}

TEST_CASE("SocketBootstrap: world sizes that differ are an error") {
  const std::string path = test::socket_path();
  const auto results = run_ranks(all_ranks(2), [&](int rank) -> std::string {
    SocketBootstrap boot(rank, rank == 0 ? 2 : 3, path, 5s);
    return "constructed";
  });
  for (const auto& r : results) {
    INFO("rank " << r.rank << ": " << r.report);
    CHECK(r.report.find("rank 1 was started with world size 3, rank 0 with 2") != std::string::npos);
  }
}

TEST_CASE("SocketBootstrap: path from WEFT_BOOTSTRAP, argument checks, size 1") {
  const std::string path = test::socket_path();
  ::setenv("WEFT_BOOTSTRAP", path.c_str(), 1);
  check_all_ok(run_ranks(all_ranks(2), [&](int r) {
    SocketBootstrap boot(r, 2);
    if (boot.path() != path) return std::string("path not taken from WEFT_BOOTSTRAP");
    return collectives(r, 2, "");
  }));
  ::unsetenv("WEFT_BOOTSTRAP");
  CHECK_THROWS_WITH_AS(SocketBootstrap(0, 2), doctest::Contains("no rendezvous path"), Error);
  CHECK_THROWS_WITH_AS(SocketBootstrap(2, 2, path), doctest::Contains("rank 2 of size 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(SocketBootstrap(0, 2, "/tmp/" + std::string(200, 'x')), doctest::Contains("Unix sockets allow"),
                       Error);
  // One rank needs no socket at all.
  SocketBootstrap one(0, 1);
  int v = 5, all = 0;
  one.allgather(&v, &all, sizeof v);
  CHECK(all == 5);
  one.barrier();
  auto fds = one.allgather_fds(0);
  REQUIRE(fds.size() == 1);
  CHECK(fds[0] > 2);
  ::close(fds[0]);
}
