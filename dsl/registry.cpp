#include "dsl/registry.h"

#include <charconv>
#include <stdexcept>

namespace weft {

std::int64_t KernelParams::operator[](const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) throw std::logic_error("weft: kernel parameter '" + name + "' is not declared");
  return it->second;
}

Registry& Registry::global() {
  static Registry r;
  return r;
}

void Registry::add(KernelEntry e) {
  if (find(e.name)) throw std::logic_error("weft: two kernels are registered as '" + e.name + "'");
  entries_.push_back(std::move(e));
}

const KernelEntry* Registry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

ParamParse parse_params(const KernelEntry& e, const std::vector<std::string>& settings) {
  KernelParams p;
  for (const auto& d : e.params) p.values[d.name] = d.default_value;
  for (const auto& s : settings) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return {std::nullopt, "--param '" + s + "': expected name=value"};
    const std::string name = s.substr(0, eq), value = s.substr(eq + 1);
    const KernelParam* decl = nullptr;
    for (const auto& d : e.params)
      if (d.name == name) decl = &d;
    if (!decl) {
      std::string known;
      for (const auto& d : e.params) known += (known.empty() ? "" : ", ") + d.name;
      return {std::nullopt, "kernel '" + e.name + "' has no parameter '" + name + "'" +
                                (known.empty() ? " (it takes none)" : " (it takes: " + known + ")")};
    }
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty())
      return {std::nullopt, "--param " + name + "='" + value + "': not an integer"};
    if (v < decl->min || v > decl->max)
      return {std::nullopt, "--param " + name + "=" + value + ": out of range [" + std::to_string(decl->min) + ", " +
                                std::to_string(decl->max) + "]"};
    if (decl->power_of_two && (v <= 0 || (v & (v - 1))))
      return {std::nullopt, "--param " + name + "=" + value + ": must be a power of two"};
    p.values[name] = v;
  }
  return {p, ""};
}

}  // namespace weft
