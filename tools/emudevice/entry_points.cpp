// The emulated device's driver API: every entry point weft::rt resolves (runtime/driver.h's table),
// implemented over the arena (memory), ptxas (module checks) and tools/ptxemu (kernel execution).
// The library exports only cuGetProcAddress_v2, the one symbol weft::rt takes by name; each entry
// point is handed out with the signature of the PFN typedef weft asks for, checked at compile time.
//
// Behaviour that mirrors a GPU, so host programs meet the same errors: launches run to completion
// inside cuLaunchKernelEx, but a fault (trap, illegal or misaligned address, deadlock) is reported
// as the context's sticky error by the next call, as an asynchronous kernel error is; launch
// configurations are checked as the driver checks them (block limits, .reqntid/.maxntid, dynamic
// shared memory against the function's limit, cluster shape); copies must lie inside allocations.
#include <cuda.h>
#include <cudaTypedefs.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/driver.h"  // WEFT_DRIVER_ENTRY_POINTS: the table this library must serve
#include "tools/emudevice/arena.h"
#include "tools/emudevice/config.h"
#include "tools/emudevice/jit.h"
#include "tools/emudevice/launch.h"
#include "tools/emudevice/ptx_module.h"
#include "tools/emudevice/tensor_map.h"
#include "tools/emudevice/vmm.h"

namespace weft::emu {
namespace {

struct Module;

struct Function {
  Module* module = nullptr;
  const PtxEntry* entry = nullptr;
  rt::FunctionResources report;  // ptxas -v: registers, static shared memory, stack frame
  int static_smem() const { return static_cast<int>(report.smem); }
  int max_dynamic_smem = 0;
};

struct Module {
  PtxModule scan;
  std::string ptx_path;
  std::vector<std::pair<std::string, std::uint64_t>> globals;  // name -> address
  std::vector<std::unique_ptr<Function>> functions;
};

struct Link {
  char* error_log = nullptr;
  std::size_t error_size = 0;
  char* info_log = nullptr;
  std::size_t info_size = 0;
  std::optional<JitOutput> jit;
  std::vector<std::byte> image;
};

struct Event {
  std::chrono::steady_clock::time_point when;
  bool recorded = false;
};

struct Device {
  std::mutex mutex;
  std::string dir;
  std::unique_ptr<Arena> arena;
  std::unique_ptr<VirtualMemory> vmm;  // maps files over the arena's virtual span: goes first
  CUresult sticky = CUDA_SUCCESS;
  std::uint64_t launches = 0;
  CUcontext current = nullptr;
  int module_count = 0;

