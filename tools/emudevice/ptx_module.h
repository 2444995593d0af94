// What the emulated driver needs to know about a PTX module without executing it: its target and
// ISA version, each .entry's parameters (sizes, to copy launch arguments) and launch directives,
// and the module-scope .global variables (which the driver allocates, as a real loader does).
// The emulator parses the instructions itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
};

struct PtxModule {
  std::string version;  // "9.0"
  std::string target;   // "sm_90a"
  int target_sm = 0;    // 90
  char target_suffix = 0;  // 'a', 'f' or 0
  std::vector<PtxEntry> entries;
  std::vector<PtxGlobal> globals;
  const PtxEntry* find(const std::string& name) const;
};

// Scans PTX text. Returns nullopt and sets `why` for text it cannot read (no .target, an entry's
// parameter list it does not understand, a .global with an initializer).
std::optional<PtxModule> scan_ptx(const std::string& text, std::string* why);

}  // namespace weft::emu
