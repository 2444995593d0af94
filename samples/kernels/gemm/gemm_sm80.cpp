// GEMM for Ampere and later (sm_80+; the e4m3 sibling sm_89+): D = alpha * A * B + beta * C (+ bias per
// column), fp32 accumulation, bf16 output. A is M x K row-major; B is N x K row-major ("TN", both
// operands K-major) or, for bf16 with nn=1, K x N row-major ("NN"); C and D are M x N row-major bf16.
//
// Structure (docs/gemm.md, "The sm_80 path"):
//   - a multistage cp.async pipeline: every thread copies 16-byte chunks (cp.async.cg) of the next
//     A and B tiles into `stages` slots of dynamic shared memory, one commit group per tile;
//     cp.async.wait_group stages-2 + one CTA barrier per k-tile; out-of-range chunks (M, N and K
//     tails, and the prologue's tiles past K) are zero-filled with src-size 0.
//   - swizzled shared tiles: K-major rows of 64 or 128 bytes with the 64B/128B XOR swizzle; NN's
//     B tile is 64-column (128-byte) panels with the 128B swizzle, so every ldmatrix (8 rows of 16
//     bytes per 8x8 matrix) and every cp.async store touches 8 distinct 16-byte bank groups.
//   - warps_m x warps_n warps, each owning a (bm/warps_m) x (bn/warps_n) tile of mma.sync m16n8k16
//     (bf16) or m16n8k32 (e4m3) accumulators, fed by ldmatrix.x4 (.trans for NN's B).
//   - the epilogue scales, adds beta * C and the bias, converts to bf16 and stores column pairs.
// Requirements the host checks: K a multiple of 16 bytes (8 bf16, 16 e4m3), and for NN N a multiple
// of 8, so that every 16-byte chunk is aligned. M and N are otherwise arbitrary. For e4m3 the
// per-tensor scales are folded into alpha by the caller (alpha * a_scale * b_scale).
#include <algorithm>
#include <array>
#include <vector>

#include "dsl/async.h"
#include "dsl/registry.h"
#include "dsl/weft.h"
#include "samples/kernels/gemm/group_rows.h"
#include "samples/kernels/gemm/tile_order.h"

