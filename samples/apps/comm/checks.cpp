#include "samples/apps/comm/checks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "runtime/device.h"
#include "runtime/memory.h"
#include "samples/apps/comm/fp8_block_quant_host.h"
#include "samples/apps/comm/moe_experts.h"

namespace weft::samples {

namespace {

using rt::comm::SymmetricBuffer;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
std::uint64_t draw(std::uint32_t seed, std::uint32_t rank, std::uint64_t index, std::uint32_t stream) {
  return mix(mix(mix(seed * 0x100000001ull + stream) ^ rank) ^ index);
}

// Element i of rank r's input, as stored (f32, or a bf16 value) and as a float.
float stored_value(Elem e, std::uint32_t seed, std::uint32_t rank, std::uint64_t i) {
  const float v = input_value(seed, rank, i);
  return e == Elem::f32 ? v : bf16_to_float(float_to_bf16(v));
}

std::vector<std::uint8_t> encode(Elem e, const std::vector<float>& values) {
  std::vector<std::uint8_t> out(values.size() * elem_bytes(e));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (e == Elem::f32) {
      std::memcpy(&out[i * 4], &values[i], 4);
    } else {
      const auto b = float_to_bf16(values[i]);
      std::memcpy(&out[i * 2], &b, 2);
    }
  }
  return out;
}
float decode(Elem e, const std::vector<std::uint8_t>& bytes, std::size_t i) {
  if (e == Elem::f32) {
    float f;
    std::memcpy(&f, &bytes[i * 4], 4);
    return f;
  }
  std::uint16_t b;
  std::memcpy(&b, &bytes[i * 2], 2);
  return bf16_to_float(b);
}

void upload(const SymmetricBuffer& b, std::uint32_t row, const void* data, std::size_t bytes) {
  rt::mem::copy_to_device(b.local(row), data, bytes);
}
std::vector<std::uint8_t> download(const SymmetricBuffer& b, std::uint32_t row, std::size_t bytes) {
  std::vector<std::uint8_t> out(bytes);
  rt::mem::copy_to_host(out.data(), b.local(row), bytes);
  return out;
}
void poison(const SymmetricBuffer& b, std::uint32_t row, std::size_t bytes) { rt::mem::set_bytes(b.local(row), 0xff, bytes); }

// Compares got[i] (decoded) with want(i) for i < n; tolerance relative to max(|want|, 1).
template <class Want>
void compare(CheckReport& r, Elem e, const std::vector<std::uint8_t>& got, std::size_t n, double tolerance,
             const std::string& where, Want want) {
  for (std::size_t i = 0; i < n; ++i) {
    const double w = want(i);
    const double g = decode(e, got, i);
    const double err = std::isfinite(g) ? std::abs(g - w) / std::max(std::abs(w), 1.0) : INFINITY;
    r.max_error = std::max(r.max_error, err);
    if (!(err <= tolerance) && r.ok) {
      r.ok = false;
      r.detail = where + " element " + std::to_string(i) + ": got " + std::to_string(g) + ", want " + std::to_string(w);
    }
  }
}

// bf16 results are rounded once from an f32 sum: half an ulp (2^-8 relative) plus the f32 sum's error.
double tolerance(Elem e, std::uint32_t nranks) { return e == Elem::f32 ? 1e-6 * nranks : 8e-3; }

std::string ranks_text(Collectives& c) { return std::to_string(c.heap().nranks()) + " ranks"; }

}  // namespace

float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = std::uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t float_to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

float input_value(std::uint32_t seed, std::uint32_t rank, std::uint64_t index) {
  return static_cast<float>(static_cast<double>(draw(seed, rank, index, 0) >> 11) * 0x1.0p-52 - 1.0);
}

