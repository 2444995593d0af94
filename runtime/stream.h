// Streams and events (RAII, move-only).
//
// Why synchronize() reports the kernel error: kernel faults are asynchronous; the first call that
// waits is where a program learns of them. Stream::synchronize() turns that result into an Error that
// says so, instead of a bare CUDA_ERROR_ILLEGAL_ADDRESS from some unrelated later call.
#pragma once

#include <cuda.h>

namespace weft::rt {

class Stream {
 public:
  // A non-blocking stream (does not serialise with the legacy default stream).
  Stream();
  ~Stream();
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  CUstream get() const { return s_; }
  operator CUstream() const { return s_; }

  // Waits for the stream; throws Error naming the failure of any kernel or copy queued on it.
  void synchronize() const;
  // True when all work queued so far has finished (throws on an error, like synchronize()).
  bool done() const;

 private:
  CUstream s_ = nullptr;
};

class Event {
 public:
  Event();  // timing enabled
  ~Event();
  Event(Event&& o) noexcept;
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  CUevent get() const { return e_; }
  void record(CUstream stream = nullptr);
  void synchronize() const;
  // Milliseconds from `start` to this event; both must have been recorded (waits for this one).
  float elapsed_ms_since(const Event& start) const;

 private:
  CUevent e_ = nullptr;
};

// Milliseconds between two recorded events.
inline float elapsed_ms(const Event& start, const Event& end) { return end.elapsed_ms_since(start); }

}  // namespace weft::rt
