// libFuzzer harness: the CLI's --param parser (weft::parse_params, dsl/registry.h). The input is a
// list of settings, one a line, for a kernel with three declared parameters. parse_params must either
// fail with a message or return every declared parameter within its range (and a power of two where
// declared), with the last setting of a name winning; it must never crash or throw.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "dsl/registry.h"

namespace {
[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "parse_params: %s\n", what.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  static const weft::KernelEntry entry{
      "fuzzed",
      "a kernel with parameters",
      {{"block", 256, "threads", 32, 1024, true},
       {"tile", 4, "tile edge", -8, 64},
       {"n", 0, "anything", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}},
      {},
      "params_fuzz.cpp"};
  std::vector<std::string> settings;
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] == '\n') {
      settings.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(bytes[i]);
    }
  }
  if (!cur.empty()) settings.push_back(cur);
  weft::ParamParse r;
  try {
    r = weft::parse_params(entry, settings);
  } catch (const std::exception& e) {
    finding(std::string("threw ") + e.what());
  }
  if (!r.params) {
    if (r.error.empty()) finding("failed without a message");
    return 0;
  }
  if (!r.error.empty()) finding("succeeded with a message");
  for (const auto& d : entry.params) {
    auto it = r.params->values.find(d.name);
    if (it == r.params->values.end()) finding("parameter " + d.name + " missing");
    const auto v = it->second;
    if (v < d.min || v > d.max) finding("parameter " + d.name + " out of range");
    if (d.power_of_two && (v <= 0 || (v & (v - 1)))) finding("parameter " + d.name + " not a power of two");
  }
  if (r.params->values.size() != entry.params.size()) finding("undeclared parameters in the result");
  return 0;
}
