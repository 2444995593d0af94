#include "runtime/disk_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "runtime/error.h"
#include "runtime/sha256.h"

namespace weft::rt {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMetaHeader = "weft-cache-entry 1";

bool valid_key(std::string_view key) {
  if (key.size() != 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void require_key(std::string_view key) {
  if (!valid_key(key))
    throw Error("cache key '" + std::string(key) + "' is not 64 lowercase hex digits (use cache_key())");
}

void hash_field(Sha256& h, std::string_view s) {
  h.update(std::to_string(s.size()));
  h.update(":");
  h.update(s);
  h.update(";");
}

// Reads a whole file; nullopt if it cannot be opened or read.
std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(s).str();
}

// Writes a whole file, reporting failure with the errno text.
bool write_file(const fs::path& p, std::string_view bytes, std::string& error) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + p.string() + ": " + std::strerror(errno);
    return false;
  }
  const char* at = bytes.data();
  std::size_t left = bytes.size();
  while (left) {
    ssize_t n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + p.string() + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    error = "cannot write " + p.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// An exclusive flock on the key's lock file, released on destruction. `held()` is false when the lock
// file could not be made (read-only cache): callers then go on without the lock.
class KeyLock {
 public:
  KeyLock(const fs::path& file, std::string& error) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      error = "cannot open lock " + file.string() + ": " + std::strerror(errno);
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      error = "cannot lock " + file.string() + ": " + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  ~KeyLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
  }
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string unique_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  std::ostringstream s;
  s << ::getpid() << '.' << std::hash<std::thread::id>{}(std::this_thread::get_id()) << '.'
    << counter.fetch_add(1);
  return s.str();
}

bool is_off(const char* v) {
  if (!v) return false;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "off" || s == "0" || s == "false" || s == "no";
}

}  // namespace

std::string cache_key(const CacheKeyInputs& in) {
  Sha256 h;
  hash_field(h, "weft-cache-key 1");
  hash_field(h, in.ptx);
  hash_field(h, std::to_string(in.entries.size()));
  for (const auto& e : in.entries) hash_field(h, e);
  hash_field(h, in.weft_version);
  hash_field(h, in.target);
  hash_field(h, in.device_target);
  hash_field(h, in.compiler);
  hash_field(h, in.jit_options);
  return h.hex_digest();
}

DiskCache::DiskCache() = default;

DiskCache::DiskCache(fs::path dir) : dir_(std::move(dir)), enabled_(!dir_.empty()) {}

