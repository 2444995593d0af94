// The GEMM sample's host program: emits the weft GEMMs this GPU can run, runs them on random data and
// checks every output element (D is poisoned with NaN first): against float64 on the CPU for small
// sizes, against cuBLAS for large ones. Relative Frobenius error: bf16 <= 1e-2, e4m3 <= 3e-2.
//   - gemm_bf16_sm90 (sm_90 GPUs): TMA + wgmma.
//   - gemm_bf16_sm80 (sm_80+), TN and NN, with and without bias; gemm_e4m3_sm89 (sm_89+), TN, with
//     per-tensor scales folded into alpha (the large e4m3 reference is cuBLAS bf16 on the widened
//     inputs, which e4m3 -> bf16 represents exactly).
//   gemm_app [m n k]   (default: a set of small and odd shapes, then large ones against cuBLAS;
//                       with sizes: the sm_90 kernel on sm_90, else the sm_80 bf16 TN kernel)
#include <cstdio>
#include <functional>

#include "samples/apps/gemm/gemm_common.h"

using namespace gemm;
using namespace weft::rt;

namespace {

bool check_one(WeftGemm& g, Cublas* cublas, std::uint32_t m, std::uint32_t n, std::uint32_t k, float alpha, float beta) {
  const auto a = random_bf16(std::size_t{m} * k, 1), b = random_bf16(std::size_t{n} * k, 2),
             c = random_bf16(std::size_t{m} * n, 3);
  DeviceBuffer<bf16> da(a), db(b), dc(c), dd(std::size_t{m} * n);
  dd.fill_bytes(0xFF);  // NaN in bf16: an element never written shows up
  g.run(m, n, k, alpha, beta, da.ptr(), db.ptr(), dc.ptr(), dd.ptr());
  const auto got = dd.to_vector();
  std::vector<double> want(std::size_t{m} * n);
  const bool small = std::uint64_t{m} * n * k <= (std::uint64_t{1} << 27);
  if (small) {
    for (std::uint32_t i = 0; i < m; ++i)
      for (std::uint32_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::uint32_t kk = 0; kk < k; ++kk) s += double(from_bf16(a[std::size_t{i} * k + kk])) * from_bf16(b[std::size_t{j} * k + kk]);
        want[std::size_t{i} * n + j] = alpha * s + beta * from_bf16(c[std::size_t{i} * n + j]);
      }
  } else if (cublas) {
    DeviceBuffer<bf16> ref(c);
    cublas->run(m, n, k, alpha, beta, reinterpret_cast<const bf16*>(da.ptr().raw()),
                reinterpret_cast<const bf16*>(db.ptr().raw()), reinterpret_cast<bf16*>(ref.ptr().raw()));
    synchronize();
    const auto r = ref.to_vector();
    for (std::size_t i = 0; i < r.size(); ++i) want[i] = from_bf16(r[i]);
  } else {
    std::printf("%ux%ux%u: no reference (cuBLAS missing)\n", m, n, k);
    return false;
  }
  const double err = rel_error(got, want);
  const bool ok = err <= 1e-2;
  std::printf("%-6s %5u x %5u x %5u alpha %.2f beta %.2f: relative error %.2e vs %s\n", ok ? "ok" : "FAIL", m, n, k,
              alpha, beta, err, small ? "float64" : "cuBLAS");
  return ok;
}

// The sm_80 path: one case of gemm_bf16_sm80 / gemm_e4m3_sm89 (the layout, bias and dtype are g's).
struct Case80 {
  std::uint32_t m, n, k;
  float alpha = 1.0f, beta = 0.0f;
  float a_scale = 1.0f, b_scale = 1.0f;  // e4m3 per-tensor scales (folded into alpha for the launch)
};

