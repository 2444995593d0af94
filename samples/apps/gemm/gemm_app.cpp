// The GEMM sample's host program: emits gemm_bf16_sm90 for this GPU, runs it on random data and checks
// every output element (D is poisoned with NaN first): against float64 on the CPU for small sizes,
// against cuBLAS for large ones. bf16 tolerance: relative Frobenius error <= 1e-2.
//   gemm_app [m n k]   (default: a set of small and odd shapes, then 4096^3 against cuBLAS)
#include <cstdio>

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

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!driver_available(&why)) {
    std::printf("skipped: %s\n", why.c_str());
    return 0;
  }
  try {
    auto g = WeftGemm::load();
    std::unique_ptr<Cublas> cublas;
    try {
      cublas = std::make_unique<Cublas>();
    } catch (const std::exception& e) {
      std::printf("note: %s\n", e.what());
    }
    bool ok = true;
    if (argc == 4) {
      ok = check_one(g, cublas.get(), std::stoul(argv[1]), std::stoul(argv[2]), std::stoul(argv[3]), 1.0f, 0.0f);
    } else {
      ok &= check_one(g, cublas.get(), 128, 128, 64, 1.0f, 0.0f);
      ok &= check_one(g, cublas.get(), 256, 384, 512, 1.5f, 0.5f);
      ok &= check_one(g, cublas.get(), 1000, 1536, 4032 / 8, 1.0f, 0.0f);
      ok &= check_one(g, cublas.get(), 77, 200, 130, 1.0f, 1.0f);  // nothing a multiple of a tile
      ok &= check_one(g, cublas.get(), 4096, 4096, 4096, 1.0f, 0.0f);
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    const std::string m = e.what();
    if (m.find("needs an sm_90 GPU") != std::string::npos) {
      std::printf("skipped: %s\n", m.c_str());
      return 0;
    }
    std::printf("error: %s\n", m.c_str());
    return 1;
  }
}
