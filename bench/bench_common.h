// Shared by the GPU benchmarks: event-timed medians and the card/date header every result carries.
#pragma once

#include <algorithm>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "runtime/weft_rt.h"

namespace weft::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Median milliseconds of `timed` runs (CUDA events on the default stream) after `warmup` runs.
// `run(i)` gets the run's index, so callers can rotate inputs.
inline double median_ms(const std::function<void(int)>& run, int warmup, int timed) {
  for (int i = 0; i < warmup; ++i) run(i);
  std::vector<double> ms;
  rt::Event start, stop;
  for (int i = 0; i < timed; ++i) {
    start.record();
    run(warmup + i);
    stop.record();
    stop.synchronize();
    ms.push_back(rt::elapsed_ms(start, stop));
  }
  return median(std::move(ms));
}

inline std::string today_utc() {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  return date;
}

// A CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a line break, so that
// labels such as "bulk 32K x4 lag1, 1 warp/SM" stay one column.
inline std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Where a benchmark writes its CSV: the argument, else $OUT/<name> (the GPU machine), else <name>.
inline std::string csv_path(int argc, char** argv, const std::string& name) {
  if (argc > 1) return argv[1];
  if (const char* out = std::getenv("OUT")) return std::string(out) + "/" + name;
  return name;
}

}  // namespace weft::bench
