// The start of every GPU program of the project (host apps and benchmarks): without a CUDA driver it
// prints "skipped: <why>" — the line tools/gpu/check.sh reads — so the program can exit 0 on a
// machine without a GPU.
#pragma once

#include <cstdio>
#include <string>

#include "runtime/driver.h"

namespace weft::samples {

inline bool gpu_or_skip() {
  std::string why;
  if (weft::rt::driver_available(&why)) return true;
  std::printf("skipped: %s\n", why.c_str());
  return false;
}

}  // namespace weft::samples
