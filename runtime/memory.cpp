#include "runtime/memory.h"

#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt::mem {

CUdeviceptr alloc(std::size_t bytes) {
  ensure_context();
  CUdeviceptr p = 0;
  check(driver().cuMemAlloc(&p, bytes), "cuMemAlloc", std::to_string(bytes) + " bytes");
  return p;
}

void free(CUdeviceptr p) noexcept {
  // Destructors must not throw; a failed free (context already torn down) is ignored.
  if (!p) return;
  std::string why;
  if (driver_available(&why)) driver().cuMemFree(p);
}

void copy_to_device(CUdeviceptr dst, const void* src, std::size_t bytes, CUstream stream, bool async) {
  if (bytes == 0) return;  // an empty buffer (null pointer): nothing to move, and no driver call
  ensure_context();
  if (async)
    check(driver().cuMemcpyHtoDAsync(dst, src, bytes, stream), "cuMemcpyHtoDAsync");
  else
    check(driver().cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

void copy_to_host(void* dst, CUdeviceptr src, std::size_t bytes, CUstream stream, bool async) {
  if (bytes == 0) return;  // an empty buffer (null pointer): nothing to move, and no driver call
  ensure_context();
  if (async)
    check(driver().cuMemcpyDtoHAsync(dst, src, bytes, stream), "cuMemcpyDtoHAsync");
  else
    check(driver().cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH",
          "a synchronous copy also reports errors of kernels launched before it");
}

void copy_device(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes) {
  ensure_context();
  check(driver().cuMemcpyDtoD(dst, src, bytes), "cuMemcpyDtoD");
}

void set_bytes(CUdeviceptr dst, std::uint8_t value, std::size_t bytes, CUstream stream, bool async) {
  if (bytes == 0) return;  // an empty buffer (null pointer): nothing to move, and no driver call
  ensure_context();
  if (async)
    check(driver().cuMemsetD8Async(dst, value, bytes, stream), "cuMemsetD8Async");
  else
    check(driver().cuMemsetD8(dst, value, bytes), "cuMemsetD8");
}

void* host_alloc(std::size_t bytes) {
  ensure_context();
  void* p = nullptr;
  check(driver().cuMemHostAlloc(&p, bytes, CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc",
        std::to_string(bytes) + " bytes");
  return p;
}

void host_free(void* p) noexcept {
  if (!p) return;
  std::string why;
  if (driver_available(&why)) driver().cuMemFreeHost(p);
}

void check_size(std::size_t have, std::size_t want, const char* what) {
  if (have != want)
    throw Error(std::string("copy size mismatch: the ") + what + " has " + std::to_string(have) +
                " elements, the device buffer " + std::to_string(want));
}

}  // namespace weft::rt::mem
