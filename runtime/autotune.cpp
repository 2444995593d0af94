#include "runtime/autotune.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "runtime/device.h"
#include "runtime/error.h"
#include "runtime/sha256.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

namespace weft::rt {

namespace {

constexpr std::string_view kHeader = "weft-tune 1";

std::mutex memo_mutex;
std::map<std::string, std::size_t>& memo() {
  static std::map<std::string, std::size_t> m;
  return m;
}

// $WEFT_TUNE: "off" (0, false, no) takes the first candidate untimed; "retime" times every problem
// once in this process whatever the disk remembers, and replaces what it remembers; anything else
// (or unset): time what is not remembered.
enum class TuneMode { normal, off, retime };
TuneMode tune_mode() {
  const char* v = std::getenv("WEFT_TUNE");
  if (!v) return TuneMode::normal;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "off" || s == "0" || s == "false" || s == "no") return TuneMode::off;
  return s == "retime" ? TuneMode::retime : TuneMode::normal;
}

void check_problem(const TuneProblem& p) {
  if (p.candidates.empty()) throw Error("autotune '" + p.name + "': no candidates");
  std::set<std::string> seen;
  for (const auto& c : p.candidates) {
    if (c.empty() || c.find_first_of(" \n") != std::string::npos)
      throw Error("autotune '" + p.name + "': candidate label '" + c + "' is empty or holds a space or line break");
    if (!seen.insert(c).second) throw Error("autotune '" + p.name + "': candidate '" + c + "' is listed twice");
  }
}

// Times every candidate; the fastest that ran wins (the earlier on a tie).
TuneChoice time_all(const TuneProblem& p, const std::function<double(std::size_t)>& time) {
  TuneChoice c;
  c.ms.assign(p.candidates.size(), NAN);
  c.errors.assign(p.candidates.size(), "");
  bool any = false;
  for (std::size_t i = 0; i < p.candidates.size(); ++i) {
    try {
      const double ms = time(i);
      // No run takes no time: 0 is a timing that measured nothing (no timed runs).
      if (!std::isfinite(ms) || ms <= 0) throw Error("timed at " + std::to_string(ms) + " ms");
      c.ms[i] = ms;
      if (!any || ms < c.ms[c.index]) c.index = i;
      any = true;
    } catch (const std::exception& e) {
      c.errors[i] = e.what();
    }
  }
  if (!any) {
    std::string why;
    for (std::size_t i = 0; i < p.candidates.size(); ++i) why += "\n  " + p.candidates[i] + ": " + c.errors[i];
    throw Error("autotune '" + p.name + "': no candidate ran:" + why);
  }
  return c;
}

}  // namespace

std::string tune_device(int ordinal) {
  const auto d = device_props(ordinal);
  return d.name + " " + d.target() + " " + std::to_string(d.sm_count) + " SMs";
}

std::string tune_key(const TuneProblem& p) {
  // Each field with its length, so that fields cannot run together.
  std::string text;
  auto field = [&](std::string_view f) { text += std::to_string(f.size()) + ":" + std::string(f) + ";"; };
  field(kHeader);
  field(WEFT_VERSION);
  field(p.device);
  field(p.name);
  for (const auto& c : p.candidates) field(c);
  return sha256_hex(text);
}

std::string format_tune_entry(const TuneProblem& p, const TuneChoice& c) {
  std::ostringstream o;
  o << kHeader << "\nproblem " << p.name << "\ndevice " << p.device << "\nchoice " << p.candidates.at(c.index) << "\n";
  for (std::size_t i = 0; i < c.ms.size() && i < p.candidates.size(); ++i) {
    o << "candidate " << p.candidates[i] << ' ';
    if (std::isfinite(c.ms[i])) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.6f", c.ms[i]);
      o << ms << " ms\n";
    } else {
      o << "failed\n";
    }
  }
  return o.str();
}

std::optional<std::size_t> parse_tune_entry(const TuneProblem& p, std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != kHeader) return std::nullopt;
  while (std::getline(in, line)) {
    if (!line.starts_with("choice ")) continue;
    const std::string label = line.substr(7);
    for (std::size_t i = 0; i < p.candidates.size(); ++i)
      if (p.candidates[i] == label) return i;
    return std::nullopt;
  }
  return std::nullopt;
}

TuneChoice autotune(const TuneProblem& p, const std::function<double(std::size_t)>& time, DiskCache& cache) {
  check_problem(p);
  const TuneMode mode = tune_mode();
  if (mode == TuneMode::off) return TuneChoice{.source = TuneChoice::Source::off};
  const std::string key = tune_key(p);
  {
    std::lock_guard lock(memo_mutex);
    if (auto it = memo().find(key); it != memo().end()) return TuneChoice{.index = it->second, .source = TuneChoice::Source::memory};
  }
  std::optional<TuneChoice> timed;
  auto text_of = [](const CacheEntry& e) {
    return std::string_view(reinterpret_cast<const char*>(e.data.data()), e.data.size());
  };
  // An entry that is not a choice among these candidates (written by hand, or by another format)
  // counts as corrupt: the cache deletes it under the key's lock and times again. So does every entry
  // with WEFT_TUNE=retime (once per process: the memory above answers the next call).
  const auto r = cache.get_or_build(
      key,
      [&] {
        timed = time_all(p, time);
        const auto text = format_tune_entry(p, *timed);
        CacheEntry e;
        e.data.resize(text.size());
        std::memcpy(e.data.data(), text.data(), text.size());
        return e;
      },
      [&](const CacheEntry& e) { return mode != TuneMode::retime && parse_tune_entry(p, text_of(e)).has_value(); });
  TuneChoice c;
  if (timed) c = std::move(*timed);
  else c = TuneChoice{.index = *parse_tune_entry(p, text_of(r.entry)), .source = TuneChoice::Source::disk};
  std::lock_guard lock(memo_mutex);
  memo()[key] = c.index;
  return c;
}

void autotune_forget() {
  std::lock_guard lock(memo_mutex);
  memo().clear();
}

std::vector<RememberedTune> remembered_tunes(const DiskCache& cache) {
  std::vector<RememberedTune> v;
  if (!cache.enabled()) return v;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(cache.directory() / "v1" / "entries", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::ifstream in(it->path() / "data");
    std::string line;
    if (!std::getline(in, line) || line != kHeader) continue;
    RememberedTune t;
    while (std::getline(in, line)) {
      if (line.starts_with("problem ")) t.problem = line.substr(8);
      else if (line.starts_with("device ")) t.device = line.substr(7);
      else if (line.starts_with("choice ")) t.choice = line.substr(7);
    }
    if (!t.choice.empty()) v.push_back(std::move(t));
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.problem < b.problem; });
  return v;
}

}  // namespace weft::rt
