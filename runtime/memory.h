// Device memory, pinned host memory and typed device pointers.
//
// Why DevicePtr<T>: a device address is a 64-bit integer (CUdeviceptr) to C++, so a launch could not
// tell it from a u64 scalar. Wrapping it in DevicePtr<T> lets the argument check enforce "pointer
// parameter takes a pointer" and lets element-typed copies check their sizes. DeviceBuffer<T> owns
// an allocation (RAII, move-only) and passes as its DevicePtr<T> to a launch.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft::rt {

namespace mem {
// The untyped operations behind the templates (memory.cpp); all make a context current first.
CUdeviceptr alloc(std::size_t bytes);
void free(CUdeviceptr p) noexcept;
void copy_to_device(CUdeviceptr dst, const void* src, std::size_t bytes, CUstream stream = nullptr,
                    bool async = false);
void copy_to_host(void* dst, CUdeviceptr src, std::size_t bytes, CUstream stream = nullptr,
                  bool async = false);
void copy_device(CUdeviceptr dst, CUdeviceptr src, std::size_t bytes);
void set_bytes(CUdeviceptr dst, std::uint8_t value, std::size_t bytes, CUstream stream = nullptr,
               bool async = false);
void* host_alloc(std::size_t bytes);
void host_free(void* p) noexcept;
void check_size(std::size_t have, std::size_t want, const char* what);
}  // namespace mem

// A device address of T elements. Trivially copyable: it is what a kernel parameter receives.
template <class T>
struct DevicePtr {
  CUdeviceptr address = 0;

  constexpr DevicePtr() = default;
  constexpr explicit DevicePtr(CUdeviceptr a) : address(a) {}
  DevicePtr operator+(std::ptrdiff_t n) const {
    return DevicePtr(address + static_cast<CUdeviceptr>(n * static_cast<std::ptrdiff_t>(sizeof(T))));
  }
  explicit operator bool() const { return address != 0; }
  CUdeviceptr raw() const { return address; }
};

template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "device buffers hold trivially copyable elements");

 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count), ptr_(count ? mem::alloc(count * sizeof(T)) : 0) {}
  explicit DeviceBuffer(std::span<const T> host) : DeviceBuffer(host.size()) { copy_from(host); }
  ~DeviceBuffer() { mem::free(ptr_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : count_(std::exchange(o.count_, 0)), ptr_(std::exchange(o.ptr_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      mem::free(ptr_);
      count_ = std::exchange(o.count_, 0);
      ptr_ = std::exchange(o.ptr_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }
  DevicePtr<T> ptr() const { return DevicePtr<T>(ptr_); }
  operator DevicePtr<T>() const { return ptr(); }
  CUdeviceptr raw() const { return ptr_; }

  // Copies exactly size() elements (throws Error on a size mismatch).
  void copy_from(std::span<const T> host) {
    mem::check_size(host.size(), count_, "host source");
    mem::copy_to_device(ptr_, host.data(), bytes());
  }
  void copy_to(std::span<T> host) const {
    mem::check_size(host.size(), count_, "host destination");
    mem::copy_to_host(host.data(), ptr_, bytes());
  }
  // Asynchronous versions: the host memory must stay alive (and be pinned to overlap) until the
  // stream reaches the copy.
  void copy_from_async(std::span<const T> host, CUstream stream) {
    mem::check_size(host.size(), count_, "host source");
    mem::copy_to_device(ptr_, host.data(), bytes(), stream, true);
  }
  void copy_to_async(std::span<T> host, CUstream stream) const {
    mem::check_size(host.size(), count_, "host destination");
    mem::copy_to_host(host.data(), ptr_, bytes(), stream, true);
  }
  std::vector<T> to_vector() const {
    std::vector<T> v(count_);
    copy_to(v);
    return v;
  }
  // Sets every byte (0xFF poisons a float buffer with NaNs).
  void fill_bytes(std::uint8_t value) { mem::set_bytes(ptr_, value, bytes()); }
  void fill_bytes_async(std::uint8_t value, CUstream stream) {
    mem::set_bytes(ptr_, value, bytes(), stream, true);
  }

 private:
  std::size_t count_ = 0;
  CUdeviceptr ptr_ = 0;
};

// Page-locked host memory (fast, truly asynchronous copies).
template <class T>
class PinnedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "pinned buffers hold trivially copyable elements");

 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t count)
      : count_(count), p_(count ? static_cast<T*>(mem::host_alloc(count * sizeof(T))) : nullptr) {}
  ~PinnedBuffer() { mem::host_free(p_); }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : count_(std::exchange(o.count_, 0)), p_(std::exchange(o.p_, nullptr)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      mem::host_free(p_);
      count_ = std::exchange(o.count_, 0);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  std::size_t size() const { return count_; }
  T* data() { return p_; }
  const T* data() const { return p_; }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }
  std::span<T> span() { return {p_, count_}; }
  std::span<const T> span() const { return {p_, count_}; }
  operator std::span<T>() { return span(); }
  operator std::span<const T>() const { return span(); }

 private:
  std::size_t count_ = 0;
  T* p_ = nullptr;
};

}  // namespace weft::rt
