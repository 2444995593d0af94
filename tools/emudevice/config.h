// What the emulated device claims to be, read once from the environment (docs/emulator.md,
// "Host programs on the emulated device"):
//   WEFT_EMU_SM        compute capability as sm digits: 90 (default), 80, 89, 100, 120, ...
//   WEFT_EMU_SMS       SM count (default 4: persistent grids stay small, so launches emulate fast)
//   WEFT_EMU_MEMORY    device memory in MiB (default 4096; a sparse file, so only what is used costs)
//   WEFT_EMU_PYTHON    the interpreter that runs tools/ptxemu (default /usr/bin/python3, else python3)
//   WEFT_EMU_LAUNCHER  tools/ptxemu/device_launch.py (default: the source tree this was built from)
//   WEFT_EMU_PTXAS     the ptxas that checks every module (default /usr/local/cuda/bin/ptxas)
//   WEFT_EMU_SEED      first scheduler seed (default 1; each launch takes the next)
//   WEFT_EMU_KEEP=1    keep the work directory (PTX, requests, logs) and print where it is
#pragma once

#include <cstdint>
#include <string>

namespace weft::emu {

// The CUDA version the emulated driver reports (cuDriverGetVersion), and so the PTX ISA it reads.
inline constexpr int kDriverVersion = 13000;

struct Config {
  int sm = 90;  // 90 for compute capability 9.0
  int sm_count = 4;
  std::uint64_t memory_bytes = 4096ull << 20;
  std::string python;
  std::string launcher;
  std::string ptxas;
  std::uint64_t seed = 1;
  bool keep = false;

  int cc_major() const { return sm / 10; }
  int cc_minor() const { return sm % 10; }
  // Per-block shared memory a kernel may opt into, per SM, as the real parts of this family have.
  int smem_optin_per_block() const;
  int smem_per_sm() const;
  int max_threads_per_sm() const { return sm == 86 || sm == 89 || sm >= 120 ? 1536 : 2048; }
  bool has_clusters() const { return sm >= 90; }
};

// The process-wide configuration (read on first use).
const Config& config();

}  // namespace weft::emu
