// Tensor-core MMA from the DSL: register fragments and one atom per architecture.
//
//   sm_80/89 : mma.sync.m16n8k16 (bf16/f16 -> f32), a warp computes a 16x8 tile.
//   sm_90a   : wgmma.mma_async m64nNk16, a warpgroup computes a 64xN tile from shared memory.
//   sm_100a  : tcgen05.mma kind::f16, one thread issues for the CTA; D lives in tensor memory.
//
// Fragments are fixed-size register arrays indexed by compile-time integers (get<I>), so an index
// out of range does not compile; at(i) checks a run-time index against the size and reports it.
//
// Thread <-> element maps (PTX ISA §9.7.14.5.8, §9.7.15.5.1), lane = thread % 32:
//   mma.sync m16n8k16 D/C (4 x f32): d[j] is row (lane / 4) + 8 * (j / 2), column 2 * (lane % 4) + (j % 2).
//   mma.sync A (4 x b32 = 8 bf16): a[j] holds row (lane / 4) + 8 * (j % 2), columns 2 * (lane % 4) + 8 * (j / 2) + {0, 1}.
//   mma.sync B (2 x b32 = 4 bf16): b[j] holds column lane / 4, rows 2 * (lane % 4) + 8 * j + {0, 1}.
//   wgmma m64nNk16 D (N/2 x f32): warp w of the warpgroup owns rows 16w..16w+15; d[j] is row
//     16w + (lane / 4) + 8 * ((j / 2) % 2), column 8 * (j / 4) + 2 * (lane % 4) + (j % 2).
#pragma once

#include <array>
#include <vector>

#include "dsl/async/shared_layout.h"

namespace weft {

template <DataType T, std::size_t N>
class Fragment {
 public:
  Fragment() = default;
  explicit Fragment(KernelBuilder& k) {
    for (auto& r : regs_) r = k.reg<T>();
  }
  // A fragment over registers that already hold its elements (part of an ldmatrix result, say).
  explicit Fragment(const std::array<Reg<T>, N>& regs) : regs_(regs) {}
  template <std::size_t I>
  Reg<T> get() const {
    static_assert(I < N, "fragment index out of range");
    return regs_[I];
  }
  // A run-time index: out of range is a diagnostic at the caller's line (and returns element 0).
  Reg<T> at(std::size_t i, Loc loc = Loc::current()) const {
    if (i >= N) {
      regs_[0].builder()->diagnose(SourceLoc::from(loc),
                                   "fragment index " + std::to_string(i) + " out of range (size " + std::to_string(N) + ")");
      return regs_[0];
    }
    return regs_[i];
  }
  static constexpr std::size_t size() { return N; }
  std::vector<ir::RegId> ids() const {
    std::vector<ir::RegId> v;
    for (const auto& r : regs_) v.push_back(r.id());
    return v;
  }
  // Sets every element (accumulators start at zero).
  void fill(KernelBuilder& k, Src<T> v, Loc loc = Loc::current()) {
    for (auto& r : regs_) k.assign(r, v, loc);
  }

 private:
  std::array<Reg<T>, N> regs_{};
};

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32: d = a * b + c, per warp (sm_80+).
void mma_m16n8k16_bf16(KernelBuilder& k, Fragment<f32, 4>& d, const Fragment<b32, 4>& a, const Fragment<b32, 2>& b,
                       const Fragment<f32, 4>& c, Loc loc = Loc::current());
// mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32: d = a * b + c, per warp (sm_89+, PTX 8.4).
// Each b32 register holds four e4m3 values; the fragments cover the same bytes as m16n8k16 bf16:
//   a[j]: row (lane / 4) + 8 * (j % 2), columns 4 * (lane % 4) + 16 * (j / 2) + {0..3};
//   b[j]: column lane / 4, rows 4 * (lane % 4) + 16 * j + {0..3}; d as for m16n8k16.
void mma_m16n8k32_e4m3(KernelBuilder& k, Fragment<f32, 4>& d, const Fragment<b32, 4>& a, const Fragment<b32, 2>& b,
                       const Fragment<f32, 4>& c, Loc loc = Loc::current());
// ldmatrix .x4 (optionally .trans) from shared memory into a fragment.
void ldmatrix_x4(KernelBuilder& k, Fragment<b32, 4>& d, Reg<u32> addr, bool trans = false, Loc loc = Loc::current());
// stmatrix .x4 (sm_90+): ldmatrix's inverse. Register q of lane l holds row l / 4, columns 2 (l % 4) and
// + 1 of 8x8 b16 matrix q (the mma / wgmma accumulator's pair layout once packed to bf16x2); lanes
// 8q .. 8q + 7 give the shared addresses of matrix q's rows (16 bytes each, 16-byte aligned).
void stmatrix_x4(KernelBuilder& k, Reg<u32> addr, const Fragment<b32, 4>& s, bool trans = false,
                 Loc loc = Loc::current());

// wgmma (sm_90a): acc (N/2 f32 registers) = A(desc) * B(desc) (+ acc when `accumulate`).
// N must be a multiple of 8 in [8, 256]: anything else is a diagnostic naming the legal values.
// `transpose_b`: B is MN-major in shared memory (imm-trans-b 1; its descriptor from
// SharedTile::wgmma_descriptor_mn), e.g. a row-major K x N B (the NN layout).
void wgmma_bf16(KernelBuilder& k, std::vector<Reg<f32>>& acc, std::uint32_t n, Reg<u64> a_desc, Reg<u64> b_desc,
                Pred accumulate, bool transpose_b = false, Loc loc = Loc::current());
void wgmma_fence(KernelBuilder& k, Loc loc = Loc::current());
void wgmma_commit(KernelBuilder& k, Loc loc = Loc::current());
void wgmma_wait(KernelBuilder& k, std::uint32_t pending = 0, Loc loc = Loc::current());
// N/2 zeroed f32 registers for a wgmma m64nN accumulator.
std::vector<Reg<f32>> wgmma_accumulator(KernelBuilder& k, std::uint32_t n, Loc loc = Loc::current());

// tcgen05 (sm_100a): D(tensor memory at d_tmem) (+)= A(desc) * B(desc), kind::f16 with an
// instruction descriptor; issue from one thread, then tcgen05_commit to an mbarrier.
void tcgen05_mma_f16(KernelBuilder& k, Reg<u32> d_tmem, Reg<u64> a_desc, Reg<u64> b_desc, Src<u32> idesc,
                     Pred accumulate, Loc loc = Loc::current());
// The kind::f16 instruction descriptor for bf16 inputs, f32 accumulation, K-major A and B, MxN.
std::uint32_t tcgen05_idesc_bf16(std::uint32_t m, std::uint32_t n);

namespace detail {
// The wgmma .ss form shared by the bf16 and fp8 atoms: checks N (a multiple of 8 in [8, 256]) and the
// accumulator's size, then emits `form` (m64n{n}k{k_depth}) with d, a-desc, b-desc, scale-d and the
// immediates after it (imm-scale-a, imm-scale-b[, imm-trans-a, imm-trans-b]).
void wgmma_ss(KernelBuilder& k, const char* form, std::uint32_t k_depth, std::vector<Reg<f32>>& acc, std::uint32_t n,
              Reg<u64> a_desc, Reg<u64> b_desc, Pred accumulate, const std::vector<std::int64_t>& imms, SourceLoc l);
}  // namespace detail

}  // namespace weft
