#include "tools/emudevice/arena.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace weft::emu {
namespace {
constexpr std::uint64_t kAlign = 256;
constexpr std::uint64_t kGap = 256;        // unallocated bytes between neighbours
constexpr std::uint64_t kFirst = 0x10000;  // no allocation at small addresses: a null-ish pointer faults

std::uint64_t round_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

Arena::Arena(const std::string& dir, std::uint64_t capacity) : path_(dir + "/memory.bin"), capacity_(capacity) {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path_ + ": " + std::strerror(errno));
  if (::ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot size " + path_ + ": " + std::strerror(errno));
  }
  // One reservation for the file and the virtual span after it, then the file over its start.
  reserved_ = virtual_end();
  void* r = ::mmap(nullptr, reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) {
    ::close(fd);
    throw std::runtime_error("cannot reserve " + std::to_string(reserved_) + " bytes of address space: " +
                             std::strerror(errno));
  }
  void* p = ::mmap(r, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    ::munmap(r, reserved_);
    ::close(fd);
    throw std::runtime_error("cannot map " + path_ + ": " + std::strerror(errno));
  }
  fd_ = fd;
  base_ = static_cast<std::byte*>(p);
}

std::uint64_t Arena::virtual_begin() const { return round_up(capacity_, std::uint64_t{1} << 30) + (std::uint64_t{1} << 30); }

Arena::~Arena() {
  if (base_) ::munmap(base_, reserved_);
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::uint64_t> Arena::allocate(std::uint64_t bytes, std::string name) {
  const std::uint64_t need = round_up(bytes ? bytes : 1, kAlign);
  // First fit: the lowest gap that holds the allocation with kGap free bytes on both sides.
  std::uint64_t candidate = kFirst;
  for (const auto& [base, a] : live_) {
    if (candidate + need + kGap <= base) break;
    candidate = round_up(base + a.bytes + kGap, kAlign);
  }
  if (candidate + need > capacity_) return std::nullopt;
  if (::posix_fallocate(fd_, static_cast<off_t>(candidate), static_cast<off_t>(need)) != 0) return std::nullopt;
  std::memset(base_ + candidate, 0, need);
  live_[candidate] = Allocation{candidate, bytes, std::move(name)};
  return candidate;
}

bool Arena::release(std::uint64_t base) { return live_.erase(base) == 1; }

const Allocation* Arena::find(std::uint64_t address, std::uint64_t bytes) const {
  auto it = live_.upper_bound(address);
  if (it == live_.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  return address + bytes <= a.base + a.bytes && address + bytes >= address ? &a : nullptr;
}

std::optional<std::uint64_t> Arena::address_of(const void* host) const {
  const auto* p = static_cast<const std::byte*>(host);
  if (p < base_ || p >= base_ + capacity_) return std::nullopt;
  return static_cast<std::uint64_t>(p - base_);
}

std::uint64_t Arena::used() const {
  std::uint64_t n = 0;
  for (const auto& [base, a] : live_) n += a.bytes;
  return n;
}

std::uint64_t Arena::top() const {
  return live_.empty() ? kFirst : round_up(live_.rbegin()->second.base + live_.rbegin()->second.bytes, kAlign);
}

}  // namespace weft::emu
