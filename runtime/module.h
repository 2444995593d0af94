// Modules and kernels: load PTX (text, file, or the best of several targets) or a cubin, then launch
// kernels with typed, checked arguments.
//
//   auto m = weft::rt::Module::from_ptx_file("saxpy.sm_90a.ptx");
//   m.kernel("saxpy").launch({.grid = {n / 256}, .block = {256}}, n, 2.0f, x, y);
//
// Why eager loading: the driver's default module loading is lazy (a kernel is loaded at its first
// launch), which deadlocks when a persistent kernel spins waiting for a kernel that has not been
// loaded yet. Every kernel of a module is loaded (cuFuncLoad) before from_*() returns.
#pragma once

#include <cuda.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "codegen/signature.h"
#include "runtime/jit.h"
#include "runtime/launch_args.h"
#include "runtime/launch_check.h"
#include "runtime/ptx_text.h"

namespace weft::rt {

class DiskCache;

struct LoadOptions {
  JitOptions jit;
  // The cubin cache: nullptr uses DiskCache::process_default() ($WEFT_CACHE_DIR, WEFT_CACHE=off, ...).
  DiskCache* cache = nullptr;
  bool use_cache = true;
  // Names the input in messages and in ptxas's log; from_*_file() sets the file name.
  std::string origin;
};

// What a load did (for tools, tests and the JIT benchmark).
struct LoadInfo {
  std::string target;         // the PTX's target ("sm_90a"), or "cubin"
  std::string device_target;  // the device's ("sm_90")
  std::string origin;
  bool from_cubin = false;
  bool cache_hit = false;
  double compile_ms = 0;      // JIT (0 on a cache hit or a cubin)
  double total_ms = 0;        // the whole from_*() call
  std::string jit_info_log;   // empty on a cache hit
  std::map<std::string, FunctionResources> resources;  // per kernel, when the JIT reported them
};

class Kernel {
 public:
  const std::string& name() const { return name_; }
  CUfunction function() const { return fn_; }
  // The kernel's signature, or nullptr when the module came without a signature block (then launch
  // arguments cannot be checked, only passed).
  const sig::Kernel* signature() const { return sig_ ? &*sig_ : nullptr; }

  // Launches with arguments checked against the signature (count, kinds, sizes), the block against
  // .reqntid/.maxntid, shared memory against the device. Dynamic shared memory above 48 KB raises the
  // function's limit first (once per size). Throws Error naming the kernel and parameter.
  template <class... Args>
  void launch(const LaunchConfig& cfg, const Args&... args);
  // The same with arguments assembled at run time (runtime/launch_args.h).
  void launch(const LaunchConfig& cfg, ArgList& args) {
    auto ptrs = args.pointers();
    launch_raw(cfg, ptrs.data(), args.infos());
  }

  // The unchecked core of launch(): `params[i]` points at parameter i's value; `infos` (same length)
  // is checked against the signature when there is one.
  void launch_raw(const LaunchConfig& cfg, void** params, std::span<const ArgInfo> infos);

  // Occupancy: resident blocks per SM for this block size and dynamic shared memory, and the grid of a
  // persistent kernel (that many blocks on every SM).
  int max_active_blocks_per_sm(std::uint32_t block_threads, std::uint32_t dynamic_smem = 0);
  std::uint32_t persistent_grid(std::uint32_t block_threads, std::uint32_t dynamic_smem = 0);
  // Clusters of the launch's shape (the kernel's compiled one, or cfg.cluster) that can be resident at
  // once (cuOccupancyMaxActiveClusters): the grid of a persistent kernel launched in clusters. The
  // grid in `cfg` only has to be a valid multiple of the cluster.
  int max_active_clusters(const LaunchConfig& cfg);

  // The tensor map for this kernel's tensor-map parameter `param` (a tma_param) over a packed row-major
  // tensor of `dims` elements (innermost dimension first) at `address`. The element type, box and
  // swizzle are the ones the kernel's copies expect, read from its signature, so the host cannot
  // encode another box. Throws Error when the kernel has no signature or no such tensor-map
  // parameter, when `dims` is not of the box's rank, and as encode_tma for the tensor itself.
  // Maps are kept (the last 64 per kernel, by parameter, shape, address and promotion), so a host
  // that launches on the same tensors again does not encode them again: a map holds nothing but its
  // description and address, so a kept one stays right even for memory freed and allocated again.
  TensorMap tensor_map(std::string_view param, std::initializer_list<std::uint64_t> dims, CUdeviceptr address,
                       TmaL2Promotion l2_promotion = TmaL2Promotion::none) const;