CheckReport check_all_gather(Collectives& c, std::size_t bytes_per_rank, std::uint32_t seed) {
  auto& heap = c.heap();
  const auto n = heap.nranks();
  CheckReport r{"all_gather, " + ranks_text(c) + ", " + std::to_string(bytes_per_rank) + " bytes per rank", true, 0, ""};
  const std::size_t count = bytes_per_rank / 4;
  auto in = heap.alloc(bytes_per_rank), out = heap.alloc(bytes_per_rank * n);
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    std::vector<float> v(count);
    for (std::size_t i = 0; i < count; ++i) v[i] = input_value(seed, heap.rank_base() + row, i);
    upload(in, row, v.data(), bytes_per_rank);
    poison(out, row, bytes_per_rank * n);
  }
  c.all_gather(in, out, bytes_per_rank);
  c.synchronize();
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    auto got = download(out, row, bytes_per_rank * n);
    compare(r, Elem::f32, got, count * n, 0.0, "rank " + std::to_string(heap.rank_base() + row), [&](std::size_t i) {
      return input_value(seed, static_cast<std::uint32_t>(i / count), i % count);
    });
  }
  return r;
}

CheckReport check_reduce_scatter(Collectives& c, std::size_t count, Elem elem, std::uint32_t seed) {
  auto& heap = c.heap();
  const auto n = heap.nranks();
  CheckReport r{std::string("reduce_scatter ") + (elem == Elem::f32 ? "f32" : "bf16") + ", " + ranks_text(c) + ", " +
                    std::to_string(count) + " elements per segment",
                true, 0, ""};
  const auto eb = elem_bytes(elem);
  auto in = heap.alloc(count * n * eb), out = heap.alloc(count * eb);
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    std::vector<float> v(count * n);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = stored_value(elem, seed, heap.rank_base() + row, i);
    auto bytes = encode(elem, v);
    upload(in, row, bytes.data(), bytes.size());
    poison(out, row, count * eb);
  }
  c.reduce_scatter(in, out, count, elem);
  c.synchronize();
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    const auto rank = heap.rank_base() + row;
    auto got = download(out, row, count * eb);
    compare(r, elem, got, count, tolerance(elem, n), "rank " + std::to_string(rank), [&](std::size_t i) {
      double s = 0;
      for (std::uint32_t p = 0; p < n; ++p) s += stored_value(elem, seed, p, rank * count + i);
      return s;
    });
  }
  return r;
}

CheckReport check_all_reduce(Collectives& c, std::size_t count, Elem elem, int shots, std::uint32_t seed) {
  auto& heap = c.heap();
  const auto n = heap.nranks();
  CheckReport r{std::string("all_reduce ") + (elem == Elem::f32 ? "f32 " : "bf16 ") + (shots == 1 ? "one-shot" : "two-shot") +
                    ", " + ranks_text(c) + ", " + std::to_string(count) + " elements",
                true, 0, ""};
  const auto eb = elem_bytes(elem);
  auto in = heap.alloc(count * eb), out = heap.alloc(count * eb);
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    std::vector<float> v(count);
    for (std::size_t i = 0; i < count; ++i) v[i] = stored_value(elem, seed, heap.rank_base() + row, i);
    auto bytes = encode(elem, v);
    upload(in, row, bytes.data(), bytes.size());
    poison(out, row, count * eb);
  }
  c.all_reduce(in, out, count, elem, shots);
  c.synchronize();
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    auto got = download(out, row, count * eb);
    compare(r, elem, got, count, tolerance(elem, n), "rank " + std::to_string(heap.rank_base() + row),
            [&](std::size_t i) {
              double s = 0;
              for (std::uint32_t p = 0; p < n; ++p) s += stored_value(elem, seed, p, i);
              return s;
            });
  }
  return r;
}

