#include "runtime/stream.h"

#include <utility>

#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt {

namespace {
constexpr const char* kAsyncNote =
    "an earlier kernel or copy on this stream failed (after most kernel faults the context is "
    "unusable; run under compute-sanitizer to find the faulting access)";
}

Stream::Stream() {
  ensure_context();
  check(driver().cuStreamCreate(&s_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
}

Stream::~Stream() {
  if (s_ && driver_available()) driver().cuStreamDestroy(s_);
}

Stream::Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    if (s_) driver().cuStreamDestroy(s_);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

void Stream::synchronize() const {
  check(driver().cuStreamSynchronize(s_), "cuStreamSynchronize", kAsyncNote);
}

bool Stream::done() const {
  CUresult r = driver().cuStreamQuery(s_);
  if (r == CUDA_ERROR_NOT_READY) return false;
  check(r, "cuStreamQuery", kAsyncNote);
  return true;
}

Event::Event() {
  ensure_context();
  check(driver().cuEventCreate(&e_, CU_EVENT_DEFAULT), "cuEventCreate");
}

Event::~Event() {
  if (e_ && driver_available()) driver().cuEventDestroy(e_);
}

Event::Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    if (e_) driver().cuEventDestroy(e_);
    e_ = std::exchange(o.e_, nullptr);
  }
  return *this;
}

void Event::record(CUstream stream) { check(driver().cuEventRecord(e_, stream), "cuEventRecord"); }

void Event::synchronize() const {
  check(driver().cuEventSynchronize(e_), "cuEventSynchronize", kAsyncNote);
}

float Event::elapsed_ms_since(const Event& start) const {
  synchronize();
  float ms = 0;
  check(need(driver().cuEventElapsedTime, "cuEventElapsedTime")(&ms, start.e_, e_),
        "cuEventElapsedTime");
  return ms;
}

}  // namespace weft::rt
