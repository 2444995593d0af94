// Timing launches on the device: the median of event-timed runs after warm-up runs. Used by the
// benchmarks and by autotune (autotune.h), so both measure the same way.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "runtime/stream.h"

namespace weft::rt {

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Median milliseconds of `timed` runs after `warmup` runs, each run between two events recorded on
// `stream`. `run(i)` gets the run's index (warm-up runs first), so callers can rotate inputs.
inline double median_ms(const std::function<void(int)>& run, int warmup, int timed, CUstream stream = nullptr) {
  for (int i = 0; i < warmup; ++i) run(i);
  std::vector<double> ms;
  Event start, stop;
  for (int i = 0; i < timed; ++i) {
    start.record(stream);
    run(warmup + i);
    stop.record(stream);
    stop.synchronize();
    ms.push_back(elapsed_ms(start, stop));
  }
  return median(std::move(ms));
}

}  // namespace weft::rt
