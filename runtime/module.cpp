#include "runtime/module.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <cstring>
#include <sstream>

#include "runtime/debug_wait_layout.h"
#include "runtime/device.h"
#include "runtime/disk_cache.h"
#include "runtime/driver.h"
#include "runtime/targets.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

namespace weft::rt {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The signature block if the text has one. A text that starts a block but breaks it is an error (the
// file is damaged); a text without any block (hand-written PTX) loads unchecked.
std::optional<sig::Signature> signature_of(std::string_view ptx, const std::string& origin) {
  if (ptx.find("//! weft-signature") == std::string_view::npos) return std::nullopt;
  try {
    return sig::parse(ptx);
  } catch (const sig::ParseError& e) {
    throw Error(origin + ": " + e.what());
  }
}

std::string candidate_name(const LoadOptions& o, std::string_view fallback) {
  return o.origin.empty() ? std::string(fallback) : o.origin;
}

// Resource lines for the cache's meta file:
// "resources <kernel> <registers> <spill stores> <spill loads> <stack frame> <smem>".
std::string resources_meta(const std::map<std::string, FunctionResources>& r) {
  std::ostringstream s;
  for (const auto& [name, f] : r)
    s << "resources " << name << ' ' << f.registers << ' ' << f.spill_stores << ' ' << f.spill_loads
      << ' ' << f.stack_frame << ' ' << f.smem << '\n';
  return s.str();
}

std::map<std::string, FunctionResources> resources_from_meta(const std::string& meta) {
  std::map<std::string, FunctionResources> out;
  std::istringstream in(meta);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string key, name;
    FunctionResources f;
    if (l >> key >> name >> f.registers >> f.spill_stores >> f.spill_loads >> f.stack_frame >> f.smem &&
        key == "resources")
      out[name] = f;
  }
  return out;
}

}  // namespace

struct Module::Impl {
  CUmodule module = nullptr;
  std::optional<sig::Signature> signature;
  LoadInfo info;
  std::vector<std::unique_ptr<Kernel>> kernels;
  volatile std::uint32_t* debug_report = nullptr;  // host-mapped, for modules with debug waits

  ~Impl() {
    kernels.clear();
    if (module && driver_available()) driver().cuModuleUnload(module);
    if (debug_report && driver_available()) driver().cuMemFreeHost(const_cast<std::uint32_t*>(debug_report));
  }
};