namespace {

// Token t's k-th expert on rank `rank` (-1: none): distinct per token; every fifth token leaves its
// last choice empty, so the kernels' "no expert" path runs.
std::vector<std::int32_t> moe_choices(const MoeShape& s, std::uint32_t seed, std::uint32_t rank) {
  std::vector<std::int32_t> idx(std::size_t{s.tokens} * s.topk, -1);
  for (std::uint32_t t = 0; t < s.tokens; ++t) {
    std::set<std::int32_t> taken;
    const std::uint32_t used = (t % 5 == 4 && s.topk > 1) ? s.topk - 1 : s.topk;
    for (std::uint32_t k = 0, attempt = 0; k < used && k < s.experts; ++attempt) {
      const auto e = static_cast<std::int32_t>(draw(seed, rank, std::uint64_t{t} * 64 + attempt, 1) % s.experts);
      if (taken.insert(e).second) idx[std::size_t{t} * s.topk + k++] = e;
    }
  }
  return idx;
}
float moe_weight(std::uint32_t seed, std::uint32_t rank, std::uint64_t pair) {
  return static_cast<float>(static_cast<double>(draw(seed, rank, pair, 2) >> 40) * 0x1.0p-24);
}
std::uint16_t moe_x(std::uint32_t seed, std::uint32_t rank, std::uint64_t i) {
  return float_to_bf16(input_value(seed, rank, i));
}
// The host "expert": output = bf16(x * (global expert + 1)).
std::uint16_t expert_apply(std::uint16_t x, std::uint32_t expert) {
  return float_to_bf16(bf16_to_float(x) * static_cast<float>(expert + 1));
}

}  // namespace

double moe_routed_pairs(const MoeShape& s) {
  return static_cast<double>(s.tokens) * s.topk - (s.topk > 1 ? s.tokens / 5 : 0);  // moe_choices' rule
}

void upload_moe_inputs(MoeAllToAll& moe, std::uint32_t seed) {
  const auto& s = moe.shape();
  auto& heap = moe.heap();
  const std::size_t pairs = std::size_t{s.tokens} * s.topk;
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    const auto rank = heap.rank_base() + row;
    std::vector<std::uint16_t> x(std::size_t{s.tokens} * s.hidden);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = moe_x(seed, rank, i);
    std::vector<float> w(pairs);
    for (std::size_t i = 0; i < pairs; ++i) w[i] = moe_weight(seed, rank, i);
    const auto choices = moe_choices(s, seed, rank);
    upload(moe.x, row, x.data(), x.size() * 2);
    upload(moe.topk_idx, row, choices.data(), pairs * 4);
    upload(moe.topk_w, row, w.data(), pairs * 4);
  }
}

