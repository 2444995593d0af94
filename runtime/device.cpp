#include "runtime/device.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "runtime/driver.h"

namespace weft::rt {

namespace {

int attribute(CUdevice dev, CUdevice_attribute a, const char* what) {
  int v = 0;
  check(driver().cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute", what);
  return v;
}

// For informational attributes that a driver may retire (clock rates): 0 instead of an error.
int attribute_or_zero(CUdevice dev, CUdevice_attribute a) {
  int v = 0;
  return driver().cuDeviceGetAttribute(&v, a, dev) == CUDA_SUCCESS ? v : 0;
}

CUdevice device_handle(int ordinal) {
  const int n = device_count();
  if (ordinal < 0 || ordinal >= n)
    throw Error("device " + std::to_string(ordinal) + " does not exist (" + std::to_string(n) +
                " CUDA device" + (n == 1 ? "" : "s") + " found)");
  CUdevice dev = 0;
  check(driver().cuDeviceGet(&dev, ordinal), "cuDeviceGet");
  return dev;
}

int default_ordinal() {
  const char* env = std::getenv("WEFT_DEVICE");
  return env && *env ? std::atoi(env) : 0;
}

}  // namespace

int driver_version() { return driver().version; }

int device_count() {
  int n = 0;
  check(driver().cuDeviceGetCount(&n), "cuDeviceGetCount");
  return n;
}

namespace {
DeviceProps query_props(int ordinal) {
  CUdevice dev = device_handle(ordinal);
  const Driver& d = driver();
  DeviceProps p;
  p.ordinal = ordinal;
  char name[256] = {};
  check(d.cuDeviceGetName(name, sizeof name, dev), "cuDeviceGetName");
  p.name = name;
  check(d.cuDeviceTotalMem(&p.total_memory, dev), "cuDeviceTotalMem");
  p.cc_major = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability");
  p.cc_minor = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability");
  p.sm_count = attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count");
  p.max_threads_per_block = attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "threads per block");
  p.max_smem_per_block = attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "shared memory");
  p.max_smem_per_block_optin =
      attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "shared memory opt-in");
  p.max_smem_per_sm =
      attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, "shared memory per SM");
  p.regs_per_sm = attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, "registers");
  p.l2_bytes = attribute(dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2 size");
  p.clock_khz = attribute_or_zero(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
  p.memory_clock_khz = attribute_or_zero(dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
  p.memory_bus_bits = attribute_or_zero(dev, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
  p.cluster_launch = attribute(dev, CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH, "cluster launch") != 0;
  return p;
}
}  // namespace

// Queried once per device: the properties do not change, and the query is slow. On an H200 with
// driver 13.0, a GEMM host class that asked for the SM count on every launch showed a floor of about
// 1 ms per timed run, which went away with this cache (gemm_bench: 17 -> 530 TFLOP/s at 2048^3).
DeviceProps device_props(int ordinal) {
  static std::mutex m;
  static std::map<int, DeviceProps> cache;
  std::lock_guard lock(m);
  if (auto it = cache.find(ordinal); it != cache.end()) return it->second;
  DeviceProps p = query_props(ordinal);
  cache.emplace(ordinal, p);
  return p;
}

CUcontext primary_context(int ordinal) {
  // One retain per device for the life of the process; never released (other libraries in the
  // process may share it, and releasing during static destruction races the driver's own teardown).
  static std::mutex m;
  static std::vector<CUcontext> contexts;
  std::lock_guard lock(m);
  CUdevice dev = device_handle(ordinal);
  if (contexts.size() <= static_cast<std::size_t>(ordinal)) contexts.resize(ordinal + 1, nullptr);
  if (!contexts[ordinal])
    check(driver().cuDevicePrimaryCtxRetain(&contexts[ordinal], dev), "cuDevicePrimaryCtxRetain");
  return contexts[ordinal];
}

CUcontext ensure_context() {
  const Driver& d = driver();
  CUcontext cur = nullptr;
  check(d.cuCtxGetCurrent(&cur), "cuCtxGetCurrent");
  if (cur) return cur;
  cur = primary_context(default_ordinal());
  check(d.cuCtxSetCurrent(cur), "cuCtxSetCurrent");
  return cur;
}

int current_device() {
  ensure_context();
  CUdevice dev = 0;
  check(driver().cuCtxGetDevice(&dev), "cuCtxGetDevice");
  // CUdevice is the ordinal for every device the driver enumerates.
  return static_cast<int>(dev);
}

void synchronize() {
  ensure_context();
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize",
        "a kernel launched earlier failed (the context is unusable after most kernel errors)");
}

}  // namespace weft::rt