namespace {

void install_debug_report(Module::Impl& impl) {
  const auto& d = driver();
  CUdeviceptr holder = 0;
  std::size_t bytes = 0;
  if (d.cuModuleGetGlobal(&holder, &bytes, impl.module, debug_wait::kSymbol) != CUDA_SUCCESS || bytes != 8) return;
  void* host = nullptr;
  check(d.cuMemHostAlloc(&host, debug_wait::kReportBytes, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc",
        "debug-wait report");
  std::memset(host, 0, debug_wait::kReportBytes);
  CUdeviceptr device_view = 0;
  check(d.cuMemHostGetDevicePointer(&device_view, host, 0), "cuMemHostGetDevicePointer", "debug-wait report");
  const std::uint64_t address = device_view;
  check(d.cuMemcpyHtoD(holder, &address, sizeof address), "cuMemcpyHtoD", "debug-wait report address");
  impl.debug_report = static_cast<volatile std::uint32_t*>(host);
}
}  // namespace

std::string read_text_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

// Loads cubin bytes into the current context and every kernel eagerly.
static std::unique_ptr<Module::Impl> load_cubin(std::span<const std::byte> cubin,
                                                std::optional<sig::Signature> signature,
                                                std::vector<std::string> entries, LoadInfo info) {
  const Driver& d = driver();
  ensure_context();
  const DeviceProps props = device_props(current_device());
  auto impl = std::make_unique<Module::Impl>();
  impl->signature = std::move(signature);

  std::vector<char> error_log(16 * 1024, '\0');
  CUjit_option keys[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {error_log.data(), reinterpret_cast<void*>(std::uintptr_t(error_log.size() - 1))};
  if (CUresult r = d.cuModuleLoadDataEx(&impl->module, cubin.data(), 2, keys, values); r != CUDA_SUCCESS) {
    std::string context = "loading " + info.origin + " on device " + std::to_string(props.ordinal) +
                          " (" + props.name + ", " + props.target() + ")";
    if (r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_INVALID_IMAGE)
      context += ": the cubin holds no code this device can run (built for another architecture?)";
    std::string log(error_log.data());
    if (!log.empty()) context += "\nloader log:\n" + log;
    throw_driver_error(r, "cuModuleLoadDataEx", context);
  }

  install_debug_report(*impl);

  // Kernel names: the PTX's entries; for a bare cubin, whatever the module enumerates.
  std::vector<CUfunction> fns;
  if (entries.empty() && d.cuModuleGetFunctionCount && d.cuModuleEnumerateFunctions) {
    unsigned n = 0;
    check(d.cuModuleGetFunctionCount(&n, impl->module), "cuModuleGetFunctionCount");
    fns.resize(n);
    check(d.cuModuleEnumerateFunctions(fns.data(), n, impl->module), "cuModuleEnumerateFunctions");
    for (CUfunction f : fns) {
      const char* name = nullptr;
      check(need(d.cuFuncGetName, "cuFuncGetName")(&name, f), "cuFuncGetName");
      entries.emplace_back(name);
    }
  } else if (entries.empty() && impl->signature) {
    for (const auto& k : impl->signature->kernels) entries.push_back(k.name);
  }

  const LaunchLimits limits{static_cast<std::uint32_t>(props.max_threads_per_block),
                            static_cast<std::uint32_t>(props.max_smem_per_block_optin),
                            props.cluster_launch};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CUfunction f = i < fns.size() ? fns[i] : nullptr;
    if (!f)
      check(d.cuModuleGetFunction(&f, impl->module, entries[i].c_str()), "cuModuleGetFunction",
            "kernel '" + entries[i] + "' in " + info.origin);
    // Eager load: see module.h. Drivers before 12.4 have no cuFuncLoad and load eagerly unless
    // CUDA_MODULE_LOADING=LAZY is set.
    if (d.cuFuncLoad) check(d.cuFuncLoad(f), "cuFuncLoad", "kernel '" + entries[i] + "'");
    std::optional<sig::Kernel> ks;
    if (impl->signature)
      if (const sig::Kernel* k = impl->signature->find(entries[i])) ks = *k;
    impl->kernels.push_back(std::make_unique<Kernel>(entries[i], f, std::move(ks), limits, props.sm_count));
  }
  if (impl->signature)
    for (const auto& k : impl->signature->kernels)
      if (std::find(entries.begin(), entries.end(), k.name) == entries.end())
        throw Error(info.origin + ": the signature block names kernel '" + k.name +
                    "' but the module has no such entry");
  info.device_target = props.target();
  impl->info = std::move(info);
  return impl;
}

Module::Module(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Module::Module(Module&&) noexcept = default;
Module& Module::operator=(Module&&) noexcept = default;
Module::~Module() = default;

Module Module::from_ptx(std::string_view ptx, const LoadOptions& o) {
  const auto t0 = Clock::now();
  const std::string origin = candidate_name(o, "PTX module");
  const Driver& d = driver();
  ensure_context();
  const DeviceProps props = device_props(current_device());

  auto signature = signature_of(ptx, origin);
  const auto entries = ptx_entries_of(ptx);
  const auto target = signature ? signature->target : ptx_target_of(ptx).value_or("");
  const auto version = ptx_version_of(ptx);

  // Refuse what cannot work before the driver says so less clearly.
  if (auto t = Target::parse(target)) {
    std::string why;
    if (!target_runs_on(*t, props.sm(), &why))
      throw Error(origin + " is PTX for " + target + ", which cannot run on device " +
                  std::to_string(props.ordinal) + " (" + props.name + "): " + why);
  }
  const auto driver_max = max_ptx_isa(d.version);
  if (version && driver_max && *version > *driver_max)
    throw Error(ptx_too_new_message(origin, version->str(), d.version, driver_max->str()));

  LoadInfo info;
  info.origin = origin;
  info.target = target;
  DiskCache disabled;
  DiskCache& cache = !o.use_cache ? disabled : o.cache ? *o.cache : DiskCache::process_default();
  CacheKeyInputs key_in{ptx,
                        entries,
                        WEFT_VERSION,
                        target,
                        props.target(),
                        "cuda-driver-linker " + driver_version_string(d.version),
                        o.jit.canonical()};
  CacheResult built = cache.get_or_build(cache_key(key_in), [&] {
    JitResult j = jit_ptx_to_cubin(ptx, o.jit, origin);
    info.compile_ms = j.ms;
    info.jit_info_log = j.info_log;
    info.resources = parse_jit_info_log(j.info_log);
    return CacheEntry{std::move(j.cubin), resources_meta(info.resources)};
  });
  info.cache_hit = built.hit;
  if (built.hit) info.resources = resources_from_meta(built.entry.meta);
  auto impl = load_cubin(built.entry.data, std::move(signature), entries, std::move(info));
  impl->info.total_ms = ms_since(t0);
  return Module(std::move(impl));
}

Module Module::from_ptx_file(const std::filesystem::path& file, LoadOptions o) {
  if (o.origin.empty()) o.origin = file.string();
  return from_ptx(read_text_file(file), o);
}

Module Module::from_best_ptx(std::span<const std::string> texts, const LoadOptions& o) {
  ensure_context();
  const DeviceProps props = device_props(current_device());
  std::vector<TargetCandidate> cands;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string origin = "candidate " + std::to_string(i + 1);
    auto s = signature_of(texts[i], origin);
    cands.push_back({s ? s->target : ptx_target_of(texts[i]).value_or("(no .target)"),
                     ptx_version_of(texts[i]), origin});
  }
  const int dv = driver_version();
  const std::size_t pick = select_target(cands, props.sm(), max_ptx_isa(dv), dv);
  LoadOptions chosen = o;
  if (chosen.origin.empty()) chosen.origin = cands[pick].origin + " (" + cands[pick].target + ")";
  return from_ptx(texts[pick], chosen);
}

Module Module::from_best_ptx_files(std::span<const std::filesystem::path> files, const LoadOptions& o) {
  ensure_context();
  const DeviceProps props = device_props(current_device());
  std::vector<std::string> texts;
  std::vector<TargetCandidate> cands;
  for (const auto& f : files) {
    texts.push_back(read_text_file(f));
    auto s = signature_of(texts.back(), f.string());
    cands.push_back({s ? s->target : ptx_target_of(texts.back()).value_or("(no .target)"),
                     ptx_version_of(texts.back()), f.string()});
  }
  const int dv = driver_version();
  const std::size_t pick = select_target(cands, props.sm(), max_ptx_isa(dv), dv);
  LoadOptions chosen = o;
  chosen.origin = files[pick].string();
  return from_ptx(texts[pick], chosen);
}

Module Module::from_cubin(std::span<const std::byte> cubin, std::optional<sig::Signature> signature,
                          const LoadOptions& o) {
  const auto t0 = Clock::now();
  LoadInfo info;
  info.origin = candidate_name(o, "cubin");
  info.target = "cubin";
  info.from_cubin = true;
  std::vector<std::string> entries;
  auto impl = load_cubin(cubin, std::move(signature), entries, std::move(info));
  impl->info.total_ms = ms_since(t0);
  return Module(std::move(impl));
}

Module Module::from_cubin_file(const std::filesystem::path& file, std::optional<sig::Signature> signature) {
  const std::string bytes = read_text_file(file);
  LoadOptions o;
  o.origin = file.string();
  return from_cubin(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), std::move(signature), o);
}

