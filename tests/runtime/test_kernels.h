// Hand-written PTX kernels for the runtime tests, each headed by a signature block made with
// weft::sig::format (as the codegen's printer makes it). A CPU test assembles them with ptxas where
// it exists, so a typo here is caught before anyone spends GPU time.
#pragma once

#include <string>

#include "codegen/signature.h"

namespace weft::rt::test {

inline sig::Param scalar(std::string name, std::string type, std::uint32_t size) {
  return {std::move(name), sig::ParamKind::scalar, std::move(type), size, size, ""};
}
inline sig::Param pointer(std::string name, std::string pointee) {
  return {std::move(name), sig::ParamKind::pointer, "global", 8, 8, std::move(pointee)};
}
inline sig::Param bytes(std::string name, std::uint32_t size, std::uint32_t align) {
  return {std::move(name), sig::ParamKind::bytes, "-", size, align, ""};
}

// saxpy(n, a, x, y): y[i] = a * x[i] + y[i]; at most 256 threads per block.
inline sig::Kernel saxpy_signature() {
  sig::Kernel k;
  k.name = "saxpy";
  k.params = {scalar("n", "u32", 4), scalar("a", "f32", 4), pointer("x", "f32"), pointer("y", "f32")};
  k.maxntid = {256, 1, 1};
  return k;
}

// smem_echo(out): each of 128 threads writes its index into dynamic shared memory at a stride that
// spans the whole allocation, then reads it back and stores it to out[tid] (checks > 48 KB opt-in).
inline sig::Kernel smem_echo_signature() {
  sig::Kernel k;
  k.name = "smem_echo";
  k.params = {pointer("out", "u32")};
  k.reqntid = {128, 1, 1};
  k.dynamic_smem = 96 * 1024;
  k.uses_dynamic_smem = true;
  return k;
}

// tmap_echo(tmap, out): copies the 16 qwords of a by-value 128-byte parameter to out (checks that a
// bytes parameter, such as a tensor map, arrives intact).
inline sig::Kernel tmap_echo_signature() {
  sig::Kernel k;
  k.name = "tmap_echo";
  k.params = {bytes("tmap", 128, 64), pointer("out", "u64")};
  k.reqntid = {16, 1, 1};
  return k;
}

inline std::string signature_block(std::string target, std::vector<sig::Kernel> kernels) {
  sig::Signature s;
  s.target = std::move(target);
  s.kernels = std::move(kernels);
  return sig::format(s);
}

inline std::string test_module_body(const std::string& version = "8.0", const std::string& target = "sm_80") {
  return ".version " + version + "\n.target " + target + "\n.address_size 64\n" + R"(
.visible .entry saxpy(.param .u32 n, .param .f32 a, .param .u64 x, .param .u64 y)
.maxntid 256, 1, 1
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .b64 %rd<8>;
  .reg .f32 %f<5>;
  ld.param.u32 %r1, [n];
  ld.param.f32 %f1, [a];
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra SAXPY_DONE;
  cvta.to.global.u64 %rd3, %rd1;
  cvta.to.global.u64 %rd4, %rd2;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd6, %rd3, %rd5;
  add.s64 %rd7, %rd4, %rd5;
  ld.global.f32 %f2, [%rd6];
  ld.global.f32 %f3, [%rd7];
  fma.rn.f32 %f4, %f1, %f2, %f3;
  st.global.f32 [%rd7], %f4;
SAXPY_DONE:
  ret;
}

.extern .shared .align 16 .b8 dyn_smem[];

.visible .entry smem_echo(.param .u64 out)
.reqntid 128, 1, 1
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  cvta.to.global.u64 %rd2, %rd1;
  mov.u32 %r1, %tid.x;
  // offset = tid * 768 bytes: thread 127 writes at 97536 - 768 = 96768 > 48 KB
  mul.lo.u32 %r2, %r1, 768;
  mov.u32 %r3, dyn_smem;
  add.u32 %r4, %r3, %r2;
  add.u32 %r5, %r1, 1000;
  st.shared.u32 [%r4], %r5;
  bar.sync 0;
  ld.shared.u32 %r6, [%r4];
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.global.u32 [%rd4], %r6;
  ret;
}

.visible .entry tmap_echo(.param .align 64 .b8 tmap[128], .param .u64 out)
.reqntid 16, 1, 1
{
  .reg .b32 %r<3>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [out];
  cvta.to.global.u64 %rd2, %rd1;
  mov.u32 %r1, %tid.x;
  mov.u64 %rd3, tmap;
  mul.wide.u32 %rd4, %r1, 8;
  add.s64 %rd5, %rd3, %rd4;
  ld.param.u64 %rd6, [%rd5];
  add.s64 %rd7, %rd2, %rd4;
  st.global.u64 [%rd7], %rd6;
  ret;
}
)";
}

// The whole module: signature block, then the PTX.
inline std::string test_module(const std::string& version = "8.0", const std::string& target = "sm_80") {
  return signature_block(target, {saxpy_signature(), smem_echo_signature(), tmap_echo_signature()}) +
         test_module_body(version, target);
}

// PTX with a syntax error on line 6 of the body (counted from the first line of the text).
inline std::string bad_module() {
  return ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry broken()\n{\n  frobnicate.u32 %r1;\n  ret;\n}\n";
}

}  // namespace weft::rt::test
