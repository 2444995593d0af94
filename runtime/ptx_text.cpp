#include "runtime/ptx_text.h"

#include <cctype>
#include <charconv>

namespace weft::rt {

namespace {

// Calls f(line) for each line with any `//` comment removed.
template <class F>
void for_each_code_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (auto c = line.find("//"); c != std::string_view::npos) line = line.substr(0, c);
    if (!f(line)) return;
  }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool is_ident(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%';
}

// The word after directive `dir` in `line` when `dir` occurs there as a whole word; empty otherwise.
std::string_view word_after(std::string_view line, std::string_view dir) {
  std::size_t at = 0;
  while ((at = line.find(dir, at)) != std::string_view::npos) {
    const bool starts = at == 0 || is_space(line[at - 1]);
    const std::size_t end = at + dir.size();
    if (starts && end < line.size() && is_space(line[end])) {
      std::size_t b = end;
      while (b < line.size() && is_space(line[b])) ++b;
      std::size_t e = b;
      while (e < line.size() && (is_ident(line[e]) || line[e] == '.')) ++e;
      return line.substr(b, e - b);
    }
    at = end;
  }
  return {};
}

std::optional<std::uint32_t> number_before(std::string_view s, std::string_view suffix) {
  std::size_t at = s.find(suffix);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t e = at;
  while (e > 0 && is_space(s[e - 1])) --e;
  std::size_t b = e;
  while (b > 0 && std::isdigit(static_cast<unsigned char>(s[b - 1]))) --b;
  if (b == e) return std::nullopt;
  std::uint32_t v = 0;
  std::from_chars(s.data() + b, s.data() + e, v);
  return v;
}

}  // namespace

std::optional<PtxIsa> ptx_version_of(std::string_view ptx) {
  std::optional<PtxIsa> out;
  for_each_code_line(ptx, [&](std::string_view line) {
    std::string_view w = word_after(line, ".version");
    if (w.empty()) return true;
    PtxIsa v;
    auto dot = w.find('.');
    if (dot == std::string_view::npos) return false;
    auto [p1, e1] = std::from_chars(w.data(), w.data() + dot, v.major);
    auto [p2, e2] = std::from_chars(w.data() + dot + 1, w.data() + w.size(), v.minor);
    if (e1 == std::errc{} && e2 == std::errc{} && p1 == w.data() + dot && p2 == w.data() + w.size())
      out = v;
    return false;
  });
  return out;
}

std::optional<std::string> ptx_target_of(std::string_view ptx) {
  std::optional<std::string> out;
  for_each_code_line(ptx, [&](std::string_view line) {
    std::string_view w = word_after(line, ".target");
    if (w.empty()) return true;
    out = std::string(w);
    return false;
  });
  return out;
}

std::vector<std::string> ptx_entries_of(std::string_view ptx) {
  std::vector<std::string> out;
  for_each_code_line(ptx, [&](std::string_view line) {
    std::string_view w = word_after(line, ".entry");
    // word_after stops at '(' so "vadd(" gives "vadd".
    if (!w.empty()) out.emplace_back(w);
    return true;
  });
  return out;
}

std::map<std::string, FunctionResources> parse_jit_info_log(std::string_view log) {
  std::map<std::string, FunctionResources> out;
  std::string current;
  auto quoted_or_word = [](std::string_view rest) -> std::string {
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == '\'') {
      auto e = rest.find('\'', 1);
      return std::string(rest.substr(1, e == std::string_view::npos ? rest.size() - 1 : e - 1));
    }
    std::size_t e = 0;
    while (e < rest.size() && !is_space(rest[e])) ++e;
    return std::string(rest.substr(0, e));
  };
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t nl = log.find('\n', pos);
    std::string_view line = log.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? log.size() : nl + 1;
    if (auto at = line.find("Compiling entry function"); at != std::string_view::npos) {
      current = quoted_or_word(line.substr(at + 24));
      out[current];
    } else if (auto at2 = line.find("Function properties for"); at2 != std::string_view::npos) {
      current = quoted_or_word(line.substr(at2 + 23));
      out[current];
    } else if (!current.empty()) {
      auto& r = out[current];
      if (auto v = number_before(line, "bytes stack frame")) r.stack_frame = *v;
      if (auto v = number_before(line, "bytes spill stores")) r.spill_stores = *v;
      if (auto v = number_before(line, "bytes spill loads")) r.spill_loads = *v;
      if (line.find("Used") != std::string_view::npos) {
        if (auto v = number_before(line, "registers")) r.registers = static_cast<int>(*v);
        if (auto v = number_before(line, "bytes smem")) r.smem = *v;
      }
    }
  }
  return out;
}

}  // namespace weft::rt