Kernel& Module::kernel(std::string_view name) {
  for (auto& k : impl_->kernels)
    if (k->name() == name) return *k;
  std::string names;
  for (auto& k : impl_->kernels) names += (names.empty() ? "" : ", ") + k->name();
  throw Error(impl_->info.origin + " has no kernel '" + std::string(name) + "' (it has: " +
              (names.empty() ? "none" : names) + ")");
}

std::vector<std::string> Module::kernel_names() const {
  std::vector<std::string> out;
  for (auto& k : impl_->kernels) out.push_back(k->name());
  return out;
}

const std::optional<sig::Signature>& Module::signature() const { return impl_->signature; }
const LoadInfo& Module::info() const { return impl_->info; }
CUmodule Module::handle() const { return impl_->module; }

std::optional<Module::DebugWaitReport> Module::debug_wait_report() const {
  const auto* r = impl_->debug_report;
  using namespace debug_wait;
  if (!r || r[taken] != 1) return std::nullopt;
  DebugWaitReport out;
  out.line = r[line];
  out.id = r[id];
  out.expected = r[expected];
  out.kind = r[kind] == static_cast<std::uint32_t>(Kind::flag) ? DebugWaitReport::Kind::flag
                                                               : DebugWaitReport::Kind::mbarrier;
  out.observed = r[observed];
  out.complete = r[complete] == 1;
  return out;
}

