#include "runtime/jit.h"

#include <chrono>
#include <cstdint>
#include <cstring>

#include "runtime/device.h"
#include "runtime/driver.h"
#include "runtime/ptx_text.h"
#include "runtime/targets.h"

namespace weft::rt {

namespace {

constexpr std::size_t kLogBytes = 64 * 1024;

std::string trimmed(const std::vector<char>& log) {
  std::string s(log.data(), strnlen(log.data(), log.size()));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Owns a CUlinkState so every exit path destroys it.
struct LinkState {
  CUlinkState s = nullptr;
  ~LinkState() {
    if (s) driver().cuLinkDestroy(s);
  }
};

}  // namespace

std::string JitOptions::canonical() const {
  // Appended piecewise: `"O" + std::to_string(...)` trips GCC 12's -Wrestrict false positive at -O3.
  std::string s = "O";
  s += std::to_string(optimization_level);
  if (line_info) s += " lineinfo";
  if (max_registers) {
    s += " maxrreg=";
    s += std::to_string(max_registers);
  }
  return s;
}

std::string ptx_too_new_message(const std::string& origin, const std::string& ptx_version,
                                int driver_version, const std::string& driver_max) {
  return origin + " is PTX ISA " + ptx_version + ", newer than the CUDA driver " +
         driver_version_string(driver_version) + " supports (up to PTX ISA " +
         (driver_max.empty() ? std::string("?") : driver_max) +
         "); update the driver, or emit the module for an older PTX ISA";
}

JitResult jit_ptx_to_cubin(std::string_view ptx, const JitOptions& o, const std::string& origin) {
  const Driver& d = driver();
  ensure_context();
  std::vector<char> error_log(kLogBytes, '\0'), info_log(kLogBytes, '\0');
  std::vector<CUjit_option> keys;
  std::vector<void*> values;
  auto opt = [&](CUjit_option k, std::uintptr_t v) {
    keys.push_back(k);
    values.push_back(reinterpret_cast<void*>(v));
  };
  opt(CU_JIT_ERROR_LOG_BUFFER, reinterpret_cast<std::uintptr_t>(error_log.data()));
  opt(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, kLogBytes - 1);
  opt(CU_JIT_INFO_LOG_BUFFER, reinterpret_cast<std::uintptr_t>(info_log.data()));
  opt(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, kLogBytes - 1);
  opt(CU_JIT_LOG_VERBOSE, 1);
  opt(CU_JIT_OPTIMIZATION_LEVEL, static_cast<std::uintptr_t>(o.optimization_level));
  if (o.line_info) opt(CU_JIT_GENERATE_LINE_INFO, 1);
  if (o.max_registers) opt(CU_JIT_MAX_REGISTERS, o.max_registers);

  const auto t0 = std::chrono::steady_clock::now();
  LinkState link;
  check(d.cuLinkCreate(static_cast<unsigned>(keys.size()), keys.data(), values.data(), &link.s),
        "cuLinkCreate");

  auto fail = [&](CUresult r, const char* call) {
    std::string context = "JIT of " + origin + " failed";
    if (r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
      auto v = ptx_version_of(ptx);
      auto max = max_ptx_isa(d.version);
      context = ptx_too_new_message(origin, v ? v->str() : "?", d.version, max ? max->str() : "");
    }
    std::string log = trimmed(error_log);
    if (!log.empty()) context += "\nJIT error log:\n" + log;
    throw_driver_error(r, call, context);
  };
  // The driver reads the PTX as a C string: pass a terminated copy.
  std::string text(ptx);
  if (CUresult r = d.cuLinkAddData(link.s, CU_JIT_INPUT_PTX, text.data(), text.size() + 1,
                                   origin.c_str(), 0, nullptr, nullptr);
      r != CUDA_SUCCESS)
    fail(r, "cuLinkAddData");
  void* cubin = nullptr;
  std::size_t size = 0;
  if (CUresult r = d.cuLinkComplete(link.s, &cubin, &size); r != CUDA_SUCCESS) fail(r, "cuLinkComplete");

  JitResult out;
  const auto* b = static_cast<const std::byte*>(cubin);
  out.cubin.assign(b, b + size);  // the linker owns `cubin` until cuLinkDestroy
  out.info_log = trimmed(info_log);
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace weft::rt
