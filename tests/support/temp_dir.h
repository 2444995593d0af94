// A fresh directory under the system's temporary directory, removed (with anything made read-only
// inside it) when the object goes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace weft::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "weft-test") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace weft::test
