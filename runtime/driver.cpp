#include "runtime/driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <optional>

namespace weft::rt {

namespace {

// Entry points the runtime can do without on an older driver (checked with need() where used).
bool is_optional(std::string_view name) {
  return name == "cuModuleGetFunctionCount" || name == "cuModuleEnumerateFunctions" ||
         name == "cuFuncLoad" || name == "cuFuncGetName" || name == "cuEventElapsedTime";
}

// The process-wide driver or the error that explains why there is none. Loaded once (a function-local
// static is initialised thread-safely); a failure is remembered so every later call reports it again.
struct State {
  std::unique_ptr<Driver> driver;
  std::optional<Error> error;
};

const State& state() {
  static const State s = [] {
    State st;
    try {
      st.driver = std::make_unique<Driver>(load_driver(driver_library_path()));
    } catch (const Error& e) {
      st.error = e;
    }
    return st;
  }();
  return s;
}

std::string describe(CUresult r, const Driver* d) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (d && d->cuGetErrorName) d->cuGetErrorName(r, &name);
  if (d && d->cuGetErrorString) d->cuGetErrorString(r, &text);
  std::string out = name ? name : "CUresult " + std::to_string(static_cast<int>(r));
  if (text) out += std::string(" (") + text + ")";
  return out;
}

}  // namespace

std::string driver_library_path() {
  const char* env = std::getenv("WEFT_LIBCUDA");
  return env && *env ? env : "libcuda.so.1";
}

std::string driver_version_string(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

Driver load_driver(const std::string& path) {
  dlerror();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();
    throw Error("no CUDA driver found: " + path + " (" + (why ? why : "dlopen failed") + ")");
  }
  // cuGetProcAddress_v2 (CUDA 12.0+) is the one symbol taken by name; everything else goes through it.
  auto get_proc = reinterpret_cast<PFN_cuGetProcAddress_v12000>(dlsym(h, "cuGetProcAddress_v2"));
  if (!get_proc)
    throw Error("no usable CUDA driver: " + path +
                " has no cuGetProcAddress_v2 (weft needs a CUDA 12.0 or newer driver)");

  Driver d;
  d.path = path;
  auto resolve = [&](const char* name, int version, void** slot) {
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    CUresult r = get_proc(name, slot, version, CU_GET_PROC_ADDRESS_DEFAULT, &found);
    if (r == CUDA_SUCCESS && found == CU_GET_PROC_ADDRESS_SUCCESS && *slot) return;
    *slot = nullptr;
    if (!is_optional(name))
      throw Error("no usable CUDA driver: " + path + " does not provide " + name + " (CUDA " +
                  driver_version_string(version) + " ABI)");
  };
#define WEFT_RESOLVE(name, ver) resolve(#name, ver, reinterpret_cast<void**>(&d.name));
  WEFT_DRIVER_ENTRY_POINTS(WEFT_RESOLVE)
#undef WEFT_RESOLVE
  // cuEventElapsedTime's 12.8 variant has the same signature as the original; fall back to it.
  if (!d.cuEventElapsedTime) {
    CUdriverProcAddressQueryResult found{};
    get_proc("cuEventElapsedTime", reinterpret_cast<void**>(&d.cuEventElapsedTime), 2000,
             CU_GET_PROC_ADDRESS_DEFAULT, &found);
  }

  // No check()/throw_driver_error here: they consult the process-wide driver, which may be the one
  // being loaded right now (re-entering its initialisation would deadlock).
  auto fail = [&](const char* call, CUresult r) {
    std::string what = describe(r, &d);
    throw Error("CUDA driver " + path + " (" + driver_version_string(d.version) +
                    ") is present but " + call + " failed: " + what,
                call, static_cast<int>(r), what.substr(0, what.find(' ')));
  };
  if (CUresult r = d.cuDriverGetVersion(&d.version); r != CUDA_SUCCESS) fail("cuDriverGetVersion", r);
  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS) fail("cuInit", r);
  return d;
}

const Driver& driver() {
  const State& s = state();
  if (!s.driver) throw *s.error;
  return *s.driver;
}

bool driver_available(std::string* why) {
  const State& s = state();
  if (!s.driver && why) *why = s.error->what();
  return s.driver != nullptr;
}

std::string result_name(CUresult r) {
  const State& s = state();
  const char* name = nullptr;
  if (s.driver && s.driver->cuGetErrorName && s.driver->cuGetErrorName(r, &name) == CUDA_SUCCESS &&
      name)
    return name;
  return "CUresult " + std::to_string(static_cast<int>(r));
}

void throw_driver_error(CUresult r, std::string_view call, std::string_view context) {
  const State& s = state();
  std::string what = describe(r, s.driver.get());
  std::string msg = std::string(call) + " failed: " + what;
  if (!context.empty()) msg += ": " + std::string(context);
  throw Error(msg, std::string(call), static_cast<int>(r), result_name(r));
}

void throw_missing_entry(std::string_view name) {
  const Driver& d = driver();
  throw Error("the CUDA driver " + driver_version_string(d.version) + " (" + d.path +
              ") does not provide " + std::string(name) + "; update the driver");
}

}  // namespace weft::rt
