// Autotuning's choice logic and its memory (in the process, on disk), with a fake timer: no GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/autotune.h"
#include "runtime/error.h"
#include "tests/support/temp_dir.h"

using namespace weft::rt;

namespace {

void fs_remove(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove_all(p, ec);
}

TuneProblem problem(std::string name = "gemm 64x7168x7168") {
  return {std::move(name), {"bn128", "bn256", "sk"}, "Test GPU sm_90 132 SMs"};
}

// A timer that returns fixed times (a negative one throws) and counts its calls.
struct FakeTimer {
  std::vector<double> ms;
  int calls = 0;
  double operator()(std::size_t i) {
    ++calls;
    if (ms.at(i) < 0) throw Error("launch failed: too many resources requested");
    return ms[i];
  }
};

// Each test starts with nothing remembered in the process; $WEFT_TUNE unset.
struct Fresh {
  Fresh() {
    autotune_forget();
    ::unsetenv("WEFT_TUNE");
  }
  ~Fresh() { autotune_forget(); }
};

// The same with a cache directory of its own.
struct OnDisk : Fresh {
  weft::test::TempDir dir{"weft-tune-test"};
  DiskCache cache{dir.path};
};

}  // namespace

TEST_CASE("autotune picks the fastest candidate that runs, the earlier on a tie") {
  Fresh fresh;
  DiskCache off;  // no disk: only the process remembers
  FakeTimer t{{2.0, 1.5, 1.5}};
  auto c = autotune(problem(), std::ref(t), off);
  CHECK(c.index == 1);
  CHECK(c.source == TuneChoice::Source::timed);
  CHECK(t.calls == 3);
  REQUIRE(c.ms.size() == 3);
  CHECK(c.ms[0] == 2.0);
  CHECK(c.errors[2].empty());

  autotune_forget();
  FakeTimer failing{{-1, 3.0, 4.0}};  // the fastest-looking candidate cannot launch
  c = autotune(problem(), std::ref(failing), off);
  CHECK(c.index == 1);
  CHECK(std::isnan(c.ms[0]));
  CHECK(c.errors[0] == "launch failed: too many resources requested");
}

TEST_CASE_FIXTURE(OnDisk, "autotune remembers its choice in the process and on disk") {
  FakeTimer t{{3.0, 1.0, 2.0}};
  CHECK(autotune(problem(), std::ref(t), cache).index == 1);
  CHECK(t.calls == 3);
  auto again = autotune(problem(), std::ref(t), cache);  // this process: no timing
  CHECK(again.index == 1);
  CHECK(again.source == TuneChoice::Source::memory);
  CHECK(again.ms.empty());
  CHECK(t.calls == 3);

  autotune_forget();  // as a new process would: the disk entry answers
  FakeTimer other{{1.0, 9.0, 9.0}};
  auto from_disk = autotune(problem(), std::ref(other), cache);
  CHECK(from_disk.index == 1);
  CHECK(from_disk.source == TuneChoice::Source::disk);
  CHECK(other.calls == 0);

  // What is stored reads as a person would expect.
  std::ifstream in(cache.entry_path(tune_key(problem())) / "data");
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "weft-tune 1\nproblem gemm 64x7168x7168\ndevice Test GPU sm_90 132 SMs\nchoice bn256\n"
                      "candidate bn128 3.000000 ms\ncandidate bn256 1.000000 ms\ncandidate sk 2.000000 ms\n");

  // `weft cache tunes` reads it back (remembered_tunes).
  const auto remembered = remembered_tunes(cache);
  REQUIRE(remembered.size() == 1);
  CHECK(remembered[0].problem == "gemm 64x7168x7168");
  CHECK(remembered[0].device == "Test GPU sm_90 132 SMs");
  CHECK(remembered[0].choice == "bn256");
  CHECK(remembered_tunes(DiskCache{}).empty());  // a disabled cache remembers nothing

  // Another shape, device or candidate list is another problem: it is timed.
  autotune_forget();
  auto p = problem();
  p.device = "Test GPU sm_90 114 SMs";
  CHECK(autotune(p, std::ref(other), cache).index == 0);
  CHECK(other.calls == 3);
  p = problem();
  p.candidates.push_back("bn64");
  FakeTimer four{{5.0, 5.0, 5.0, 1.0}};
  CHECK(autotune(p, std::ref(four), cache).index == 3);
  CHECK(tune_key(p) != tune_key(problem()));
}

