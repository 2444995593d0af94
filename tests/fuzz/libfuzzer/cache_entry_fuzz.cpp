// libFuzzer harness: the disk cache's entry reader (runtime/disk_cache.h). The input is written as an
// entry's two files in a scratch cache directory: the first two bytes (little-endian) give the length
// of `meta`, the rest is `data`. Then DiskCache::load() must return the entry or nothing (a corrupt
// entry is deleted), never crash or throw; and whatever it returns must be what the files held, with a
// checksum that matches. Every other input also goes through get_or_build(), whose fallback compile
// stands in for the JIT.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/disk_cache.h"
#include "runtime/sha256.h"

namespace fs = std::filesystem;

namespace {
const std::string kKey(64, 'a');

const fs::path& scratch() {
  static const fs::path d = [] {
    auto p = fs::temp_directory_path() / ("weft-cache-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "cache entry reader: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t meta_len = std::min<std::size_t>(bytes[0] | (bytes[1] << 8), size - 2);
  const std::string meta(reinterpret_cast<const char*>(bytes) + 2, meta_len);
  const std::string data(reinterpret_cast<const char*>(bytes) + 2 + meta_len, size - 2 - meta_len);

  weft::rt::DiskCache cache(scratch());
  const fs::path entry = cache.entry_path(kKey);
  std::error_code ec;
  fs::remove_all(entry, ec);
  fs::create_directories(entry);
  std::ofstream(entry / "meta", std::ios::binary) << meta;
  std::ofstream(entry / "data", std::ios::binary) << data;

  try {
    if (size % 2 == 0) {
      auto e = cache.load(kKey);
      if (e) {
        if (e->data.size() != data.size() || std::memcmp(e->data.data(), data.data(), data.size()) != 0)
          finding("load() returned bytes that are not the entry's data");
        if (meta.find(weft::rt::sha256_hex(data)) == std::string::npos)
          finding("load() accepted data whose checksum is not in meta");
      } else if (fs::exists(entry)) {
        finding("load() refused an entry but left it on disk");
      }
    } else {
      bool compiled = false;
      auto r = cache.get_or_build(kKey, [&] {
        compiled = true;
        weft::rt::CacheEntry c;
        c.data = {std::byte{1}, std::byte{2}, std::byte{3}};
        c.meta = "registers 1\n";
        return c;
      });
      if (r.hit == compiled) finding("get_or_build(): a hit must not compile, a miss must");
      if (r.hit && r.entry.data.size() != data.size()) finding("get_or_build() hit with other bytes than the entry's");
      if (!r.hit && r.entry.data.size() != 3) finding("get_or_build() miss did not return the compiled bytes");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cache entry reader threw: %s\n", e.what());
    std::abort();
  }
  return 0;
}
