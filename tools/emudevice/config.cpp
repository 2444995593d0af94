#include "tools/emudevice/config.h"

#include <cstdlib>
#include <filesystem>

namespace weft::emu {
namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  return end && *end == '\0' && n > 0 ? n : fallback;
}

Config read() {
  Config c;
  c.sm = static_cast<int>(env_number("WEFT_EMU_SM", 90));
  c.sm_count = static_cast<int>(env_number("WEFT_EMU_SMS", 4));
  c.memory_bytes = env_number("WEFT_EMU_MEMORY", 4096) << 20;
  c.python = env_or("WEFT_EMU_PYTHON", std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  c.launcher = env_or("WEFT_EMU_LAUNCHER", WEFT_EMU_DEFAULT_LAUNCHER);
  c.ptxas = env_or("WEFT_EMU_PTXAS", std::filesystem::exists("/usr/local/cuda/bin/ptxas")
                                         ? "/usr/local/cuda/bin/ptxas"
                                         : "ptxas");
  c.seed = env_number("WEFT_EMU_SEED", 1);
  c.keep = env_or("WEFT_EMU_KEEP", "0") == "1";
  return c;
}

}  // namespace

// The figures of the parts of each family (CUDA programming guide, compute capabilities table).
int Config::smem_optin_per_block() const {
  if (sm == 80 || sm == 87) return 163 * 1024;
  if (sm == 90 || sm == 100 || sm == 103 || sm == 110) return 227 * 1024;
  return 99 * 1024;  // 8.6, 8.9, 12.x
}

int Config::smem_per_sm() const { return smem_optin_per_block() + 1024; }

const Config& config() {
  static const Config c = read();
  return c;
}

}  // namespace weft::emu
