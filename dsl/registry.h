// The kernel registry: kernels register a builder and their tunable parameters (tile sizes and the
// like); the CLI lists, emits and checks them by name.
//
//   WEFT_KERNEL(saxpy, "y = a*x + y", {{"block", 256, "threads per CTA", 32, 1024}}) {
//     KernelBuilder k{"saxpy", target};  ... return k.build();
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codegen/ir/module.h"
#include "codegen/isa/target.h"

namespace weft {

struct KernelParam {
  std::string name;
  std::int64_t default_value = 0;
  std::string help;
  std::int64_t min = 0;
  std::int64_t max = 1 << 20;
  bool power_of_two = false;
};

class KernelParams {
 public:
  std::int64_t operator[](const std::string& name) const;  // throws std::logic_error if undeclared
  std::map<std::string, std::int64_t> values;
};

struct KernelEntry {
  std::string name;
  std::string summary;
  std::vector<KernelParam> params;
  std::function<ir::Module(const isa::Target&, const KernelParams&)> build;
  std::string file;  // where it is defined
  // The targets the kernel is written for (an sm_90a-only wgmma kernel claims only sm_90a).
  isa::TargetSet targets = isa::TargetSet::all();
};

class Registry {
 public:
  static Registry& global();
  void add(KernelEntry e);  // a second kernel of one name is a programming error (throws)
  const KernelEntry* find(const std::string& name) const;
  const std::vector<KernelEntry>& all() const { return entries_; }

 private:
  std::vector<KernelEntry> entries_;
};

// Parses `--param k=v` settings for one kernel: defaults for the rest. The error names the
// parameter and the cause (unknown name, not a number, out of range, not a power of two).
struct ParamParse {
  std::optional<KernelParams> params;
  std::string error;
};
ParamParse parse_params(const KernelEntry& e, const std::vector<std::string>& settings);

struct KernelRegistrar {
  explicit KernelRegistrar(KernelEntry e) { Registry::global().add(std::move(e)); }
};

}  // namespace weft

#define WEFT_KERNEL_CAT2(a, b) a##b
#define WEFT_KERNEL_CAT(a, b) WEFT_KERNEL_CAT2(a, b)
// Defines and registers a kernel builder `ir::Module fn(const isa::Target& target, const KernelParams& params)`.
#define WEFT_KERNEL(ident, summary, ...) WEFT_KERNEL_FOR(ident, ::weft::isa::TargetSet::all(), summary, __VA_ARGS__)
// The same, for a kernel written for some targets only (`weft emit --all` skips the others).
#define WEFT_KERNEL_FOR(ident, target_set, summary, ...)                                              \
  static ::weft::ir::Module WEFT_KERNEL_CAT(weft_build_, ident)(const ::weft::isa::Target& target,  \
                                                                const ::weft::KernelParams& params); \
  static const ::weft::KernelRegistrar WEFT_KERNEL_CAT(weft_registrar_, ident){::weft::KernelEntry{  \
      #ident, summary, __VA_ARGS__, &WEFT_KERNEL_CAT(weft_build_, ident), __FILE__, target_set}};     \
  static ::weft::ir::Module WEFT_KERNEL_CAT(weft_build_, ident)(                                      \
      [[maybe_unused]] const ::weft::isa::Target& target, [[maybe_unused]] const ::weft::KernelParams& params)
