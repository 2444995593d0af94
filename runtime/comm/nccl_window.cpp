#include "runtime/comm/nccl_window.h"

#include <map>
#include <mutex>

#include "dsl/weft.h"
#include "runtime/device.h"
#include "runtime/driver.h"
#include "runtime/error.h"
#include "runtime/module.h"

namespace weft::rt::comm {

namespace {

// Byte offsets in struct ncclWindow_vidmem (see the header).
constexpr std::int64_t kLsaFlatBase = 8, kLsaRank = 16, kWorldRank = 20, kStride4G = 24;

}  // namespace

std::string nccl_window_reader_ptx(const std::string& target) {
  const auto parsed = isa::parse_target(target);
  if (!parsed.target) throw Error("NCCL window reader: " + parsed.error);
  KernelBuilder k{"weft_nccl_window_fields", *parsed.target};
  k.reqntid(1);
  auto win = k.param_ptr<u64>("window");
  auto out = k.param_ptr<u64>("out");
  // NCCL never changes a registered window, so the read-only path is fine.
  k.st(out, k.ld(win + kLsaFlatBase / 8, {q::nc}));
  auto win32 = win.as<u32>();
  auto out32 = out.as<u32>();
  k.st(out32 + 2, k.ld(win32 + kLsaRank / 4, {q::nc}));
  k.st(out32 + 3, k.ld(win32 + kWorldRank / 4, {q::nc}));
  k.st(out32 + 4, k.ld(win32 + kStride4G / 4, {q::nc}));
  return k.ptx();
}

bool nccl_window_is_device_side(CUdeviceptr window) {
  unsigned type = 0;
  const CUresult r = need(driver().cuPointerGetAttribute, "cuPointerGetAttribute")(
      &type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, window);
  if (r == CUDA_ERROR_INVALID_VALUE) return false;  // not an address CUDA knows: host memory
  check(r, "cuPointerGetAttribute", "asking whether an NCCL window handle is device memory");
  return type == CU_MEMORYTYPE_DEVICE;
}

NcclWindowFields read_nccl_window(CUdeviceptr window) {
  static std::mutex m;
  // Per device (a module lives in one context). Never destroyed: unloading modules during static
  // destruction races the driver's own teardown.
  static auto& modules = *new std::map<int, Module>;
  const int device = current_device();
  std::unique_lock lock(m);
  auto it = modules.find(device);
  if (it == modules.end()) {
    // Any sm_80+ target reads a pointer; the device's own when weft knows it.
    std::string target = device_props(device).target();
    if (!isa::parse_target(target).target) target = "sm_80";
    LoadOptions o;
    o.origin = "weft NCCL window reader";
    it = modules.emplace(device, Module::from_ptx(nccl_window_reader_ptx(target), o)).first;
  }
  Kernel& k = it->second.kernel("weft_nccl_window_fields");
  lock.unlock();
  DeviceBuffer<std::uint64_t> out(3);
  out.fill_bytes(0);
  k.launch(LaunchConfig{{1}, {1}}, DevicePtr<std::uint64_t>(window), out);
  std::uint64_t raw[3] = {};
  out.copy_to(std::span<std::uint64_t>(raw, 3));  // a synchronous copy: waits for the kernel
  NcclWindowFields f;
  f.lsa_flat_base = raw[0];
  f.lsa_rank = static_cast<std::int32_t>(raw[1] & 0xffffffffu);
  f.world_rank = static_cast<std::int32_t>(raw[1] >> 32);
  f.stride4g = static_cast<std::uint32_t>(raw[2] & 0xffffffffu);
  return f;
}

}  // namespace weft::rt::comm
