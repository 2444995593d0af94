#!/usr/bin/env python3
"""Runs weft's Hopper GEMMs (sm_90a: TMA + mbarrier pipeline + wgmma) on the CPU, in the PTX emulator,
and checks D against float64.

    python3 tools/ptxemu/run_gemm90_checks.py --weft build/tools/weft [--seed N] [--keep-ptx DIR] [--backend llvm]

Emits gemm_bf16_sm90 and gemm_e4m3_sm90 (--arch sm_90a) with the weft CLI (--weft, or $WEFT) into a
temporary directory and runs every thread of every CTA of each launch in emulator.py with hopper.py,
tma.py and wgmma.py: the producer warp's TMA loads through the tensor maps (passed as the emulator's
own 128-byte encoding, host.tensor_map) into 128B-swizzled stages, the full / empty mbarrier ring,
the two consumer warpgroups' wgmma (descriptors decoded, accumulators in the ISA's fragment map),
setmaxnreg, elect.sync, the persistent tile loop and the epilogue's loads and stores:
- bf16 with small tiles for speed (bn = 32, stages = 2, register stores; once bn = 64, stages = 3,
  group_m = 2 with TMA stores; once the defaults, bn = 128, TMA stores): beta 0 and 0.5, M and N no
  multiple of the tile (bm = 128; odd N once), K with a partial last k-tile (bk = 64) and K shorter
  than the pipeline, grids smaller than the number of tiles (the persistent loop runs 2 or 3 tiles per
  CTA), group_m = 2 over 3 tile rows (a partial group of the grouped order); once with the copy role
  (copy = 1: a spare warp moves 5 chunks with bulk copies g2s / s2g through a ring of 2, checked byte
  for byte);
- the options: 2-CTA clusters sharing B by multicast (3 tile rows: one CTA of a pair has no rows;
  also NN, each CTA multicasting one B panel), split-K (3 parts of 2 K tiles; 3 parts over 2 K tiles,
  one empty; with f32 output through TMA stores and bias; e4m3 with clusters, split-K, f32 and bias;
  the counters must be back at zero after the launch), NN (B K x N row-major in MN-major panels,
  wgmma imm-trans-b 1), bn = 256 (four TMA-store boxes per warpgroup, both staging buffers reused),
  ping-pong (each consumer warpgroup whole tiles in turn: an odd number of units, with clusters and
  split-K, and e4m3 block scales with f32 output);
- e4m3 (bk = 128 bytes, four k32 steps per stage) with per-tensor scales (one wgmma group in flight,
  the stage released one k-tile late) and with block scales (fp32 a_scales K-block x M, b_scales per
  128 x 128 block, promoted in fp32 per K block), partial last k-tiles, once the defaults (bn = 128,
  as many stages as fit);
- in three models (Emu tma / wgmma): "wait" (TMA bytes land only when a consumer sees the stage's
  full barrier complete, so a read before that wait sees the 0xff poison; wgmma reads shared memory
  and writes its accumulators only at the wgmma.wait_group covering it, which completes 0..16 rounds
  after the warpgroup reaches it), "issue" (both at issue), and "release" (wgmma deferred, TMA at
  issue: a stage released before its wgmma is done and refilled at once shows); the random scheduler
  gives every warp its own speed, so warps overtake one another;
- M = 64 (decode) and tile rows past M: the cooperative warpgroup whose 64 rows all lie past M
  issues no wgmma but waits for and releases every stage; every run counts the wgmma.mma_async
  issued against the 64-row blocks inside M; A in 64-row boxes (a_halves), the box whose rows all
  lie past M not loaded but completed on the stage's barrier, alone and with prefetches, block
  scales, clusters, ping-pong and stream-K; every run counts the A boxes TMA loaded;
- grouped (groups = 1, MoE experts): B, the bias and B's scales of 2 or 3 groups one after the
  other, a group per 128-row tile row (out of order), tile rows of padding (-1, or an index past the
  groups) that must load, multiply and store nothing (their rows of D stay unwritten), with bias per
  group and TMA stores, split-K (a padding tile's parts skip the workspace), ping-pong, and e4m3 block
  scales with A in 64-row boxes;
- checks: relative Frobenius error of D against float64 (<= 1e-2 bf16, <= 3e-2 e4m3, the tolerances of
  gemm_app), D poisoned with NaN beforehand, every byte of D written exactly once, no byte of A, B, C,
  the scales or copy_src written (Memory.wcount); emulator errors are failures: an out-of-bounds or
  misaligned access, an mbarrier over-arrival, a tx-count below zero or left over at the end, a wait
  on an uninitialized mbarrier, a wgmma without its wgmma.fence, a thread exiting with wgmma or bulk
  groups pending, an async-proxy read of unfenced generic stores, a deadlock;
- mutants: the emitted PTX broken on purpose (the consumer's full-barrier wait dropped, the stage
  released before wgmma.wait_group (with the producer warp at full speed), the B descriptor's k-step
  offset dropped, expect_tx announcing the A box only, wgmma.fence dropped, the e4m3 loop's
  wgmma.wait_group 1 made 2, block scales taking the first row's A scale for the second, the copy
  role's wait_group.read dropped, split-K reduced by the first part to arrive, the skipped A box's
  mbarrier.complete_tx dropped, the grouped kernel's tile_groups loads made 0, clusters' empty
  barriers counting one CTA's releases, NN's k-step offset dropped, a TMA-store staging buffer
  rewritten before its store read it, ping-pong's turn barrier dropped, the release of a warpgroup
  whose rows all lie past M dropped), each of which the checks must detect, so that a run that
  passes is known to be able to fail; and the two faults of the first H200 run, which must show as the
  misaligned address it reported: the dynamic shared memory's run-time round-up to 1024 dropped (its
  base is only 16-byte aligned after the static mbarriers: emulator.dynamic_smem_base) and TMA given
  the tensor maps' .param addresses (cvta.param made a mov);
- hopper_checks.py: hand-written PTX for the same pieces in isolation (a cluster of 2 with a
  multicast TMA, mapa and a remote mbarrier arrive, barrier.cluster; a TMA store clipped at the
  edges with bulk groups; red / atom / ld.acquire; named barriers; where dynamic shared memory
  starts; a parameter's .param and generic addresses), with mutants.
Exits 1 naming every failure (2 for a usage error). About 60 s on one core of a 2-core machine
(2026-11-28). --seed N picks other inputs and schedules (CTest runs 0). --backend llvm: every check
above on the LLVM backend's PTX, with the 10 mutants whose patterns match its PTX too (weft's own
inline-asm text, the same in both backends: release before wgmma.wait_group, expect_tx short,
wgmma.fence dropped, e4m3 wait_group 2, copy role refill and lagged refill, TMA-store buffer reuse,
ping-pong turn, TMA given .param addresses; the round-up, matched in either form); the other 6 and
hopper_checks.py (hand-written PTX, the same whatever the backend) are skipped; about 50 s.

Limits (hopper.py, tma.py, wgmma.py): the wgmma descriptor decoding (K-major, and MN-major B as
CUTLASS's canonical layout reads; base offset 0), the swizzle and the accumulator fragment map are the
emulator's reading of the PTX ISA (the fragment map also checked against CUTLASS's CLayout_64xN), the
same reading the kernels' layouts were written from, so a misreading shared by both passes here; the TMA tensor maps are the emulator's encoding
(cuTensorMapEncodeTiled and its checks are not run, nor is the host code that builds the maps);
wgmma sums in float64 and rounds once to f32 per instruction; memory is sequentially consistent (a
missing fence other than fence.proxy.async, or a wrong .sem / .scope, passes); no timing, bank
conflicts or register pressure (setmaxnreg is checked for its value only).
"""
import importlib.util
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("run_gemm90_checks.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import numpy as np  # noqa: E402

import emulator as E  # noqa: E402
import host  # noqa: E402
import hopper_checks  # noqa: E402
from checks import Report  # noqa: E402
import run_checks  # noqa: E402
from run_checks import command_line, substitute, substitute_all  # noqa: E402
from run_gemm_checks import ASYNC_MODELS, check_d, group_entries, grouped_reference, param_value, place, tma_gemm_inputs  # noqa: E402

BF16, FP8 = "gemm_bf16_sm90", "gemm_e4m3_sm90"
DEFAULTS = {"bn": 128, "stages": 4, "group_m": 8, "block_scales": 0, "copy": 0, "copy_chunk": 16384,
            "tma_store": 1, "out_f32": 0, "bias": 0, "splits": 1, "cluster_m": 1, "nn": 0, "stream_k": 0,
            "pingpong": 0, "groups": 0}
SMALL = ["bn=32", "stages=2", "tma_store=0"]  # 32-column tiles store from registers (TMA boxes are 64 wide)
STORE = ["bn=64", "stages=2"]                 # the smallest tile of the TMA-store epilogue (bf16)
BM = 128  # fixed in both kernels
COPY_CHUNKS = 5  # copy=1: chunks of copy_chunk bytes, chunk c on CTA c mod grid
MODELS = ASYNC_MODELS  # name -> (tma, wgmma)


def param(params, name):
    return param_value(params, name, DEFAULTS)


def check_gemm90(kernel, params, m, n, k, beta=0.0, grid=None, seed=0, model="wait", fast_producer=False,
                 tile_groups=None, groups=2):
    """One launch of `kernel` (gemm_bf16_sm90 or gemm_e4m3_sm90) with `params` on M x N x K, `grid` CTAs
    (default: one fewer than the tiles, so that some CTA runs two), in `model` (fast_producer: the
    producer warp always runs at full speed, the other warps at random speeds); returns a Report.
    Inputs: bf16 uniform in [-1, 1], e4m3 of magnitude 1/8 .. 3.75 with random signs, block scales
    uniform in [0.5, 2]. With groups=1 in `params`: B (and the bias, and B's scales) of `groups`
    groups, and `tile_groups` one entry per 128-row tile row (default: group tm % groups); an entry
    outside [0, groups) marks padding rows, which must stay unwritten."""
    fp8 = kernel == FP8
    blocks = fp8 and param(params, "block_scales") == 1
    bn, bk, esize = param(params, "bn"), 128 if fp8 else 64, 1 if fp8 else 2
    tma_store, out_f32, with_bias = (param(params, x) == 1 for x in ("tma_store", "out_f32", "bias"))
    splits, cm, nn = param(params, "splits"), param(params, "cluster_m"), param(params, "nn") == 1
    stream_k = param(params, "stream_k") == 1
    tiles_m, tiles_n = -(-m // BM), -(-n // bn)
    tiles = tiles_m * tiles_n
    units = -(-tiles_m // cm) * tiles_n * splits  # per cluster
    grid = grid or max(1, units - 1) * cm
    tma, wgmma = MODELS[model]
    r = Report(f"{kernel} {' '.join(params)} {m}x{n}x{k} beta={beta} grid={grid} ({tiles} tiles) model {model}")
    kern = host.kernel(kernel, params)
    rng = np.random.default_rng(seed)
    grouped = param(params, "groups") == 1
    ng = groups if grouped else 1  # B, the bias and B's scales of every group, one group after the other
    if grouped:
        tile_groups = group_entries(tile_groups, tiles_m, groups)
    arrays_, (af, bf, cf, biasf) = tma_gemm_inputs(rng, fp8, m, n, k, out_f32, ng)
    dsize = 4 if out_f32 else 2
    kb = -(-k // 128)
    a_scales = rng.uniform(0.5, 2, (kb, m)).astype(np.float32)
    b_scales = rng.uniform(0.5, 2, (ng * -(-n // 128), kb)).astype(np.float32)
    alpha = 0.25 if fp8 else 1.5

    mem = E.Memory(1 << 22)
    b = arrays_["b"]
    arrays = [("a", arrays_["a"]), ("b", np.ascontiguousarray(b.T) if nn else b), ("c", arrays_["c"]),
              ("d", arrays_["d"])]
    if with_bias:
        arrays += [("bias", arrays_["bias"])]
    if blocks:
        arrays += [("a_scales", a_scales), ("b_scales", b_scales)]
    if grouped:
        arrays += [("tile_groups", np.array(tile_groups, dtype=np.int32))]
    if splits > 1 or stream_k:  # fp32 partial tiles: per (tile, part), or (stream-K) two per CTA; a counter
        # per tile (zero, and left zero)
        slots = 2 * grid if stream_k else tiles * splits
        # The workspace starts as NaN: a partial read before its part wrote it (or a block that skips
        # its write but not its read) shows in D.
        arrays += [("workspace", np.full(slots * BM * bn, np.nan, dtype=np.float32)),
                   ("counters", np.zeros(tiles, dtype=np.uint32))]
    bufs = place(mem, arrays)
    a_rows = BM // 2 if param(params, "a_halves") == 1 else BM  # a_halves: A in two 64-row boxes
    params_ = {"m": m, "n": n, "k": k, "alpha": E.f2b(alpha), "beta": E.f2b(beta),
               "a": host.tensor_map(bufs["a"][0], esize, [k, m], [k * esize], [bk, a_rows], 128),
               # TN: N x K, box bk x bn / cluster_m (each CTA of a cluster loads a slice); NN: K x N in
               # panels of 64 columns x bk rows
               "b": (host.tensor_map(bufs["b"][0], esize, [n, k], [n * esize], [64, bk], 128) if nn else
                     host.tensor_map(bufs["b"][0], esize, [k, ng * n], [k * esize], [bk, bn // cm], 128))}
    params_.update({name: base for name, (base, _) in bufs.items() if name not in ("a", "b")})
    if grouped:
        params_["groups"] = groups
    if tma_store:  # D as a tensor map: boxes of 64 rows x 128 bytes
        params_["d"] = host.tensor_map(bufs["d"][0], dsize, [n, m], [n * dsize], [128 // dsize, 64], 128)
    copy = param(params, "copy") == 1
    if copy:  # the copy role: copy_chunks chunks of copy_src to copy_dst with bulk copies, beside the GEMM
        nbytes = COPY_CHUNKS * param(params, "copy_chunk")
        src = rng.integers(0, 256, nbytes).astype(np.uint8).tobytes()
        params_["copy_src"] = mem.alloc(nbytes, "copy_src")
        mem.mem[params_["copy_src"]:params_["copy_src"] + nbytes] = src
        bufs["copy_src"] = (params_["copy_src"], nbytes)
        params_["copy_dst"] = mem.alloc(nbytes, "copy_dst")
        mem.mem[params_["copy_dst"]:params_["copy_dst"] + nbytes] = b"\xff" * nbytes
        params_["copy_chunks"] = COPY_CHUNKS
    emu = E.Emu(mem, kern, (grid, 1), kern.maxntid, params_, seed=seed, max_slice=128, tma=tma, wgmma=wgmma,
                warp_speeds=True, fast_warps=(0,) if fast_producer else ())
    emu.run()
    r.notes.append(f"{emu.instructions} instructions, {emu.rounds} rounds")
    # The MMAs issued: per tile and K tile, four k-steps (32 bytes of K each) for each 64-row block a
    # warpgroup computes. Cooperative warpgroups whose rows all lie past M issue none (a decode
    # shape's second warpgroup, the tile row a 2-CTA cluster has past M); a ping-pong warpgroup
    # computes both blocks of its tile, in every tile row of the clusters. Split-K parts and stream-K
    # pieces cover each tile's K tiles once, so the count does not depend on them.
    k_tiles = -(-k * esize // 128)
    # A padding tile row (grouped) loads and multiplies nothing.
    live_rows = [not grouped or 0 <= tile_groups[tm] < groups for tm in range(-(-tiles_m // cm) * cm)]
    blocks_per_tile = [0 if not live_rows[tm] else 2 if param(params, "pingpong") == 1 else
                       sum(tm * BM + w * 64 < m for w in (0, 1)) for tm in range(-(-tiles_m // cm) * cm)]
    mmas = tiles_n * k_tiles * 4 * sum(blocks_per_tile)
    if emu.wgmma_issued != mmas:
        r.fail(f"{emu.wgmma_issued} wgmma.mma_async issued, {mmas} expected ({sum(blocks_per_tile)} 64-row blocks "
               f"inside M over {tiles_m} tile rows, {tiles_n} tile columns, {k_tiles} K tiles)")

    # The A boxes loaded: per tile row and K tile one, or with a_halves two where the second box has a
    # row inside M (a tile row past M, a cluster's spare, still loads its first).
    a_boxes = tiles_n * k_tiles * sum(live_rows[tm] * (1 + (a_rows < BM and tm * BM + a_rows < m))
                                      for tm in range(-(-tiles_m // cm) * cm))
    if emu.tma_boxes.get(bufs["a"][0], 0) != a_boxes:
        r.fail(f"{emu.tma_boxes.get(bufs['a'][0], 0)} A boxes loaded by TMA, {a_boxes} expected")
    def product(rows, grp):  # alpha * A[rows] * B_grp^T (+ block scales) + beta * C[rows] (+ bias_grp)
        a_, b_ = af[rows], bf[grp * n:(grp + 1) * n]
        if blocks:
            out = np.zeros((a_.shape[0], n))
            nbs = -(-n // 128)
            for q in range(kb):
                s = (a_scales[q, rows].astype(np.float64)[:, None] *
                     b_scales[grp * nbs + np.arange(n) // 128, q].astype(np.float64)[None, :])
                out += s * (a_[:, 128 * q:128 * q + 128] @ b_[:, 128 * q:128 * q + 128].T)
            out = alpha * out
        else:
            out = alpha * (a_ @ b_.T)
        out = out + beta * cf[rows]
        return out + biasf[None, grp * n:(grp + 1) * n] if with_bias else out
    want, written = grouped_reference(m, n, tile_groups if grouped else None, ng, product)
    if splits > 1 or stream_k:
        base, size = bufs["counters"]
        left = np.frombuffer(bytes(mem.mem[base:base + size]), dtype=np.uint32)
        if np.any(left):
            r.fail(f"split-K counters not back to zero after the launch: {left.tolist()}")
    if copy:
        dst = params_["copy_dst"]
        if bytes(mem.mem[dst:dst + nbytes]) != src:
            r.fail(f"copy_dst differs from copy_src from byte "
                   f"{next(i for i in range(nbytes) if mem.mem[dst + i] != src[i])}")
        elif np.any(mem.wcount[dst:dst + nbytes] != 1):
            r.fail("a byte of copy_dst not written exactly once")
    return check_d(r, mem, bufs, m, n, want, 3e-2 if fp8 else 1e-2, f32=out_f32, scratch=("workspace", "counters"),
                   rows=written if grouped else None)


# ---------------- mutants ----------------
CONSUMER_WAIT = (r"(\$L_\d+_mbar_wait):\s*mbarrier\.try_wait\.parity[^;]*?(%p\d+), \[[^\]]+\], %r\d+;\s*"
                 r"@!\2 bra(?:\.uni)? \1;")


def drop_consumer_wait(text):
    # The MMA loop's wait on the stage's full barrier goes (the try_wait loop just before the first
    # wgmma.fence: the producer's empty-barrier wait comes earlier, the idle warpgroup's later): the
    # stage is read whether or not its bytes have landed.
    fence = text.find("wgmma.fence")
    before = list(re.finditer(CONSUMER_WAIT, text[:fence])) if fence >= 0 else []
    if not before:
        raise LookupError("no try_wait loop before a wgmma.fence in the emitted PTX: update this mutant in "
                          "tools/ptxemu/run_gemm90_checks.py")
    return substitute(text, CONSUMER_WAIT, r"\1:\n\tmov.pred \2, 1;", which=len(before) - 1)


def release_before_wait(text):
    # The k-loop's wgmma.wait_group 1 goes: each warp's lane 0 releases the previous stage (arrive on
    # its empty barrier) while that stage's wgmma may still read it, and the producer may refill it.
    return substitute(text, r"wgmma\.wait_group\.sync\.aligned 1;", "", which=0)


def b_kstep_offset(text):
    # The B descriptor's k-step 1 offset (+32 bytes: 16 bf16 elements) made 0: k-step 1 re-reads k-step 0.
    return substitute(text, r"(add\.u32 %r\d+, %r\d+, )32;", r"\g<1>0;", which=0)


def expect_tx_short(text):
    # expect_tx announces the A box only: the B box's complete_tx takes the tx-count below zero.
    m = re.search(r"(mbarrier\.arrive\.expect_tx\.shared\.b64 _, \[%r\d+\], )(\d+);", text)
    if not m:
        raise LookupError("no mbarrier.arrive.expect_tx with an immediate in the emitted PTX: update this mutant in "
                          "tools/ptxemu/run_gemm90_checks.py")
    return text[:m.start()] + m.group(1) + str(128 * 64 * 2) + ";" + text[m.end():]


def drop_fence(text):
    # wgmma.fence goes: the first wgmma of a tile follows the accumulators' zeroing with no fence.
    return substitute(text, r"wgmma\.fence\.sync\.aligned;", "", which=0)


def wait_group_two(text):
    # The e4m3 k-loop waits for all but two wgmma groups, yet releases k-tile kt-1's stage as if its
    # group were done.
    return substitute(text, r"wgmma\.wait_group\.sync\.aligned 1;", "wgmma.wait_group.sync.aligned 2;", which=0)


def second_row_scale(text):
    # Block scales: a thread's second accumulator row (row0 + 8) takes the A scale of its first row.
    return substitute(text, r"(add\.u32 (%r\d+), (%r\d+), 8;\s*min\.u32 %r\d+, )\2(, %r\d+;\s*mad\.wide\.u32)",
                      r"\g<1>\g<3>\g<4>", which=0)


def drop_read_wait(text):
    # The copy role refills a ring slot without waiting for the bulk store still reading it.
    return substitute(text, r"cp\.async\.bulk\.wait_group\.read 0;", "", which=0)


def drop_lagged_read_wait(text):
    # The copy role with copy_lag 1 refills the slot of the store one back without waiting for it to
    # have read the slot.
    return substitute(text, r"cp\.async\.bulk\.wait_group\.read 1;", "", which=0)


def last_part_first(text):
    # Split-K: the part that arrives first (counter 0), not last, reduces: it reads partial tiles that
    # are not written yet. (The count of the parts before the last is an immediate, or a register set
    # between the atom and the compare.)
    return substitute(text, r"(atom\.acq_rel\.gpu\.global\.add\.u32 (%r\d+), \[%rd\d+\], 1;[^@]{0,200}?"
                            r"setp\.eq\.u32 %p\d+, \2, )(?:\d+|%r\d+);", r"\g<1>0;", which=0)


def keep_counter(text):
    # Split-K / stream-K: the last part does not reset its tile's counter, so the next launch would
    # count on from it (the only relaxed gpu-scope store in the kernel).
    return substitute(text, r"st\.relaxed\.gpu\.global\.u32 \[%rd\d+\], %r\d+;", "", which=0)


def empty_count_one_cta(text):
    # Clusters: the empty barriers count one CTA's releases (8), not both CTAs' (16): a producer
    # multicasts into its partner's stage before the partner's consumers are done with it.
    return substitute_all(text, r"(mbarrier\.init\.shared\.b64 \[%r\d+\], )16;", r"\g<1>8;")


def nn_kstep(text):
    # NN: the MN-major B descriptor's k-step offset (16 K rows: 2048 bytes) dropped.
    return substitute(text, r"(add\.u32 %r\d+, %r\d+, )2048;", r"\g<1>0;", which=0)


def drop_store_read_wait(text):
    # TMA-store epilogue: box 2 is staged into box 0's buffer without waiting for box 0's store to
    # have read it.
    return substitute(text, r"cp\.async\.bulk\.wait_group\.read 1;", "", which=0)


def drop_turn(text):
    # Ping-pong: a warpgroup starts its unit's main loop without waiting for its turn: it may wait on a
    # full barrier two phases ahead, where the stale parity passes.
    return substitute(text, r"bar\.sync %r\d+, 256;", "", which=0)


def drop_turn_arrive(text):
    # Block scales in turns: a warpgroup never hands the turn on after issuing its MMAs, so the other
    # waits for it forever (a deadlock the emulator names): the handshake is live in the PTX under test.
    return substitute(text, r"bar\.arrive %r\d+, 256;", "", which=0)


def drop_idle_release(text):
    # A warpgroup whose rows all lie past M waits for each stage but never releases it: the producer
    # waits on the stage's empty barrier forever (a deadlock): the idle loop's arrive is live.
    return substitute(text, r"mbarrier\.arrive\.shared\.b64 _, \[%r\d+\];(\s*\$L_\d+_endif:\s*bar\.warp\.sync)",
                      r"\1", which=0)


def drop_complete_tx(text):
    # a_halves: the skipped A box's bytes never completed: the stage's full barrier waits for them forever.
    return substitute(text, r"mbarrier\.complete_tx\.relaxed\.cta\.shared\.b64 \[%r\d+\], \d+;", "", which=0)


def ignore_tile_groups(text):
    # Grouped: the tile_groups entries are never read; every tile row takes group 0.
    return substitute_all(text, r"ld\.global\.nc\.s32 (%r\d+), \[%rd\d+\];", r"mov.s32 \1, 0;")


def mutant(name, kernel, params, transform, check, kind=None):
    return run_checks.mutant(name, kernel, params, transform, check, "sm_90a", kind)


def run_matrix(run, s):
    big = ["bn=64", "stages=3", "group_m=2"]
    blocks = SMALL + ["block_scales=1"]
    cases = [
        # (what, kernel, params, m, n, k, beta, grid, models)
        ("bf16, beta, partial k-tile, 2 tiles per CTA", BF16, SMALL, 200, 70, 200, 0.5, 4,
         ("wait", "issue", "release")),
        ("bf16, K shorter than the pipeline, odd N", BF16, SMALL, 130, 45, 40, 0.0, 2, ("wait", "issue")),
        ("bf16, bn 64, 3 stages, group_m 2 over 3 tile rows, 3 tiles per CTA, TMA stores", BF16, big, 300, 136, 328,
         0.5, 3,
         ("wait", "release")),
        ("bf16, default parameters (bn 128, 4 stages)", BF16, [], 130, 136, 200, 0.5, 2, ("wait",)),
        ("bf16 + the copy role (5 chunks of 1 KB, 2 in flight, bulk copies)", BF16,
         SMALL + ["copy=1", "copy_chunk=1024", "copy_stages=2"], 130, 40, 136, 0.0, 2, ("wait", "issue")),
        ("bf16 + the copy role beside the TMA-store staging (its ring after the staging buffers)", BF16,
         STORE + ["copy=1", "copy_chunk=1024", "copy_stages=2"], 130, 136, 136, 0.0, 2, ("wait",)),
        ("bf16 + the copy role with 2 stores overlapping (copy_lag 1 of 3 stages) after one staging buffer per "
         "warpgroup", BF16, STORE + ["copy=1", "copy_chunk=1024", "copy_stages=3", "copy_lag=1", "store_buffers=1"],
         130, 136, 136, 0.0, 1, ("wait", "issue")),  # grid 1: 5 chunks through 3 slots, 2 refills
        ("bf16 + the copy role with its loads and stores marked L2 evict_first (createpolicy, .L2::cache_hint)",
         BF16, STORE + ["copy=1", "copy_chunk=1024", "copy_stages=2", "copy_lag=1", "copy_evict_first=1",
                        "store_buffers=1"], 130, 136, 136, 0.0, 2, ("wait", "issue")),
        ("e4m3 per-tensor, partial k-tile", FP8, SMALL, 150, 40, 336, 0.5, 2, ("wait", "issue", "release")),
        ("e4m3 block scales, partial k-tile", FP8, blocks, 140, 70, 272, 0.5, 2, ("wait", "issue")),
        ("e4m3 default parameters (bn 128, stages as fit)", FP8, [], 130, 136, 272, 0.0, 2, ("release",)),
        # Decode: a 128-row tile at M = 64. The second warpgroup issues no MMAs and stores nothing, but
        # waits for and releases every stage (a release short or early deadlocks or races the refill).
        ("bf16 at M = 64: the second warpgroup idle (no MMAs), 2 tiles per CTA, TMA stores", BF16, STORE, 64, 136,
         328, 0.5, 1, ("wait", "issue", "release")),
        ("e4m3 block scales in turns at M = 64: the idle warpgroup still passes the turn", FP8, blocks, 64, 70, 400,
         0.5, 1, ("wait", "issue")),
        # a_halves: A in two 64-row boxes; where the second box's rows all lie past M it is not loaded and
        # its bytes are completed on the stage's barrier instead (M = 64; the last tile row of M = 130).
        ("bf16 A in 64-row boxes at M = 64: the second box completed, not loaded", BF16, STORE + ["a_halves=1"],
         64, 136, 328, 0.5, 1, ("wait", "issue", "release")),
        ("bf16 A in 64-row boxes at M = 130 (the last tile row's second box skipped) with L2 prefetches", BF16, SMALL + ["a_halves=1", "prefetch=2"], 130, 40, 200, 0.5, 2, ("wait", "issue")),
        ("bf16 A in 64-row boxes, M = 200 (both boxes of the last tile row loaded)", BF16,
         SMALL + ["a_halves=1"], 200, 40, 136, 0.0, 1, ("wait",)),
        ("e4m3 block scales, A in 64-row boxes at M = 64", FP8, blocks + ["a_halves=1"], 64, 70, 400, 0.5, 1,
         ("wait", "issue")),
    ]
    cluster = ["bn=64", "stages=2", "cluster_m=2"]
    split = SMALL + ["splits=3"]
    split_f32 = ["bn=64", "stages=2", "splits=2", "out_f32=1", "bias=1"]
    everything_fp8 = ["bn=64", "stages=2", "cluster_m=2", "splits=2", "out_f32=1", "bias=1"]
    nn = ["bn=64", "stages=2", "nn=1"]
    nn_cluster = ["bn=128", "stages=2", "nn=1", "cluster_m=2"]
    store4 = ["bn=256", "stages=2"]  # four TMA-store boxes per warpgroup: both buffers reused
    pp = ["bn=64", "stages=3", "pingpong=1"]  # each warpgroup a whole 128 x 64 tile, alternating
    pp2 = ["bn=64", "stages=2", "pingpong=1"]
    sk = ["bn=64", "stages=2", "stream_k=1"]
    cases += [
        ("bf16, 2-CTA clusters sharing B (multicast), 3 tile rows (one CTA of a pair has none), TMA stores", BF16,
         cluster, 300, 136, 200, 0.5, None, ("wait", "issue", "release")),
        ("bf16, split-K 3 (2 K tiles a part), register stores", BF16, split, 130, 40, 328, 0.5, 3, ("wait", "release")),
        ("bf16, split-K 3 over 2 K tiles (an empty part)", BF16, split, 130, 40, 72, 0.0, None, ("wait",)),
        ("bf16, split-K 2 at M = 64 (decode: the second warpgroup's rows all past M skip the workspace)", BF16,
         ["bn=64", "stages=2", "splits=2"], 64, 136, 200, 0.5, None, ("wait", "release")),
        ("bf16, split-K 2, f32 output through TMA stores, bias", BF16, split_f32, 130, 72, 200, 0.5, None,
         ("wait", "issue")),
        ("e4m3, clusters + split-K 2 + f32 output + bias", FP8, everything_fp8, 200, 64, 400, 0.5, None,
         ("wait", "release")),
        ("bf16 NN (MN-major B panels, wgmma imm-trans-b)", BF16, nn, 130, 136, 200, 0.5, 2, ("wait", "issue")),
        ("bf16 NN in 2-CTA clusters (each CTA multicasts one of two panels)", BF16, nn_cluster, 256, 136, 136, 0.0,
         None, ("wait", "release")),
        ("bf16, bn 256: four TMA-store boxes per warpgroup, buffers reused", BF16, store4, 130, 264, 72, 0.0, 1,
         ("wait",)),
        ("bf16, bn 128 through TMA stores (stmatrix) with beta and bias, rows and columns clipped", BF16,
         ["bn=128", "stages=2", "bias=1"], 130, 200, 72, 0.5, 2, ("wait", "issue")),
        ("bf16, bn 256 with one staging buffer per warpgroup: every box waits for the last store", BF16,
         store4 + ["store_buffers=1"], 130, 264, 72, 0.0, 1, ("wait", "issue")),
        ("bf16, bn 256 with four staging buffers per warpgroup: a whole block staged, the buffers reused by "
         "the CTA's next tiles", BF16, store4 + ["store_buffers=4"], 260, 264, 72, 0.5, 1, ("wait", "issue")),
        ("bf16 ping-pong: 5 tiles on 2 CTAs (the warpgroups alternate, an odd count), TMA stores", BF16, pp,
         300, 136, 200, 0.5, 2, ("wait", "issue", "release")),
        ("bf16 ping-pong + 2-CTA clusters + split-K 2, register stores", BF16,
         pp + ["cluster_m=2", "splits=2", "tma_store=0"], 260, 72, 328, 0.0, None, ("wait", "release")),
        ("e4m3 ping-pong with block scales, f32 output", FP8, ["bn=64", "stages=2", "pingpong=1", "block_scales=1",
                                                             "out_f32=1"], 200, 64, 400, 0.5, 1, ("wait",)),
        # Stream-K (tile_order.h): 9 tiles on 4 CTAs are 2 waves and 1 tile, so 4 go whole and the K
        # tiles of the last 5 (30, a partial last one) are cut into 4 ranges of 7 or 8, across tiles.
        ("bf16 stream-K: 4 whole tiles, then 5 tiles' K tiles shared by 4 CTAs, TMA stores", BF16, sk,
         300, 136, 328, 0.5, 4, ("wait", "issue", "release")),
        # 2 tiles of 4 K tiles on 5 CTAs: ranges of 1 or 2, the first tile cut in 3 pieces, f32 with bias.
        ("bf16 stream-K, fewer tiles than CTAs: every tile cut, 3 pieces in one", BF16,
         sk + ["out_f32=1", "bias=1", "tma_store=0"], 130, 64, 200, 0.5, 5, ("wait", "release")),
        # 4 K iterations on 6 CTAs: two CTAs have empty ranges.
        ("bf16 stream-K with more CTAs than K tiles (empty ranges)", BF16, sk, 130, 64, 72, 0.0, 6, ("wait",)),
        ("bf16 stream-K at M = 64 (pieces whose second warpgroup is idle)", BF16, sk, 64, 136, 328, 0.0, 5,
         ("wait", "release")),
        ("e4m3 stream-K with block scales", FP8, sk + ["block_scales=1", "tma_store=0"], 200, 130, 528, 0.5, 3,
         ("wait", "issue")),
        # The warpgroups' turns (scale_turns, on by default) on CTAs that have no K block at all: 4
        # K iterations on 6 CTAs. Their warpgroup 0 must not wait for an arrive that never comes.
        ("e4m3 block scales in turns, stream-K with CTAs that have no K block", FP8,
         sk + ["block_scales=1", "tma_store=0"], 130, 64, 256, 0.0, 6, ("wait", "issue")),
        ("e4m3 block scales loaded at their K block (scale_ahead=0)", FP8, blocks + ["scale_ahead=0"], 140, 70, 400,
         0.5, 2, ("wait", "issue")),
        ("e4m3 block scales without turns (scale_turns=0)", FP8, blocks + ["scale_turns=0"], 140, 70, 272, 0.5, 2,
         ("issue",)),
        ("e4m3 block scales in turns, 2-CTA clusters + split-K 2 (each CTA's turns its own)", FP8,
         ["bn=64", "stages=2", "cluster_m=2", "splits=2", "block_scales=1", "tma_store=0"], 200, 64, 400, 0.5, None,
         ("wait", "release")),
        # L2 prefetches 2 K tiles ahead (cp.async.bulk.prefetch.tensor: the maps and coordinates are
        # checked as a load's; they move nothing), K-major and in NN panels, alone and in clusters.
        ("bf16 with L2 prefetches 2 K tiles ahead", BF16, SMALL + ["prefetch=2"], 130, 40, 328, 0.5, 2,
         ("wait", "issue")),
        ("bf16 NN with L2 prefetches of its panels in 2-CTA clusters", BF16, nn_cluster + ["prefetch=1"], 256, 136,
         200, 0.0, None, ("wait",)),
        # a_halves with the options: clusters (a CTA of the pair whose tile row lies past M skips its
        # second box: 3 tile rows at M = 300, and M = 64 where the pair's second CTA has no rows at
        # all), ping-pong (the skipped half's stale rows are computed and never stored), stream-K.
        ("bf16 A in 64-row boxes, 2-CTA clusters at M = 300", BF16, cluster + ["a_halves=1"], 300, 136, 200, 0.5,
         None, ("wait", "release")),
        ("bf16 A in 64-row boxes, 2-CTA clusters at M = 64", BF16, cluster + ["a_halves=1"], 64, 136, 200, 0.0,
         None, ("wait",)),
        ("bf16 A in 64-row boxes, ping-pong at M = 64", BF16, pp + ["a_halves=1"], 64, 200, 200, 0.5, 2,
         ("wait", "issue")),
        ("bf16 A in 64-row boxes, stream-K at M = 64", BF16, sk + ["a_halves=1"], 64, 136, 328, 0.0, 5,
         ("wait", "release")),
    ]
    for what, kernel, params, m, n, k, beta, grid, models in cases:
        for i, model in enumerate(models):
            run.run(f"{what}, {model}", lambda: check_gemm90(kernel, params, m, n, k, beta, grid, s * 101 + i, model))

    # Grouped (groups=1, MoE experts): each tile row multiplies its group's B (and adds its group's bias,
    # scales with its group's B scales); an entry outside [0, groups) is padding, left unwritten.
    grouped_store = STORE + ["groups=1", "bias=1"]
    grouped = [
        # (what, kernel, params, m, n, k, beta, grid, models, groups, tile_groups)
        ("bf16 grouped: 3 groups out of order, a padding tile row, bias per group, TMA stores", BF16,
         grouped_store, 400, 136, 200, 0.5, 3, ("wait", "issue"), 3, [2, -1, 0, 1]),
        ("bf16 grouped with split-K 2: an entry past the groups is padding (its parts skip the workspace)", BF16,
         SMALL + ["groups=1", "splits=2"], 300, 40, 200, 0.0, None, ("wait", "release"), 2, [1, 2, 0]),
        ("bf16 grouped ping-pong, the first tile row padding", BF16, pp + ["groups=1"], 300, 136, 136, 0.5, 2,
         ("wait",), 2, [-1, 1, 0]),
        ("e4m3 grouped with block scales in turns and A in 64-row boxes", FP8, blocks + ["groups=1", "a_halves=1"],
         200, 70, 272, 0.5, 2, ("wait", "issue"), 2, [1, 0]),
    ]
    for what, kernel, params, m, n, k, beta, grid, models, ng, tg in grouped:
        for i, model in enumerate(models):
            run.run(f"{what}, {model}", lambda: check_gemm90(kernel, params, m, n, k, beta, grid, s * 103 + i, model,
                                                             tile_groups=tg, groups=ng))

    copy = SMALL + ["copy=1", "copy_chunk=1024", "copy_stages=2"]
    copy_lag = SMALL + ["copy=1", "copy_chunk=1024", "copy_stages=3", "copy_lag=1"]
    release_race = lambda i: check_gemm90(BF16, SMALL, 130, 40, 328, 0.0, 1, s + i, "release", fast_producer=True)
    mutants = [
        # (label, what the mutant breaks, kernel, params, transform, the check that must fail, whether its
        # pattern (weft's own inline-asm text) matches the LLVM backend's PTX too: run_checks.Runner.mutant)
        ("consumer wait dropped", "consumer's full-barrier wait dropped", BF16, SMALL, drop_consumer_wait,
         lambda: check_gemm90(BF16, SMALL, 130, 40, 136, 0.0, 1, s), False),
        ("release before wgmma.wait_group", "stage released before wgmma.wait_group", BF16, SMALL,
         release_before_wait, lambda: run_checks.until_failure(release_race, 3), True),
        ("k-step offset", "B descriptor's k-step offset dropped", BF16, SMALL, b_kstep_offset,
         lambda: check_gemm90(BF16, SMALL, 130, 40, 72, 0.0, 1, s), False),
        ("expect_tx short", "expect_tx announces the A box only", BF16, SMALL, expect_tx_short,
         lambda: check_gemm90(BF16, SMALL, 130, 40, 72, 0.0, 1, s), True),
        ("wgmma.fence dropped", "wgmma.fence dropped", BF16, SMALL, drop_fence,
         lambda: check_gemm90(BF16, SMALL, 130, 40, 72, 0.0, 1, s), True),
        ("e4m3 wait_group 2", "e4m3 k-loop wgmma.wait_group 1 made 2: a stage released with its group in flight",
         FP8, SMALL, wait_group_two, lambda: check_gemm90(FP8, SMALL, 130, 40, 400, 0.0, 1, s), True),
        ("block scale row", "block scales: the second accumulator row takes the first row's A scale", FP8, blocks,
         second_row_scale, lambda: check_gemm90(FP8, blocks, 130, 40, 272, 0.0, 1, s), False),
        ("copy role refill", "copy role: a ring slot refilled before the bulk store has read it", BF16, copy,
         drop_read_wait, lambda: check_gemm90(BF16, copy, 130, 40, 72, 0.0, 2, s), True),
        ("copy role lagged refill", "copy role (copy_lag 1): the slot of the store one back refilled before "
         "that store has read it", BF16, copy_lag, drop_lagged_read_wait,
         lambda: check_gemm90(BF16, copy_lag, 130, 40, 72, 0.0, 1, s), True),  # grid 1: 2 refills
        ("split-K first part reduces", "split-K: the first part to arrive reduces", BF16, split, last_part_first,
         lambda: check_gemm90(BF16, split, 130, 40, 328, 0.0, 3, s), False),
        ("stream-K counter reset", "stream-K: the last piece of a cut tile leaves its counter set", BF16, sk,
         keep_counter, lambda: check_gemm90(BF16, sk, 130, 64, 200, 0.0, 5, s), False),
        ("cluster empty count", "clusters: empty barriers count one CTA's releases", BF16, cluster,
         empty_count_one_cta,
         lambda: check_gemm90(BF16, cluster, 256, 64, 328, 0.0, 2, s, "release", fast_producer=True), False),
        ("NN k-step", "NN: the MN-major descriptor's k-step offset dropped", BF16, nn, nn_kstep,
         lambda: check_gemm90(BF16, nn, 130, 64, 72, 0.0, 1, s), False),
        ("TMA-store buffer reuse", "TMA-store epilogue: a staging buffer rewritten before its store read it", BF16,
         store4, drop_store_read_wait, lambda: check_gemm90(BF16, store4, 130, 264, 72, 0.0, 1, s), True),
        # (2 stages and 2 K tiles a unit: the second warpgroup's first stage is a whole ring ahead; it shows
        # in about a third of the schedules, seed 0's among them: up to 12 tries for other seeds)
        ("block-scale turn never handed on", "block scales in turns: the arrive after a warpgroup's MMAs dropped",
         FP8, blocks, drop_turn_arrive, lambda: check_gemm90(FP8, blocks, 130, 40, 272, 0.0, 1, s), False),
        ("idle warpgroup release", "a warpgroup with no rows inside M never releases its stages", BF16, SMALL,
         drop_idle_release, lambda: check_gemm90(BF16, SMALL, 64, 40, 200, 0.0, 1, s), False),
        ("skipped A box never completed", "a_halves: the bytes of the A box past M not completed", BF16,
         SMALL + ["a_halves=1"], drop_complete_tx,
         lambda: check_gemm90(BF16, SMALL + ["a_halves=1"], 64, 40, 136, 0.0, 1, s), True),
        ("tile groups ignored", "grouped: tile_groups never read, every tile row takes group 0", BF16, grouped_store,
         ignore_tile_groups, lambda: check_gemm90(BF16, grouped_store, 400, 136, 200, 0.5, 3, s, tile_groups=[2, -1, 0, 1],
                                                  groups=3), False),
        ("ping-pong turn", "ping-pong: a warpgroup's main loop starts without its turn", BF16, pp2, drop_turn,
         lambda: run_checks.until_failure(lambda i: check_gemm90(BF16, pp2, 256, 64, 128, 0.0, 1, s + i), 12), True),
    ]
    for label, what, kernel, params, transform, check, llvm in mutants:
        run.mutant(label, lambda w=what, k=kernel, p=params, t=transform, c=check: mutant(w, k, p, t, c), llvm=llvm)
    # The two faults of the first H200 run, which the emulator must report as that GPU did (misaligned
    # address); their patterns match both backends' PTX.
    for label, what, transform in (
            ("dynamic base not rounded up", "the dynamic shared memory's base not rounded up to 1024 at run time",
             run_checks.drop_dynamic_round_up),
            ("TMA given .param addresses", "cvta.param made a mov: TMA given the tensor maps' .param addresses",
             run_checks.param_address_to_tma)):
        run.mutant(label, lambda w=what, t=transform: mutant(
            w, BF16, SMALL, t, lambda: check_gemm90(BF16, SMALL, 130, 40, 72, 0.0, 1, s), "misaligned"), llvm=True)

    # The sm_90 pieces no weft kernel emits yet, on hand-written PTX (hopper_checks.py): the same whatever
    # the backend, so only with the direct backend's run.
    if host.backend == "direct":
        hopper_checks.run_all(run, s)


def main():
    command_line(__doc__, "ptxemu gemm90", lambda run, a: run_matrix(run, a.seed))


if __name__ == "__main__":
    main()