  int attribute(CUfunction_attribute a) const;
  int registers() const { return attribute(CU_FUNC_ATTRIBUTE_NUM_REGS); }

  Kernel(std::string name, CUfunction fn, std::optional<sig::Kernel> sig, LaunchLimits limits, int sm_count);
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

 private:
  void raise_smem_limit(std::uint32_t dynamic_smem);
  ResolvedLaunch resolve(const LaunchConfig& cfg) const;  // check_launch against the signature, if any

  std::string name_;
  CUfunction fn_ = nullptr;
  std::optional<sig::Kernel> sig_;
  // Per parameter (signature order), the box a tensor-map parameter's key names, parsed once here so
  // that tensor_map() costs a lookup per launch.
  std::vector<std::optional<TmaDesc>> boxes_;
  struct MapKey {
    std::size_t param;
    std::array<std::uint64_t, 5> dims;
    CUdeviceptr address;
    TmaL2Promotion promotion;
    auto operator<=>(const MapKey&) const = default;
  };
  mutable std::mutex maps_mutex_;
  mutable std::map<MapKey, TensorMap> maps_;  // tensor_map's encodings, at most 64
  LaunchLimits limits_;
  int sm_count_ = 0;
  std::mutex smem_mutex_;
  std::uint32_t smem_limit_set_ = 0;  // the largest MAX_DYNAMIC_SHARED_SIZE_BYTES set so far
};

class Module {
 public:
  // PTX text (with or without a weft signature block; with one, launches are checked).
  static Module from_ptx(std::string_view ptx, const LoadOptions& options = {});
  static Module from_ptx_file(const std::filesystem::path& file, LoadOptions options = {});
  // Several PTX texts for different targets: loads the best for the current device (exact sm_XXa,
  // then sm_XXf, then the highest base target the device runs and the driver can JIT). Throws Error
  // listing each candidate and why it does not fit when none does.
  static Module from_best_ptx(std::span<const std::string> ptx_texts, const LoadOptions& options = {});
  static Module from_best_ptx_files(std::span<const std::filesystem::path> files,
                                    const LoadOptions& options = {});
  // A cubin (no JIT). Give the signature of the PTX it came from to have launches checked.
  static Module from_cubin(std::span<const std::byte> cubin, std::optional<sig::Signature> signature = {},
                           const LoadOptions& options = {});
  static Module from_cubin_file(const std::filesystem::path& file,
                                std::optional<sig::Signature> signature = {});

  Module(Module&&) noexcept;
  Module& operator=(Module&&) noexcept;
  ~Module();

  // The kernel named `name`; throws Error listing the module's kernels when there is none.
  Kernel& kernel(std::string_view name);
  std::vector<std::string> kernel_names() const;
  const std::optional<sig::Signature>& signature() const;
  const LoadInfo& info() const;
  CUmodule handle() const;

  // Kernels emitted with --debug-waits (Target::debug_waits) record the first wait (an mbarrier
  // phase, or a communication flag's epoch) that timed out before they trap. Loading such a module
  // installs a host-mapped report for them (the trap leaves the context unusable; host memory stays
  // readable). After a launch fails, this says which wait it was; nullopt when no wait timed out or
  // the module has no debug waits. Layout: runtime/debug_wait_layout.h.
  struct DebugWaitReport {
    enum class Kind { mbarrier, flag };
    Kind kind = Kind::mbarrier;
    std::uint32_t line = 0;      // the author's source line of the wait
    std::uint32_t id = 0;        // mbarrier: its id (MbarrierArray order); flag: the id given (peer rank)
    std::uint32_t expected = 0;  // mbarrier: the phase parity; flag: the epoch waited for
    std::uint32_t observed = 0;  // flag: the last value read
    bool complete = true;        // false: the grid ended before the report's words were all written
    std::string describe() const;  // "flag 3 waited at line 42 never reached epoch 7 (last value read: 6)"
  };
  std::optional<DebugWaitReport> debug_wait_report() const;

  struct Impl;

 private:
  explicit Module(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a whole file (throws Error naming the file when it cannot).
std::string read_text_file(const std::filesystem::path& file);

template <class... Args>
void Kernel::launch(const LaunchConfig& cfg, const Args&... args) {
  const std::array<ArgInfo, sizeof...(Args)> infos{arg_info_of(args)...};
  auto values = std::make_tuple(param_value(args)...);
  std::apply(
      [&](auto&... v) {
        std::array<void*, sizeof...(Args) + 1> ptrs{static_cast<void*>(&v)..., nullptr};
        launch_raw(cfg, ptrs.data(), infos);
      },
      values);
}

}  // namespace weft::rt
