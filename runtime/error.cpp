#include "runtime/error.h"

#include <utility>

namespace weft::rt {

Error::Error(const std::string& message) : std::runtime_error(message) {}

Error::Error(const std::string& message, std::string call, int result, std::string result_name)
    : std::runtime_error(message),
      call_(std::move(call)),
      result_(result),
      result_name_(std::move(result_name)) {}

}  // namespace weft::rt