TEST_CASE_FIXTURE(OnDisk, "a corrupt or foreign tune entry is timed again") {
  FakeTimer t{{3.0, 1.0, 2.0}};
  autotune(problem(), std::ref(t), cache);
  const auto data = cache.entry_path(tune_key(problem())) / "data";
  // A truncated file fails the cache's checksum: the entry is deleted and tuned again.
  std::ofstream(data) << "weft-tune 1\nchoi";
  autotune_forget();
  FakeTimer second{{1.0, 2.0, 3.0}};
  auto c = autotune(problem(), std::ref(second), cache);
  CHECK(second.calls == 3);
  CHECK(c.index == 0);
  CHECK(c.source == TuneChoice::Source::timed);
  // An intact entry naming no candidate (written by hand) is not trusted either: it is replaced.
  autotune_forget();
  const std::string foreign = "weft-tune 1\nchoice bn512\n";
  CacheEntry e;
  for (char ch : foreign) e.data.push_back(static_cast<std::byte>(ch));
  fs_remove(cache.entry_path(tune_key(problem())));
  REQUIRE(cache.store(tune_key(problem()), e));
  FakeTimer third{{4.0, 5.0, 1.0}};
  c = autotune(problem(), std::ref(third), cache);
  CHECK(third.calls == 3);
  CHECK(c.index == 2);
  autotune_forget();
  FakeTimer fourth{{1.0, 1.0, 1.0}};
  c = autotune(problem(), std::ref(fourth), cache);  // the replacement is read back
  CHECK(fourth.calls == 0);
  CHECK(c.index == 2);
  CHECK(c.source == TuneChoice::Source::disk);
  CHECK_FALSE(parse_tune_entry(problem(), "weft-tune 1\nchoice bn512\n"));
  CHECK_FALSE(parse_tune_entry(problem(), "weft-tune 2\nchoice bn128\n"));
  CHECK_FALSE(parse_tune_entry(problem(), ""));
  CHECK(parse_tune_entry(problem(), "weft-tune 1\nproblem x\nchoice sk\n") == 2u);
}

TEST_CASE("autotune's bad input: no candidate, a repeated or spaced label, none that runs") {
  Fresh fresh;
  DiskCache off;
  FakeTimer t{{1.0, 1.0, 1.0}};
  CHECK_THROWS_WITH_AS(autotune({"g", {}, "d"}, std::ref(t), off), "autotune 'g': no candidates", Error);
  CHECK_THROWS_WITH_AS(autotune({"g", {"a", "b", "a"}, "d"}, std::ref(t), off),
                       "autotune 'g': candidate 'a' is listed twice", Error);
  CHECK_THROWS_WITH_AS(autotune({"g", {"bn 128"}, "d"}, std::ref(t), off),
                       doctest::Contains("holds a space or line break"), Error);
  FakeTimer none{{-1, -1, -1}};
  CHECK_THROWS_WITH_AS(autotune(problem(), std::ref(none), off),
                       "autotune 'gemm 64x7168x7168': no candidate ran:\n  bn128: launch failed: too many resources "
                       "requested\n  bn256: launch failed: too many resources requested\n  sk: launch failed: too "
                       "many resources requested",
                       Error);
  FakeTimer nan{{NAN, 0.0, 3.0}};  // a time that is no time is a failure too
  auto c = autotune(problem(), std::ref(nan), off);
  CHECK(c.index == 2);
  CHECK(c.errors[0] == "timed at nan ms");
  CHECK(c.errors[1] == "timed at 0.000000 ms");
}

TEST_CASE_FIXTURE(OnDisk, "WEFT_TUNE=retime times once per process whatever the disk remembers, and replaces it") {
  FakeTimer first{{3.0, 1.0, 2.0}};
  CHECK(autotune(problem(), std::ref(first), cache).index == 1);
  autotune_forget();
  ::setenv("WEFT_TUNE", "retime", 1);
  FakeTimer second{{1.0, 2.0, 3.0}};  // the card changed its mind (a new driver, say)
  auto c = autotune(problem(), std::ref(second), cache);
  CHECK(second.calls == 3);
  CHECK(c.index == 0);
  CHECK(c.source == TuneChoice::Source::timed);
  CHECK(autotune(problem(), std::ref(second), cache).source == TuneChoice::Source::memory);  // once per process
  CHECK(second.calls == 3);
  ::unsetenv("WEFT_TUNE");
  autotune_forget();
  FakeTimer third{{9.0, 9.0, 9.0}};
  c = autotune(problem(), std::ref(third), cache);  // the new choice was stored
  CHECK(c.source == TuneChoice::Source::disk);
  CHECK(c.index == 0);
  CHECK(third.calls == 0);
}

TEST_CASE("WEFT_TUNE=off takes the first candidate without timing") {
  Fresh fresh;
  DiskCache off;
  ::setenv("WEFT_TUNE", "off", 1);
  FakeTimer t{{3.0, 1.0, 2.0}};
  auto c = autotune(problem(), std::ref(t), off);
  CHECK(c.index == 0);
  CHECK(c.source == TuneChoice::Source::off);
  CHECK(t.calls == 0);
  ::unsetenv("WEFT_TUNE");
}