bool check_sm80(WeftGemmSm80& g, Cublas* cublas, const Case80& cs) {
  const auto [m, n, k, alpha, beta, sa, sb] = cs;
  const bool fp8 = g.dtype == WeftGemmSm80::Dtype::e4m3;
  // Inputs as bf16 bits (the widened e4m3 values for fp8): what the references multiply.
  std::vector<e4m3> a8, b8;
  std::vector<bf16> a, b;
  if (fp8) {
    a8 = random_e4m3(std::size_t{m} * k, 1);
    b8 = random_e4m3(std::size_t{n} * k, 2);
    a = widen_e4m3(a8);
    b = widen_e4m3(b8);
  } else {
    a = random_bf16(std::size_t{m} * k, 1);
    b = random_bf16(std::size_t{n} * k, 2);  // n x k (TN) or k x n (NN)
  }
  const auto c = random_bf16(std::size_t{m} * n, 3), bias = random_bf16(n, 4);
  const float scale = fp8 ? alpha * sa * sb : alpha;
  DeviceBuffer<bf16> da(a), db(b), dc(c), dd(std::size_t{m} * n), dbias(bias);
  DeviceBuffer<e4m3> da8(a8), db8(b8);
  dd.fill_bytes(0xFF);  // NaN in bf16: an element never written shows up
  g.run(m, n, k, scale, beta, fp8 ? da8.raw() : da.raw(), fp8 ? db8.raw() : db.raw(), dc.ptr(), dd.ptr(),
        g.bias ? dbias.ptr() : DevicePtr<bf16>{});
  const auto got = dd.to_vector();
  std::vector<double> want(std::size_t{m} * n);
  const bool small = std::uint64_t{m} * n * k <= (std::uint64_t{1} << 27);
  if (small) {
    for (std::uint32_t i = 0; i < m; ++i)
      for (std::uint32_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::uint32_t kk = 0; kk < k; ++kk)
          s += double(from_bf16(a[std::size_t{i} * k + kk])) *
               from_bf16(g.nn ? b[std::size_t{kk} * n + j] : b[std::size_t{j} * k + kk]);
        want[std::size_t{i} * n + j] = double(scale) * s + beta * from_bf16(c[std::size_t{i} * n + j]);
      }
  } else if (cublas) {
    DeviceBuffer<bf16> ref(c);
    const auto* pa = reinterpret_cast<const bf16*>(da.raw());
    const auto* pb = reinterpret_cast<const bf16*>(db.raw());
    auto* pd = reinterpret_cast<bf16*>(ref.raw());
    if (g.nn) cublas->run_nn(m, n, k, scale, beta, pa, pb, pd);
    else cublas->run(m, n, k, scale, beta, pa, pb, pd);
    synchronize();
    const auto r = ref.to_vector();
    for (std::size_t i = 0; i < r.size(); ++i) want[i] = from_bf16(r[i]);
  } else {
    std::printf("%ux%ux%u: no reference (cuBLAS missing)\n", m, n, k);
    return false;
  }
  if (g.bias)
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += from_bf16(bias[i % n]);
  const double err = rel_error(got, want);
  const double tol = fp8 ? 3e-2 : 1e-2;
  const bool ok = err <= tol;
  std::printf("%-6s %s %s%s %5u x %5u x %5u alpha %.2f beta %.2f%s: relative error %.2e vs %s\n", ok ? "ok" : "FAIL",
              g.name.c_str(), g.nn ? "NN" : "TN", g.bias ? "+bias" : "", m, n, k, alpha, beta,
              fp8 ? (" scales " + std::to_string(sa).substr(0, 4) + "/" + std::to_string(sb).substr(0, 4)).c_str() : "",
              err, small ? "float64" : "cuBLAS");
  return ok;
}

