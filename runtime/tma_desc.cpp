#include "runtime/tma_desc.h"

#include <cstdio>
#include <vector>

#include "runtime/error.h"

namespace weft::rt {

namespace {

std::string dim(std::uint32_t i) { return "dimension " + std::to_string(i); }

[[noreturn]] void bad(const std::string& what) { throw Error("tensor map: " + what); }

}  // namespace

std::uint32_t tma_dtype_bytes(TmaDtype t) {
  switch (t) {
    case TmaDtype::u8: return 1;
    case TmaDtype::u16: case TmaDtype::f16: case TmaDtype::bf16: return 2;
    case TmaDtype::u32: case TmaDtype::s32: case TmaDtype::f32: case TmaDtype::f32_ftz:
    case TmaDtype::tf32: case TmaDtype::tf32_ftz: return 4;
    case TmaDtype::u64: case TmaDtype::s64: case TmaDtype::f64: return 8;
  }
  return 0;
}

std::string_view tma_dtype_name(TmaDtype t) {
  switch (t) {
    case TmaDtype::u8: return "u8";
    case TmaDtype::u16: return "u16";
    case TmaDtype::u32: return "u32";
    case TmaDtype::s32: return "s32";
    case TmaDtype::u64: return "u64";
    case TmaDtype::s64: return "s64";
    case TmaDtype::f16: return "f16";
    case TmaDtype::f32: return "f32";
    case TmaDtype::f64: return "f64";
    case TmaDtype::bf16: return "bf16";
    case TmaDtype::f32_ftz: return "f32_ftz";
    case TmaDtype::tf32: return "tf32";
    case TmaDtype::tf32_ftz: return "tf32_ftz";
  }
  return "?";
}

bool tma_dtype_is_float(TmaDtype t) {
  switch (t) {
    case TmaDtype::f16: case TmaDtype::f32: case TmaDtype::f64: case TmaDtype::bf16:
    case TmaDtype::f32_ftz: case TmaDtype::tf32: case TmaDtype::tf32_ftz: return true;
    default: return false;
  }
}

std::uint32_t tma_swizzle_bytes(TmaSwizzle s) {
  switch (s) {
    case TmaSwizzle::none: return 0;
    case TmaSwizzle::b32: return 32;
    case TmaSwizzle::b64: return 64;
    case TmaSwizzle::b128: return 128;
  }
  return 0;
}

std::uint64_t TmaDesc::box_bytes() const {
  std::uint64_t n = tma_dtype_bytes(dtype);
  for (std::uint32_t i = 0; i < rank && i < 5; ++i) {
    // With an element stride s, the box of b elements moves ceil(b / s) of them.
    const std::uint32_t s = element_strides[i] ? element_strides[i] : 1;
    n *= (i == 0 && interleave == TmaInterleave::none) ? box_dims[i] : (box_dims[i] + s - 1) / s;
  }
  return n;
}

TmaDesc TmaDesc::packed(TmaDtype dtype, std::initializer_list<std::uint64_t> dims,
                        std::initializer_list<std::uint32_t> box) {
  TmaDesc d;
  d.dtype = dtype;
  if (dims.size() > 5 || box.size() != dims.size())
    bad("packed() needs 1 to 5 dimensions and one box size per dimension (got " +
        std::to_string(dims.size()) + " dimensions, " + std::to_string(box.size()) + " box sizes)");
  d.set_packed_shape(std::span(dims.begin(), dims.size()));
  std::uint32_t i = 0;
  for (auto v : box) d.box_dims[i++] = v;
  return d;
}

void TmaDesc::set_packed_shape(std::span<const std::uint64_t> dims) {
  if (dims.empty() || dims.size() > 5) bad("a shape of " + std::to_string(dims.size()) + " dimensions (1 to 5)");
  rank = static_cast<std::uint32_t>(dims.size());
  std::uint64_t stride = tma_dtype_bytes(dtype);
  for (std::uint32_t i = 0; i < rank; ++i) {
    global_dims[i] = dims[i];
    if (i + 1 < rank) global_strides_bytes[i] = stride *= dims[i];
  }
}

void check_tma(const TmaDesc& d, std::uint64_t addr) {
  const std::uint32_t elem = tma_dtype_bytes(d.dtype);
  if (elem == 0) bad("unknown element type " + std::to_string(static_cast<int>(d.dtype)));
  if (d.rank < 1 || d.rank > 5) bad("rank " + std::to_string(d.rank) + " is outside 1..5");
  if (d.interleave != TmaInterleave::none && d.rank < 3)
    bad("an interleaved layout needs rank 3 or more (rank is " + std::to_string(d.rank) + ")");

  const std::uint64_t align = d.interleave == TmaInterleave::b32 ? 32 : 16;
  if (addr == 0) bad("the global address is null");
  if (addr % align)
    bad("the global address 0x" + [&] {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(addr));
      return std::string(buf);
    }() + " is not " + std::to_string(align) + "-byte aligned");

