// Shared by the GPU tests: skip cleanly where there is no driver or device, and scratch directories.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "runtime/weft_rt.h"

namespace weft::rt::test {

// The skip protocol of the GPU tests: with a reason, prints "skipped: <why>" once on stdout (what
// tools/gpu/check.sh looks for) and a doctest MESSAGE in each test that asks, and returns false.
inline bool proceed_unless(const std::string& why) {
  static bool printed = false;
  if (why.empty()) return true;
  if (!printed) std::printf("skipped: %s\n", why.c_str());
  printed = true;
  MESSAGE("skipped: " << why);
  return false;
}

// True when a driver and a device are present. Otherwise prints "skipped: no CUDA driver (...)"
// once on stdout, and a doctest MESSAGE in each test that asks, so the test passes as skipped.
inline bool have_gpu() {
  static const std::string why = [] {
    std::string w;
    if (!driver_available(&w)) return "no CUDA driver (" + w + ")";
    try {
      if (device_count() == 0) return std::string("no CUDA device");
    } catch (const Error& e) {
      return std::string("no CUDA device (") + e.what() + ")";
    }
    return std::string();
  }();
  return proceed_unless(why);
}

// The message of the Error that f() throws ("" when it throws none), for checks on several parts.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("weft-gpu-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace weft::rt::test

#define WEFT_REQUIRE_GPU()                  \
  do {                                      \
    if (!::weft::rt::test::have_gpu()) return; \
  } while (0)
