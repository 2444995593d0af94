#include "tools/emudevice/ptx_module.h"

#include <map>
#include <regex>

#include "runtime/ptx_text.h"

namespace weft::emu {
namespace {

// Bytes of a PTX scalar type name ("u64", "f32", "b8", "pred"); 0 when unknown.
std::uint32_t type_bytes(const std::string& t) {
  static const std::map<std::string, std::uint32_t> sizes = {
      {"b8", 1},  {"u8", 1},  {"s8", 1},  {"b16", 2}, {"u16", 2}, {"s16", 2}, {"f16", 2}, {"bf16", 2},
      {"b32", 4}, {"u32", 4}, {"s32", 4}, {"f32", 4}, {"b64", 8}, {"u64", 8}, {"s64", 8}, {"f64", 8}};
  auto it = sizes.find(t);
  return it == sizes.end() ? 0 : it->second;
}

// Strips // and /* */ comments (PTX has no string literals, so this is safe).
std::string without_comments(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "//") == 0) {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.compare(i, 2, "/*") == 0) {
      const auto end = s.find("*/", i + 2);
      i = end == std::string::npos ? s.size() : end + 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::uint32_t product(const std::string& list) {
  std::uint32_t p = 1;
  static const std::regex num(R"(\d+)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), num); it != std::sregex_iterator(); ++it)
    p *= static_cast<std::uint32_t>(std::stoul(it->str()));
  return p;
}

}  // namespace

const PtxEntry* PtxModule::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

std::optional<PtxModule> scan_ptx(const std::string& raw, std::string* why) {
  const std::string text = without_comments(raw);
  PtxModule m;
  std::smatch sm;
  m.version = rt::ptx_version_of(raw);
  const auto target = rt::ptx_target_of(raw);
  const auto parsed = target ? rt::Target::parse(*target) : std::nullopt;
  if (!parsed) {
    *why = target ? "'.target " + *target + "' is not a target name" : "no .target directive: not PTX text";
    return std::nullopt;
  }
  m.target_name = *target;
  m.target = *parsed;

  // Module-scope .global variables: declared outside every function body (brace depth 0).
  static const std::regex global_re(
      R"(^\s*(?:\.visible\s+|\.extern\s+|\.weak\s+)?\.global\s+(?:\.align\s+\d+\s+)?\.(\w+)\s+(\w+)\s*((?:\[\d*\])*)\s*(=)?)");
  static const std::regex entry_re(R"(\.entry\s+(\w+)\s*\()");
  static const std::regex param_re(
      R"(\.param\s+(?:\.align\s+\d+\s+)?\.(\w+)\s+(?:\.ptr\s*(?:\.(?:global|shared|const|local)\s*)?(?:\.align\s+\d+\s*)?)?(\w+)\s*((?:\[\d+\])*))");
  int depth = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    if (depth == 0 && std::regex_search(line, sm, global_re)) {
      if (sm[4].matched) {
        *why = "the .global '" + sm[2].str() + "' has an initializer (the emulated device zero-fills globals only)";
        return std::nullopt;
      }
      std::uint32_t n = type_bytes(sm[1]) * (sm[3].length() ? product(sm[3]) : 1);
      if (n == 0) {
        *why = "the .global '" + sm[2].str() + "' has a type or size the emulated device cannot read";
        return std::nullopt;
      }
      m.globals.push_back({sm[2], n});
    }
    for (char c : line) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    pos = eol + 1;
  }

  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry_re); it != std::sregex_iterator(); ++it) {
    PtxEntry e;
    e.name = (*it)[1];
    const std::size_t open = static_cast<std::size_t>(it->position(0) + it->length(0));
    const std::size_t close = text.find(')', open);
    const std::size_t body = text.find('{', open);
    if (close == std::string::npos || body == std::string::npos || body < close) {
      *why = "cannot read the parameter list of .entry " + e.name;
      return std::nullopt;
    }
    const std::string params = text.substr(open, close - open);
    for (auto p = std::sregex_iterator(params.begin(), params.end(), param_re); p != std::sregex_iterator(); ++p) {
      const std::uint32_t elem = type_bytes((*p)[1]);
      if (elem == 0) {
        *why = ".entry " + e.name + ": parameter '" + (*p)[2].str() + "' has type ." + (*p)[1].str() +
               ", which the emulated device cannot size";
        return std::nullopt;
      }
      e.params.push_back({(*p)[2], elem * ((*p)[3].length() ? product((*p)[3]) : 1)});
    }
    const std::string directives = text.substr(close + 1, body - close - 1);
    static const std::regex maxntid_re(R"(\.maxntid\s+([\d\s,]+))"), reqntid_re(R"(\.reqntid\s+([\d\s,]+))"),
        cluster_re(R"(\.reqnctapercluster\s+([\d\s,]+))");
    if (std::regex_search(directives, sm, maxntid_re)) e.maxntid = product(sm[1]);
    if (std::regex_search(directives, sm, reqntid_re)) e.reqntid = product(sm[1]);
    if (std::regex_search(directives, sm, cluster_re)) {
      e.cluster = product(sm[1]);
      static const std::regex num(R"(\d+)");
      const std::string dims = sm[1];
      std::vector<std::uint32_t> d;
      for (auto n = std::sregex_iterator(dims.begin(), dims.end(), num); n != std::sregex_iterator(); ++n)
        d.push_back(static_cast<std::uint32_t>(std::stoul(n->str())));
      if (!d.empty()) e.cluster_x = d[0];
      if (d.size() > 1) e.cluster_y = d[1];
      if (d.size() > 2) e.cluster_z = d[2];
    }
    m.entries.push_back(std::move(e));
  }
  if (m.entries.empty()) {
    *why = "the module has no .entry";
    return std::nullopt;
  }
  return m;
}

}  // namespace weft::emu
