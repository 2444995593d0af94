// What the emulated driver needs to know about a PTX module without executing it: its target and
// ISA version, each .entry's parameters (sizes, to copy launch arguments) and launch directives,
// and the module-scope .global variables (which the driver allocates, as a real loader does).
// The emulator parses the instructions itself; `.version` and `.target` are read by the runtime's own
// readers (runtime/ptx_text.h), so the two agree on what a module is for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/targets.h"

namespace weft::emu {

struct PtxParam {
  std::string name;
  std::uint32_t bytes = 0;
};

struct PtxEntry {
  std::string name;
  std::vector<PtxParam> params;
  std::optional<std::uint32_t> maxntid, reqntid;  // threads (x*y*z)
  std::optional<std::uint32_t> cluster;           // .reqnctapercluster x*y*z
  std::uint32_t cluster_x = 1, cluster_y = 1, cluster_z = 1;
};

struct PtxGlobal {
  std::string name;
  std::uint32_t bytes = 0;
  std::vector<unsigned char> init;  // the initializer's bytes (little-endian), the rest zero; empty: none
};

struct PtxModule {
  std::optional<rt::PtxIsa> version;  // .version (nullopt: none)
  std::string target_name;            // "sm_90a", as written
  rt::Target target;
  std::vector<PtxEntry> entries;
  std::vector<PtxGlobal> globals;
  const PtxEntry* find(const std::string& name) const;
};

// Scans PTX text. Returns nullopt and sets `why` for text it cannot read (no .target, an entry's
// parameter list it does not understand, a .global whose initializer is not numbers).
std::optional<PtxModule> scan_ptx(const std::string& text, std::string* why);

}  // namespace weft::emu
