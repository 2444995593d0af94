#include "tools/emudevice/jit.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "tools/emudevice/config.h"

namespace weft::emu {
namespace {

constexpr char kMagic[8] = {'W', 'E', 'F', 'T', 'E', 'M', 'U', '1'};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command, returning its exit status and combined output.
int run(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void put_u64(std::vector<std::byte>* v, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) v->push_back(static_cast<std::byte>(x >> (8 * i)));
}
std::uint64_t get_u64(const std::byte* p) {
  std::uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return x;
}

}  // namespace

CUresult check_target(const PtxModule& m, std::string* log) {
  std::string why;
  if (rt::target_runs_on(m.target, config().sm, &why)) return CUDA_SUCCESS;
  *log = "ptxas fatal   : the PTX targets " + m.target_name + ": " + why;
  return CUDA_ERROR_NO_BINARY_FOR_GPU;
}

JitOutput jit_check(const std::string& ptx, const std::string& work_dir) {
  JitOutput j;
  j.ptx = ptx;
  std::string why;
  auto m = scan_ptx(ptx, &why);
  if (!m) {
    j.result = CUDA_ERROR_INVALID_PTX;
    j.error_log = "weft emulated device: " + why;
    return j;
  }
  const Config& c = config();
  const auto newest = rt::max_ptx_isa(kDriverVersion);
  if (m->version && newest && *m->version > *newest) {
    j.result = CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    j.error_log = "ptxas fatal   : Unsupported .version " + m->version->str() + "; current version is '" +
                  newest->str() + "'";
    return j;
  }
  if (CUresult r = check_target(*m, &j.error_log); r != CUDA_SUCCESS) {
    j.result = r;
    return j;
  }
  static std::atomic<int> counter{0};
  const std::string base = work_dir + "/jit-" + std::to_string(++counter);
  {
    std::ofstream f(base + ".ptx", std::ios::binary);
    f << ptx;
  }
  // The device's own architecture, with the module's variant suffix (sm_90a PTX needs -arch=sm_90a).
  const char* suffix = m->target.variant == rt::TargetVariant::arch     ? "a"
                       : m->target.variant == rt::TargetVariant::family ? "f"
                                                                        : "";
  const std::string arch = "sm_" + std::to_string(c.sm) + suffix;
  std::string log;
  const int rc = run(shell_quote(c.ptxas) + " -v -arch=" + arch + " -o " + shell_quote(base + ".cubin") + " " +
                         shell_quote(base + ".ptx"),
                     &log);
  std::remove((base + ".cubin").c_str());
  if (!c.keep) std::remove((base + ".ptx").c_str());
  if (rc != 0) {
    // 127: the shell found no such program (a missing toolkit is not a PTX error).
    const bool missing = rc < 0 || rc == 127;
    j.result = missing ? CUDA_ERROR_JIT_COMPILER_NOT_FOUND : CUDA_ERROR_INVALID_PTX;
    j.error_log = missing ? "weft emulated device: cannot run ptxas (" + c.ptxas + "; set WEFT_EMU_PTXAS)\n" + log : log;
    return j;
  }
  j.info_log = log;
  j.kernels = rt::parse_jit_info_log(log);
  return j;
}

// Layout: magic, total bytes, log bytes, PTX bytes (u64 each, little-endian), ptxas's -v log, the PTX.
std::vector<std::byte> pack_container(const JitOutput& j) {
  const std::string& report = j.info_log;
  std::vector<std::byte> v;
  for (char c : kMagic) v.push_back(static_cast<std::byte>(c));
  put_u64(&v, 8 + 8 + 8 + 8 + report.size() + j.ptx.size());  // total bytes
  put_u64(&v, report.size());
  put_u64(&v, j.ptx.size());
  for (char c : report) v.push_back(static_cast<std::byte>(c));
  for (char c : j.ptx) v.push_back(static_cast<std::byte>(c));
  return v;
}

bool looks_like_container(const void* image) { return std::memcmp(image, kMagic, sizeof kMagic) == 0; }

std::optional<JitOutput> unpack_container(const void* image, std::string* why) {
  const auto* p = static_cast<const std::byte*>(image);
  if (!looks_like_container(image)) {
    const auto* c = static_cast<const unsigned char*>(image);
    if (c[0] == 0x7f && c[1] == 'E' && c[2] == 'L' && c[3] == 'F')
      *why = "this is a cubin (ELF) from ptxas or nvcc; the weft emulated device runs PTX only (load the PTX)";
    else if (c[0] == 0x50 && c[1] == 0xed && c[2] == 0x55 && c[3] == 0xba)
      *why = "this is a fat binary; the weft emulated device runs PTX only (load the PTX)";
    else
      *why = "not a module image";
    return std::nullopt;
  }
  const std::uint64_t log_bytes = get_u64(p + 16), ptx_bytes = get_u64(p + 24);
  JitOutput j;
  const char* text = reinterpret_cast<const char*>(p + 32);
  j.info_log.assign(text, log_bytes);
  j.kernels = rt::parse_jit_info_log(j.info_log);
  j.ptx.assign(text + log_bytes, ptx_bytes);
  return j;
}

}  // namespace weft::emu