namespace weft::samples {

namespace {

struct Sm80Gemm {
  const char* name;
  bool fp8 = false;   // e4m3 inputs (mma.sync m16n8k32), else bf16 (m16n8k16)
  bool nn = false;    // B is K x N row-major (ldmatrix .trans), else N x K
  bool bias = false;  // a `bias` parameter: one bf16 per column, added last
  bool groups = false;  // grouped (MoE experts): B holds `groups` N x K matrices, tile_groups picks one per 128 rows
  std::uint32_t bm = 128, bn = 128, bk = 32, warps_m = 2, warps_n = 4, stages = 0, group_m = 8;
  std::uint32_t min_ctas = 0;  // .minnctapersm; 0: automatic (see the build)
};

Sm80Gemm from_params(const char* name, bool fp8, const KernelParams& p) {
  Sm80Gemm g{name};
  g.fp8 = fp8;
  g.nn = !fp8 && p["nn"] != 0;
  g.bias = p["bias"] != 0;
  g.groups = p["groups"] != 0;
  g.bm = static_cast<std::uint32_t>(p["bm"]);
  g.bn = static_cast<std::uint32_t>(p["bn"]);
  g.bk = static_cast<std::uint32_t>(p["bk"]);
  g.warps_m = static_cast<std::uint32_t>(p["warps_m"]);
  g.warps_n = static_cast<std::uint32_t>(p["warps_n"]);
  g.stages = static_cast<std::uint32_t>(p["stages"]);
  g.group_m = static_cast<std::uint32_t>(p["group_m"]);
  g.min_ctas = static_cast<std::uint32_t>(p["min_ctas"]);
  return g;
}

// d (64-bit) = a * b, full product of two u32 (mul.wide.u32): row offsets of large matrices.
Reg<u64> wide_mul(KernelBuilder& k, Reg<u32> a, Src<u32> b) {
  auto d = k.reg<u64>();
  k.instr("mul", {isa::Type::u32}, {q::mul_wide}, {d, a, Arg(b.operand())});
  return d;
}

// bf16 bits (in the low or high half of a word) to f32.
Reg<f32> bf16_lo(Reg<u32> w) { return bitcast<f32>(w << 16u); }
Reg<f32> bf16_hi(Reg<u32> w) { return bitcast<f32>(w & 0xffff0000u); }

ir::Module build_sm80_gemm(const isa::Target& target, const Sm80Gemm& g) {
  KernelBuilder k{g.name, target};
  const std::uint32_t eb = g.fp8 ? 1 : 2;                 // element bytes
  const std::uint32_t row_bytes = g.bk * eb;              // a K-major tile row (one stage)
  const std::uint32_t threads = g.warps_m * g.warps_n * 32;
  const std::uint32_t wm = g.bm / g.warps_m, wn = g.bn / g.warps_n;  // the warp tile
  const std::uint32_t mt = wm / 16, nt = wn / 8;          // mma tiles per warp (16 x 8 each)
  const std::uint32_t ksteps = row_bytes / 32;            // mma k-steps per stage (32 bytes of K each)
  const std::uint32_t cpr = row_bytes / 16;               // 16-byte chunks per K-major row

  // ---- Parameter checks (diagnostics at this kernel's lines) ----
  if (row_bytes != 64 && row_bytes != 128)
    k.error("gemm: bk * element size must be 64 or 128 bytes (one swizzle span)",
            g.fp8 ? "bk = 64 or 128 for e4m3" : "bk = 32 or 64 for bf16");
  if (g.bm % (16 * g.warps_m) || g.bn % (16 * g.warps_n))
    k.error("gemm: each warp's tile must be a multiple of 16 x 16", "bm / warps_m and bn / warps_n multiples of 16");
  if (mt * nt * 4 > 128)
    k.error("gemm: the warp tile needs " + std::to_string(mt * nt * 4) + " accumulator registers per thread (at most 128)",
            "use more warps or a smaller tile");
  if (threads > 1024) k.error("gemm: at most 32 warps");
  // One stage would refill the stage the MMAs are about to read: cp.async's groups need two.
  if (g.stages == 1) k.error("gemm: the cp.async pipeline needs at least 2 stages", "stages=0 (as many as fit) or 2..8");
  if ((g.bm * cpr) % threads || (g.nn ? (g.bk * g.bn / 8) % threads : (g.bn * cpr) % threads))
    k.error("gemm: the tiles' 16-byte chunks must divide evenly among the threads", "a larger tile or fewer warps");
  if (g.groups && (g.nn || g.bm > kGroupRows))
    k.error(g.nn ? "gemm: groups takes TN only (a group's K tail would read the next group's rows of B)"
                 : "gemm: groups gives each 128-row tile row of A its own B, so a CTA's tile may not span two (bm <= 128)",
            g.nn ? "groups=1 with nn=0" : "bm = 32, 64 or 128");
  if (g.nn && (g.bn % 64 || threads % (g.bn / 8) || (threads / (g.bn / 8)) % 8))
    k.error("gemm: NN needs bn a multiple of 64 (128-byte panels of B) and threads a multiple of bn (8 rows of chunks per pass)");

  if (!k.diagnostics().empty()) return k.build();  // throws with the problems above

  // ---- Shared memory: per stage an A tile (bm x bk) and a B tile (bn x bk, or NN: bk x bn) ----
  const Swizzle swz = row_bytes == 128 ? Swizzle::b128 : Swizzle::b64;
  const isa::Type elem = g.fp8 ? isa::Type::b8 : isa::Type::b16;
  const SharedLayout a_layout{.rows = g.bm, .cols = g.bk, .elem = elem, .swizzle = swz};
  const SharedLayout b_layout{.rows = g.bn, .cols = g.bk, .elem = elem, .swizzle = swz};
  // NN: B is bn / 64 panels, each bk rows (k) x 64 columns (n) of bf16 with the 128B swizzle.
  const SharedLayout panel{.rows = g.bk, .cols = 64, .elem = isa::Type::b16, .swizzle = Swizzle::b128};
  const std::uint32_t panel_bytes = panel.bytes();
  const std::uint32_t a_bytes = a_layout.bytes();
  const std::uint32_t b_bytes = g.nn ? g.bk * g.bn * 2 : b_layout.bytes();
  const std::uint32_t stage_bytes = (a_bytes + b_bytes + 1023) / 1024 * 1024;
  // stages = 0: as many as fit the target's shared memory, at most 4 (bk = 64 NN with bias: 4 x 33 KB
  // on sm_80 and sm_90, 3 in the 99 KB of sm_89 and sm_120). More than fit is the verifier's emit error.
  const std::uint32_t stages =
      g.stages ? g.stages : std::clamp(dynamic_shared_room(target, 1024, 0) / stage_bytes, 2u, 4u);

  k.reqntid(threads);
  // Two CTAs per SM hide one CTA's barriers and epilogue behind the other's MMAs. By default ask
  // ptxas for a register count that allows it (128 per thread at 256 threads) when the warp tile has
  // at most 64 accumulators and two CTAs' stages, each with the 1 KB the system reserves per CTA, fit
  // the SM's shared memory (Target::max_shared_per_sm: 164 KB on sm_80, 228 KB on sm_90, 100 KB on
  // sm_89 and sm_120); not for
  // e4m3, whose m16n8k32 needs more registers than that on sm_90 and sm_100 (ptxas spills at 128).
  // Otherwise bf16 says `.minnctapersm 1` (without a directive ptxas still aims at 128 registers
  // and spilled 4 bytes for bk=64 NN + bias on sm_80), and e4m3 says nothing (with 1, ptxas took
  // 246 registers on sm_90a; without, 128-187 and no spills in every configuration tested).
  const bool two = !g.fp8 && mt * nt * 4 <= 64 &&
                   2 * (stages * stage_bytes + isa::Target::kSharedReservedPerCta) <= target.max_shared_per_sm();
  const std::uint32_t ctas = g.min_ctas ? g.min_ctas : two ? 2 : g.fp8 ? 0 : 1;
  if (ctas) k.minnctapersm(ctas);

  auto m = k.param<u32>("m");
  auto n = k.param<u32>("n");
  auto kdim = k.param<u32>("k");
  auto alpha = k.param<f32>("alpha");  // e4m3: alpha * a_scale * b_scale
  auto beta = k.param<f32>("beta");
  auto a = g.fp8 ? k.param_ptr<u8>("a") : k.param_ptr<u16>("a").template as<u8>();
  auto b = g.fp8 ? k.param_ptr<u8>("b") : k.param_ptr<u16>("b").template as<u8>();
  auto c = k.param_ptr<u16>("c");  // bf16 bits; read only when beta != 0
  auto d = k.param_ptr<u16>("d");  // bf16 bits
  Ptr<u16, Global> bias;
  if (g.bias) bias = k.param_ptr<u16>("bias");  // bf16 per column
  auto smem = k.dynamic_shared<u8>("smem", 1024, stages * stage_bytes);

  // ---- Which tile: grouped rasterisation (group_m tile rows at a time share B tiles in L2) ----
  const auto [tm, tn] = grouped_tiles(m, n, g.bm, g.bn, g.group_m).coords(k.ctaid_x());

  // ---- Grouped (MoE experts, as the Hopper GEMM's groups=1): the tile's group is its 128-row tile
  // row's tile_groups entry. B's rows start at the group's (group * n), the bias likewise; an entry not
  // below `groups` (padding) makes the CTA load nothing (its rows of A count as outside M), run no
  // K tiles and store nothing. ----
  // (Handles rebound only when grouped, so the plain build's PTX is what it was.)
  Reg<u32> a_rows = m;   // rows of A this tile may load (0 for padding)
  Reg<u32> b_limit = n;
  Reg<u32> group_first;  // grouped: the group's first row of B
  Pred live;             // grouped: the tile row has a group
  if (g.groups) {
    auto tile_groups = k.param_ptr<s32>("tile_groups");
    auto groups = k.param<u32>("groups");
    auto group = bitcast<u32>(k.ld(tile_groups + tm * g.bm / kGroupRows, {q::nc}));
    live = group < groups;
    group_first = select(live, group, k.let<u32>(0u)) * n;
    a_rows = select(live, m, k.let<u32>(0u));
    b_limit = select(live, group_first + n, k.let<u32>(0u));
  }

  auto tid = k.tid_x();
  auto lane = tid & 31u;
  auto warp = tid >> 5u;
  auto warp_m = warp / g.warps_n;
  auto warp_n = warp % g.warps_n;
  auto k_bytes = kdim * eb;
  auto k_tiles = (kdim + (g.bk - 1)) / g.bk;
  const Reg<u32> k_tiles_here = g.groups ? select(live, k_tiles, k.let<u32>(0u)) : k_tiles;

  // ---- Copy plan: this thread's 16-byte chunks of each tile (fixed for the whole K loop) ----
  struct Chunk {
    Ptr<u8, Global> src;  // K-major: the row's start; NN: row 0 at this thread's 8 columns
    Pred valid;           // the row (A, TN's B) or the column (NN's B) is inside the matrix
    Reg<u32> dst;         // the swizzled shared address in stage 0
  };
  auto a_tile0 = shared_tile_at(k, smem.base(), a_layout);
  auto b_base0 = smem.base() + a_bytes;
  auto kc16 = (tid % cpr) * 16u;  // this thread's byte column inside a K-major row
  auto row_in = tid / cpr;
  auto k_major_chunks = [&](Ptr<u8, Global> base, Reg<u32> first_row, Reg<u32> limit, std::uint32_t rows,
                            const SharedTile& tile) {
    std::vector<Chunk> out;
    const std::uint32_t step = threads / cpr;  // rows between a thread's chunks
    for (std::uint32_t i = 0; i < rows * cpr / threads; ++i) {
      auto r = row_in + i * step;
      auto gr = first_row + r;
      auto valid = gr < limit;
      auto src = base + wide_mul(k, select(valid, gr, k.let<u32>(0u)), k_bytes);
      // Rows `step` apart share the swizzle phase when step is a multiple of 8: one address, then constants.
      auto dst = (i > 0 && step % 8 == 0) ? out[0].dst + i * step * row_bytes : tile.address(r, kc16 / eb);
      out.push_back({src, valid, dst});  // the row's start: load_tile adds this thread's K position
    }
    return out;
  };
  auto a_chunks = k_major_chunks(a, tm * g.bm, a_rows, g.bm, a_tile0);
  std::vector<Chunk> b_chunks;
  Reg<u32> nn_row_in;
  const std::uint32_t nn_cpr = g.bn / 8, nn_step = threads / (g.bn / 8);
  if (!g.nn) {
    b_chunks = k_major_chunks(b, g.groups ? group_first + tn * g.bn : tn * g.bn, b_limit, g.bn,
                              shared_tile_at(k, b_base0, b_layout));
  } else {
    // NN: chunk (k row, 8 columns of n); rows nn_step apart (a multiple of 8: the same swizzle phase).
    nn_row_in = tid / nn_cpr;
    auto nc = tid % nn_cpr;
    auto col = tn * g.bn + nc * 8u;
    auto valid = col < n;
    auto src = b + select(valid, col, k.let<u32>(0u)) * 2u;
    auto dst0 = shared_tile_at(k, b_base0 + (nc >> 3u) * panel_bytes, panel).address(nn_row_in, (nc & 7u) * 8u);
    for (std::uint32_t i = 0; i < g.bk * nn_cpr / threads; ++i)
      b_chunks.push_back({src, valid, i == 0 ? dst0 : dst0 + i * nn_step * panel.row_bytes()});
  }

  // Issues the copies of k-tile `kt` into the stage at byte offset `stage_off`; past K (or outside
  // M / N) a chunk reads nothing and its 16 bytes are zero-filled.
  auto zero = k.let<u32>(0u);
  auto sixteen = k.let<u32>(16u);
  auto load_tile = [&](Reg<u32> kt, Reg<u32> stage_off) {
    auto kpos = kt * row_bytes + kc16;  // this thread's byte position along K
    auto k_ok = kpos < k_bytes;
    auto copy = [&](const Chunk& ch, Pred ok, Ptr<u8, Global> src, Ptr<u8, Global> fallback) {
      auto from = Ptr<u8, Global>(select(ok, src.base(), fallback.base()));
      cp_async_16(k, ch.dst + stage_off, from, Src<u32>(select(ok, sixteen, zero)));
    };
    for (const auto& ch : a_chunks) {
      auto ok = ch.valid && k_ok;
      copy(ch, ok, ch.src + kpos, a);
    }
    if (!g.nn) {
      for (const auto& ch : b_chunks) copy(ch, ch.valid && k_ok, ch.src + kpos, b);
    } else {
      for (std::uint32_t i = 0; i < b_chunks.size(); ++i) {
        auto krow = kt * g.bk + nn_row_in + i * nn_step;
        auto ok = b_chunks[i].valid && krow < kdim;
        auto src = b_chunks[i].src + wide_mul(k, select(ok, krow, zero), n * 2u);
        copy(b_chunks[i], ok, src, b);
      }
    }
  };

  // ---- ldmatrix addresses of this lane (stage 0, k-step 0) ----
  // A: matrices (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15) of a
  // 16 x 16 (bf16) block: lane l gives row (l % 8) + 8 * ((l / 8) % 2), 16-byte column l / 16.
  auto l8 = lane & 7u;
  auto a_lane = a_tile0.address(warp_m * wm + l8 + ((lane >> 3u) & 1u) * 8u, (lane >> 4u) * (16 / eb));
  // TN B: matrices (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15): two n8 tiles.
  // NN B (.trans): matrices (k 0-7, n 0-7), (k 8-15, n 0-7), (k 0-7, n 8-15), (k 8-15, n 8-15).
  std::vector<Reg<u32>> b_lane;
  if (!g.nn) {
    b_lane.push_back(shared_tile_at(k, b_base0, b_layout)
                         .address(warp_n * wn + l8 + (lane >> 4u) * 8u, ((lane >> 3u) & 1u) * (16 / eb)));
  } else {
    for (std::uint32_t p = 0; p < nt / 2; ++p) {
      auto ncol = warp_n * wn + p * 16u + (lane >> 4u) * 8u;
      b_lane.push_back(shared_tile_at(k, b_base0 + (ncol >> 6u) * panel_bytes, panel)
                           .address(l8 + ((lane >> 3u) & 1u) * 8u, ncol & 63u));
    }
  }

  // ---- Accumulators ----
  std::vector<Fragment<f32, 4>> acc;
  for (std::uint32_t i = 0; i < mt * nt; ++i) {
    acc.emplace_back(k);
    acc.back().fill(k, 0.0f);
  }

  // One stage: ksteps x (mt A fragments, nt B fragments, mt * nt mma).
  auto compute = [&](Reg<u32> stage_off) {
    auto a_rd = a_lane + stage_off;
    std::vector<Reg<u32>> b_rd;
    for (auto& r : b_lane) b_rd.push_back(r + stage_off);
    for (std::uint32_t kk = 0; kk < ksteps; ++kk) {
      // K-major tiles: k-step kk is 32 bytes further along the row; inside a swizzled row that is an
      // XOR of the (16-byte aligned) chunk bits, since the lane's own chunk bit and kk * 32 do not overlap.
      auto at_k = [&](Reg<u32> addr) { return kk == 0 ? addr : addr ^ (kk * 32u); };
      std::vector<Fragment<b32, 4>> fa;
      for (std::uint32_t i = 0; i < mt; ++i) {
        fa.emplace_back(k);
        ldmatrix_x4(k, fa.back(), at_k(a_rd + i * 16u * row_bytes));
      }
      std::vector<Fragment<b32, 2>> fb;
      for (std::uint32_t p = 0; p < nt / 2; ++p) {
        Fragment<b32, 4> q(k);
        if (!g.nn)
          ldmatrix_x4(k, q, at_k(b_rd[0] + p * 16u * row_bytes));
        else
          ldmatrix_x4(k, q, b_rd[p] + kk * 16u * panel.row_bytes(), /*trans=*/true);
        fb.emplace_back(std::array{q.get<0>(), q.get<1>()});
        fb.emplace_back(std::array{q.get<2>(), q.get<3>()});
      }
      for (std::uint32_t i = 0; i < mt; ++i)
        for (std::uint32_t j = 0; j < nt; ++j) {
          auto& dacc = acc[i * nt + j];
          if (g.fp8)
            mma_m16n8k32_e4m3(k, dacc, fa[i], fb[j], dacc);
          else
            mma_m16n8k16_bf16(k, dacc, fa[i], fb[j], dacc);
        }
    }
  };

  // ---- The pipeline: cp.async groups on every target (this kernel's copies are cp.async) ----
  Pipeline pipe(k, "ab", {.stages = stages, .cp_async_groups = true});
  auto rd = pipe.state();
  auto wr = pipe.state();
  for (std::uint32_t s = 0; s + 1 < stages; ++s) {  // prologue: tiles 0 .. stages-2
    load_tile(k.let<u32>(s), k.let<u32>(s * stage_bytes));
    pipe.producer_commit(wr);
    pipe.advance(wr);
  }
  k.for_(0u, k_tiles_here, 1u, [&](Reg<u32> kt) {
    pipe.consumer_wait(rd);  // tile kt has landed; every thread is done with tile kt - 1
    // Refill the slot tile kt - 1 used (zero-fills past K, so the group count stays exact).
    load_tile(kt + (stages - 1), wr.stage * stage_bytes);
    pipe.producer_commit(wr);
    pipe.advance(wr);
    compute(rd.stage * stage_bytes);
    pipe.advance(rd);
  });
  k.instr("cp.async.wait_all", {}, {}, {});  // nothing in flight at exit

  // ---- Epilogue: the m16n8 accumulator map of dsl/async/mma.h; two adjacent columns per store ----
  auto row0 = tm * g.bm + warp_m * wm + (lane >> 2u);
  auto col0 = tn * g.bn + warp_n * wn + (lane & 3u) * 2u;
  auto use_c = beta != 0.0f;
  auto n_even = (n & 1u) == 0u;
  std::vector<std::array<Reg<f32>, 2>> bias_v;
  if (g.bias) {
    // Grouped: the group's n biases, by index: a 32-bit add, the pointer stays the parameter's (a
    // 64-bit pointer computed before the K loop spilled 8 bytes at 128 registers on sm_90a).
    auto at = [&](Reg<u32> col) { return g.groups ? bias + (group_first + col) : bias + col; };
    for (std::uint32_t j = 0; j < nt; ++j) {
      auto col = col0 + 8u * j;
      auto b0 = k.let<f32>(0.0f), b1 = k.let<f32>(0.0f);
      k.if_(col < n, [&] { k.assign(b0, bf16_lo(convert<u32>(k.ld(at(col))))); });
      k.if_(col + 1u < n, [&] { k.assign(b1, bf16_lo(convert<u32>(k.ld(at(col + 1u))))); });
      bias_v.push_back({b0, b1});
    }
  }
  for (std::uint32_t i = 0; i < mt; ++i)
    for (std::uint32_t h = 0; h < 2; ++h) {
      auto row = row0 + (16u * i + 8u * h);
      k.if_(g.groups ? (row < m && live) : row < m, [&] {
        auto row_off = wide_mul(k, row, n);
        auto drow = d + row_off;
        auto crow = c + row_off;
        for (std::uint32_t j = 0; j < nt; ++j) {
          auto col = col0 + 8u * j;
          k.if_(col < n, [&] {
            auto v0 = acc[i * nt + j].at(2 * h) * alpha;
            auto v1 = acc[i * nt + j].at(2 * h + 1) * alpha;
            auto two = col + 1u < n;
            k.if_(two && n_even, [&] {  // an aligned pair: 32-bit accesses
              k.if_(use_c, [&] {
                auto cw = k.ld((crow + col).template as<u32>());
                k.assign(v0, fma(beta, bf16_lo(cw), v0));
                k.assign(v1, fma(beta, bf16_hi(cw), v1));
              });
              if (g.bias) {
                k.assign(v0, v0 + bias_v[j][0]);
                k.assign(v1, v1 + bias_v[j][1]);
              }
              auto packed = k.reg<b32>();
              k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, v1, v0});
              k.st((drow + col).template as<u32>(), bitcast<u32>(packed));
            }).else_([&] {
              k.if_(use_c, [&] {
                k.assign(v0, fma(beta, bf16_lo(convert<u32>(k.ld(crow + col))), v0));
                k.if_(two, [&] { k.assign(v1, fma(beta, bf16_lo(convert<u32>(k.ld(crow + (col + 1u)))), v1)); });
              });
              if (g.bias) {
                k.assign(v0, v0 + bias_v[j][0]);
                k.assign(v1, v1 + bias_v[j][1]);
              }
              auto packed = k.reg<b32>();
              k.instr("cvt", {isa::Type::bf16x2, isa::Type::f32}, {q::rn}, {packed, v1, v0});
              k.st(drow + col, convert<u16>(bitcast<u32>(packed) & 0xffffu));
              k.if_(two, [&] { k.st(drow + (col + 1u), convert<u16>(bitcast<u32>(packed) >> 16u)); });
            });
          });
        }
      });
    }
  return k.build();
}

}  // namespace

