// Accurate math for DSL kernels, from NVIDIA's libdevice (CUDA's own math library).
//
//   #include "codegen/llvm/math.h"
//   auto y = weft::math::expf(k, x);        // Reg<f32>; a call to libdevice's __nv_expf
//   auto z = weft::math::powf(k, x, 2.5f);
//
// Each call is a call of a device function whose body is libdevice's (ir::Function::libdevice).
// The LLVM backend links the needed libdevice functions and inlines them; the direct printer gets
// them as .func bodies that LLVM compiles at emit time. Either way the program links weft_llvm
// (WEFT_WITH_LLVM=ON); kernels without math calls need no LLVM. Accuracy: `functions()` below.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "dsl/kernel_builder.h"

namespace weft::math {

Reg<f32> expf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> logf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> erff(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> tanhf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> sinf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> cosf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> rsqrtf(KernelBuilder& k, Src<f32> x, Loc loc = Loc::current());
Reg<f32> powf(KernelBuilder& k, Src<f32> x, Src<f32> y, Loc loc = Loc::current());
Reg<f64> exp(KernelBuilder& k, Src<f64> x, Loc loc = Loc::current());
Reg<f64> log(KernelBuilder& k, Src<f64> x, Loc loc = Loc::current());

// The functions, their libdevice names and the largest error CUDA documents for them (ulp of the
// result, full range, no flush-to-zero). tests/llvm/gpu_llvm_test.cpp holds the GPU to these bounds.
// Header-only, so that a build without LLVM (the GPU build, which loads PTX emitted elsewhere) can
// read the table too; the calls above need weft_llvm.
struct Function {
  std::string_view name;       // "expf"
  std::string_view libdevice;  // "__nv_expf"
  unsigned args;               // 1 or 2
  bool f64;                    // double precision
  double max_ulp;
};
inline constexpr std::array kFunctions = {
    Function{"expf", "__nv_expf", 1, false, 2},     Function{"logf", "__nv_logf", 1, false, 1},
    Function{"erff", "__nv_erff", 1, false, 2},     Function{"tanhf", "__nv_tanhf", 1, false, 2},
    Function{"sinf", "__nv_sinf", 1, false, 2},     Function{"cosf", "__nv_cosf", 1, false, 2},
    Function{"rsqrtf", "__nv_rsqrtf", 1, false, 2}, Function{"powf", "__nv_powf", 2, false, 4},
    Function{"exp", "__nv_exp", 1, true, 1},        Function{"log", "__nv_log", 1, true, 1},
};
inline std::span<const Function> functions() { return kFunctions; }

}  // namespace weft::math
