// Shared-memory tiles with the hardware swizzles (none, 32B, 64B, 128B).
//
// A swizzled tile XORs address bits [4, 4+b) with bits [7, 7+b) (b = 1, 2, 3 for 32B, 64B, 128B), the
// pattern TMA writes and wgmma/tcgen05 read, so rows of one column land in different banks. One
// SharedLayout gives ordinary accesses their swizzled addresses, the matrix descriptors of wgmma
// (sm_90a) and tcgen05 (sm_100a), and the TMA swizzle mode for the tensor map.
#pragma once

#include <string>

#include "dsl/kernel_builder.h"
#include "runtime/tma_desc.h"

namespace weft {

enum class Swizzle { none, b32, b64, b128 };

struct SharedLayout {
  std::uint32_t rows = 0;  // outer dimension (M or N rows of a K-major tile)
  std::uint32_t cols = 0;  // inner, contiguous dimension, in elements
  isa::Type elem = isa::Type::b16;
  Swizzle swizzle = Swizzle::none;

  std::uint32_t row_bytes() const { return cols * isa::bytes(elem); }
  std::uint32_t bytes() const { return rows * row_bytes(); }
  std::uint32_t swizzle_bytes() const;  // 0, 32, 64, 128
  // The alignment the tile needs: 8 rows of the swizzle span (the pattern repeats every 8 rows), and
  // at least 128 bytes, which TMA requires of a tensor copy's shared-memory box.
  std::uint32_t alignment() const;
  rt::TmaSwizzle tma_swizzle() const;
  // Why this layout cannot be used, or "" (a swizzled row must be exactly the swizzle span).
  std::string problem() const;
  // The swizzled byte offset of (row, col), for constant indices.
  std::uint32_t offset(std::uint32_t row, std::uint32_t col) const;
};

class SharedTile {
 public:
  SharedTile(KernelBuilder* k, Reg<u32> base, SharedLayout layout) : k_(k), base_(base), layout_(layout) {}
  Reg<u32> base() const { return base_; }
  const SharedLayout& layout() const { return layout_; }
  // The shared address of element (row, col), swizzled.
  Reg<u32> address(Src<u32> row, Src<u32> col, Loc loc = Loc::current()) const;
  // Matrix descriptors of a K-major operand starting at this tile (byte offset added to the start).
  Reg<u64> wgmma_descriptor(std::uint32_t byte_offset = 0, Loc loc = Loc::current()) const;
  // The wgmma descriptor of an MN-major operand (wgmma's imm-trans 1): this tile's rows are K rows,
  // each one swizzle span of MN elements (64 bf16 for 128B), and the next span of MN elements is
  // `mn_stride` bytes further (the leading byte offset); groups of 8 K rows are 8 rows apart (the
  // stride byte offset). A k-step of 16 K rows is a byte offset of 16 rows.
  Reg<u64> wgmma_descriptor_mn(std::uint32_t byte_offset, std::uint32_t mn_stride, Loc loc = Loc::current()) const;
  Reg<u64> tcgen05_descriptor(std::uint32_t byte_offset = 0, Loc loc = Loc::current()) const;

 private:
  Reg<u64> descriptor(std::uint64_t fixed_bits, std::uint32_t byte_offset, Loc loc) const;
  KernelBuilder* k_;
  Reg<u32> base_;
  SharedLayout layout_;
};

// A static shared allocation with the layout's alignment; a bad layout is a diagnostic here.
SharedTile shared_tile(KernelBuilder& k, const std::string& name, const SharedLayout& layout, Loc loc = Loc::current());
// A tile at an address the author computed (in dynamic shared memory): alignment is the author's.
SharedTile shared_tile_at(KernelBuilder& k, Reg<u32> base, const SharedLayout& layout, Loc loc = Loc::current());

// The descriptor bit fields, exposed for tests and the docs.
std::uint64_t wgmma_descriptor_bits(std::uint32_t start, const SharedLayout& l);
std::uint64_t wgmma_descriptor_bits_mn(std::uint32_t start, const SharedLayout& l, std::uint32_t mn_stride);
std::uint64_t tcgen05_descriptor_bits(std::uint32_t start, const SharedLayout& l);

}  // namespace weft
