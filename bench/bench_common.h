// Shared by the GPU benchmarks: event-timed medians and the card/date header every result carries.
#pragma once

#include <algorithm>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "runtime/timing.h"
#include "runtime/weft_rt.h"

namespace weft::bench {

// The runtime's event-timed median (runtime/timing.h), on the default stream.
using rt::median;
inline double median_ms(const std::function<void(int)>& run, int warmup, int timed) {
  return rt::median_ms(run, warmup, timed);
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
