#include "dsl/async/wgmma_fp8.h"

namespace weft {

void wgmma_fp8(KernelBuilder& k, std::vector<Reg<f32>>& acc, std::uint32_t n, Reg<u64> a_desc, Reg<u64> b_desc,
               Pred accumulate, Fp8 type, Loc loc) {
  // imm-scale-a, imm-scale-b (8-bit types take no transposes).
  detail::wgmma_ss(k, type == Fp8::e4m3 ? "wgmma.e4m3.ss" : "wgmma.e5m2.ss", 32, acc, n, a_desc, b_desc, accumulate,
                   {1, 1}, SourceLoc::from(loc));
}

}  // namespace weft
