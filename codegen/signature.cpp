#include "codegen/signature.h"

#include <charconv>
#include <sstream>

namespace weft::sig {

namespace {

constexpr std::string_view kPrefix = "//! ";
constexpr int kVersion = 1;

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::uint32_t to_u32(std::string_view w, int line, std::string_view what) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc{} || p != w.data() + w.size())
    throw ParseError(line, "expected an unsigned number for " + std::string(what) + ", got '" +
                               std::string(w) + "'");
  return v;
}

std::array<std::uint32_t, 3> three(const std::vector<std::string_view>& w, int line) {
  if (w.size() != 4)
    throw ParseError(line, "'" + std::string(w[0]) + "' needs three numbers");
  return {to_u32(w[1], line, w[0]), to_u32(w[2], line, w[0]), to_u32(w[3], line, w[0])};
}

ParamKind to_kind(std::string_view w, int line) {
  if (w == "scalar") return ParamKind::scalar;
  if (w == "pointer") return ParamKind::pointer;
  if (w == "bytes") return ParamKind::bytes;
  throw ParseError(line, "unknown parameter kind '" + std::string(w) + "'");
}

}  // namespace

ParseError::ParseError(int line, const std::string& what)
    : std::runtime_error("signature block, line " + std::to_string(line) + ": " + what),
      line_(line) {}

const Kernel* Signature::find(std::string_view kernel) const {
  for (const auto& k : kernels)
    if (k.name == kernel) return &k;
  return nullptr;
}

std::string_view kind_name(ParamKind k) {
  switch (k) {
    case ParamKind::scalar: return "scalar";
    case ParamKind::pointer: return "pointer";
    case ParamKind::bytes: return "bytes";
  }
  return "?";
}

std::string format(const Signature& s) {
  std::ostringstream o;
  o << kPrefix << "weft-signature " << kVersion << "\n";
  o << kPrefix << "target " << s.target << "\n";
  for (const auto& k : s.kernels) {
    o << kPrefix << "kernel " << k.name << "\n";
    for (const auto& p : k.params) {
      o << kPrefix << "param " << p.name << ' ' << kind_name(p.kind) << ' '
        << (p.detail.empty() ? "-" : p.detail) << ' ' << p.size << ' ' << p.align;
      if (p.kind == ParamKind::pointer && !p.pointee.empty()) o << ' ' << p.pointee;
      if (p.kind == ParamKind::bytes && !p.tma_box.empty()) o << ' ' << p.tma_box;
      o << "\n";
    }
    auto trio = [&](std::string_view key, const std::array<std::uint32_t, 3>& v) {
      o << kPrefix << key << ' ' << v[0] << ' ' << v[1] << ' ' << v[2] << "\n";
    };
    trio("reqntid", k.reqntid);
    trio("maxntid", k.maxntid);
    o << kPrefix << "dynamic_smem " << k.dynamic_smem << (k.uses_dynamic_smem ? " extern" : "")
      << "\n";
    o << kPrefix << "static_smem " << k.static_smem << "\n";
    trio("cluster", k.cluster);
    o << kPrefix << "end-kernel\n";
  }
  o << kPrefix << "end\n";
  return o.str();
}

Signature parse(std::string_view text) {
  Signature s;
  bool started = false, ended = false;
  Kernel* cur = nullptr;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size() && !ended) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos
                                                                          : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.substr(0, 3) != "//!") {
      if (started) throw ParseError(line_no, "block ends without '//! end' (truncated?)");
      continue;  // text before the block (none when weft printed it)
    }
    auto w = split_words(line.substr(3));
    if (w.empty()) throw ParseError(line_no, "empty signature line");
    const std::string_view key = w[0];
    if (!started) {
      if (key != "weft-signature" || w.size() != 2)
        throw ParseError(line_no, "expected '//! weft-signature <version>'");
      s.version = static_cast<int>(to_u32(w[1], line_no, "version"));
      if (s.version != kVersion)
        throw ParseError(line_no, "signature version " + std::to_string(s.version) +
                                      " is not supported (this reader knows version " +
                                      std::to_string(kVersion) + ")");
      started = true;
      continue;
    }
    if (key == "end") {
      if (cur) throw ParseError(line_no, "kernel '" + cur->name + "' has no 'end-kernel'");
      ended = true;
    } else if (key == "target") {
      if (w.size() != 2) throw ParseError(line_no, "'target' needs one name");
      s.target = std::string(w[1]);
    } else if (key == "kernel") {
      if (cur) throw ParseError(line_no, "kernel '" + cur->name + "' has no 'end-kernel'");
      if (w.size() != 2) throw ParseError(line_no, "'kernel' needs one name");
      s.kernels.push_back(Kernel{});
      cur = &s.kernels.back();
      cur->name = std::string(w[1]);
    } else if (!cur) {
      throw ParseError(line_no, "'" + std::string(key) + "' outside a kernel");
    } else if (key == "param") {
      if (w.size() < 6 || w.size() > 7) throw ParseError(line_no, "malformed 'param' line");
      Param p;
      p.name = std::string(w[1]);
      p.kind = to_kind(w[2], line_no);
      p.detail = std::string(w[3]);
      p.size = to_u32(w[4], line_no, "parameter size");
      p.align = to_u32(w[5], line_no, "parameter alignment");
      if (w.size() == 7) (p.kind == ParamKind::bytes ? p.tma_box : p.pointee) = std::string(w[6]);
      // A tensor map's box comes with detail `tma`, and only with it.
      if (p.kind == ParamKind::bytes && (p.detail == "tma") != !p.tma_box.empty())
        throw ParseError(line_no, "parameter '" + p.name + "': " +
                                      (p.tma_box.empty() ? "a tensor map (detail 'tma') without its box"
                                                         : "a box for bytes that are not a tensor map (detail '" +
                                                               p.detail + "')"));
      if (p.size == 0) throw ParseError(line_no, "parameter '" + p.name + "' has size 0");
      if (p.align == 0 || (p.align & (p.align - 1)) != 0)
        throw ParseError(line_no, "parameter '" + p.name + "' has an alignment that is not a power of two");
      cur->params.push_back(std::move(p));
    } else if (key == "reqntid") {
      cur->reqntid = three(w, line_no);
    } else if (key == "maxntid") {
      cur->maxntid = three(w, line_no);
    } else if (key == "cluster") {
      cur->cluster = three(w, line_no);
    } else if (key == "dynamic_smem") {
      if (w.size() < 2 || w.size() > 3 || (w.size() == 3 && w[2] != "extern"))
        throw ParseError(line_no, "malformed 'dynamic_smem' line");
      cur->dynamic_smem = to_u32(w[1], line_no, "dynamic_smem");
      cur->uses_dynamic_smem = w.size() == 3;
    } else if (key == "static_smem") {
      if (w.size() != 2) throw ParseError(line_no, "malformed 'static_smem' line");
      cur->static_smem = to_u32(w[1], line_no, "static_smem");
    } else if (key == "end-kernel") {
      cur = nullptr;
    } else {
      throw ParseError(line_no, "unknown key '" + std::string(key) + "'");
    }
  }
  if (!started) throw ParseError(line_no, "no '//! weft-signature' block found");
  if (!ended) throw ParseError(line_no, "block ends without '//! end' (truncated?)");
  if (s.target.empty()) throw ParseError(line_no, "block names no target");
  return s;
}

}  // namespace weft::sig
