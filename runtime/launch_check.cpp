#include "runtime/launch_check.h"

#include <cctype>

#include "runtime/error.h"

namespace weft::rt {

namespace {

constexpr std::uint32_t kDefaultSmemLimit = 48 * 1024;

// Bytes of a PTX type named like "f32", "bf16", "u8", "b64"; 0 when the name carries no size.
std::uint32_t ptx_type_bytes(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && !std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == t.size()) return 0;
  std::uint32_t bits = 0;
  for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) bits = bits * 10 + (t[i] - '0');
  return bits % 8 == 0 ? bits / 8 : 0;
}

ScalarClass ptx_type_class(std::string_view t) {
  if (t.starts_with("bf") || t.starts_with("f") || t.starts_with("tf") || t.starts_with("e4m3") ||
      t.starts_with("e5m2"))
    return ScalarClass::floating;
  if (t.starts_with("u")) return ScalarClass::unsigned_int;
  if (t.starts_with("s")) return ScalarClass::signed_int;
  if (t == "pred") return ScalarClass::boolean;
  return ScalarClass::other;  // b32, b64: any bits
}

// "a 4-byte", "an 8-byte".
std::string a_bytes(std::uint32_t n) {
  const std::string d = std::to_string(n);
  const bool vowel = d[0] == '8' || n == 11 || n == 18 || (n >= 80 && n < 90);
  return (vowel ? "an " : "a ") + d + "-byte";
}

std::string param_names(const sig::Kernel& k) {
  std::string s;
  for (const auto& p : k.params) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

std::string describe_param(const sig::Param& p) {
  switch (p.kind) {
    case sig::ParamKind::scalar:
      return "a " + p.detail + " scalar (" + std::to_string(p.size) + " bytes)";
    case sig::ParamKind::pointer:
      return "a pointer (" + p.detail + (p.pointee.empty() ? "" : ", " + p.pointee) + ")";
    case sig::ParamKind::bytes:
      if (!p.tma_box.empty()) return "a tensor map for boxes " + p.tma_box;
      return a_bytes(p.size) + " value (passed by value, e.g. a tensor map)";
  }
  return "?";
}

std::string describe_arg(const ArgInfo& a) {
  switch (a.kind) {
    case ArgKind::scalar: return a.type_name + " (" + a_bytes(a.size) + " scalar)";
    case ArgKind::pointer: return a.type_name + " (a pointer)";
    case ArgKind::bytes: return a.type_name + " (" + a_bytes(a.size) + " value)";
  }
  return "?";
}

}  // namespace

std::string Dim3::str() const {
  return std::to_string(x) + "x" + std::to_string(y) + "x" + std::to_string(z);
}

void check_args(const sig::Kernel& k, std::span<const ArgInfo> args) {
  if (args.size() != k.params.size())
    throw Error("kernel '" + k.name + "' takes " + std::to_string(k.params.size()) + " argument" +
                (k.params.size() == 1 ? "" : "s") + " (" + param_names(k) + "), the launch passes " +
                std::to_string(args.size()));
  for (std::size_t i = 0; i < args.size(); ++i) {
    const sig::Param& p = k.params[i];
    const ArgInfo& a = args[i];
    auto fail = [&](const std::string& why) {
      throw Error("kernel '" + k.name + "', argument " + std::to_string(i + 1) + " '" + p.name +
                  "': the parameter is " + describe_param(p) + " but the launch passes " +
                  describe_arg(a) + why);
    };
    switch (p.kind) {
      case sig::ParamKind::pointer: {
        if (a.kind != ArgKind::pointer)
          fail("; pass a DevicePtr<T> or DeviceBuffer<T> (a raw CUdeviceptr is an integer to C++)");
        if (a.size != p.size) fail("; pointer sizes differ");
        const std::uint32_t want = ptx_type_bytes(p.pointee);
        if (want && a.pointee_size && a.pointee_size != want)
          fail(" whose elements are " + std::to_string(a.pointee_size) + " bytes, not " +
               std::to_string(want));
        break;
      }
      case sig::ParamKind::scalar: {
        if (a.kind == ArgKind::pointer) fail("");
        if (a.size != p.size) fail("; the sizes differ");
        if (a.kind == ArgKind::scalar) {
          const ScalarClass want = ptx_type_class(p.detail);
          const bool arg_float = a.cls == ScalarClass::floating;
          const bool arg_int = a.cls == ScalarClass::signed_int || a.cls == ScalarClass::unsigned_int;
          // Half-precision and 8-bit floats have no C++ type here: their bits may come as integers.
          if (want == ScalarClass::floating && arg_int && p.size >= 4)
            fail("; an integer for a floating-point parameter (write e.g. 2.0f)");
          if ((want == ScalarClass::signed_int || want == ScalarClass::unsigned_int) && arg_float)
            fail("; a floating-point value for an integer parameter");
        }
        break;
      }
      case sig::ParamKind::bytes:
        if (a.kind == ArgKind::pointer) fail("");
        if (a.size != p.size) fail("; the sizes differ");
        if (!p.tma_box.empty() && !a.tma_box.empty() && a.tma_box != p.tma_box)
          fail(" encoded for boxes " + a.tma_box + " (element type:box, innermost dimension first:swizzle); its "
               "copies would bring another layout or byte count than the kernel expects (its barriers count the "
               "box's bytes): encode the map with the kernel's box");
        break;
    }
  }
}

