// weft::rt::Error: the one exception type the runtime throws.
//
// Why one type: a host program wraps its weft calls in one `catch (const weft::rt::Error&)` and gets
// a message that already says what failed and why (the driver call, the CUresult name, JIT logs, the
// kernel parameter). The header is standard-library only so the pure parts of the runtime (argument
// checks, target selection, tensor-map checks, the cache) can throw it without cuda.h.
#pragma once

#include <stdexcept>
#include <string>

namespace weft::rt {

class Error : public std::runtime_error {
 public:
  // A runtime error that is not a failed driver call (bad arguments, no fitting target, ...).
  explicit Error(const std::string& message);
  // A failed driver call: `call` is the entry point ("cuModuleLoadDataEx"), `result` the CUresult
  // value, `result_name` its name ("CUDA_ERROR_INVALID_PTX"); `message` is the full text.
  Error(const std::string& message, std::string call, int result, std::string result_name);

  // The driver entry point that failed, or "" when the error did not come from a driver call.
  const std::string& call() const { return call_; }
  // The CUresult (0 when the error did not come from a driver call).
  int result() const { return result_; }
  // "CUDA_ERROR_..." (empty when the error did not come from a driver call).
  const std::string& result_name() const { return result_name_; }

 private:
  std::string call_;
  int result_ = 0;
  std::string result_name_;
};

}  // namespace weft::rt