std::string Module::DebugWaitReport::describe() const {
  const std::string partial = complete ? "" : " (report incomplete: the grid ended while it was written)";
  if (kind == Kind::flag)
    return "flag " + std::to_string(id) + " waited at line " + std::to_string(line) + " never reached epoch " +
           std::to_string(expected) + " (last value read: " + std::to_string(observed) + ")" + partial;
  return "mbarrier " + std::to_string(id) + " (parity " + std::to_string(expected) + ") waited at line " +
         std::to_string(line) + " never completed" + partial;
}

// ---- Kernel ---------------------------------------------------------------------------------

Kernel::Kernel(std::string name, CUfunction fn, std::optional<sig::Kernel> sig, LaunchLimits limits,
               int sm_count)
    : name_(std::move(name)), fn_(fn), sig_(std::move(sig)), limits_(limits), sm_count_(sm_count) {
  if (sig_)
    for (const auto& p : sig_->params) boxes_.push_back(parse_tma_box_key(p.tma_box));
}

TensorMap Kernel::tensor_map(std::string_view param, std::initializer_list<std::uint64_t> dims, CUdeviceptr address,
                             TmaL2Promotion l2_promotion) const {
  std::size_t i = 0;
  while (sig_ && i < sig_->params.size() && sig_->params[i].name != param) ++i;
  // The messages are built only when something is wrong: this runs on every launch of a TMA kernel.
  auto fail = [&](const std::string& why) -> TensorMap {
    throw Error("kernel '" + name_ + "', tensor map '" + std::string(param) + "': " + why);
  };
  if (!sig_) return fail("the module has no signature block, so the kernel's box is unknown; encode it with encode_tma");
  if (i == sig_->params.size()) {
    std::string maps;
    for (std::size_t j = 0; j < boxes_.size(); ++j)
      if (boxes_[j]) maps += (maps.empty() ? "" : ", ") + sig_->params[j].name;
    return fail("no such parameter (its tensor maps: " + (maps.empty() ? std::string("none") : maps) + ")");
  }
  const auto& box = boxes_[i];
  const auto& key = sig_->params[i].tma_box;
  if (!box)
    return fail("the parameter is not a tensor map with a recorded box" +
                (key.empty() ? std::string() : " ('" + key + "' is not a box)"));
  if (dims.size() != box->rank)
    return fail(std::to_string(dims.size()) + " dimensions given for a rank-" + std::to_string(box->rank) + " box (" +
                key + ")");
  MapKey map_key{i, {}, address, l2_promotion};
  std::copy(dims.begin(), dims.end(), map_key.dims.begin());
  {
    std::lock_guard lock(maps_mutex_);
    if (auto it = maps_.find(map_key); it != maps_.end()) return it->second;
  }
  TmaDesc d = *box;
  d.set_packed_shape(std::span(dims.begin(), dims.size()));
  d.l2_promotion = l2_promotion;
  auto map = encode_tma(d, address);  // throws before anything is kept
  std::lock_guard lock(maps_mutex_);
  if (maps_.size() >= 64) maps_.clear();  // a host walking over many tensors: start again
  maps_.emplace(map_key, map);
  return map;
}

int Kernel::attribute(CUfunction_attribute a) const {
  int v = 0;
  check(driver().cuFuncGetAttribute(&v, a, fn_), "cuFuncGetAttribute", "kernel '" + name_ + "'");
  return v;
}

void Kernel::raise_smem_limit(std::uint32_t dynamic_smem) {
  std::lock_guard lock(smem_mutex_);
  if (dynamic_smem <= smem_limit_set_) return;
  check(driver().cuFuncSetAttribute(fn_, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                    static_cast<int>(dynamic_smem)),
        "cuFuncSetAttribute",
        "kernel '" + name_ + "': MAX_DYNAMIC_SHARED_SIZE_BYTES = " + std::to_string(dynamic_smem));
  smem_limit_set_ = dynamic_smem;
}

