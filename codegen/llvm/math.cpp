// The DSL's math calls: a device function per (libdevice routine, calling function) whose body the
// backends take from libdevice. No LLVM headers here.
#include "codegen/llvm/math.h"

#include "codegen/llvm/backend.h"

namespace weft::math {

namespace {

// The device function standing for `libdevice` in the function being built: one per calling
// function (the builder gives no view of the whole module, and names must be unique in it).
std::string declare(KernelBuilder& k, std::string_view name, std::string_view libdevice, int args, bool dbl, Loc loc) {
  llvm_backend::install_external_ptx_provider();
  const std::string fname = "weft_" + std::string(name) + "__" + k.fn().name;
  for (const auto& in : k.fn().body)
    if (in.form && in.form->id == "call" && in.ops.size() > 1 && in.ops[1].name == fname) return fname;
  const std::string lib(libdevice);
  if (dbl) {
    k.func<f64, f64>(fname, [&](Reg<f64> a) { k.fn().libdevice = lib; return a; }, loc);
  } else if (args == 1) {
    k.func<f32, f32>(fname, [&](Reg<f32> a) { k.fn().libdevice = lib; return a; }, loc);
  } else {
    k.func<f32, f32, f32>(fname, [&](Reg<f32> a, Reg<f32>) { k.fn().libdevice = lib; return a; }, loc);
  }
  return fname;
}

Reg<f32> unary(KernelBuilder& k, std::string_view name, std::string_view lib, Src<f32> x, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  const auto f = declare(k, name, lib, 1, false, loc);
  return k.call(KernelBuilder::Func<f32, f32>{f}, x);
}

Reg<f64> unary64(KernelBuilder& k, std::string_view name, std::string_view lib, Src<f64> x, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  const auto f = declare(k, name, lib, 1, true, loc);
  return k.call(KernelBuilder::Func<f64, f64>{f}, x);
}

}  // namespace

Reg<f32> expf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "expf", "__nv_expf", x, loc); }
Reg<f32> logf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "logf", "__nv_logf", x, loc); }
Reg<f32> erff(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "erff", "__nv_erff", x, loc); }
Reg<f32> tanhf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "tanhf", "__nv_tanhf", x, loc); }
Reg<f32> sinf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "sinf", "__nv_sinf", x, loc); }
Reg<f32> cosf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "cosf", "__nv_cosf", x, loc); }
Reg<f32> rsqrtf(KernelBuilder& k, Src<f32> x, Loc loc) { return unary(k, "rsqrtf", "__nv_rsqrtf", x, loc); }
Reg<f64> exp(KernelBuilder& k, Src<f64> x, Loc loc) { return unary64(k, "exp", "__nv_exp", x, loc); }
Reg<f64> log(KernelBuilder& k, Src<f64> x, Loc loc) { return unary64(k, "log", "__nv_log", x, loc); }

Reg<f32> powf(KernelBuilder& k, Src<f32> x, Src<f32> y, Loc loc) {
  KernelBuilder::AtLine at(k, loc);
  const auto f = declare(k, "powf", "__nv_powf", 2, false, loc);
  return k.call(KernelBuilder::Func<f32, f32, f32>{f}, x, y);
}

}  // namespace weft::math