  for (std::uint32_t i = 0; i < d.rank; ++i) {
    if (d.global_dims[i] == 0 || d.global_dims[i] > (1ull << 32))
      bad(dim(i) + ": global size " + std::to_string(d.global_dims[i]) + " is outside 1..2^32");
    if (d.box_dims[i] == 0 || d.box_dims[i] > 256)
      bad(dim(i) + ": box size " + std::to_string(d.box_dims[i]) + " is outside 1..256");
    if (d.element_strides[i] == 0 || d.element_strides[i] > 8)
      bad(dim(i) + ": element stride " + std::to_string(d.element_strides[i]) + " is outside 1..8");
  }
  const std::uint64_t stride_align = d.interleave == TmaInterleave::b32 ? 32 : 16;
  std::uint64_t spans = d.global_dims[0] * elem;  // bytes one step of the next dimension must cover
  for (std::uint32_t i = 0; i + 1 < d.rank; ++i) {
    const std::uint64_t s = d.global_strides_bytes[i];
    const std::string which = "stride of " + dim(i + 1) + " (" + std::to_string(s) + " bytes)";
    if (s == 0 || s % stride_align)
      bad(which + " is not a nonzero multiple of " + std::to_string(stride_align) +
          " (strides are in bytes)");
    if (s >= (1ull << 40)) bad(which + " is not below 2^40");
    if (s < spans)
      bad(which + " is smaller than the " + std::to_string(spans) + " bytes that " + dim(i) +
          " spans (strides are in bytes, not elements)");
    spans = s * d.global_dims[i + 1];
  }

  const std::uint64_t inner = std::uint64_t(d.box_dims[0]) * elem;
  if (d.interleave == TmaInterleave::none) {
    if (inner % 16)
      bad("the box's inner extent is " + std::to_string(inner) + " bytes (" +
          std::to_string(d.box_dims[0]) + " x " + std::string(tma_dtype_name(d.dtype)) +
          "); it must be a multiple of 16 bytes");
    if (const std::uint32_t sw = tma_swizzle_bytes(d.swizzle); sw && inner > sw)
      bad("the box's inner extent is " + std::to_string(inner) + " bytes, wider than the " +
          std::to_string(sw) + "-byte swizzle span (use at most " + std::to_string(sw / elem) + " " +
          std::string(tma_dtype_name(d.dtype)) + " elements, or a wider swizzle)");
  }
  if (d.interleave == TmaInterleave::b32 && d.swizzle != TmaSwizzle::b32)
    bad("a 32-byte interleaved layout needs the 32-byte swizzle");
  if (d.oob_fill == TmaOobFill::nan_request_zero_fma && !tma_dtype_is_float(d.dtype))
    bad("the NaN out-of-bounds fill needs a floating-point element type (got " +
        std::string(tma_dtype_name(d.dtype)) + ")");
}

