// WEFT_APP_QUICK=1: the host apps run only their small cases (each still covering partial tiles,
// tails and grid-stride loops), so that a whole app runs in seconds on the emulated device
// (tools/emudevice, docs/emulator.md), whose kernels execute in a Python PTX emulator. On a GPU the
// apps run every case unless this is set.
#pragma once

#include <cstdlib>
#include <cstring>

namespace weft::samples {

inline bool quick_mode() {
  const char* v = std::getenv("WEFT_APP_QUICK");
  return v && *v && std::strcmp(v, "0") != 0;
}

// `full` normally, `quick` under WEFT_APP_QUICK.
template <class T>
T full_or_quick(T full, T quick) {
  return quick_mode() ? quick : full;
}

}  // namespace weft::samples
