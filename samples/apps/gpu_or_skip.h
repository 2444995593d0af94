// The start of every GPU program of the project (host apps and benchmarks): without a CUDA driver it
// prints "skipped: <why>" — the line tools/gpu/check.sh reads — so the program can exit 0 on a
// machine without a GPU. It also makes stdout line-buffered: check.sh runs each program under a time
// limit with its output in a file, and a program cut short (a hung kernel) then keeps every line it
// printed instead of losing the last buffer.
#pragma once

#include <cstdio>
#include <string>

#include "runtime/driver.h"

namespace weft::samples {

inline bool gpu_or_skip() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string why;
  if (weft::rt::driver_available(&why)) return true;
  std::printf("skipped: %s\n", why.c_str());
  return false;
}

}  // namespace weft::samples
