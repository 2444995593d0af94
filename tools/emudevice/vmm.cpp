#include "tools/emudevice/vmm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace weft::emu {
namespace {

constexpr char kMagic[8] = {'W', 'E', 'F', 'T', 'V', 'M', 'M', '1'};
constexpr std::uint64_t kHeartbeatInTrailer = 16;  // after the magic and the size

struct Trailer {
  char magic[8];
  std::uint64_t bytes;
  std::uint64_t heartbeat;
};

bool read_trailer(int fd, std::uint64_t at, Trailer* t) {
  return ::pread(fd, t, sizeof *t, static_cast<off_t>(at)) == static_cast<ssize_t>(sizeof *t);
}

// The allocation properties weft's Ipc heap asks for, the only ones a device-memory allocation here
// can have: pinned, on device 0, exportable as a file descriptor (or not at all).
bool supported(const CUmemAllocationProp* prop) {
  return prop && prop->type == CU_MEM_ALLOCATION_TYPE_PINNED && prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE &&
         prop->location.id == 0 &&
         (prop->requestedHandleTypes == CU_MEM_HANDLE_TYPE_NONE ||
          prop->requestedHandleTypes == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
}

bool overlaps(std::uint64_t a, std::uint64_t an, std::uint64_t b, std::uint64_t bn) { return a < b + bn && b < a + an; }

// Puts the reservation back over [va, va + bytes): no access, as before cuMemMap (never a hole in the
// arena's address range that an unrelated mmap could take).
bool unmap_range(Arena& arena, std::uint64_t va, std::uint64_t bytes) {
  return ::mmap(arena.host(va), bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) !=
         MAP_FAILED;
}

}  // namespace

VirtualMemory::~VirtualMemory() {
  for (const auto& [va, m] : mapped_) unmap_range(arena_, va, m.bytes);
  for (const auto& [h, p] : physical_) ::close(p.fd);
}

CUresult VirtualMemory::granularity(std::size_t* out, const CUmemAllocationProp* prop) const {
  if (!out || !supported(prop)) return CUDA_ERROR_INVALID_VALUE;
  *out = kGranularity;
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::create(CUmemGenericAllocationHandle* out, std::size_t bytes, const CUmemAllocationProp* prop,
                               unsigned long long flags) {
  if (!out || !supported(prop) || flags != 0 || bytes == 0 || bytes % kGranularity) return CUDA_ERROR_INVALID_VALUE;
  const int fd = ::memfd_create("weft-emu-vmm", MFD_CLOEXEC);
  if (fd < 0) return CUDA_ERROR_OUT_OF_MEMORY;
  // Blocks reserved up front: running out of memory is this call's error, never a SIGBUS later.
  Trailer t{{}, bytes, 0};
  std::memcpy(t.magic, kMagic, sizeof kMagic);
  if (::ftruncate(fd, static_cast<off_t>(bytes + kTrailer)) != 0 ||
      ::posix_fallocate(fd, 0, static_cast<off_t>(bytes + kTrailer)) != 0 ||
      ::pwrite(fd, &t, sizeof t, static_cast<off_t>(bytes)) != static_cast<ssize_t>(sizeof t)) {
    ::close(fd);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  const CUmemGenericAllocationHandle h = next_handle_++;
  physical_[h] = Physical{fd, bytes, true, prop->requestedHandleTypes == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                          false, 0};
  *out = h;
  return CUDA_SUCCESS;
}

void VirtualMemory::drop_if_unused(CUmemGenericAllocationHandle h) {
  auto it = physical_.find(h);
  if (it == physical_.end() || !it->second.released || it->second.mappings > 0) return;
  ::close(it->second.fd);
  physical_.erase(it);
}

CUresult VirtualMemory::release(CUmemGenericAllocationHandle h) {
  auto it = physical_.find(h);
  if (it == physical_.end() || it->second.released) return CUDA_ERROR_INVALID_VALUE;
  it->second.released = true;
  drop_if_unused(h);
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::export_fd(int* out, CUmemGenericAllocationHandle h, CUmemAllocationHandleType type) {
  auto it = physical_.find(h);
  // Only what cuMemCreate was asked to make exportable (requestedHandleTypes), as the driver enforces.
  if (!out || it == physical_.end() || it->second.released || !it->second.exportable ||
      type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
    return CUDA_ERROR_INVALID_VALUE;
  const int fd = ::fcntl(it->second.fd, F_DUPFD_CLOEXEC, 0);  // the caller owns (and closes) it
  if (fd < 0) return CUDA_ERROR_OUT_OF_MEMORY;
  *out = fd;
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::import_fd(CUmemGenericAllocationHandle* out, int fd, CUmemAllocationHandleType type) {
  if (!out || type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) return CUDA_ERROR_INVALID_VALUE;
  // Only a descriptor this emulated device exported (in any process) is memory: its trailer says so.
  struct stat st{};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kTrailer)) return CUDA_ERROR_INVALID_VALUE;
  const auto bytes = static_cast<std::uint64_t>(st.st_size) - kTrailer;
  Trailer t{};
  if (!read_trailer(fd, bytes, &t) || std::memcmp(t.magic, kMagic, sizeof kMagic) != 0 || t.bytes != bytes ||
      bytes == 0 || bytes % kGranularity)
    return CUDA_ERROR_INVALID_VALUE;
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // the caller may close its descriptor
  if (own < 0) return CUDA_ERROR_OUT_OF_MEMORY;
  const CUmemGenericAllocationHandle h = next_handle_++;
  physical_[h] = Physical{own, bytes, false, false, false, 0};  // an import is not exported again
  *out = h;
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::reserve(CUdeviceptr* out, std::size_t bytes, std::size_t alignment, CUdeviceptr hint) {
  if (!out || bytes == 0 || bytes % kGranularity || (alignment & (alignment - 1))) return CUDA_ERROR_INVALID_VALUE;
  if (bytes > Arena::kVirtualSpan) return CUDA_ERROR_OUT_OF_MEMORY;
  const std::uint64_t align = std::max<std::uint64_t>(alignment, kGranularity);
  const auto fits = [&](std::uint64_t at) {
    if (at % align || at < arena_.virtual_begin() || at > arena_.virtual_end() - bytes) return false;
    for (const auto& [va, n] : reserved_)  // a free granule on both sides of each: overruns fault
      if (overlaps(at, bytes + kGranularity, va, n + kGranularity)) return false;
    return true;
  };
  // The hint when it is free (the driver treats it as a request, not a demand), else first fit.
  std::uint64_t at = hint && fits(hint) ? hint : arena_.virtual_begin();
  if (!fits(at)) {
    at = arena_.virtual_begin();
    for (const auto& [va, n] : reserved_) {
      if (fits(at)) break;
      at = (va + n + kGranularity + align - 1) / align * align;
    }
    if (!fits(at)) return CUDA_ERROR_OUT_OF_MEMORY;
  }
  reserved_[at] = bytes;
  *out = at;
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::free(CUdeviceptr va, std::size_t bytes) {
  auto it = reserved_.find(va);
  if (it == reserved_.end() || it->second != bytes) return CUDA_ERROR_INVALID_VALUE;
  for (const auto& [m, mapping] : mapped_)
    if (overlaps(m, mapping.bytes, va, bytes)) return CUDA_ERROR_INVALID_VALUE;  // unmap first
  reserved_.erase(it);
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::map(CUdeviceptr va, std::size_t bytes, std::size_t offset, CUmemGenericAllocationHandle h) {
  auto p = physical_.find(h);
  if (p == physical_.end() || p->second.released || offset != 0 || bytes != p->second.bytes || va % kGranularity)
    return CUDA_ERROR_INVALID_VALUE;
  auto r = reserved_.upper_bound(va);
  if (r == reserved_.begin()) return CUDA_ERROR_INVALID_VALUE;
  --r;
  if (va + bytes > r->first + r->second) return CUDA_ERROR_INVALID_VALUE;  // outside every reservation
  for (const auto& [m, mapping] : mapped_)
    if (overlaps(m, mapping.bytes, va, bytes)) return CUDA_ERROR_INVALID_VALUE;
  void* at = ::mmap(arena_.host(va), bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, p->second.fd, 0);
  if (at == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
  mapped_[va] = Mapping{bytes, h, false};
  ++p->second.mappings;
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::unmap(CUdeviceptr va, std::size_t bytes) {
  auto it = mapped_.find(va);
  if (it == mapped_.end() || it->second.bytes != bytes) return CUDA_ERROR_INVALID_VALUE;
  if (!unmap_range(arena_, va, bytes)) return CUDA_ERROR_OUT_OF_MEMORY;  // still mapped: nothing changed
  const CUmemGenericAllocationHandle h = it->second.handle;
  mapped_.erase(it);
  --physical_[h].mappings;
  drop_if_unused(h);
  return CUDA_SUCCESS;
}

CUresult VirtualMemory::set_access(CUdeviceptr va, std::size_t bytes, const CUmemAccessDesc* desc, std::size_t count) {
  if (!desc || count != 1 || desc->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return CUDA_ERROR_INVALID_VALUE;  // one device, so one descriptor; host access is not modelled
  if (desc->location.id != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (desc->flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE && desc->flags != CU_MEM_ACCESS_FLAGS_PROT_NONE)
    return CUDA_ERROR_NOT_SUPPORTED;  // read-only mappings are not modelled
  // The range must be covered by whole mappings, one after another.
  std::vector<Mapping*> covered;
  for (std::uint64_t at = va; at < va + bytes;) {
    auto it = mapped_.find(at);
    if (it == mapped_.end() || at + it->second.bytes > va + bytes) return CUDA_ERROR_INVALID_VALUE;
    covered.push_back(&it->second);
    at += it->second.bytes;
  }
  if (covered.empty()) return CUDA_ERROR_INVALID_VALUE;
  for (Mapping* m : covered) m->accessible = desc->flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  return CUDA_SUCCESS;
}

const VirtualMemory::Mapping* VirtualMemory::mapping_at(std::uint64_t address, std::uint64_t bytes) const {
  auto it = mapped_.upper_bound(address);
  if (it == mapped_.begin()) return nullptr;
  --it;
  return address + bytes <= it->first + it->second.bytes && address + bytes >= address ? &it->second : nullptr;
}

bool VirtualMemory::accessible(std::uint64_t address, std::uint64_t bytes) const {
  const Mapping* m = mapping_at(address, bytes);
  return m && m->accessible;
}

std::vector<LaunchMapping> VirtualMemory::launch_mappings() const {
  std::vector<LaunchMapping> out;
  const std::string fds = "/proc/" + std::to_string(::getpid()) + "/fd/";
  for (const auto& [va, m] : mapped_)
    if (m.accessible) {
      const Physical& p = physical_.at(m.handle);
      out.push_back({va, m.bytes, fds + std::to_string(p.fd), p.bytes + kHeartbeatInTrailer});
    }
  return out;
}

void VirtualMemory::heartbeat() const {
  for (const auto& [h, p] : physical_) {
    if (p.mappings == 0) continue;
    std::uint64_t beat = 0;
    const auto at = static_cast<off_t>(p.bytes + kHeartbeatInTrailer);
    if (::pread(p.fd, &beat, sizeof beat, at) == static_cast<ssize_t>(sizeof beat)) {
      ++beat;
      (void)!::pwrite(p.fd, &beat, sizeof beat, at);
    }
  }
}

std::uint64_t VirtualMemory::created_bytes() const {
  std::uint64_t n = 0;
  for (const auto& [h, p] : physical_)
    if (p.created_here) n += p.bytes;
  return n;
}

}  // namespace weft::emu
