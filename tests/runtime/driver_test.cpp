// The driver loader's failure paths (run on any machine: they load libraries that are not a driver).
#include <doctest/doctest.h>

#include <cstdlib>

#include "runtime/driver.h"

using namespace weft::rt;

TEST_CASE("a missing library gives 'no CUDA driver found' with dlerror's text") {
  try {
    load_driver("/nonexistent/libcuda.so.1");
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.starts_with("no CUDA driver found: /nonexistent/libcuda.so.1 ("));
    CHECK(m.find("No such file or directory") != std::string::npos);
    CHECK(m.ends_with(")"));
    CHECK(e.result() == 0);
    CHECK(e.call().empty());
  }
}

TEST_CASE("a library that is not a CUDA driver is refused, not called") {
  // libm is on every glibc system and has no cuGetProcAddress_v2.
  CHECK_THROWS_WITH_AS(load_driver("libm.so.6"),
                       "no usable CUDA driver: libm.so.6 has no cuGetProcAddress_v2 (weft needs a CUDA 12.0 "
                       "or newer driver)",
                       Error);
}

TEST_CASE("WEFT_LIBCUDA overrides the library path") {
  const char* old = std::getenv("WEFT_LIBCUDA");
  std::string saved = old ? old : "";
  ::setenv("WEFT_LIBCUDA", "/opt/x/libcuda.so.1", 1);
  CHECK(driver_library_path() == "/opt/x/libcuda.so.1");
  ::unsetenv("WEFT_LIBCUDA");
  CHECK(driver_library_path() == "libcuda.so.1");
  if (old) ::setenv("WEFT_LIBCUDA", saved.c_str(), 1);
}

TEST_CASE("driver_version_string") {
  CHECK(driver_version_string(13000) == "13.0");
  CHECK(driver_version_string(12090) == "12.9");
  CHECK(driver_version_string(12040) == "12.4");
}
