// The emulated device's memory: one sparse file mapped shared, so that the emulator (another
// process, tools/ptxemu/device_launch.py) reads and writes the same bytes. A device address is an
// offset in that file; the host reaches it at base() + address, which is also what pinned host
// allocations hand out (every allocation is "mapped": host and device see the same bytes).
//
// Allocations are 256-byte aligned with at least 256 unallocated bytes between neighbours, and the
// emulator is told exactly which ranges are live, so an access past the end of a buffer is an
// illegal-address fault, as it would be on a GPU (more reliably: there it may land in a neighbour).
//
// Above the capacity lies a span of addresses the arena never allocates: virtual memory management
// (vmm.h) reserves device ranges there and maps its own files over them, at the same offset from
// base(), so host() serves every device address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace weft::emu {

struct Allocation {
  std::uint64_t base = 0;
  std::uint64_t bytes = 0;
  std::string name;  // "cuMemAlloc", "cuMemHostAlloc", "global weft_debug_wait", ...
};

class Arena {
 public:
  // Creates the backing file in `dir` with room for `capacity` bytes. Throws std::runtime_error.
  Arena(const std::string& dir, std::uint64_t capacity);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // A zeroed allocation; nullopt when the capacity is exhausted or the file system cannot back it
  // (its blocks are reserved first, so a full disk is an allocation failure, never a SIGBUS later).
  std::optional<std::uint64_t> allocate(std::uint64_t bytes, std::string name);
  // False when `base` is not the start of a live allocation.
  bool release(std::uint64_t base);

  // The allocation holding [address, address + bytes), or null.
  const Allocation* find(std::uint64_t address, std::uint64_t bytes = 1) const;
  // The device address of a host pointer into the arena, or nullopt.
  std::optional<std::uint64_t> address_of(const void* host) const;

  std::byte* host(std::uint64_t address) const { return base_ + address; }
  // Device addresses [virtual_begin(), virtual_end()) are left to virtual memory management: no
  // allocation lands there, and the host mapping is a reservation without access until vmm.cpp maps
  // a file over part of it.
  std::uint64_t virtual_begin() const;
  std::uint64_t virtual_end() const { return virtual_begin() + kVirtualSpan; }
  static constexpr std::uint64_t kVirtualSpan = std::uint64_t{64} << 30;
  const std::string& path() const { return path_; }
  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t used() const;  // bytes in live allocations
  std::uint64_t top() const;   // one past the highest live byte (what the emulator maps)
  const std::map<std::uint64_t, Allocation>& allocations() const { return live_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t capacity_ = 0;
  std::uint64_t reserved_ = 0;  // bytes of address space at base_: the file's, then the virtual span
  std::byte* base_ = nullptr;
  std::map<std::uint64_t, Allocation> live_;  // by base
};

}  // namespace weft::emu