  ~Device() {
    vmm.reset();
    arena.reset();
    if (!dir.empty() && !config().keep) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

Device& device() {
  static Device d;
  return d;
}

// Shared memory a block may use without opting in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
constexpr int kSmemWithoutOptIn = 48 * 1024;

// The one context and device handle there are.
int g_context_tag;
CUcontext the_context() { return reinterpret_cast<CUcontext>(&g_context_tag); }

// Log buffers named by JIT options (CU_JIT_ERROR_LOG_BUFFER...).
struct JitLogs {
  char* error = nullptr;
  std::size_t error_size = 0;
  char* info = nullptr;
  std::size_t info_size = 0;
};

JitLogs read_log_options(unsigned n, const CUjit_option* keys, void* const* values) {
  JitLogs l;
  for (unsigned i = 0; keys && values && i < n; ++i) {
    const auto v = reinterpret_cast<std::uintptr_t>(values[i]);
    switch (keys[i]) {
      case CU_JIT_ERROR_LOG_BUFFER: l.error = static_cast<char*>(values[i]); break;
      case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES: l.error_size = v; break;
      case CU_JIT_INFO_LOG_BUFFER: l.info = static_cast<char*>(values[i]); break;
      case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES: l.info_size = v; break;
      default: break;
    }
  }
  return l;
}

void write_log(char* buf, std::size_t size, const std::string& text) {
  if (!buf || size == 0) return;
  const std::size_t n = std::min(size - 1, text.size());
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

Function* fn(CUfunction f) { return reinterpret_cast<Function*>(f); }
Module* mod(CUmodule m) { return reinterpret_cast<Module*>(m); }

// Every call but the error-name ones starts here: nothing works before cuInit, and after a kernel
// fault every call reports it.
#define EMU_BEGIN()                                   \
  Device& d = device();                               \
  std::lock_guard lock(d.mutex);                      \
  if (!d.arena) return CUDA_ERROR_NOT_INITIALIZED;    \
  if (d.sticky != CUDA_SUCCESS) return d.sticky

// ---------------------------------------------------------------- initialisation, device, context

CUresult cuInit(unsigned) {
  Device& d = device();
  std::lock_guard lock(d.mutex);
  if (d.arena) return CUDA_SUCCESS;
  try {
    std::string templ = (std::filesystem::temp_directory_path() / "weft-emu-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot create a directory like " + templ);
    d.dir = templ;
    d.arena = std::make_unique<Arena>(d.dir, config().memory_bytes);
    d.vmm = std::make_unique<VirtualMemory>(*d.arena);
    if (config().keep) std::fprintf(stderr, "weft emulated device: work directory %s\n", d.dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft emulated device: %s\n", e.what());
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int* v) {
  if (!v) return CUDA_ERROR_INVALID_VALUE;
  *v = kDriverVersion;
  return CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult r, const char** name);
CUresult cuGetErrorString(CUresult r, const char** text);

CUresult cuDeviceGetCount(int* n) {
  EMU_BEGIN();
  *n = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* dev, int ordinal) {
  EMU_BEGIN();
  if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
  EMU_BEGIN();
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  const std::string s = "weft emulated device (tools/ptxemu)";
  write_log(name, static_cast<std::size_t>(len), s);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice dev) {
  EMU_BEGIN();
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  const Config& c = config();
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = c.cc_major(); break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = c.cc_minor(); break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = c.sm_count; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X:
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *v = 64; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *v = 2147483647; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = kSmemWithoutOptIn; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = c.smem_optin_per_block(); break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *v = c.smem_per_sm(); break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *v = c.max_threads_per_sm(); break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = 50 * 1024 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *v = 1000000; break;  // 1 GHz, nominal: nothing here is timed
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = 1000000; break;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH: *v = c.has_clusters() ? 1 : 0; break;
    case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING:
    case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY: *v = 1; break;
    case CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED:
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED: *v = 1; break;  // vmm.h
    case CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED: *v = 0; break;
    default: *v = 0; break;
  }
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t* bytes, CUdevice dev) {
  EMU_BEGIN();
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = d.arena->capacity();
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice dev) {
  EMU_BEGIN();
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  *ctx = the_context();
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev) {
  EMU_BEGIN();
  return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuCtxGetCurrent(CUcontext* ctx) {
  EMU_BEGIN();
  *ctx = d.current;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
  EMU_BEGIN();
  if (ctx && ctx != the_context()) return CUDA_ERROR_INVALID_CONTEXT;
  d.current = ctx;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice* dev) {
  EMU_BEGIN();
  if (!d.current) return CUDA_ERROR_INVALID_CONTEXT;
  *dev = 0;
  return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize() {
  EMU_BEGIN();
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- memory

// The range [a, a + n) must lie in one live allocation or one accessible mapping, as the driver
// requires of copies. A write into mapped memory is progress other processes may be waiting for: it
// bumps the heartbeat (vmm.h); a read is not (a host polling a peer's flag must not keep it waiting).
#define EMU_RANGE_CHECK(a, n, writes)                                              \
  if ((n) != 0 && !d.arena->find((a), (n))) {                                      \
    if (!d.vmm->accessible((a), (n))) return CUDA_ERROR_INVALID_VALUE;             \
    if (writes) d.vmm->heartbeat();                                                \
  }
#define EMU_SOURCE(a, n) EMU_RANGE_CHECK(a, n, false)
#define EMU_DESTINATION(a, n) EMU_RANGE_CHECK(a, n, true)

CUresult cuMemGetInfo(size_t* free_bytes, size_t* total) {
  EMU_BEGIN();
  *total = d.arena->capacity();
  const std::uint64_t used = d.arena->used() + d.vmm->created_bytes();
  *free_bytes = d.arena->capacity() > used ? d.arena->capacity() - used : 0;
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr* p, size_t bytes) {
  EMU_BEGIN();
  if (!p || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  auto a = d.arena->allocate(bytes, "cuMemAlloc");
  if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = *a;
  return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr p) {
  EMU_BEGIN();
  if (p == 0) return CUDA_SUCCESS;
  return d.arena->release(p) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t n) {
  EMU_BEGIN();
  EMU_DESTINATION(dst, n);
  if (n) std::memmove(d.arena->host(dst), src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t n) {
  EMU_BEGIN();
  EMU_SOURCE(src, n);
  if (n) std::memmove(dst, d.arena->host(src), n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t n) {
  EMU_BEGIN();
  EMU_SOURCE(src, n);
  EMU_DESTINATION(dst, n);
  if (n) std::memmove(d.arena->host(dst), d.arena->host(src), n);
  return CUDA_SUCCESS;
}

// Only the memory type is answered (what weft asks): device memory for a live allocation or an
// accessible mapping, host memory for a pinned host allocation, and the driver's answer for anything
// else, CUDA_ERROR_INVALID_VALUE (an address CUDA does not know).
CUresult cuPointerGetAttribute(void* out, CUpointer_attribute attribute, CUdeviceptr p) {
  EMU_BEGIN();
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  if (attribute != CU_POINTER_ATTRIBUTE_MEMORY_TYPE) return CUDA_ERROR_NOT_SUPPORTED;
  // A pinned allocation's host pointer (what cuMemHostAlloc handed out) is host memory, as under UVA.
  if (auto at = d.arena->address_of(reinterpret_cast<const void*>(p))) {
    const Allocation* pinned = d.arena->find(*at);
    if (pinned && pinned->name == "cuMemHostAlloc") {
      *static_cast<unsigned*>(out) = CU_MEMORYTYPE_HOST;
      return CUDA_SUCCESS;
    }
  }
  const Allocation* a = d.arena->find(p);
  if (!a && !d.vmm->accessible(p, 1)) return CUDA_ERROR_INVALID_VALUE;
  const bool host = a && a->name == "cuMemHostAlloc";
  *static_cast<unsigned*>(out) = host ? CU_MEMORYTYPE_HOST : CU_MEMORYTYPE_DEVICE;
  return CUDA_SUCCESS;
}

// Streams are in order and every operation completes before it returns: the asynchronous copies are
// the synchronous ones.
CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void* src, size_t n, CUstream) { return cuMemcpyHtoD(dst, src, n); }
CUresult cuMemcpyDtoHAsync(void* dst, CUdeviceptr src, size_t n, CUstream) { return cuMemcpyDtoH(dst, src, n); }

CUresult cuMemsetD8(CUdeviceptr dst, unsigned char v, size_t n) {
  EMU_BEGIN();
  EMU_DESTINATION(dst, n);
  if (n) std::memset(d.arena->host(dst), v, n);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream) { return cuMemsetD8(dst, v, n); }

// Pinned host memory lives in the arena too: the host and the emulated device see the same bytes, as
// with mapped pinned memory on a GPU.
CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned) {
  EMU_BEGIN();
  if (!p || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  auto a = d.arena->allocate(bytes, "cuMemHostAlloc");
  if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = d.arena->host(*a);
  return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void* p) {
  EMU_BEGIN();
  auto a = d.arena->address_of(p);
  return a && d.arena->release(*a) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuMemHostGetDevicePointer(CUdeviceptr* dp, void* p, unsigned flags) {
  EMU_BEGIN();
  auto a = d.arena->address_of(p);
  if (!dp || flags != 0 || !a || !d.arena->find(*a)) return CUDA_ERROR_INVALID_VALUE;
  *dp = *a;
  return CUDA_SUCCESS;
}

// Virtual memory management (the Ipc heap's cuMem* calls): vmm.h.
CUresult cuMemGetAllocationGranularity(size_t* out, const CUmemAllocationProp* prop,
                                       CUmemAllocationGranularity_flags) {
  EMU_BEGIN();
  return d.vmm->granularity(out, prop);
}
CUresult cuMemCreate(CUmemGenericAllocationHandle* h, size_t bytes, const CUmemAllocationProp* prop,
                     unsigned long long flags) {
  EMU_BEGIN();
  return d.vmm->create(h, bytes, prop, flags);
}
CUresult cuMemRelease(CUmemGenericAllocationHandle h) {
  EMU_BEGIN();
  return d.vmm->release(h);
}
CUresult cuMemExportToShareableHandle(void* out, CUmemGenericAllocationHandle h, CUmemAllocationHandleType type,
                                      unsigned long long flags) {
  EMU_BEGIN();
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  return d.vmm->export_fd(static_cast<int*>(out), h, type);
}
CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle* h, void* os_handle,
                                        CUmemAllocationHandleType type) {
  EMU_BEGIN();
  // A POSIX descriptor travels in the pointer's value, as the driver API defines it.
  return d.vmm->import_fd(h, static_cast<int>(reinterpret_cast<std::intptr_t>(os_handle)), type);
}
CUresult cuMemAddressReserve(CUdeviceptr* va, size_t bytes, size_t alignment, CUdeviceptr hint,
                             unsigned long long flags) {
  EMU_BEGIN();
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  return d.vmm->reserve(va, bytes, alignment, hint);
}
CUresult cuMemAddressFree(CUdeviceptr va, size_t bytes) {
  EMU_BEGIN();
  return d.vmm->free(va, bytes);
}
CUresult cuMemMap(CUdeviceptr va, size_t bytes, size_t offset, CUmemGenericAllocationHandle h,
                  unsigned long long flags) {
  EMU_BEGIN();
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  return d.vmm->map(va, bytes, offset, h);
}
CUresult cuMemUnmap(CUdeviceptr va, size_t bytes) {
  EMU_BEGIN();
  return d.vmm->unmap(va, bytes);
}
CUresult cuMemSetAccess(CUdeviceptr va, size_t bytes, const CUmemAccessDesc* desc, size_t count) {
  EMU_BEGIN();
  return d.vmm->set_access(va, bytes, desc, count);
}

// ---------------------------------------------------------------- JIT and modules

CUresult cuLinkCreate(unsigned n, CUjit_option* keys, void** values, CUlinkState* state) {
  EMU_BEGIN();
  if (!state) return CUDA_ERROR_INVALID_VALUE;
  const JitLogs logs = read_log_options(n, keys, values);
  auto* l = new Link{logs.error, logs.error_size, logs.info, logs.info_size, std::nullopt, {}};
  *state = reinterpret_cast<CUlinkState>(l);
  return CUDA_SUCCESS;
}

CUresult cuLinkAddData(CUlinkState state, CUjitInputType type, void* data, size_t size, const char*, unsigned,
                       CUjit_option*, void**) {
  EMU_BEGIN();
  auto* l = reinterpret_cast<Link*>(state);
  if (!l || !data) return CUDA_ERROR_INVALID_VALUE;
  if (type != CU_JIT_INPUT_PTX || l->jit) {
    write_log(l->error_log, l->error_size, "weft emulated device: links exactly one PTX input");
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  const char* text = static_cast<const char*>(data);
  JitOutput j = jit_check(std::string(text, strnlen(text, size)), d.dir);
  write_log(l->error_log, l->error_size, j.error_log);
  write_log(l->info_log, l->info_size, j.info_log);
  if (j.result != CUDA_SUCCESS) return j.result;
  l->jit = std::move(j);
  return CUDA_SUCCESS;
}

CUresult cuLinkComplete(CUlinkState state, void** cubin, size_t* size) {
  EMU_BEGIN();
  auto* l = reinterpret_cast<Link*>(state);
  if (!l || !cubin || !size) return CUDA_ERROR_INVALID_VALUE;
  if (!l->jit) {
    write_log(l->error_log, l->error_size, "weft emulated device: nothing was added to the link");
    return CUDA_ERROR_INVALID_VALUE;
  }
  l->image = pack_container(*l->jit);
  *cubin = l->image.data();
  *size = l->image.size();
  return CUDA_SUCCESS;
}

CUresult cuLinkDestroy(CUlinkState state) {
  delete reinterpret_cast<Link*>(state);
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadDataEx(CUmodule* out, const void* image, unsigned n, CUjit_option* keys, void** values) {
  EMU_BEGIN();
  if (!out || !image) return CUDA_ERROR_INVALID_VALUE;
  const JitLogs logs = read_log_options(n, keys, values);
  std::optional<JitOutput> j;
  std::string why;
  if (looks_like_container(image)) {
    j = unpack_container(image, &why);
  } else {
    const auto* c = static_cast<const unsigned char*>(image);
    const bool binary = (c[0] == 0x7f && c[1] == 'E') || (c[0] == 0x50 && c[1] == 0xed);
    if (binary) {
      unpack_container(image, &why);  // says which kind of binary it is
      write_log(logs.error, logs.error_size, "weft emulated device: " + why);
      return CUDA_ERROR_INVALID_IMAGE;
    }
    j = jit_check(static_cast<const char*>(image), d.dir);  // PTX text, NUL-terminated
    write_log(logs.info, logs.info_size, j->info_log);
    if (j->result != CUDA_SUCCESS) {
      write_log(logs.error, logs.error_size, j->error_log);
      return j->result;
    }
  }
  auto scan = scan_ptx(j->ptx, &why);
  if (!scan) {
    write_log(logs.error, logs.error_size, "weft emulated device: " + why);
    return CUDA_ERROR_INVALID_IMAGE;
  }
  std::string log;
  if (CUresult r = check_target(*scan, &log); r != CUDA_SUCCESS) {
    write_log(logs.error, logs.error_size, log);
    return r;
  }
  auto m = std::make_unique<Module>();
  m->scan = std::move(*scan);
  m->ptx_path = d.dir + "/module-" + std::to_string(++d.module_count) + ".ptx";
  if (FILE* f = std::fopen(m->ptx_path.c_str(), "wb")) {
    std::fwrite(j->ptx.data(), 1, j->ptx.size(), f);
    std::fclose(f);
  } else {
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  for (const auto& g : m->scan.globals) {
    auto a = d.arena->allocate(g.bytes, "global " + g.name);  // zeroed
    if (!a) return CUDA_ERROR_OUT_OF_MEMORY;
    if (!g.init.empty()) std::memcpy(d.arena->host(*a), g.init.data(), g.init.size());
    m->globals.emplace_back(g.name, *a);
  }
  for (const auto& e : m->scan.entries) {
    auto f = std::make_unique<Function>();
    f->module = m.get();
    f->entry = &e;
    if (auto it = j->kernels.find(e.name); it != j->kernels.end()) f->report = it->second;
    f->max_dynamic_smem = kSmemWithoutOptIn - f->static_smem();
    m->functions.push_back(std::move(f));
  }
  *out = reinterpret_cast<CUmodule>(m.release());
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule m) {
  EMU_BEGIN();
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  for (const auto& g : mod(m)->globals) d.arena->release(g.second);
  if (!config().keep) std::remove(mod(m)->ptx_path.c_str());
  delete mod(m);
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
  EMU_BEGIN();
  if (!f || !m || !name) return CUDA_ERROR_INVALID_VALUE;
  for (const auto& fp : mod(m)->functions)
    if (fp->entry->name == name) {
      *f = reinterpret_cast<CUfunction>(fp.get());
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuModuleGetGlobal(CUdeviceptr* p, size_t* bytes, CUmodule m, const char* name) {
  EMU_BEGIN();
  if (!m || !name) return CUDA_ERROR_INVALID_VALUE;
  for (std::size_t i = 0; i < mod(m)->globals.size(); ++i)
    if (mod(m)->globals[i].first == name) {
      if (p) *p = mod(m)->globals[i].second;
      if (bytes) *bytes = mod(m)->scan.globals[i].bytes;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuModuleGetFunctionCount(unsigned* n, CUmodule m) {
  EMU_BEGIN();
  if (!n || !m) return CUDA_ERROR_INVALID_VALUE;
  *n = static_cast<unsigned>(mod(m)->functions.size());
  return CUDA_SUCCESS;
}

CUresult cuModuleEnumerateFunctions(CUfunction* fns, unsigned n, CUmodule m) {
  EMU_BEGIN();
  if (!fns || !m || n < mod(m)->functions.size()) return CUDA_ERROR_INVALID_VALUE;
  for (std::size_t i = 0; i < mod(m)->functions.size(); ++i)
    fns[i] = reinterpret_cast<CUfunction>(mod(m)->functions[i].get());
  return CUDA_SUCCESS;
}

CUresult cuFuncLoad(CUfunction f) {
  EMU_BEGIN();
  return f ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuFuncGetName(const char** name, CUfunction f) {
  EMU_BEGIN();
  if (!name || !f) return CUDA_ERROR_INVALID_VALUE;
  *name = fn(f)->entry->name.c_str();
  return CUDA_SUCCESS;
}

int max_threads(const Function& f) {
  if (f.entry->reqntid) return static_cast<int>(*f.entry->reqntid);
  if (f.entry->maxntid) return static_cast<int>(*f.entry->maxntid);
  return 1024;
}

CUresult cuFuncGetAttribute(int* v, CUfunction_attribute a, CUfunction f) {
  EMU_BEGIN();
  if (!v || !f) return CUDA_ERROR_INVALID_VALUE;
  const Function& F = *fn(f);
  switch (a) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = max_threads(F); break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *v = F.static_smem(); break;
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *v = 0; break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *v = static_cast<int>(F.report.stack_frame); break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: *v = std::max(F.report.registers, 0); break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION: *v = F.module->scan.target.sm; break;
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *v = config().sm; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *v = F.max_dynamic_smem; break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH: *v = F.entry->cluster ? static_cast<int>(F.entry->cluster_x) : 0; break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT: *v = F.entry->cluster ? static_cast<int>(F.entry->cluster_y) : 0; break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH: *v = F.entry->cluster ? static_cast<int>(F.entry->cluster_z) : 0; break;
    default: *v = 0; break;
  }
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v) {
  EMU_BEGIN();
  if (!f) return CUDA_ERROR_INVALID_HANDLE;
  if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (v < 0 || v + fn(f)->static_smem() > config().smem_optin_per_block()) return CUDA_ERROR_INVALID_VALUE;
    fn(f)->max_dynamic_smem = v;
  }
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- launches

// CTAs of `f` one SM holds with `threads` threads and `dynamic_smem` bytes: the smallest of the
// thread, register, shared-memory and CTA limits (registers in warp-granular units of 256).
int blocks_per_sm(const Function& f, int threads, std::size_t dynamic_smem) {
  const Config& c = config();
  if (threads <= 0 || threads > max_threads(f)) return 0;
  const std::size_t smem = dynamic_smem + static_cast<std::size_t>(f.static_smem());
  if (smem > static_cast<std::size_t>(c.smem_optin_per_block())) return 0;
  const int warps = (threads + 31) / 32;
  int n = std::min(32, c.max_threads_per_sm() / (warps * 32));
  const int regs = std::max(1, f.report.registers);
  const int per_warp = (regs * 32 + 255) / 256 * 256;
  n = std::min(n, 65536 / (per_warp * warps));
  n = std::min(n, static_cast<int>(static_cast<std::size_t>(c.smem_per_sm()) / (smem + 1024)));
  return std::max(n, 0);
}

std::array<std::uint32_t, 3> cluster_of(const CUlaunchConfig& lc, const Function& f) {
  for (unsigned i = 0; i < lc.numAttrs; ++i)
    if (lc.attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
      return {lc.attrs[i].value.clusterDim.x, lc.attrs[i].value.clusterDim.y, lc.attrs[i].value.clusterDim.z};
  if (f.entry->cluster) return {f.entry->cluster_x, f.entry->cluster_y, f.entry->cluster_z};
  return {1, 1, 1};
}

CUresult cuLaunchKernelEx(const CUlaunchConfig* lc, CUfunction f, void** params, void** extra) {
  EMU_BEGIN();
  if (!lc || !f) return CUDA_ERROR_INVALID_VALUE;
  if (extra) return CUDA_ERROR_NOT_SUPPORTED;  // the packed-buffer form: weft passes kernelParams
  const Function& F = *fn(f);
  const PtxEntry& e = *F.entry;
  const std::uint32_t threads = lc->blockDimX * lc->blockDimY * lc->blockDimZ;
  if (!lc->gridDimX || !lc->gridDimY || !lc->gridDimZ || !threads || lc->blockDimX > 1024 ||
      lc->blockDimY > 1024 || lc->blockDimZ > 64 || threads > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  if ((e.reqntid && threads != *e.reqntid) || (e.maxntid && threads > *e.maxntid)) return CUDA_ERROR_INVALID_VALUE;
  if (static_cast<int>(lc->sharedMemBytes) > F.max_dynamic_smem) return CUDA_ERROR_INVALID_VALUE;
  const auto cl = cluster_of(*lc, F);
  const bool clustered = cl[0] * cl[1] * cl[2] > 1;
  if (clustered && !config().has_clusters()) return CUDA_ERROR_NOT_SUPPORTED;
  if (e.cluster && (cl[0] != e.cluster_x || cl[1] != e.cluster_y || cl[2] != e.cluster_z))
    return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  if (!cl[0] || !cl[1] || !cl[2] || lc->gridDimX % cl[0] || lc->gridDimY % cl[1] || lc->gridDimZ % cl[2] ||
      cl[0] * cl[1] * cl[2] > 8)
    return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  if (!e.params.empty() && !params) return CUDA_ERROR_INVALID_VALUE;

  LaunchRequest r;
  r.ptx_path = F.module->ptx_path;
  r.entry = e.name;
  r.grid[0] = lc->gridDimX, r.grid[1] = lc->gridDimY, r.grid[2] = lc->gridDimZ;
  r.block[0] = lc->blockDimX, r.block[1] = lc->blockDimY, r.block[2] = lc->blockDimZ;
  r.cluster[0] = cl[0], r.cluster[1] = cl[1], r.cluster[2] = cl[2];
  r.dynamic_smem = lc->sharedMemBytes;
  for (std::size_t i = 0; i < e.params.size(); ++i) {
    const auto* p = static_cast<const unsigned char*>(params[i]);
    r.params.emplace_back(p, p + e.params[i].bytes);
  }
  r.globals = F.module->globals;
  r.seed = config().seed + d.launches++;
  r.mappings = d.vmm->launch_mappings();
  d.vmm->heartbeat();  // other processes waiting on this one: it is about to run a kernel
  const LaunchOutcome out = run_launch(r, *d.arena, d.dir);
  if (out.result != CUDA_SUCCESS) {
    std::fprintf(stderr, "weft emulated device: kernel '%s' (grid %u x %u x %u, block %u): %s: %s\n",
                 e.name.c_str(), r.grid[0], r.grid[1], r.grid[2], threads, out.status.c_str(), out.message.c_str());
    d.sticky = out.result;  // reported by the next call, like a fault of an asynchronous kernel
  }
  return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* n, CUfunction f, int threads, size_t dynamic_smem) {
  EMU_BEGIN();
  if (!n || !f) return CUDA_ERROR_INVALID_VALUE;
  *n = blocks_per_sm(*fn(f), threads, dynamic_smem);
  return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxActiveClusters(int* n, CUfunction f, const CUlaunchConfig* lc) {
  EMU_BEGIN();
  if (!n || !f || !lc) return CUDA_ERROR_INVALID_VALUE;
  const auto cl = cluster_of(*lc, *fn(f));
  const int size = static_cast<int>(cl[0] * cl[1] * cl[2]);
  const int per_sm = blocks_per_sm(*fn(f), static_cast<int>(lc->blockDimX * lc->blockDimY * lc->blockDimZ),
                                   lc->sharedMemBytes);
  *n = per_sm * config().sm_count / std::max(size, 1);
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- streams and events

// Streams hold nothing (every operation completes in order before it returns); events a host time.
struct Stream {};

template <class Object, class Handle>
CUresult create(Handle* out) {
  EMU_BEGIN();
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  *out = reinterpret_cast<Handle>(new Object{});
  return CUDA_SUCCESS;
}

template <class Object, class Handle>
CUresult destroy(Handle h) {
  delete reinterpret_cast<Object*>(h);
  return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream* s, unsigned) { return create<Stream>(s); }
CUresult cuStreamDestroy(CUstream s) { return destroy<Stream>(s); }

CUresult cuStreamSynchronize(CUstream) {
  EMU_BEGIN();
  return CUDA_SUCCESS;
}

CUresult cuStreamQuery(CUstream) {
  EMU_BEGIN();
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent* e, unsigned) { return create<Event>(e); }
CUresult cuEventDestroy(CUevent e) { return destroy<Event>(e); }

CUresult cuEventRecord(CUevent e, CUstream) {
  EMU_BEGIN();
  if (!e) return CUDA_ERROR_INVALID_HANDLE;
  auto* ev = reinterpret_cast<Event*>(e);
  ev->when = std::chrono::steady_clock::now();
  ev->recorded = true;
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent e) {
  EMU_BEGIN();
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

// Host time between the records: the emulator's, which says nothing about a GPU's.
CUresult cuEventElapsedTime(float* ms, CUevent a, CUevent b) {
  EMU_BEGIN();
  auto *x = reinterpret_cast<Event*>(a), *y = reinterpret_cast<Event*>(b);
  if (!ms || !x || !y) return CUDA_ERROR_INVALID_HANDLE;
  if (!x->recorded || !y->recorded) return CUDA_ERROR_INVALID_HANDLE;
  *ms = std::chrono::duration<float, std::milli>(y->when - x->when).count();
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- tensor maps

CUresult cuTensorMapEncodeTiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                                const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                                const cuuint32_t* element_strides, CUtensorMapInterleave interleave,
                                CUtensorMapSwizzle swizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill fill) {
  EMU_BEGIN();
  return encode_tiled(map, type, rank, address, dims, strides, box, element_strides, interleave, swizzle, fill);
}

// ---------------------------------------------------------------- errors

struct ErrorText {
  CUresult r;
  const char* name;
  const char* text;
};
constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."},
    {CUDA_ERROR_JIT_COMPILER_NOT_FOUND, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "PTX JIT compiler library not found"},
    {CUDA_ERROR_OPERATING_SYSTEM, "CUDA_ERROR_OPERATING_SYSTEM", "OS call failed or operation not supported on this OS"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_TIMEOUT, "CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
    {CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_INVALID_CLUSTER_SIZE, "CUDA_ERROR_INVALID_CLUSTER_SIZE", "invalid cluster size"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* find_error(CUresult r) {
  for (const auto& e : kErrors)
    if (e.r == r) return &e;
  return nullptr;
}

CUresult cuGetErrorName(CUresult r, const char** name) {
  const ErrorText* e = find_error(r);
  *name = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult r, const char** text) {
  const ErrorText* e = find_error(r);
  *text = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// ---------------------------------------------------------------- the table

struct Entry {
  const char* name;
  void* fn;
};

// Each function converted to the PFN typedef of the version weft resolves: a signature that does not
// match the typedef is a compile error here, not a crash in a host program.
#define EMU_TABLE_ROW(name, ver) {#name, reinterpret_cast<void*>(static_cast<PFN_##name##_v##ver>(&name))},
const Entry kTable[] = {WEFT_DRIVER_ENTRY_POINTS(EMU_TABLE_ROW)};
#undef EMU_TABLE_ROW

}  // namespace
}  // namespace weft::emu

extern "C" __attribute__((visibility("default"))) CUresult cuGetProcAddress_v2(
    const char* symbol, void** pfn, int, cuuint64_t, CUdriverProcAddressQueryResult* status) {
  if (!symbol || !pfn) return CUDA_ERROR_INVALID_VALUE;
  for (const auto& e : weft::emu::kTable)
    if (std::strcmp(e.name, symbol) == 0) {
      *pfn = e.fn;
      if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
      return CUDA_SUCCESS;
    }
  *pfn = nullptr;
  if (status) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  return CUDA_ERROR_NOT_FOUND;
}