CheckReport check_moe(Collectives& c, const MoeShape& s, std::uint32_t seed, MoeKernelOptions options) {
  auto& heap = c.heap();
  const auto n = heap.nranks();
  CheckReport r{"moe dispatch+combine, " + ranks_text(c) + ", " + std::to_string(s.tokens) + " tokens x " +
                    std::to_string(s.hidden) + ", top-" + std::to_string(s.topk) + " of " + std::to_string(s.experts) +
                    ", " + options.label(),
                true, 0, ""};
  if (s.fp8)  // its host-side expert works on bf16 rows in recv
    throw std::invalid_argument("check_moe: fp8 dispatch is checked by check_moe_layer (its rows arrive as e4m3)");
  MoeAllToAll moe(c, s, options);
  const std::size_t h = s.hidden, le_count = moe.local_experts();
  std::vector<std::vector<std::int32_t>> choices(n);
  for (std::uint32_t p = 0; p < n; ++p) choices[p] = moe_choices(s, seed, p);
  upload_moe_inputs(moe, seed);
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    poison(moe.recv, row, moe.recv.bytes());
    poison(moe.recv_count, row, moe.recv_count.bytes());
    poison(moe.out, row, moe.out.bytes());
  }
  moe.dispatch();
  c.synchronize();
  // Check what arrived and apply the experts in place.
  for (std::uint32_t row = 0; row < heap.rows() && r.ok; ++row) {
    const auto rank = heap.rank_base() + row;
    auto counts = download(moe.recv_count, row, moe.recv_count.bytes());
    auto recv = download(moe.recv, row, moe.recv.bytes());
    for (std::uint32_t le = 0; le < le_count && r.ok; ++le)
      for (std::uint32_t src = 0; src < n && r.ok; ++src) {
        const auto expert = static_cast<std::int32_t>(rank * le_count + le);
        std::multiset<std::vector<std::uint16_t>> sent;  // the rows src sent to this expert
        for (std::uint32_t t = 0; t < s.tokens; ++t)
          for (std::uint32_t k = 0; k < s.topk; ++k)
            if (choices[src][std::size_t{t} * s.topk + k] == expert) {
              std::vector<std::uint16_t> rowv(h);
              for (std::size_t j = 0; j < h; ++j) rowv[j] = moe_x(seed, src, std::size_t{t} * h + j);
              sent.insert(std::move(rowv));
            }
        std::uint32_t count;
        std::memcpy(&count, &counts[(std::size_t{le} * n + src) * 4], 4);
        if (count != sent.size()) {
          r.ok = false;
          r.detail = "rank " + std::to_string(rank) + " expert " + std::to_string(expert) + " from rank " +
                     std::to_string(src) + ": count " + std::to_string(count) + ", want " + std::to_string(sent.size());
          break;
        }
        for (std::uint32_t slot = 0; slot < count; ++slot) {
          auto* p = reinterpret_cast<std::uint16_t*>(&recv[moe.recv_offset(le, src, slot)]);
          std::vector<std::uint16_t> got(p, p + h);
          auto it = sent.find(got);
          if (it == sent.end()) {
            r.ok = false;
            r.detail = "rank " + std::to_string(rank) + " expert " + std::to_string(expert) + " slot " +
                       std::to_string(slot) + " from rank " + std::to_string(src) + ": a row that rank never sent there";
            break;
          }
          sent.erase(it);
          for (std::size_t j = 0; j < h; ++j) p[j] = expert_apply(p[j], static_cast<std::uint32_t>(expert));
        }
      }
    upload(moe.recv, row, recv.data(), recv.size());
  }
  if (!r.ok) return r;
  moe.combine();
  c.synchronize();
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    const auto rank = heap.rank_base() + row;
    auto got = download(moe.out, row, moe.out.bytes());
    compare(r, Elem::bf16, got, s.tokens * h, 1.6e-2, "rank " + std::to_string(rank) + " out", [&](std::size_t i) {
      const std::size_t t = i / h, j = i % h;
      double sum = 0;
      for (std::uint32_t k = 0; k < s.topk; ++k) {
        const auto e = choices[rank][t * s.topk + k];
        if (e < 0) continue;
        sum += double(moe_weight(seed, rank, t * s.topk + k)) *
               bf16_to_float(expert_apply(moe_x(seed, rank, t * h + j), static_cast<std::uint32_t>(e)));
      }
      return sum;
    });
  }
  return r;
}

