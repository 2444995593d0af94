#include "runtime/comm/nccl_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "runtime/error.h"

namespace weft::rt::comm {

std::vector<std::string> nccl_library_paths() {
  const char* env = std::getenv("WEFT_NCCL_LIBRARY");
  if (env && *env) return {env};
  return {"libnccl.so.2", "libnccl.so"};
}

std::string nccl_version_string(int code) {
  // NCCL_VERSION(X,Y,Z): X*1000+Y*100+Z up to 2.8, X*10000+Y*100+Z from 2.9 on.
  if (code >= 10000)
    return std::to_string(code / 10000) + "." + std::to_string(code % 10000 / 100) + "." + std::to_string(code % 100);
  return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 100) + "." + std::to_string(code % 100);
}

void check_nccl_version(int found, const std::string& path, int required) {
  if (found >= required) return;
  throw Error("NCCL " + nccl_version_string(found) + " (" + path + ") is too old: weft needs " +
              nccl_version_string(required) + " or newer (symmetric memory windows, ncclCommWindowRegister)");
}

void NcclLibrary::check(nccl_abi::Result r, const char* call, nccl_abi::Comm comm) const {
  if (r == 0) return;
  std::string msg = std::string(call) + " failed: ";
  const char* text = GetErrorString ? GetErrorString(r) : nullptr;
  msg += text ? text : "NCCL error";
  msg += " (ncclResult_t " + std::to_string(r) + ")";
  if (const char* last = GetLastError ? GetLastError(comm) : nullptr; last && *last) msg += ": " + std::string(last);
  throw Error(msg);
}

NcclLibrary load_nccl(const std::vector<std::string>& paths) {
  void* h = nullptr;
  std::string tried;
  NcclLibrary lib;
  for (const std::string& p : paths) {
    dlerror();
    h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) {
      lib.path = p;
      break;
    }
    const char* why = dlerror();
    tried += (tried.empty() ? "" : "; ") + p + " (" + (why ? why : "dlopen failed") + ")";
  }
  if (!h)
    throw Error("NCCL not found (the Nccl heap needs libnccl.so.2, 2.28 or newer; set WEFT_NCCL_LIBRARY to its "
                "path): tried " + tried);
  auto sym = [&](const char* name, auto& slot) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(h, name));
    if (!slot) throw Error("NCCL library " + lib.path + " does not provide " + name);
  };
  // The version first: an old library lacks the window entry points, and its version is the clearer error.
  sym("ncclGetVersion", lib.GetVersion);
  if (lib.GetVersion(&lib.version) != 0) throw Error("NCCL library " + lib.path + ": ncclGetVersion failed");
  check_nccl_version(lib.version, lib.path);
  sym("ncclGetErrorString", lib.GetErrorString);
  sym("ncclGetLastError", lib.GetLastError);
  sym("ncclGetUniqueId", lib.GetUniqueId);
  sym("ncclCommInitRank", lib.CommInitRank);
  sym("ncclCommDestroy", lib.CommDestroy);
  sym("ncclCommCount", lib.CommCount);
  sym("ncclCommUserRank", lib.CommUserRank);
  sym("ncclMemAlloc", lib.MemAlloc);
  sym("ncclMemFree", lib.MemFree);
  sym("ncclCommWindowRegister", lib.CommWindowRegister);
  sym("ncclCommWindowDeregister", lib.CommWindowDeregister);
  sym("ncclAllGather", lib.AllGather);
  return lib;  // never dlclose'd: NCCL keeps threads and CUDA state that outlive any one heap
}

const NcclLibrary& nccl() {
  struct State {
    std::unique_ptr<NcclLibrary> lib;
    std::optional<Error> error;
  };
  static const State s = [] {
    State st;
    try {
      st.lib = std::make_unique<NcclLibrary>(load_nccl(nccl_library_paths()));
    } catch (const Error& e) {
      st.error = e;
    }
    return st;
  }();
  if (!s.lib) throw *s.error;
  return *s.lib;
}

}  // namespace weft::rt::comm
