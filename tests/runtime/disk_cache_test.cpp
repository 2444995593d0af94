// The cubin disk cache, with a fake compiler (no GPU): keying, hits, corruption and truncation
// recovery, failing compilers, unwritable directories, and processes and threads racing for one key.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "runtime/disk_cache.h"
#include "runtime/error.h"
#include "tests/support/temp_dir.h"

using namespace weft::rt;
namespace fs = std::filesystem;

namespace {

struct TempDir : weft::test::TempDir {
  TempDir() : weft::test::TempDir("weft-cache-test") {}
};

CacheEntry bytes_of(std::string_view s, std::string meta = "") {
  CacheEntry e;
  for (char c : s) e.data.push_back(static_cast<std::byte>(c));
  e.meta = std::move(meta);
  return e;
}

std::string text_of(const CacheEntry& e) {
  return std::string(reinterpret_cast<const char*>(e.data.data()), e.data.size());
}

std::string key_for(std::string_view ptx) {
  CacheKeyInputs in{ptx, {"k"}, "0.1.0", "sm_90a", "sm_90", "cuda-driver-linker 13.0", "O4"};
  return cache_key(in);
}

// A compiler that counts its calls.
struct FakeCompiler {
  int calls = 0;
  std::string output = "\x7f" "ELF fake cubin bytes";
  CacheEntry operator()() {
    ++calls;
    return bytes_of(output, "resources k 32 0 0 0\n");
  }
};

// Captures std::cerr while alive.
struct CaptureCerr {
  std::ostringstream text;
  std::streambuf* old;
  CaptureCerr() : old(std::cerr.rdbuf(text.rdbuf())) {}
  ~CaptureCerr() { std::cerr.rdbuf(old); }
};

}  // namespace

TEST_CASE("cache_key depends on every input and keeps fields apart") {
  CacheKeyInputs base{"ptx text", {"a", "b"}, "0.1.0", "sm_90a", "sm_90", "cuda-driver-linker 13.0", "O4"};
  const std::string k = cache_key(base);
  CHECK(k.size() == 64);
  CHECK(k == cache_key(base));
  auto changed = [&](auto mutate) {
    CacheKeyInputs c = base;
    mutate(c);
    return cache_key(c) != k;
  };
  CHECK(changed([](auto& c) { c.ptx = "ptx text "; }));
  CHECK(changed([](auto& c) { c.entries = {"a"}; }));
  CHECK(changed([](auto& c) { c.entries = {"b", "a"}; }));
  CHECK(changed([](auto& c) { c.weft_version = "0.1.1"; }));
  CHECK(changed([](auto& c) { c.target = "sm_90"; }));
  CHECK(changed([](auto& c) { c.device_target = "sm_100"; }));
  CHECK(changed([](auto& c) { c.compiler = "cuda-driver-linker 13.1"; }));
  CHECK(changed([](auto& c) { c.jit_options = "O3"; }));
  // Concatenation does not collide: {"ab","c"} vs {"a","bc"}.
  CacheKeyInputs x = base, y = base;
  x.entries = {"ab", "c"};
  y.entries = {"a", "bc"};
  CHECK(cache_key(x) != cache_key(y));
}

TEST_CASE("a miss compiles and stores; the next call is a hit") {
  TempDir t;
  DiskCache cache(t.path);
  FakeCompiler fc;
  const std::string key = key_for("kernel 1");
  auto r1 = cache.get_or_build(key, std::ref(fc));
  CHECK_FALSE(r1.hit);
  CHECK(fc.calls == 1);
  CHECK(fs::exists(cache.entry_path(key) / "data"));
  CHECK(fs::exists(cache.entry_path(key) / "meta"));
  auto r2 = cache.get_or_build(key, std::ref(fc));
  CHECK(r2.hit);
  CHECK(fc.calls == 1);
  CHECK(text_of(r2.entry) == fc.output);
  CHECK(r2.entry.meta == "resources k 32 0 0 0\n");
  CHECK(cache.counters().hits == 1);
  CHECK(cache.counters().misses == 1);
  // A second object on the same directory (another process, in effect) sees the entry.
  DiskCache other(t.path);
  CHECK(other.load(key).has_value());
  CHECK(other.stats().entries == 1);
  CHECK(other.stats().bytes > fc.output.size());
  // Nothing is left in the temporary area.
  CHECK(fs::is_empty(t.path / "v1" / "tmp"));
  other.clear();
  CHECK_FALSE(cache.load(key).has_value());
  CHECK(cache.stats().entries == 0);
}

TEST_CASE("a disabled cache compiles every time and touches no disk") {
  DiskCache off;
  CHECK_FALSE(off.enabled());
  FakeCompiler fc;
  const std::string key = key_for("x");
  CHECK_FALSE(off.get_or_build(key, std::ref(fc)).hit);
  CHECK_FALSE(off.get_or_build(key, std::ref(fc)).hit);
  CHECK(fc.calls == 2);
  CHECK_FALSE(off.load(key).has_value());
  CHECK_FALSE(off.store(key, bytes_of("x")));
  CHECK(off.stats().entries == 0);
}

