// Virtual memory management on the emulated device: cuMemCreate, the POSIX file-descriptor export and
// import, cuMemAddressReserve, cuMemMap, cuMemSetAccess and their inverses, which the Ipc symmetric
// heap (runtime/comm/ipc.h) uses to map one process's buffer into another's.
//
// Physical memory is a memfd laid out as: bytes [0, B) the memory, then a 4096-byte trailer holding
// the magic "WEFTVMM1", B, and a heartbeat word. Exporting hands out a duplicate descriptor; another
// process imports it (after SCM_RIGHTS) and maps the same pages, so both hosts and both emulators see
// one memory. The heartbeat is how concurrent launches in several processes tell a wait on another
// process from a deadlock: every launch and host copy bumps it (device_launch.py's "mappings").
//
// Device ranges are reserved in the arena's virtual span and mapped at arena.host(va), so the copy
// functions reach mapped memory as they reach allocations. Not thread-safe: the caller holds the
// device lock.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/emudevice/arena.h"

namespace weft::emu {

// A mapped, accessible range as a launch request names it (device_launch.py's "mappings").
struct LaunchMapping {
  std::uint64_t va = 0;
  std::uint64_t bytes = 0;
  std::string path;  // a path the emulator process can open: /proc/<this pid>/fd/<descriptor>
  std::uint64_t heartbeat_offset = 0;
};

class VirtualMemory {
 public:
  static constexpr std::uint64_t kGranularity = std::uint64_t{2} << 20;  // as current GPUs report
  static constexpr std::uint64_t kTrailer = 4096;

  explicit VirtualMemory(Arena& arena) : arena_(arena) {}
  ~VirtualMemory();
  VirtualMemory(const VirtualMemory&) = delete;
  VirtualMemory& operator=(const VirtualMemory&) = delete;

  CUresult granularity(std::size_t* out, const CUmemAllocationProp* prop) const;
  CUresult create(CUmemGenericAllocationHandle* out, std::size_t bytes, const CUmemAllocationProp* prop,
                  unsigned long long flags);
  CUresult release(CUmemGenericAllocationHandle h);
  CUresult export_fd(int* out, CUmemGenericAllocationHandle h, CUmemAllocationHandleType type);
  CUresult import_fd(CUmemGenericAllocationHandle* out, int fd, CUmemAllocationHandleType type);
  CUresult reserve(CUdeviceptr* out, std::size_t bytes, std::size_t alignment, CUdeviceptr hint);
  CUresult free(CUdeviceptr va, std::size_t bytes);
  CUresult map(CUdeviceptr va, std::size_t bytes, std::size_t offset, CUmemGenericAllocationHandle h);
  CUresult unmap(CUdeviceptr va, std::size_t bytes);
  CUresult set_access(CUdeviceptr va, std::size_t bytes, const CUmemAccessDesc* desc, std::size_t count);

  // True when [address, address + bytes) lies in one mapping with read-write access set.
  bool accessible(std::uint64_t address, std::uint64_t bytes) const;
  // The accessible mappings, by address, for a launch request.
  std::vector<LaunchMapping> launch_mappings() const;
  // Bumps the heartbeat of every mapped file (this process made progress: a launch, a copy).
  void heartbeat() const;
  // Bytes of physical memory created here and not yet freed.
  std::uint64_t created_bytes() const;

 private:
  struct Physical {
    int fd = -1;
    std::uint64_t bytes = 0;
    bool created_here = false;  // cuMemCreate (counted in created_bytes) or an import
    bool exportable = false;    // created with CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR requested
    bool released = false;      // cuMemRelease was called; the memory goes with its last mapping
    int mappings = 0;
  };
  struct Mapping {
    std::uint64_t bytes = 0;
    CUmemGenericAllocationHandle handle = 0;
    bool accessible = false;
  };
  void drop_if_unused(CUmemGenericAllocationHandle h);
  const Mapping* mapping_at(std::uint64_t address, std::uint64_t bytes) const;

  Arena& arena_;
  CUmemGenericAllocationHandle next_handle_ = 1;
  std::map<CUmemGenericAllocationHandle, Physical> physical_;
  std::map<std::uint64_t, std::uint64_t> reserved_;  // va -> bytes
  std::map<std::uint64_t, Mapping> mapped_;          // va -> mapping
};

}  // namespace weft::emu
