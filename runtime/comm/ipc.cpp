#include "runtime/comm/ipc.h"

#include <unistd.h>

#include "runtime/comm/peer_table.h"
#include "runtime/device.h"
#include "runtime/driver.h"

namespace weft::rt::comm {

namespace {

CUmemAllocationProp allocation_prop(int device) {
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  return prop;
}

// One rank's allocation as mapped into this process.
struct Mapping {
  CUmemGenericAllocationHandle handle = 0;
  CUdeviceptr va = 0;
  bool mapped = false;
};

// Every rank's buffer mapped here; teardown unmaps, frees the address ranges and releases the handles.
struct IpcStorage final : SymmetricStorage {
  std::size_t size = 0;
  std::vector<Mapping> maps;
  ~IpcStorage() override {
    std::string why;
    if (!driver_available(&why)) return;
    const Driver& d = driver();
    for (Mapping& m : maps) {
      if (m.mapped) d.cuMemUnmap(m.va, size);
      if (m.va) d.cuMemAddressFree(m.va, size);
      if (m.handle) d.cuMemRelease(m.handle);
    }
  }
};

struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int f : fds)
      if (f >= 0) ::close(f);
  }
};

}  // namespace

std::size_t round_up(std::size_t bytes, std::size_t granularity) {
  return (bytes + granularity - 1) / granularity * granularity;
}

Ipc::Ipc(Bootstrap& bootstrap, int device)
    : SymmetricHeap(static_cast<std::uint32_t>(bootstrap.size()), static_cast<std::uint32_t>(bootstrap.rank()), 1,
                    device),
      boot_(bootstrap) {
  make_current();  // fails here, clearly, without a driver or device
  int posix_fd = 0;
  check(driver().cuDeviceGetAttribute(&posix_fd, CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
                                      static_cast<CUdevice>(device)),
        "cuDeviceGetAttribute", "POSIX file descriptor handles");
  if (!posix_fd)
    throw Error("Ipc: device " + std::to_string(device) +
                " cannot export memory as POSIX file descriptors (CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_"
                "SUPPORTED is 0); use the Nccl or LocalSim heap");
}

SymmetricBuffer Ipc::alloc(std::size_t bytes) {
  const auto sizes = boot_.allgather_value<std::uint64_t>(bytes);
  check_same_size(sizes, "Ipc::alloc size");
  if (bytes == 0) throw Error("Ipc::alloc: a symmetric buffer needs at least one byte");
  make_current();
  const Driver& d = driver();
  const int me = boot_.rank();
  const int n = boot_.size();
  const CUmemAllocationProp prop = allocation_prop(device());
  std::size_t gran = 0;
  check(d.cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM),
        "cuMemGetAllocationGranularity");
  auto storage = std::make_unique<IpcStorage>();
  storage->size = round_up(bytes, gran);
  storage->maps.resize(static_cast<std::size_t>(n));
  const std::string what = std::to_string(storage->size) + " bytes on device " + std::to_string(device());

  // Our own physical memory, exported as a descriptor and sent to everyone.
  CUmemGenericAllocationHandle own = 0;
  check(d.cuMemCreate(&own, storage->size, &prop, 0), "cuMemCreate", what);
  storage->maps[me].handle = own;
  int own_fd = -1;
  check(d.cuMemExportToShareableHandle(&own_fd, own, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0),
        "cuMemExportToShareableHandle");
  Fds fds;
  try {
    fds.fds = boot_.allgather_fds(own_fd);
  } catch (...) {
    ::close(own_fd);
    throw;
  }
  ::close(own_fd);

  CUmemAccessDesc access{};
  access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  access.location.id = device();
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  for (int p = 0; p < n; ++p) {
    Mapping& m = storage->maps[p];
    const std::string ctx = "rank " + std::to_string(p) + "'s buffer (" + what + ")";
    if (p != me)
      check(d.cuMemImportFromShareableHandle(&m.handle, reinterpret_cast<void*>(static_cast<std::uintptr_t>(fds.fds[p])),
                                             CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR),
            "cuMemImportFromShareableHandle", ctx);
    check(d.cuMemAddressReserve(&m.va, storage->size, gran, 0, 0), "cuMemAddressReserve", ctx);
    check(d.cuMemMap(m.va, storage->size, 0, m.handle, 0), "cuMemMap", ctx);
    m.mapped = true;
    check(d.cuMemSetAccess(m.va, storage->size, &access, 1), "cuMemSetAccess", ctx);
  }
  // Zero our own part; the barrier makes sure no rank uses the buffer before every rank has.
  mem::set_bytes(storage->maps[me].va, 0, storage->size);
  // A memset to device memory may still be running when the call returns; the other processes must
  // not see it land after their first write.
  check(d.cuCtxSynchronize(), "cuCtxSynchronize", "zeroing " + what);
  boot_.barrier();

  std::vector<CUdeviceptr> local{storage->maps[me].va};
  auto table = build_peer_table(1, static_cast<std::uint32_t>(n),
                                [&](std::uint32_t, std::uint32_t p) { return storage->maps[p].va; });
  return SymmetricBuffer(bytes, rank_base(), nranks(), std::move(local), std::move(table), std::move(storage));
}

}  // namespace weft::rt::comm