// The parameters of both kernels: bk counts elements, so its range follows the element size.
std::vector<KernelParam> sm80_params(std::int64_t bk, const char* bk_help, bool with_nn) {
  std::vector<KernelParam> p = {
      {"bm", 128, "tile M", 32, 256, true},
      {"bn", 128, "tile N", 32, 256, true},
      {"bk", bk, bk_help, bk, 2 * bk, true},
      {"warps_m", 2, "warps along M", 1, 8, true},
      {"warps_n", 4, "warps along N", 1, 8, true},
      {"stages", 0, "cp.async pipeline stages (0: as many as fit the target's shared memory, at most 4)", 0, 8},
      {"group_m", 8, "tile rows visited together (L2 reuse)", 1, 64},
      {"min_ctas", 0, "CTAs per SM to fit in registers (.minnctapersm); 0: automatic (2 for small "
                      "warp tiles whose stages fit twice, else 1 for bf16, none for e4m3)", 0, 4}};
  if (with_nn) p.push_back({"nn", 0, "B layout: 0 = N x K row-major (TN), 1 = K x N row-major (NN, ldmatrix.trans)", 0, 1});
  p.push_back({"bias", 0, "1: add a bf16 bias per column (a `bias` parameter)", 0, 1});
  p.push_back({"groups", 0, "1: grouped GEMM (MoE experts), as gemm_bf16_sm90's: B holds `groups` matrices of n x k, "
                            "each 128-row tile row of A multiplies the one tile_groups[row / 128] names; an entry "
                            "not below `groups` (-1) marks padding rows, neither loaded nor stored; the bias is "
                            "groups x n; TN, bm <= 128", 0, 1});
  return p;
}

WEFT_KERNEL_FOR(gemm_bf16_sm80, isa::TargetSet::from_sm(80),
                "D = alpha*A*B + beta*C (+bias), bf16 in/out, fp32 accumulate: cp.async pipeline + ldmatrix + "
                "mma.sync m16n8k16 (TN, or NN with nn=1)",
                sm80_params(32, "tile K (32 or 64: rows of 64 or 128 bytes)", /*with_nn=*/true)) {
  return build_sm80_gemm(target, from_params("gemm_bf16_sm80", false, params));
}

WEFT_KERNEL_FOR(gemm_e4m3_sm89, isa::TargetSet::from_sm(89),
                "D = alpha*A*B^T + beta*C (+bias), e4m3 in, bf16 out, fp32 accumulate (alpha carries the "
                "per-tensor scales): cp.async pipeline + ldmatrix + mma.sync m16n8k32",
                sm80_params(64, "tile K (64 or 128: rows of 64 or 128 bytes)", /*with_nn=*/false)) {
  return build_sm80_gemm(target, from_params("gemm_e4m3_sm89", true, params));
}

}  // namespace weft::samples