ResolvedLaunch check_launch(const sig::Kernel& k, const LaunchConfig& cfg, const LaunchLimits& limits) {
  auto fail = [&](const std::string& why) { throw Error("kernel '" + k.name + "': " + why); };
  if (cfg.grid.total() == 0) fail("the grid " + cfg.grid.str() + " is empty");
  if (cfg.block.total() == 0) fail("the block " + cfg.block.str() + " is empty");
  if (limits.max_threads_per_block && cfg.block.total() > limits.max_threads_per_block)
    fail("the block " + cfg.block.str() + " has " + std::to_string(cfg.block.total()) +
         " threads; the device allows " + std::to_string(limits.max_threads_per_block));
  const Dim3 req{k.reqntid[0], k.reqntid[1], k.reqntid[2]};
  if (req.total() != 0 && !(req == cfg.block))
    fail("it requires a block of " + req.str() + " (.reqntid) but the launch uses " + cfg.block.str());
  const Dim3 maxb{k.maxntid[0], k.maxntid[1], k.maxntid[2]};
  if (maxb.total() != 0 && cfg.block.total() > maxb.total())
    fail("it allows at most " + std::to_string(maxb.total()) + " threads per block (.maxntid " +
         maxb.str() + ") but the launch uses " + cfg.block.str());

  ResolvedLaunch r;
  const Dim3 compiled{k.cluster[0], k.cluster[1], k.cluster[2]};
  const Dim3 one{};
  if (!(compiled == one)) {
    if (!(cfg.cluster == one) && !(cfg.cluster == compiled))
      fail("its cluster shape is compiled in as " + compiled.str() + " but the launch asks for " +
           cfg.cluster.str());
    r.cluster = compiled;
  } else {
    r.cluster = cfg.cluster;
    r.set_cluster_attribute = !(cfg.cluster == one);
  }
  if (!(r.cluster == one)) {
    if (r.cluster.total() == 0) fail("the cluster " + r.cluster.str() + " is empty");
    if (!limits.cluster_launch) fail("the device does not support thread block clusters (sm_90+)");
    if (r.cluster.total() > 8)
      fail("a cluster of " + std::to_string(r.cluster.total()) +
           " blocks is above the portable maximum of 8");
    if (cfg.grid.x % r.cluster.x || cfg.grid.y % r.cluster.y || cfg.grid.z % r.cluster.z)
      fail("the grid " + cfg.grid.str() + " is not a multiple of the cluster " + r.cluster.str());
  }

  r.dynamic_smem = cfg.dynamic_smem ? cfg.dynamic_smem : k.dynamic_smem;
  const std::uint64_t total = std::uint64_t(r.dynamic_smem) + k.static_smem;
  if (limits.max_smem_per_block_optin && total > limits.max_smem_per_block_optin)
    fail("it needs " + std::to_string(total) + " bytes of shared memory per block (" +
         std::to_string(r.dynamic_smem) + " dynamic + " + std::to_string(k.static_smem) +
         " static); the device allows at most " + std::to_string(limits.max_smem_per_block_optin));
  r.needs_smem_optin = total > kDefaultSmemLimit;
  return r;
}

}  // namespace weft::rt