std::string tma_box_key(const TmaDesc& d) {
  if (d.rank < 1 || d.rank > 5 || d.box_dims[0] == 0) return {};
  std::string key = std::string(tma_dtype_name(d.dtype)) + ":";
  for (std::uint32_t i = 0; i < d.rank; ++i) key += (i ? "x" : "") + std::to_string(d.box_dims[i]);
  const std::uint32_t swizzle = tma_swizzle_bytes(d.swizzle);
  key += ":" + (swizzle ? std::to_string(swizzle) + "B" : std::string("none"));
  // Element strides and interleave change what a box moves too; named only where not the default,
  // so the usual keys stay short.
  bool strided = false;
  for (std::uint32_t i = 0; i < d.rank; ++i) strided |= d.element_strides[i] != 1;
  if (strided) {
    key += ":estride";
    for (std::uint32_t i = 0; i < d.rank; ++i) key += (i ? "x" : "") + std::to_string(d.element_strides[i]);
  }
  if (d.interleave != TmaInterleave::none) key += d.interleave == TmaInterleave::b16 ? ":interleave16B" : ":interleave32B";
  return key;
}

std::optional<TmaDesc> parse_tma_box_key(std::string_view key) {
  // Splits "a:b:c" into its fields.
  std::vector<std::string_view> f;
  for (std::size_t at = 0;;) {
    const auto colon = key.find(':', at);
    f.push_back(key.substr(at, colon == std::string_view::npos ? std::string_view::npos : colon - at));
    if (colon == std::string_view::npos) break;
    at = colon + 1;
  }
  // "64x128" -> {64, 128}; nullopt unless 1..5 numbers of 1..256 (`max`).
  auto numbers = [](std::string_view t, std::uint32_t max) -> std::optional<std::vector<std::uint32_t>> {
    std::vector<std::uint32_t> v;
    for (std::size_t at = 0;;) {
      const auto x = t.find('x', at);
      const auto part = t.substr(at, x == std::string_view::npos ? std::string_view::npos : x - at);
      if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
      const auto n = static_cast<std::uint32_t>(std::stoul(std::string(part)));
      if (n < 1 || n > max) return std::nullopt;
      v.push_back(n);
      if (x == std::string_view::npos) break;
      at = x + 1;
    }
    if (v.size() > 5) return std::nullopt;
    return v;
  };
  if (f.size() < 3 || f.size() > 5) return std::nullopt;
  TmaDesc d;
  bool typed = false;
  for (int t = 0; t <= static_cast<int>(TmaDtype::tf32_ftz); ++t)
    if (tma_dtype_name(static_cast<TmaDtype>(t)) == f[0]) d.dtype = static_cast<TmaDtype>(t), typed = true;
  const auto box = numbers(f[1], 256);
  if (!typed || !box) return std::nullopt;
  d.rank = static_cast<std::uint32_t>(box->size());
  for (std::uint32_t i = 0; i < d.rank; ++i) d.box_dims[i] = (*box)[i];
  if (f[2] == "none") d.swizzle = TmaSwizzle::none;
  else if (f[2] == "32B") d.swizzle = TmaSwizzle::b32;
  else if (f[2] == "64B") d.swizzle = TmaSwizzle::b64;
  else if (f[2] == "128B") d.swizzle = TmaSwizzle::b128;
  else return std::nullopt;
  for (std::size_t i = 3; i < f.size(); ++i) {
    if (f[i].starts_with("estride")) {
      const auto s = numbers(f[i].substr(7), 8);
      if (!s || s->size() != d.rank) return std::nullopt;
      for (std::uint32_t j = 0; j < d.rank; ++j) d.element_strides[j] = (*s)[j];
    } else if (f[i] == "interleave16B") {
      d.interleave = TmaInterleave::b16;
    } else if (f[i] == "interleave32B") {
      d.interleave = TmaInterleave::b32;
    } else {
      return std::nullopt;
    }
  }
  if (tma_box_key(d) != key) return std::nullopt;  // one spelling per description
  return d;
}

}  // namespace weft::rt