namespace {
// The driver's launch description of a checked launch; `attrs` (room for 2) holds its attributes.
CUlaunchConfig driver_launch_config(const LaunchConfig& cfg, const ResolvedLaunch& r, CUlaunchAttribute* attrs) {
  CUlaunchConfig lc{};
  lc.gridDimX = cfg.grid.x;
  lc.gridDimY = cfg.grid.y;
  lc.gridDimZ = cfg.grid.z;
  lc.blockDimX = cfg.block.x;
  lc.blockDimY = cfg.block.y;
  lc.blockDimZ = cfg.block.z;
  lc.sharedMemBytes = r.dynamic_smem;
  lc.hStream = cfg.stream;
  unsigned n = 0;
  if (r.set_cluster_attribute) {
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attrs[n].value.clusterDim.x = r.cluster.x;
    attrs[n].value.clusterDim.y = r.cluster.y;
    attrs[n].value.clusterDim.z = r.cluster.z;
    ++n;
  }
  if (cfg.pdl) {
    attrs[n].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attrs[n].value.programmaticStreamSerializationAllowed = 1;
    ++n;
  }
  lc.attrs = n ? attrs : nullptr;
  lc.numAttrs = n;
  return lc;
}
}  // namespace

ResolvedLaunch Kernel::resolve(const LaunchConfig& cfg) const {
  if (sig_) return check_launch(*sig_, cfg, limits_);
  sig::Kernel unknown;  // no signature: only the shape rules that need none
  unknown.name = name_;
  return check_launch(unknown, cfg, limits_);
}

void Kernel::launch_raw(const LaunchConfig& cfg, void** params, std::span<const ArgInfo> infos) {
  if (sig_) check_args(*sig_, infos);
  const auto r = resolve(cfg);
  ensure_context();
  if (r.needs_smem_optin) raise_smem_limit(r.dynamic_smem);
  CUlaunchAttribute attrs[2]{};
  const auto lc = driver_launch_config(cfg, r, attrs);
  check(driver().cuLaunchKernelEx(&lc, fn_, params, nullptr), "cuLaunchKernelEx",
        "kernel '" + name_ + "' grid " + cfg.grid.str() + " block " + cfg.block.str() + " smem " +
            std::to_string(r.dynamic_smem));
}

int Kernel::max_active_blocks_per_sm(std::uint32_t block_threads, std::uint32_t dynamic_smem) {
  ensure_context();
  if (dynamic_smem + (sig_ ? sig_->static_smem : 0) > 48 * 1024) raise_smem_limit(dynamic_smem);
  int n = 0;
  check(driver().cuOccupancyMaxActiveBlocksPerMultiprocessor(&n, fn_, static_cast<int>(block_threads),
                                                             dynamic_smem),
        "cuOccupancyMaxActiveBlocksPerMultiprocessor", "kernel '" + name_ + "'");
  return n;
}

std::uint32_t Kernel::persistent_grid(std::uint32_t block_threads, std::uint32_t dynamic_smem) {
  const int per_sm = max_active_blocks_per_sm(block_threads, dynamic_smem);
  if (per_sm <= 0)
    throw Error("kernel '" + name_ + "' cannot be resident with " + std::to_string(block_threads) +
                " threads and " + std::to_string(dynamic_smem) +
                " bytes of dynamic shared memory per block (occupancy 0)");
  return static_cast<std::uint32_t>(per_sm) * static_cast<std::uint32_t>(sm_count_);
}

int Kernel::max_active_clusters(const LaunchConfig& cfg) {
  const auto r = resolve(cfg);
  ensure_context();
  if (r.needs_smem_optin) raise_smem_limit(r.dynamic_smem);
  CUlaunchAttribute attrs[2]{};
  const auto lc = driver_launch_config(cfg, r, attrs);
  int n = 0;
  check(driver().cuOccupancyMaxActiveClusters(&n, fn_, &lc), "cuOccupancyMaxActiveClusters",
        "kernel '" + name_ + "' block " + cfg.block.str() + " smem " + std::to_string(r.dynamic_smem));
  return n;
}

}  // namespace weft::rt
