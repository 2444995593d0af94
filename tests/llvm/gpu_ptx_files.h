// The PTX files that let test_gpu_llvm run where there is no LLVM (the GPU machine: build-gpu is
// configured with WEFT_WITH_LLVM=OFF). weft_gpu_ptx (gpu_ptx_emit.cpp, LLVM builds only) writes them
// on the CPU machine; tools/gpu/build.sh puts them in build-gpu/ptx-llvm/. No LLVM needed here.
//
//   <dir>/<kernel>.<target>.ptx        direct printer (math kernels: with libdevice .func bodies)
//   <dir>/<kernel>.<target>.llvm.ptx   LLVM backend
//
// the same names `weft emit --backend both` writes.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "codegen/llvm/math.h"

namespace weft::test::gpu_ptx {

// The samples the GPU test runs through both backends (and how it launches them: gpu_llvm_test.cpp).
inline constexpr std::array<std::string_view, 6> kSamples = {"vector_add", "saxpy",     "reduce_sum",
                                                             "transpose",  "histogram", "scan"};

// The targets the files are emitted for: sm_90a (H100/H200), sm_90 (later GPUs run it through the
// driver's JIT) and sm_80 (every sm_8x GPU).
inline constexpr std::array<std::string_view, 3> kTargets = {"sm_80", "sm_90", "sm_90a"};

// The target of the files a device with compute capability `sm` (86 for 8.6) runs.
inline std::string_view target_for_sm(unsigned sm) { return sm == 90 ? "sm_90a" : sm < 90 ? "sm_80" : "sm_90"; }

// The math test's kernel for one function (math_kernel.h builds it).
inline std::string math_kernel_name(const math::Function& fn) { return "math_" + std::string(fn.name); }

inline std::string file_name(std::string_view kernel, std::string_view target, bool llvm) {
  return std::string(kernel) + "." + std::string(target) + (llvm ? ".llvm.ptx" : ".ptx");
}

// Every kernel the GPU test loads (each from two files per target): the samples, then the math kernels.
template <class F>
void for_each_kernel(F&& f) {
  for (auto s : kSamples) f(std::string(s));
  for (const auto& fn : math::functions()) f(math_kernel_name(fn));
}

}  // namespace weft::test::gpu_ptx