bool run_sm80(Cublas* cublas, int sm) {
  bool ok = true;
  using D = WeftGemmSm80::Dtype;
  {
    auto g = WeftGemmSm80::load(D::bf16);
    ok &= check_sm80(g, cublas, {128, 128, 64});
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.5f, 0.5f});
    ok &= check_sm80(g, cublas, {77, 200, 136, 1.0f, 1.0f});   // nothing a multiple of a tile
    ok &= check_sm80(g, cublas, {77, 199, 136, 1.0f, 1.0f});   // odd n: the unpaired stores
    ok &= check_sm80(g, cublas, {1000, 1536, 504});
    ok &= check_sm80(g, cublas, {4096, 4096, 4096});
  }
  {
    auto g = WeftGemmSm80::load(D::bf16, /*nn=*/true);
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.5f, 0.5f});
    ok &= check_sm80(g, cublas, {77, 200, 136, 1.0f, 1.0f});
    ok &= check_sm80(g, cublas, {2048, 2048, 2048});
  }
  {
    auto g = WeftGemmSm80::load(D::bf16, /*nn=*/false, /*bias=*/true);
    ok &= check_sm80(g, cublas, {130, 72, 96, 1.0f, 0.5f});
  }
  if (sm >= 89) {
    auto g = WeftGemmSm80::load(D::e4m3);
    ok &= check_sm80(g, cublas, {128, 128, 128});
    ok &= check_sm80(g, cublas, {256, 384, 512, 1.0f, 0.5f, 0.5f, 0.25f});
    ok &= check_sm80(g, cublas, {77, 200, 144, 1.0f, 1.0f, 2.0f, 1.0f});
    ok &= check_sm80(g, cublas, {4096, 4096, 4096, 1.0f, 0.0f, 0.125f, 0.25f});
    auto gb = WeftGemmSm80::load(D::e4m3, /*nn=*/false, /*bias=*/true);
    ok &= check_sm80(gb, cublas, {130, 72, 96, 1.0f, 0.5f, 0.5f, 0.5f});
  } else {
    std::printf("note: gemm_e4m3_sm89 not run (sm_%d has no fp8 mma)\n", sm);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!driver_available(&why)) {
    std::printf("skipped: %s\n", why.c_str());
    return 0;
  }
  try {
    const int sm = device_props(0).sm();
    if (sm < 80) {
      std::printf("skipped: the weft GEMMs need sm_80 or later (this is %s)\n", device_props(0).target().c_str());
      return 0;
    }
    std::unique_ptr<Cublas> cublas;
    try {
      cublas = std::make_unique<Cublas>();
    } catch (const std::exception& e) {
      std::printf("note: %s\n", e.what());
    }
    bool ok = true;
    if (argc == 4) {
      const std::uint32_t m = std::stoul(argv[1]), n = std::stoul(argv[2]), k = std::stoul(argv[3]);
      if (sm == 90) {
        auto g = WeftGemm::load();
        ok = check_one(g, cublas.get(), m, n, k, 1.0f, 0.0f);
      } else {
        auto g = WeftGemmSm80::load(WeftGemmSm80::Dtype::bf16);
        ok = check_sm80(g, cublas.get(), {m, n, k});
      }
      return ok ? 0 : 1;
    }
    // Each kernel family on its own, so that an error in one still lets the other report.
    auto guarded = [&](const char* what, const std::function<bool()>& f) {
      try {
        return f();
      } catch (const std::exception& e) {
        std::printf("error (%s): %s\n", what, e.what());
        return false;
      }
    };
    if (sm == 90) {
      ok &= guarded("gemm_bf16_sm90", [&] {
        auto g = WeftGemm::load();
        bool r = true;
        r &= check_one(g, cublas.get(), 128, 128, 64, 1.0f, 0.0f);
        r &= check_one(g, cublas.get(), 256, 384, 512, 1.5f, 0.5f);
        r &= check_one(g, cublas.get(), 1000, 1536, 4032 / 8, 1.0f, 0.0f);
        // Nothing a multiple of a tile; K = 136, not 130: a TMA row stride must be a multiple of 16 bytes.
        r &= check_one(g, cublas.get(), 77, 200, 136, 1.0f, 1.0f);
        r &= check_one(g, cublas.get(), 4096, 4096, 4096, 1.0f, 0.0f);
        return r;
      });
    } else {
      std::printf("note: gemm_bf16_sm90 not run (needs sm_90, this is sm_%d)\n", sm);
    }
    ok &= guarded("sm_80 path", [&] { return run_sm80(cublas.get(), sm); });
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
