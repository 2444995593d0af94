// Shared by the GEMM host app and benchmark: bf16 data, the weft kernel's launch, and cuBLAS
// (loaded with dlopen from the CUDA toolkit, so the programs build anywhere and say clearly when
// cuBLAS is missing).
#pragma once

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <cublas_api.h>

#include "codegen/printer.h"
#include "dsl/registry.h"
#include "runtime/weft_rt.h"

namespace gemm {

using bf16 = std::uint16_t;

inline bf16 to_bf16(float f) {  // round to nearest even
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<bf16>(u >> 16);
}
inline float from_bf16(bf16 h) {
  const std::uint32_t u = std::uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline std::vector<bf16> random_bf16(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<bf16> v(n);
  for (auto& x : v) x = to_bf16(d(g));
  return v;
}

// The weft kernel, emitted in-process for this device (sm_90a), with its launch shape.
struct WeftGemm {
  weft::rt::Module module;
  std::uint32_t bn = 128, stages = 4;
  static WeftGemm load(std::uint32_t bn = 128, std::uint32_t stages = 4) {
    const auto* e = weft::Registry::global().find("gemm_bf16_sm90");
    if (!e) throw std::runtime_error("gemm_bf16_sm90 is not registered");
    const auto props = weft::rt::device_props(0);
    if (props.sm() != 90) throw std::runtime_error("gemm_bf16_sm90 needs an sm_90 GPU (this is " + props.target() + ")");
    auto p = weft::parse_params(*e, {"bn=" + std::to_string(bn), "stages=" + std::to_string(stages)});
    if (!p.params) throw std::runtime_error(p.error);
    const auto ptx = weft::emit_ptx(e->build(*weft::isa::parse_target("sm_90a").target, *p.params));
    return WeftGemm{weft::rt::Module::from_ptx(ptx), bn, stages};
  }
  // D = alpha * A * B^T + beta * C (A: m x k, B: n x k, C/D: m x n, all row-major bf16).
  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, weft::rt::DevicePtr<bf16> a,
           weft::rt::DevicePtr<bf16> b, weft::rt::DevicePtr<bf16> c, weft::rt::DevicePtr<bf16> d,
           CUstream stream = nullptr) {
    using namespace weft::rt;
    auto ad = TmaDesc::packed(TmaDtype::bf16, {k, m}, {64, 128});
    auto bd = TmaDesc::packed(TmaDtype::bf16, {k, n}, {64, bn});
    ad.swizzle = bd.swizzle = TmaSwizzle::b128;
    const std::uint32_t tiles = ((m + 127) / 128) * ((n + bn - 1) / bn);
    const std::uint32_t sms = static_cast<std::uint32_t>(device_props(0).sm_count);
    LaunchConfig cfg{{std::min(tiles, sms)}, {384}};
    cfg.stream = stream;
    module.kernel("gemm_bf16_sm90").launch(cfg, m, n, k, alpha, beta, encode_tma(ad, a.raw()), encode_tma(bd, b.raw()),
                                           DevicePtr<std::uint16_t>(c.raw()), DevicePtr<std::uint16_t>(d.raw()));
  }
};

// cuBLAS through dlopen: the same D = alpha * A * B^T + beta * C, bf16 in/out, fp32 compute.
class Cublas {
 public:
  Cublas() {
    lib_ = ::dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) lib_ = ::dlopen("/usr/local/cuda/lib64/libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) throw std::runtime_error(std::string("cuBLAS not found: libcublas.so.13 (") + ::dlerror() + ")");
    create_ = sym<decltype(create_)>("cublasCreate_v2");
    destroy_ = sym<decltype(destroy_)>("cublasDestroy_v2");
    set_stream_ = sym<decltype(set_stream_)>("cublasSetStream_v2");
    gemm_ = sym<decltype(gemm_)>("cublasGemmEx");
    if (create_(&handle_) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
  }
  ~Cublas() {
    if (handle_) destroy_(handle_);
  }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  void run(std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta, const bf16* a, const bf16* b,
           bf16* d, cudaStream_t stream = nullptr) {
    // Row-major D (m x n) is column-major D^T (n x m) = B (n x k, op T of the k x n column-major view)
    // times A^T (k x m column-major view of row-major A).
    set_stream_(handle_, stream);
    auto s = gemm_(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
                   &alpha, b, CUDA_R_16BF, static_cast<int>(k), a, CUDA_R_16BF, static_cast<int>(k), &beta, d,
                   CUDA_R_16BF, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasGemmEx failed: status " + std::to_string(s));
  }

 private:
  template <class F>
  F sym(const char* name) {
    auto* f = reinterpret_cast<F>(::dlsym(lib_, name));
    if (!f) throw std::runtime_error(std::string("cuBLAS lacks ") + name);
    return f;
  }
  void* lib_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  cublasStatus_t (*create_)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy_)(cublasHandle_t) = nullptr;
  cublasStatus_t (*set_stream_)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*gemm_)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
                          cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
                          cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

// Relative Frobenius error of got (bf16) against want.
inline double rel_error(const std::vector<bf16>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = from_bf16(got[i]);
    if (!std::isfinite(g)) return INFINITY;  // a poisoned element that was never written
    num += (g - want[i]) * (g - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace gemm
