#include "tools/emudevice/ptx_module.h"

#include <cstring>
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

// The bytes of an initializer `{v, v, ...}` or `v` for elements of `type`: integers (decimal, 0x hex,
// negative), and for f32 / f64 the hex forms 0fXXXXXXXX / 0dXXXXXXXXXXXXXXXX or a decimal literal.
// nullopt (with the reason) for anything else, e.g. an address (generic(symbol)).
std::optional<std::vector<unsigned char>> initializer_bytes(const std::string& list, const std::string& type,
                                                            std::string* why) {
  const std::uint32_t size = type_bytes(type);
  std::vector<unsigned char> out;
  static const std::regex value_re(R"([^\s{},]+)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), value_re); it != std::sregex_iterator(); ++it) {
    const std::string v = it->str();
    std::uint64_t bits = 0;
    try {
      if (type == "f32" && v.size() == 10 && (v.rfind("0f", 0) == 0 || v.rfind("0F", 0) == 0)) {
        bits = std::stoull(v.substr(2), nullptr, 16);
      } else if (type == "f64" && v.size() == 18 && (v.rfind("0d", 0) == 0 || v.rfind("0D", 0) == 0)) {
        bits = std::stoull(v.substr(2), nullptr, 16);
      } else if (type == "f32") {
        const float f = std::stof(v);
        std::uint32_t b = 0;
        std::memcpy(&b, &f, 4);
        bits = b;
      } else if (type == "f64") {
        const double f = std::stod(v);
        std::memcpy(&bits, &f, 8);
      } else if (v.front() == '-') {
        bits = static_cast<std::uint64_t>(std::stoll(v, nullptr, 0));
      } else {
        bits = std::stoull(v, nullptr, 0);
      }
    } catch (const std::exception&) {
      *why = "initializer value '" + v + "' (." + type + ") is not a number the emulated device reads";
      return std::nullopt;
    }
    for (std::uint32_t b = 0; b < size; ++b) out.push_back(static_cast<unsigned char>(bits >> (8 * b)));
  }
  return out;
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
      std::uint32_t n = type_bytes(sm[1]) * (sm[3].length() ? product(sm[3]) : 1);
      PtxGlobal g{sm[2], n, {}};
      if (sm[4].matched) {  // `= ...;`, possibly over several lines (libdevice's tables)
        const std::size_t from = pos + static_cast<std::size_t>(sm.position(4) + 1);
        const std::size_t end = text.find(';', from);
        std::string reason;
        auto init = initializer_bytes(text.substr(from, end == std::string::npos ? std::string::npos : end - from),
                                      sm[1], &reason);
        if (!init || init->size() > n) {
          *why = "the .global '" + g.name + "': " + (init ? "its initializer is longer than the variable" : reason);
          return std::nullopt;
        }
        g.init = std::move(*init);
      }
      if (n == 0) {
        *why = "the .global '" + g.name + "' has a type or size the emulated device cannot read";
        return std::nullopt;
      }
      m.globals.push_back(std::move(g));
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