TEST_CASE("an intact entry whose content the caller rejects is rebuilt like a corrupt one") {
  TempDir dir;
  DiskCache cache(dir.path);
  const auto key = key_for("ptx v");
  REQUIRE(cache.store(key, bytes_of("stale")));
  FakeCompiler fc;
  auto wants_elf = [](const CacheEntry& e) { return text_of(e).starts_with("\x7f" "ELF"); };
  auto r = cache.get_or_build(key, std::ref(fc), wants_elf);
  CHECK(fc.calls == 1);
  CHECK(r.rebuilt_corrupt);
  CHECK(text_of(r.entry) == fc.output);
  CHECK(cache.counters().corrupt == 1);
  r = cache.get_or_build(key, std::ref(fc), wants_elf);  // the replacement is accepted
  CHECK(r.hit);
  CHECK(fc.calls == 1);
}

TEST_CASE("corrupt, truncated and incomplete entries are deleted and rebuilt once") {
  TempDir t;
  DiskCache cache(t.path);
  const std::string key = key_for("kernel 2");
  auto damage_and_rebuild = [&](auto damage) {
    FakeCompiler fc;
    cache.get_or_build(key, std::ref(fc));
    damage(cache.entry_path(key));
    auto r = cache.get_or_build(key, std::ref(fc));
    CHECK_FALSE(r.hit);
    CHECK(r.rebuilt_corrupt);
    CHECK(text_of(r.entry) == fc.output);
    CHECK(fc.calls == 2);
    auto again = cache.get_or_build(key, std::ref(fc));  // the rebuilt entry is good
    CHECK(again.hit);
    CHECK(fc.calls == 2);
    cache.clear();
  };
  SUBCASE("truncated data") {
    damage_and_rebuild([](const fs::path& e) { fs::resize_file(e / "data", 5); });
  }
  SUBCASE("one byte flipped (same size: only the checksum sees it)") {
    damage_and_rebuild([](const fs::path& e) {
      std::fstream f(e / "data", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(3);
      f.put('#');
    });
  }
  SUBCASE("empty data") {
    damage_and_rebuild([](const fs::path& e) { std::ofstream(e / "data", std::ios::trunc); });
  }
  SUBCASE("data missing") {
    damage_and_rebuild([](const fs::path& e) { fs::remove(e / "data"); });
  }
  SUBCASE("meta missing") {
    damage_and_rebuild([](const fs::path& e) { fs::remove(e / "meta"); });
  }
  SUBCASE("meta garbage") {
    damage_and_rebuild([](const fs::path& e) { std::ofstream(e / "meta") << "not a weft cache entry\n"; });
  }
  SUBCASE("meta truncated") {
    damage_and_rebuild([](const fs::path& e) { fs::resize_file(e / "meta", 20); });
  }
  SUBCASE("entry of another key copied in") {
    damage_and_rebuild([&](const fs::path& e) {
      const std::string other = key_for("other");
      FakeCompiler o;
      o.output = "other";
      cache.get_or_build(other, std::ref(o));
      fs::remove_all(e);
      fs::copy(cache.entry_path(other), e);
    });
  }
  CHECK(cache.counters().corrupt >= 1);
}

TEST_CASE("load() drops a corrupt entry") {
  TempDir t;
  DiskCache cache(t.path);
  const std::string key = key_for("kernel 3");
  REQUIRE(cache.store(key, bytes_of("cubin")));
  REQUIRE(cache.load(key).has_value());
  fs::resize_file(cache.entry_path(key) / "data", 2);
  CHECK_FALSE(cache.load(key).has_value());
  CHECK_FALSE(fs::exists(cache.entry_path(key)));
}

TEST_CASE("a compiler that throws leaves no entry and releases the key") {
  TempDir t;
  DiskCache cache(t.path);
  const std::string key = key_for("kernel 4");
  CHECK_THROWS_WITH(cache.get_or_build(key, []() -> CacheEntry { throw Error("ptxas: line 3: bad"); }),
                    "ptxas: line 3: bad");
  CHECK_FALSE(fs::exists(cache.entry_path(key)));
  FakeCompiler fc;
  CHECK_FALSE(cache.get_or_build(key, std::ref(fc)).hit);  // would hang here if the lock leaked
  CHECK(fc.calls == 1);
}

TEST_CASE("an unwritable cache directory warns once and works without storing") {
  TempDir t;
  // A path below a regular file can never be created, even by root.
  std::ofstream(t.path / "file") << "x";
  DiskCache cache(t.path / "file" / "cache");
  CaptureCerr err;
  FakeCompiler fc;
  for (int i = 0; i < 3; ++i) {
    std::string name = "kernel ";
    name += std::to_string(i);  // (not "k" + to_string: GCC 12's -Wrestrict false positive at -O3)
    auto r = cache.get_or_build(key_for(name), std::ref(fc));
    CHECK_FALSE(r.hit);
    CHECK(text_of(r.entry) == fc.output);
  }
  CHECK(fc.calls == 3);
  const std::string w = err.text.str();
  INFO(w);
  CHECK(w.find("weft: cache: ") == 0);
  CHECK(w.find("continuing without storing to the cache") != std::string::npos);
  CHECK(w.find("weft: cache: ", 1) == std::string::npos);  // once
}

TEST_CASE("a read-only cache directory still serves its entries") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: running as root, where permissions do not stop writes");
    return;
  }
  TempDir t;
  DiskCache cache(t.path);
  const std::string key = key_for("kernel 5");
  REQUIRE(cache.store(key, bytes_of("cubin")));
  for (auto& p : fs::recursive_directory_iterator(t.path))
    if (p.is_directory()) fs::permissions(p.path(), fs::perms::owner_write, fs::perm_options::remove);
  fs::permissions(t.path, fs::perms::owner_write, fs::perm_options::remove);
  CaptureCerr err;
  FakeCompiler fc;
  CHECK(cache.get_or_build(key, std::ref(fc)).hit);
  CHECK_FALSE(cache.get_or_build(key_for("new"), std::ref(fc)).hit);
  CHECK(fc.calls == 1);
  for (auto& p : fs::recursive_directory_iterator(t.path))
    if (p.is_directory()) fs::permissions(p.path(), fs::perms::owner_write, fs::perm_options::add);
}