std::optional<fs::path> DiskCache::default_directory() {
  if (is_off(std::getenv("WEFT_CACHE"))) return std::nullopt;
  if (const char* d = std::getenv("WEFT_CACHE_DIR"); d && *d) return fs::path(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "weft";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "weft";
  return std::nullopt;
}

DiskCache& DiskCache::process_default() {
  static DiskCache cache = [] {
    auto d = default_directory();
    return d ? DiskCache(*d) : DiskCache();
  }();
  return cache;
}

fs::path DiskCache::entry_path(std::string_view key) const {
  require_key(key);
  return dir_ / "v1" / "entries" / std::string(key);
}

DiskCache::ReadStatus DiskCache::read_entry(std::string_view key, CacheEntry& out) const {
  const fs::path e = entry_path(key);
  std::error_code ec;
  if (!fs::exists(e, ec)) return ReadStatus::missing;
  auto meta = read_file(e / "meta");
  auto data = read_file(e / "data");
  if (!meta || !data) return ReadStatus::corrupt;
  // meta: header, "key K", "size N", "sha256 H", then free lines.
  std::istringstream m(*meta);
  std::string header, line, rest;
  std::getline(m, header);
  std::string k, size, sum;
  std::string w;
  std::getline(m, line);
  std::istringstream(line) >> w >> k;
  if (w != "key") return ReadStatus::corrupt;
  std::getline(m, line);
  std::istringstream(line) >> w >> size;
  if (w != "size") return ReadStatus::corrupt;
  std::getline(m, line);
  std::istringstream(line) >> w >> sum;
  if (w != "sha256" || !m) return ReadStatus::corrupt;
  std::getline(m, rest, '\0');
  if (header != kMetaHeader || k != key || size != std::to_string(data->size()) ||
      sum != sha256_hex(*data))
    return ReadStatus::corrupt;
  const auto* b = reinterpret_cast<const std::byte*>(data->data());
  out.data.assign(b, b + data->size());
  out.meta = std::move(rest);
  return ReadStatus::ok;
}

void DiskCache::remove_entry(std::string_view key) {
  std::error_code ec;
  fs::remove_all(entry_path(key), ec);
}

void DiskCache::warn_once(const std::string& message) {
  if (!warned_.exchange(true))
    std::cerr << "weft: cache: " << message << "; continuing without storing to the cache\n";
}

std::optional<CacheEntry> DiskCache::load(std::string_view key) {
  require_key(key);
  if (!enabled_) return std::nullopt;
  CacheEntry e;
  switch (read_entry(key, e)) {
    case ReadStatus::ok: return e;
    case ReadStatus::missing: return std::nullopt;
    case ReadStatus::corrupt: break;
  }
  // Deleted under the key's lock, after looking again: a writer may just have renamed a good entry in.
  std::string lock_error;
  KeyLock lock(dir_ / "v1" / "locks" / (std::string(key) + ".lock"), lock_error);
  if (read_entry(key, e) == ReadStatus::ok) return e;
  ++corrupt_;
  remove_entry(key);
  return std::nullopt;
}

bool DiskCache::store(std::string_view key, const CacheEntry& entry) {
  require_key(key);
  if (!enabled_) return false;
  std::string error;
  std::error_code ec;
  const fs::path tmp = dir_ / "v1" / "tmp" / (std::string(key) + "." + unique_suffix());
  const fs::path final_path = entry_path(key);
  auto fail = [&](const std::string& why) {
    fs::remove_all(tmp, ec);
    ++write_failures_;
    warn_once("cannot write to " + dir_.string() + " (" + why + ")");
    return false;
  };
  if (!fs::create_directories(tmp, ec) && ec) return fail(ec.message());
  fs::create_directories(final_path.parent_path(), ec);
  if (ec) return fail(ec.message());
  std::string_view data(reinterpret_cast<const char*>(entry.data.data()), entry.data.size());
  std::ostringstream meta;
  meta << kMetaHeader << "\nkey " << key << "\nsize " << data.size() << "\nsha256 " << sha256_hex(data)
       << "\n"
       << entry.meta;
  if (!write_file(tmp / "data", data, error) || !write_file(tmp / "meta", meta.str(), error))
    return fail(error);
  // The rename publishes data and meta together. If another writer got there first, its entry
  // stands (same key, same content) and ours is dropped.
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    fs::remove_all(tmp, ec);
    if (err == ENOTEMPTY || err == EEXIST) return true;
    ++write_failures_;
    warn_once("cannot write to " + dir_.string() + " (rename: " + std::strerror(err) + ")");
    return false;
  }
  return true;
}

CacheResult DiskCache::get_or_build(std::string_view key, const Compile& compile, const Valid& valid) {
  require_key(key);
  CacheResult r;
  if (!enabled_) {
    r.entry = compile();
    ++misses_;
    return r;
  }
  // An entry whose bytes are intact but whose content the caller rejects counts as corrupt.
  auto read = [&] {
    const auto status = read_entry(key, r.entry);
    return status == ReadStatus::ok && valid && !valid(r.entry) ? ReadStatus::corrupt : status;
  };
  // Fast path without the lock: a complete entry is immutable once renamed into place.
  if (read() == ReadStatus::ok) {
    r.hit = true;
    ++hits_;
    return r;
  }
  std::string lock_error;
  KeyLock lock(dir_ / "v1" / "locks" / (std::string(key) + ".lock"), lock_error);
  if (!lock.held()) warn_once(lock_error);
  // Another process may have built it while we waited for the lock.
  switch (read()) {
    case ReadStatus::ok:
      r.hit = true;
      ++hits_;
      return r;
    case ReadStatus::corrupt:
      r.rebuilt_corrupt = true;
      ++corrupt_;
      remove_entry(key);
      break;
    case ReadStatus::missing: break;
  }
  ++misses_;
  r.entry = compile();
  if (lock.held()) store(key, r.entry);  // without the lock the directory is not writable anyway
  return r;
}

DiskCache::Stats DiskCache::stats() const {
  Stats s;
  if (!enabled_) return s;
  std::error_code ec;
  fs::path entries = dir_ / "v1" / "entries";
  for (fs::directory_iterator it(entries, ec), end; !ec && it != end; it.increment(ec)) {
    ++s.entries;
    for (const char* f : {"data", "meta"}) {
      auto n = fs::file_size(it->path() / f, ec);
      if (!ec) s.bytes += n;
      ec.clear();
    }
  }
  return s;
}

void DiskCache::clear() {
  if (!enabled_) return;
  std::error_code ec;
  fs::remove_all(dir_ / "v1" / "entries", ec);
  fs::remove_all(dir_ / "v1" / "tmp", ec);
}

DiskCache::Counters DiskCache::counters() const {
  return {hits_.load(), misses_.load(), corrupt_.load(), write_failures_.load()};
}

}  // namespace weft::rt
