#include "tools/emudevice/launch.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tools/emudevice/config.h"

extern char** environ;

namespace weft::emu {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string triple(const std::uint32_t v[3]) {
  return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + "]";
}

// The string value of "key" in a flat JSON object written by device_launch.py (json.dump), with its
// escapes decoded; empty when absent.
std::string json_field(const std::string& text, const std::string& key) {
  const std::string k = "\"" + key + "\"";
  std::size_t p = text.find(k);
  if (p == std::string::npos) return {};
  p = text.find(':', p + k.size());
  if (p == std::string::npos) return {};
  p = text.find('"', p);
  if (p == std::string::npos) return {};
  std::string out;
  for (++p; p < text.size() && text[p] != '"'; ++p) {
    if (text[p] != '\\' || p + 1 >= text.size()) {
      out += text[p];
      continue;
    }
    const char e = text[++p];
    if (e == 'n') out += '\n';
    else if (e == 't') out += '\t';
    else if (e == 'u' && p + 4 < text.size()) {
      const unsigned code = std::stoul(text.substr(p + 1, 4), nullptr, 16);
      out += code < 0x80 ? static_cast<char>(code) : '?';
      p += 4;
    } else out += e;
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The sticky error each emulator outcome leaves, as a GPU would report the same fault.
CUresult result_of(const std::string& status) {
  if (status == "ok") return CUDA_SUCCESS;
  if (status == "illegal_address") return CUDA_ERROR_ILLEGAL_ADDRESS;
  if (status == "misaligned") return CUDA_ERROR_MISALIGNED_ADDRESS;
  if (status == "deadlock") return CUDA_ERROR_LAUNCH_TIMEOUT;  // a GPU would hang; the emulator can tell
  if (status == "unsupported") return CUDA_ERROR_NOT_SUPPORTED;
  return CUDA_ERROR_LAUNCH_FAILED;  // trap, or anything else the emulator found wrong
}

}  // namespace

LaunchOutcome run_launch(const LaunchRequest& r, const Arena& arena, const std::string& work_dir) {
  static std::atomic<int> counter{0};
  const std::string base = work_dir + "/launch-" + std::to_string(++counter);
  const std::string request = base + ".json", result = base + ".result.json", log = base + ".log";

  std::ostringstream j;
  j << "{\n  \"ptx\": " << json_string(r.ptx_path) << ",\n  \"entry\": " << json_string(r.entry)
    << ",\n  \"grid\": " << triple(r.grid) << ", \"block\": " << triple(r.block) << ", \"cluster\": " << triple(r.cluster)
    << ",\n  \"dynamic_smem\": " << r.dynamic_smem << ",\n  \"params\": [";
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    j << (i ? ", " : "") << '"';
    for (unsigned char b : r.params[i]) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02x", b);
      j << buf;
    }
    j << '"';
  }
  j << "],\n  \"memory\": " << json_string(arena.path()) << ", \"size\": " << arena.top() << ",\n  \"allocations\": [";
  bool first = true;
  for (const auto& [b, a] : arena.allocations()) {
    j << (first ? "" : ", ") << "[" << a.base << ", " << a.bytes << ", " << json_string(a.name) << "]";
    first = false;
  }
  // Mapped ranges lie above the arena (its virtual span), so they come after its allocations in order.
  for (const LaunchMapping& m : r.mappings) {
    j << (first ? "" : ", ") << "[" << m.va << ", " << m.bytes << ", \"cuMemMap\"]";
    first = false;
  }
  j << "],\n  \"mappings\": [";
  for (std::size_t i = 0; i < r.mappings.size(); ++i)
    j << (i ? ", " : "") << "[" << r.mappings[i].va << ", " << r.mappings[i].bytes << ", "
      << json_string(r.mappings[i].path) << ", " << r.mappings[i].heartbeat_offset << "]";
  j << "],\n  \"globals\": {";
  for (std::size_t i = 0; i < r.globals.size(); ++i)
    j << (i ? ", " : "") << json_string(r.globals[i].first) << ": " << r.globals[i].second;
  j << "},\n  \"seed\": " << r.seed << ",\n  \"result\": " << json_string(result) << "\n}\n";
  {
    std::ofstream f(request);
    f << j.str();
  }

  const Config& c = config();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = {c.python, c.launcher, request};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, c.python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (spawned == 0) ::waitpid(pid, &status, 0);

  LaunchOutcome out;
  const std::string text = spawned == 0 ? read_file(result) : std::string();
  out.status = json_field(text, "status");
  out.message = json_field(text, "message");
  if (out.status.empty()) {
    out.result = CUDA_ERROR_UNKNOWN;
    out.status = "bridge";
    out.message = spawned != 0 ? "cannot start " + c.python
                               : c.launcher + " wrote no result (exit status " + std::to_string(WEXITSTATUS(status)) +
                                     "):\n" + read_file(log);
  } else {
    out.result = result_of(out.status);
  }
  if (!c.keep) {
    std::remove(request.c_str());
    std::remove(result.c_str());
    std::remove(log.c_str());
  }
  return out;
}

}  // namespace weft::emu