TEST_CASE("processes racing for one key compile it once") {
  TempDir t;
  const std::string key = key_for("raced kernel");
  const fs::path counter = t.path / "compiles";
  constexpr int kProcs = 6;
  std::vector<pid_t> kids;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Child: its own DiskCache object, like a separate program.
      int rc = 0;
      try {
        DiskCache cache(t.path / "cache");
        auto r = cache.get_or_build(key, [&] {
          std::ofstream(counter, std::ios::app) << ::getpid() << "\n";
          std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a slow JIT
          return bytes_of("the one cubin");
        });
        if (text_of(r.entry) != "the one cubin") rc = 2;
      } catch (...) {
        rc = 3;
      }
      std::_Exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::ifstream in(counter);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  CHECK(lines == 1);
  DiskCache cache(t.path / "cache");
  CHECK(cache.load(key).has_value());
}

TEST_CASE("threads racing for one key compile it once") {
  TempDir t;
  DiskCache cache(t.path);
  const std::string key = key_for("threaded kernel");
  std::atomic<int> compiles{0};
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      auto r = cache.get_or_build(key, [&] {
        ++compiles;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return bytes_of("cubin");
      });
      if (text_of(r.entry) == "cubin") ++good;
    });
  for (auto& th : threads) th.join();
  CHECK(compiles == 1);
  CHECK(good == 8);
}

TEST_CASE("the cache directory comes from the environment") {
  auto save = [](const char* n) -> std::optional<std::string> {
    if (const char* v = std::getenv(n)) return std::string(v);
    return std::nullopt;
  };
  const auto c = save("WEFT_CACHE"), d = save("WEFT_CACHE_DIR"), x = save("XDG_CACHE_HOME"), h = save("HOME");
  ::unsetenv("WEFT_CACHE");
  ::unsetenv("WEFT_CACHE_DIR");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/u", 1);
  CHECK(DiskCache::default_directory() == fs::path("/home/u/.cache/weft"));
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  CHECK(DiskCache::default_directory() == fs::path("/xdg/weft"));
  ::setenv("WEFT_CACHE_DIR", "/w/cache", 1);
  CHECK(DiskCache::default_directory() == fs::path("/w/cache"));
  for (const char* off : {"off", "OFF", "0", "false", "no"}) {
    ::setenv("WEFT_CACHE", off, 1);
    CHECK_FALSE(DiskCache::default_directory().has_value());
  }
  ::setenv("WEFT_CACHE", "on", 1);
  CHECK(DiskCache::default_directory() == fs::path("/w/cache"));
  ::unsetenv("WEFT_CACHE");
  ::unsetenv("WEFT_CACHE_DIR");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK_FALSE(DiskCache::default_directory().has_value());
  auto restore = [](const char* n, const std::optional<std::string>& v) {
    if (v) ::setenv(n, v->c_str(), 1); else ::unsetenv(n);
  };
  restore("WEFT_CACHE", c);
  restore("WEFT_CACHE_DIR", d);
  restore("XDG_CACHE_HOME", x);
  restore("HOME", h);
}

TEST_CASE("keys that are not 64 hex digits are refused (no path tricks)") {
  TempDir t;
  DiskCache cache(t.path);
  FakeCompiler fc;
  CHECK_THROWS_AS(cache.get_or_build("../../etc", std::ref(fc)), Error);
  CHECK_THROWS_AS(cache.load(std::string(64, 'G')), Error);
  CHECK_THROWS_AS(cache.entry_path("abc"), Error);
  CHECK(fc.calls == 0);
}