namespace {

// A rank's token rows as values (bf16 widened), and with fp8 as the kernels quantize them.
std::vector<float> moe_token_values(const MoeShape& s, std::uint32_t seed, std::uint32_t rank) {
  std::vector<float> x(std::size_t{s.tokens} * s.hidden);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = bf16_to_float(moe_x(seed, rank, i));
  return x;
}

// fp8 dispatch: every (expert, source) region of this rank's recv holds, in its first recv_count
// rows, exactly the e4m3 rows and scales the host's quantization gives the tokens that source sent
// to that expert (in any order). Fills r on a mismatch. -0 (0x80) counts as +0: a value that rounds
// to zero is zero whichever sign the conversion keeps.
void check_fp8_received(CheckReport& r, MoeAllToAll& moe, std::uint32_t row, std::uint32_t seed) {
  const auto& s = moe.shape();
  auto& heap = moe.heap();
  const auto n = heap.nranks(), rank = heap.rank_base() + row, le_count = moe.local_experts();
  const std::size_t h = s.hidden, kb_count = moe.scale_blocks(), recv_rows = moe.recv_rows();
  const auto counts = download(moe.recv_count, row, moe.recv_count.bytes());
  const auto recv = download(moe.recv, row, moe.recv.bytes());
  const auto scale_bytes = download(moe.recv_scales, row, moe.recv_scales.bytes());
  std::vector<float> recv_scales(scale_bytes.size() / 4);
  std::memcpy(recv_scales.data(), scale_bytes.data(), scale_bytes.size());
  using Row = std::pair<std::vector<std::uint8_t>, std::vector<float>>;  // e4m3 values, scales
  auto zero_signless = [](std::vector<std::uint8_t> q) {
    for (auto& b : q) b = b == 0x80 ? 0 : b;
    return q;
  };
  for (std::uint32_t src = 0; src < n && r.ok; ++src) {
    const auto quantized = quantize_rows(moe_token_values(s, seed, src), s.tokens, h);
    const auto choices = moe_choices(s, seed, src);
    for (std::uint32_t le = 0; le < le_count && r.ok; ++le) {
      const auto expert = static_cast<std::int32_t>(rank * le_count + le);
      std::multiset<Row> sent;
      for (std::uint32_t t = 0; t < s.tokens; ++t)
        for (std::uint32_t k = 0; k < s.topk; ++k)
          if (choices[std::size_t{t} * s.topk + k] == expert) {
            Row want{zero_signless({quantized.q.begin() + std::ptrdiff_t(t * h), quantized.q.begin() + std::ptrdiff_t((t + 1) * h)}), {}};
            for (std::size_t kb = 0; kb < kb_count; ++kb) want.second.push_back(quantized.scales[kb * s.tokens + t]);
            sent.insert(std::move(want));
          }
      std::uint32_t count;
      std::memcpy(&count, &counts[(std::size_t{le} * n + src) * 4], 4);
      const std::string where = "rank " + std::to_string(rank) + " expert " + std::to_string(expert) + " from rank " +
                                std::to_string(src);
      if (count != sent.size()) {
        r.ok = false;
        r.detail = where + ": count " + std::to_string(count) + ", want " + std::to_string(sent.size());
        return;
      }
      for (std::uint32_t slot = 0; slot < count; ++slot) {
        const std::size_t index = moe.recv_index(le, src, slot);
        Row got{zero_signless({recv.begin() + std::ptrdiff_t(index * h), recv.begin() + std::ptrdiff_t((index + 1) * h)}), {}};
        for (std::size_t kb = 0; kb < kb_count; ++kb) got.second.push_back(recv_scales[kb * recv_rows + index]);
        auto it = sent.find(got);
        if (it == sent.end()) {
          r.ok = false;
          r.detail = where + " slot " + std::to_string(slot) + ": e4m3 row or scales not the host's quantization of a "
                     "token that rank sent there";
          return;
        }
        sent.erase(it);
      }
    }
  }
}

}  // namespace

