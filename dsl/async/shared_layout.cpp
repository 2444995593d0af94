#include "dsl/async/shared_layout.h"

#include <fmt/format.h>

#include "dsl/ops.h"

namespace weft {

namespace {
// Bits of the swizzle: 32B XORs 1 bit, 64B 2, 128B 3.
std::uint32_t swizzle_bits(Swizzle s) {
  switch (s) {
    case Swizzle::b32: return 1;
    case Swizzle::b64: return 2;
    case Swizzle::b128: return 3;
    default: return 0;
  }
}
// Stride between groups of 8 rows: 8 rows of the swizzle span (the "stride byte offset").
std::uint64_t sbo(const SharedLayout& l) { return 8ull * l.swizzle_bytes(); }
}  // namespace

std::uint32_t SharedLayout::swizzle_bytes() const { return swizzle_bits(swizzle) ? 16u << swizzle_bits(swizzle) : 0; }

std::uint32_t SharedLayout::alignment() const { return swizzle == Swizzle::none ? 128 : 8 * swizzle_bytes(); }

rt::TmaSwizzle SharedLayout::tma_swizzle() const {
  switch (swizzle) {
    case Swizzle::b32: return rt::TmaSwizzle::b32;
    case Swizzle::b64: return rt::TmaSwizzle::b64;
    case Swizzle::b128: return rt::TmaSwizzle::b128;
    default: return rt::TmaSwizzle::none;
  }
}

std::string SharedLayout::problem() const {
  if (rows == 0 || cols == 0) return "a tile needs rows and columns";
  if (swizzle != Swizzle::none && row_bytes() != swizzle_bytes())
    return fmt::format("a {}-byte swizzle needs rows of exactly {} bytes, but {} x {} is {} bytes", swizzle_bytes(),
                       swizzle_bytes(), cols, isa::name(elem), row_bytes());
  if (swizzle != Swizzle::none && rows % 8)
    return fmt::format("a swizzled tile needs a multiple of 8 rows (the pattern repeats every 8), not {}", rows);
  if (row_bytes() % 16) return fmt::format("rows of {} bytes are not a multiple of 16", row_bytes());
  return "";
}

std::uint32_t SharedLayout::offset(std::uint32_t row, std::uint32_t col) const {
  const std::uint32_t o = row * row_bytes() + col * isa::bytes(elem);
  const std::uint32_t mask = ((1u << swizzle_bits(swizzle)) - 1) << 7;
  return o ^ ((o & mask) >> 3);
}

Reg<u32> SharedTile::address(Src<u32> row, Src<u32> col, Loc loc) const {
  KernelBuilder::AtLine at_line(*k_, loc);
  if (!row.is_reg() && !col.is_reg())
    return base_ + layout_.offset(static_cast<std::uint32_t>(row.value()), static_cast<std::uint32_t>(col.value()));
  auto r = row.is_reg() ? row.reg() : k_->let<u32>(row, loc);
  auto c = col.is_reg() ? col.reg() : k_->let<u32>(col, loc);
  auto o = fma(r, layout_.row_bytes(), c * isa::bytes(layout_.elem));
  if (layout_.swizzle != Swizzle::none) {
    const std::uint32_t mask = ((1u << swizzle_bits(layout_.swizzle)) - 1) << 7;
    o = o ^ ((o & mask) >> 3u);
  }
  return base_ + o;
}

std::uint64_t wgmma_descriptor_bits(std::uint32_t start, const SharedLayout& l) {
  // sm_90 matrix descriptor: start >> 4 in [0, 14), leading byte offset >> 4 in [16, 30) (1: unused
  // for swizzled K-major tiles), stride byte offset >> 4 in [32, 46), layout in [62, 64):
  // 1 = 128B, 2 = 64B, 3 = 32B swizzle.
  const std::uint64_t layout = l.swizzle == Swizzle::b128 ? 1 : l.swizzle == Swizzle::b64 ? 2 : l.swizzle == Swizzle::b32 ? 3 : 0;
  return ((start >> 4) & 0x3FFFull) | (1ull << 16) | (((sbo(l) >> 4) & 0x3FFFull) << 32) | (layout << 62);
}

std::uint64_t wgmma_descriptor_bits_mn(std::uint32_t start, const SharedLayout& l, std::uint32_t mn_stride) {
  // MN-major (PTX ISA, "matrix descriptor"; CUTLASS's canonical ((8,n),(8,k)) : ((1,LBO),(8,SBO)) in
  // 16-byte units for 128B): the leading byte offset steps between swizzle spans along MN, the stride
  // byte offset between groups of 8 K rows.
  const std::uint64_t layout = l.swizzle == Swizzle::b128 ? 1 : l.swizzle == Swizzle::b64 ? 2 : l.swizzle == Swizzle::b32 ? 3 : 0;
  return ((start >> 4) & 0x3FFFull) | (((std::uint64_t{mn_stride} >> 4) & 0x3FFFull) << 16) |
         (((sbo(l) >> 4) & 0x3FFFull) << 32) | (layout << 62);
}

std::uint64_t tcgen05_descriptor_bits(std::uint32_t start, const SharedLayout& l) {
  // sm_100 descriptor: as sm_90's in the low fields, version 1 in [46, 48), layout in [61, 64):
  // 2 = 128B, 4 = 64B, 6 = 32B swizzle.
  const std::uint64_t layout = l.swizzle == Swizzle::b128 ? 2 : l.swizzle == Swizzle::b64 ? 4 : l.swizzle == Swizzle::b32 ? 6 : 0;
  return ((start >> 4) & 0x3FFFull) | (1ull << 16) | (((sbo(l) >> 4) & 0x3FFFull) << 32) | (1ull << 46) |
         (layout << 61);
}

Reg<u64> SharedTile::descriptor(std::uint64_t fixed_bits, std::uint32_t byte_offset, Loc loc) const {
  KernelBuilder::AtLine at_line(*k_, loc);
  if (layout_.swizzle == Swizzle::none)
    k_->diagnose(SourceLoc::from(loc), "matrix descriptors are made for swizzled tiles only",
                 "use Swizzle::b128 (rows of 128 bytes), b64 or b32");
  auto start = (base_ + byte_offset) >> 4u;
  auto field = convert<u64>(start & 0x3FFFu, loc);
  return field | fixed_bits;
}

Reg<u64> SharedTile::wgmma_descriptor(std::uint32_t byte_offset, Loc loc) const {
  return descriptor(wgmma_descriptor_bits(0, layout_), byte_offset, loc);
}

Reg<u64> SharedTile::wgmma_descriptor_mn(std::uint32_t byte_offset, std::uint32_t mn_stride, Loc loc) const {
  if (mn_stride % 16 || mn_stride >= (1u << 18))
    k_->diagnose(SourceLoc::from(loc), fmt::format("wgmma descriptor: MN stride of {} bytes", mn_stride),
                 "a multiple of 16 below 256 KB");
  return descriptor(wgmma_descriptor_bits_mn(0, layout_, mn_stride), byte_offset, loc);
}

Reg<u64> SharedTile::tcgen05_descriptor(std::uint32_t byte_offset, Loc loc) const {
  return descriptor(tcgen05_descriptor_bits(0, layout_), byte_offset, loc);
}

SharedTile shared_tile(KernelBuilder& k, const std::string& name, const SharedLayout& layout, Loc loc) {
  KernelBuilder::AtLine at_line(k, loc);
  if (auto p = layout.problem(); !p.empty()) k.diagnose(SourceLoc::from(loc), fmt::format("tile '{}': {}", name, p));
  auto base = k.shared<u8>(name, layout.bytes(), layout.alignment(), loc);
  return SharedTile(&k, base.base(), layout);
}

SharedTile shared_tile_at(KernelBuilder& k, Reg<u32> base, const SharedLayout& layout, Loc loc) {
  if (auto p = layout.problem(); !p.empty()) k.diagnose(SourceLoc::from(loc), "tile: " + p);
  return SharedTile(&k, base, layout);
}

}  // namespace weft
