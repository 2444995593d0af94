// The on-disk cache of compiled cubins (DESIGN.md decision 9).
//
// Why: a cold JIT of a GEMM module costs ~100 ms; reading a cubin back costs microseconds. The cache
// is content-addressed: the key is a SHA-256 over everything that decides the cubin's bytes (PTX
// text, entry names, weft version, target with its a/f suffix, compiling device arch, compiler and its
// version, JIT options), so a stale entry can never be found for changed inputs.
//
// On disk, under the cache directory:
//   v1/entries/<key>/data   the cubin
//   v1/entries/<key>/meta   "weft-cache-entry 1", key, size, sha256 of data, then free key/value lines
//                           (registers, spills, ...)
//   v1/tmp/                 entries being written; each is renamed into entries/ as one unit
//   v1/locks/<key>.lock     per-key flock: N processes missing the same key compile it once
// A corrupt or truncated entry (checksum, size or meta mismatch) is deleted and rebuilt once. A cache
// directory that cannot be written (read-only, full) is reported once on stderr and the cache keeps
// working without storing; nothing here asserts or aborts. This class needs no GPU: the bytes come
// from a callback (the driver's linker in the runtime, a fake compiler in tests).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::rt {

// The inputs that decide a cubin. Each field is hashed with its length, so fields cannot run together.
struct CacheKeyInputs {
  std::string_view ptx;
  std::vector<std::string> entries;  // entry names, in module order
  std::string weft_version;
  std::string target;         // the PTX's target with suffix: "sm_90a"
  std::string device_target;  // the arch the cubin is compiled for: "sm_90"
  std::string compiler;       // "cuda-driver-linker 13.0"
  std::string jit_options;    // canonical text of the JIT options
};

// 64 lowercase hex digits.
std::string cache_key(const CacheKeyInputs& in);

struct CacheEntry {
  std::vector<std::byte> data;
  std::string meta;  // free "name value" lines stored beside the data (registers, spills, ...)
};

struct CacheResult {
  CacheEntry entry;
  bool hit = false;            // read from disk (no compile)
  bool rebuilt_corrupt = false;  // a corrupt entry was found, deleted and rebuilt
};

class DiskCache {
 public:
  using Compile = std::function<CacheEntry()>;

  DiskCache();  // disabled: every get_or_build compiles
  explicit DiskCache(std::filesystem::path dir);

  // $WEFT_CACHE=off (or 0/false/no) -> nullopt; else $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft,
  // else $HOME/.cache/weft; nullopt when none of these is set.
  static std::optional<std::filesystem::path> default_directory();
  // The process's cache, made from default_directory() on first use.
  static DiskCache& process_default();

  bool enabled() const { return enabled_; }
  const std::filesystem::path& directory() const { return dir_; }

  // The entry for `key` from disk, or compile() it, store it and return it. Concurrent callers (threads
  // or processes) with one key compile once; the others wait on the key's lock and read the result.
  // Exceptions from compile() propagate and leave no entry behind. `valid`, where given, judges an
  // entry's content: one it rejects is treated as corrupt (deleted under the lock and rebuilt).
  using Valid = std::function<bool(const CacheEntry&)>;
  CacheResult get_or_build(std::string_view key, const Compile& compile, const Valid& valid = {});

  // A valid entry, or nullopt (missing, or corrupt: then it is deleted).
  std::optional<CacheEntry> load(std::string_view key);
  // Writes an entry (temporary directory + rename). False if it could not (warned once on stderr).
  bool store(std::string_view key, const CacheEntry& entry);

  struct Stats {
    std::size_t entries = 0;
    std::uint64_t bytes = 0;
  };
  Stats stats() const;
  void clear();  // removes every entry (and stale temporaries)

  std::filesystem::path entry_path(std::string_view key) const;

  // What this object has seen since it was made (tests, benchmarks, `weft cache stats`).
  struct Counters {
    std::uint64_t hits = 0, misses = 0, corrupt = 0, write_failures = 0;
  };
  Counters counters() const;

 private:
  enum class ReadStatus { ok, missing, corrupt };
  ReadStatus read_entry(std::string_view key, CacheEntry& out) const;
  void remove_entry(std::string_view key);
  void warn_once(const std::string& message);

  std::filesystem::path dir_;
  bool enabled_ = false;
  std::atomic<bool> warned_{false};
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, corrupt_{0}, write_failures_{0};
};

}  // namespace weft::rt