CheckReport check_moe_layer(Collectives& c, const MoeShape& s, std::uint32_t inter, std::uint32_t seed,
                            MoeKernelOptions options) {
  auto& heap = c.heap();
  const auto n = heap.nranks();
  CheckReport r{std::string("moe layer") + (s.fp8 ? " fp8" : "") + ": dispatch, SwiGLU experts (2 grouped GEMMs" +
                    (s.fp8 ? ", e4m3 block-scaled" : "") + "), combine, " + ranks_text(c) + ", " +
                    std::to_string(s.tokens) + " tokens x " + std::to_string(s.hidden) + ", inter " +
                    std::to_string(inter) + ", top-" + std::to_string(s.topk) + " of " + std::to_string(s.experts) +
                    (options.label() == MoeKernelOptions{}.label() ? "" : ", " + options.label()),
                true, 0, ""};
  MoeAllToAll moe(c, s, options);
  MoeExperts experts(moe, {.inter = inter, .debug_waits = true});
  const std::size_t h = s.hidden, le_count = moe.local_experts(), w1_size = le_count * 2 * inter * h;
  // Rank p's weights as values. bf16: in [-1/8, 1/8) (W1) and [-1/16, 1/16) (W2). fp8: e4m3 values of
  // magnitude 1/8 .. 3.75 times a power-of-two scale per 128 x 128 block, about the same range.
  std::vector<std::vector<double>> w1(n), w2(n);
  auto fp8_weights = [&](std::uint32_t p, std::size_t rows, std::size_t cols, unsigned salt, int exponent,
                         std::vector<double>& values, std::vector<std::uint8_t>& q, std::vector<float>& scales) {
    const std::size_t per_expert = rows * cols, nb = rows / kQuantBlock, kb = cols / kQuantBlock;
    q = gemm::random_e4m3(le_count * per_expert, seed * 131 + salt + p);
    scales.resize(le_count * nb * kb);
    for (std::size_t i = 0; i < scales.size(); ++i)
      scales[i] = std::ldexp(1.0f, exponent + static_cast<int>(input_value(seed + salt, p, i) * 1.5f));  // 2^(e-1) .. 2^(e+1)
    values.resize(q.size());
    for (std::size_t e = 0; e < le_count; ++e)
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) {
          const std::size_t at = e * per_expert + i * cols + j;
          values[at] = double(gemm::from_e4m3(q[at])) * scales[(e * nb + i / kQuantBlock) * kb + j / kQuantBlock];
        }
  };
  for (std::uint32_t p = 0; p < n; ++p) {
    const bool here = p >= heap.rank_base() && p < heap.rank_base() + heap.rows();
    if (s.fp8) {
      std::vector<std::uint8_t> q1, q2;
      std::vector<float> s1, s2;
      fp8_weights(p, 2 * inter, h, 17, -5, w1[p], q1, s1);
      fp8_weights(p, h, inter, 18, -6, w2[p], q2, s2);
      if (here) experts.upload_weights_fp8(p - heap.rank_base(), q1, s1, q2, s2);
      continue;
    }
    std::vector<std::uint16_t> b1(w1_size), b2(le_count * h * inter);
    w1[p].resize(b1.size());
    w2[p].resize(b2.size());
    for (std::size_t i = 0; i < b1.size(); ++i) w1[p][i] = bf16_to_float(b1[i] = float_to_bf16(input_value(seed + 17, p, i) * 0.125f));
    for (std::size_t i = 0; i < b2.size(); ++i) w2[p][i] = bf16_to_float(b2[i] = float_to_bf16(input_value(seed + 18, p, i) * 0.0625f));
    if (here) experts.upload_weights(p - heap.rank_base(), b1, b2);
  }
  upload_moe_inputs(moe, seed);
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    poison(experts.out, row, experts.out.bytes());
    poison(moe.out, row, moe.out.bytes());
  }
  moe.dispatch();
  experts.run();
  moe.combine(&experts.out);
  c.synchronize();
  // fp8: what dispatch delivered, exactly (the experts do not write recv).
  for (std::uint32_t row = 0; s.fp8 && row < heap.rows() && r.ok; ++row) check_fp8_received(r, moe, row, seed);
  if (!r.ok) return r;
  // One expert on one token, rounded as the kernels round: h = bf16(W1 x); g = silu(gate) * up, bf16,
  // or with fp8 quantized per 128 values as moe_swiglu does; y = bf16(W2 g).
  auto bf16_round = [](double v) { return bf16_to_float(float_to_bf16(static_cast<float>(v))); };
  std::vector<float> hv(2 * inter), g_raw(inter);
  std::vector<double> gv(inter);
  auto expert_apply = [&](const std::vector<double>& x, std::uint32_t owner, std::uint32_t le, std::vector<double>& y) {
    for (std::size_t o = 0; o < 2 * inter; ++o) {
      const double* wr = &w1[owner][(le * 2 * inter + o) * h];
      double acc = 0;
      for (std::size_t j = 0; j < h; ++j) acc += wr[j] * x[j];
      hv[o] = bf16_round(acc);
    }
    for (std::size_t o = 0; o < inter; ++o) {
      const double gate = hv[o], up = hv[inter + o];
      g_raw[o] = static_cast<float>(gate / (1.0 + std::exp(-gate)) * up);
      gv[o] = bf16_round(g_raw[o]);
    }
    if (s.fp8) {
      const auto gq = quantize_rows(g_raw, 1, inter);
      for (std::size_t o = 0; o < inter; ++o) gv[o] = gq.value(0, o, 1, inter);
    }
    for (std::size_t o = 0; o < h; ++o) {
      const double* wr = &w2[owner][(le * h + o) * inter];
      double acc = 0;
      for (std::size_t j = 0; j < inter; ++j) acc += wr[j] * gv[j];
      y[o] = bf16_round(acc);
    }
  };
  // bf16 within 1e-2 (the kernels' roundings); fp8 within 3e-2, the GEMM checks' fp8 bound: the
  // activation's e4m3 rounding of g can differ from the host's where h or silu differ in a last bit.
  const double tolerance = s.fp8 ? 3e-2 : 1e-2;
  for (std::uint32_t row = 0; row < heap.rows(); ++row) {
    const auto rank = heap.rank_base() + row;
    const auto choices = moe_choices(s, seed, rank);
    const auto tokens = moe_token_values(s, seed, rank);
    const auto quantized = s.fp8 ? quantize_rows(tokens, s.tokens, h) : BlockQuantized{};
    // out[t] = sum_k topk_w * expert_k(x[t]); combine sums in f32.
    std::vector<double> want(std::size_t{s.tokens} * h, 0.0), y(h), x(h);
    for (std::uint32_t t = 0; t < s.tokens; ++t) {
      for (std::size_t j = 0; j < h; ++j) x[j] = s.fp8 ? quantized.value(t, j, s.tokens, h) : tokens[std::size_t{t} * h + j];
      for (std::uint32_t k = 0; k < s.topk; ++k) {
        const auto e = choices[std::size_t{t} * s.topk + k];
        if (e < 0) continue;
        expert_apply(x, static_cast<std::uint32_t>(e) / le_count, static_cast<std::uint32_t>(e) % le_count, y);
        const double weight = moe_weight(seed, rank, std::size_t{t} * s.topk + k);
        for (std::size_t i = 0; i < h; ++i) want[std::size_t{t} * h + i] += weight * y[i];
      }
    }
    // Relative Frobenius error (the GEMM checks' measure): the outputs are far below 1, where compare's
    // per-element tolerance relative to max(|want|, 1) would let a wrong expert pass.
    const auto got = download(moe.out, row, moe.out.bytes());
    double num = 0, den = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double gv = decode(Elem::bf16, got, i);
      if (!std::isfinite(gv) && r.ok) {
        r.ok = false;
        r.detail = "rank " + std::to_string(rank) + " out element " + std::to_string(i) + " is not finite";
      }
      num += (gv - want[i]) * (gv - want[i]);
      den += want[i] * want[i];
    }
    const double err = std::sqrt(num / std::max(den, 1e-30));
    r.max_error = std::max(r.max_error, std::isfinite(err) ? err : INFINITY);
    if (!(err <= tolerance) && r.ok) {
      r.ok = false;
      r.detail = "rank " + std::to_string(rank) + " out: relative Frobenius error " + std::to_string(err) + " > " +
                 (s.fp8 ? "3e-2" : "1e-2");
    }
  }
  return r;
}

}  // namespace weft::samples
