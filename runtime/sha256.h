// SHA-256 (FIPS 180-4), written for the cubin cache.
//
// Why our own: the cache key must not collide by accident (FNV and friends are too weak for a
// content-addressed store that other processes trust), and weft takes no crypto dependency for one
// hash. Tested against the FIPS 180-4 example vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace weft::rt {

class Sha256 {
 public:
  Sha256();
  Sha256& update(std::span<const std::byte> data);
  Sha256& update(std::string_view text);
  // Finishes the hash (the object must not be updated afterwards).
  std::array<std::uint8_t, 32> digest();
  std::string hex_digest();  // 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;  // bytes hashed
};

std::string sha256_hex(std::string_view text);
std::string sha256_hex(std::span<const std::byte> data);

}  // namespace weft::rt
