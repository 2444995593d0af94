#!/usr/bin/env python3
"""Runs weft's Blackwell GEMM (gemm_bf16_sm100, sm_100a: TMA + mbarrier pipelines + tcgen05.mma into
tensor memory) on the CPU, in the PTX emulator, and checks D against float64.

    python3 tools/ptxemu/run_gemm100_checks.py --weft build/tools/weft [--seed N] [--keep-ptx DIR]

No sm_100 GPU is available to the project: this is where the kernel runs. Emits gemm_bf16_sm100
(--arch sm_100a) with the weft CLI (--weft, or $WEFT) into a temporary directory and runs every
thread of every CTA of each launch in emulator.py with hopper.py, tma.py and tcgen05.py: the TMA
warp's loads through the tensor maps (the emulator's own 128-byte encoding, host.tensor_map) into
128B-swizzled stages and the `ab` full / empty mbarrier ring; the MMA warp's tensor-memory
allocation (tcgen05.alloc at a random free column range, relinquish_alloc_permit, dealloc at the
end), its elected thread's tcgen05.mma kind::f16 (instruction descriptor and sm_100 shared-memory
descriptors decoded) and tcgen05.commit arriving on `ab.empty` per stage and on `acc.full` per tile;
the epilogue warpgroup's `acc.full` waits, tcgen05.ld 32x32b (each warp its own 32 TMEM lanes) with
tcgen05.wait::ld, alpha, beta * C, bf16, bounds-checked stores, and its 128 arrivals on `acc.empty`;
the tcgen05 fences around the thread syncs; the persistent, grouped tile loop:
- tiles: bn = 64 with 2 stages; bn = 128 with 3 stages; bn = 48 (16-column TMEM loads, accumulators
  64 columns apart in a 128-column allocation); bn = 16 (a 32-column allocation); bn = 32 with 4
  stages on 4 CTAs; once the defaults (bn = 256, 4 stages: the two accumulators fill all 512 columns);
- f32 output with a bias, and bf16 with a bias at an odd N;
- grouped (groups = 1, MoE experts): B and the bias of 2 or 3 groups, a group per 128-row tile row
  out of order, padding tile rows (-1, an index past the groups) whose rows of D stay unwritten;
- shapes: M and N no multiple of the tile (odd N: the element-wise edge path on every chunk), K with a
  partial last k-tile (bk = 64) and K shorter than the pipeline, K = 0 (no MMA: D = beta C), beta 0
  and 0.5, grids smaller than the tile count (the persistent loop runs 2 or 3 tiles per CTA, so both
  accumulators and the `acc` ring wrap), group_m = 2 over 3 tile rows, a CTA with no tile;
- three models (Emu tma / tcgen05): "wait" (TMA bytes land when a thread sees the stage's full
  barrier complete; an MMA reads shared memory and writes TMEM only when the first tcgen05.commit
  after it fires, 0..8 rounds after the previous commit; a tcgen05.ld reads TMEM at its
  tcgen05.wait::ld, which completes 0..8 rounds after the warp reaches it, the registers NaN until
  then), "issue" (everything at issue), "release" (TMA at issue, tcgen05 deferred: a stage released
  before its MMAs ran and refilled at once shows); every warp runs at its own random speed and the
  lanes of a warp are scheduled independently;
- checks: relative Frobenius error of D against float64 (<= 1e-2, gemm_app's bf16 tolerance), D
  poisoned with NaN beforehand, every byte of D written exactly once, no byte of A, B or C written
  (Memory.wcount); emulator errors are failures: out-of-bounds or misaligned accesses, mbarrier
  over-arrival or tx-count errors, a deadlock, and tcgen05.py's: TMEM accessed outside a live
  allocation or outside the lanes of the accessing warp, an allocation after the permit was given up
  or with no free columns, a dealloc of something not allocated or with MMAs / loads in flight on
  it, TMEM still allocated at the end, an MMA never committed, a tcgen05.ld of columns that an MMA in
  flight (no commit after it fired yet) writes, an MMA writing columns that a load in flight (no
  wait::ld yet) reads, a tcgen05.mma / ld / dealloc after a thread sync with no
  tcgen05.fence::after_thread_sync, an arrive or bar.sync after tcgen05 work with no
  tcgen05.fence::before_thread_sync, an instruction or shared-memory descriptor outside the modelled
  subset;
- mutants: the emitted PTX broken on purpose (the MMA warp's commit to the stage's empty barrier
  dropped, or moved before the stage's MMAs; the epilogue's wait on the accumulator's full barrier
  dropped; the epilogue's release of the accumulator moved before its last tcgen05.wait::ld; both
  accumulators at column 0; the k-step descriptor offset dropped; the instruction descriptor's N
  halved; enable_input_d always true; the epilogue's TMEM lane offset dropped; the epilogue's
  fence::after_thread_sync or fence::before_thread_sync dropped; tcgen05.dealloc dropped), each of
  which the checks must detect, so that a run that passes is known to be able to fail; and the two
  faults of the Hopper GEMM's first H200 run, which must show as the misaligned address it reported:
  the dynamic shared memory's run-time round-up to 1024 dropped, TMA given the tensor maps' .param
  addresses (cvta.param made a mov).
Exits 1 naming every failure (2 for a usage error). About 10 s on one core of a 2-core machine
(2026-11-28). --seed N picks other inputs and schedules (CTest runs 0).

Limits (tcgen05.py, tma.py, hopper.py): the instruction descriptor's fields, the sm_100 shared-memory
descriptor (read as wgmma.py reads the K-major swizzled layouts, plus the sm_100 version and
layout-type bits), the TMEM address format, the M = 128 data path (row r of D = lane r, one f32
column per cell), the 32x32b load shape, the per-warp lane ranges and the fence rules are the
emulator's reading of the PTX ISA, the same reading the kernel was written from, so a misreading
shared by both passes here. The tensor maps are the emulator's encoding (cuTensorMapEncodeTiled and
the host code that builds the maps are not run). tcgen05.mma sums in float64 and rounds once to f32
per instruction (K = 16); memory is sequentially consistent; no timing beyond the random latencies,
no bank conflicts or register pressure; cta_group::2, multicast commits, tcgen05.st / cp / shift and
the other kinds and shapes are not modelled (an emulator error if the kernel starts using them).
"""
import importlib.util
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("run_gemm100_checks.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import numpy as np  # noqa: E402

import emulator as E  # noqa: E402
import host  # noqa: E402
from checks import Report  # noqa: E402
import run_checks  # noqa: E402
from run_checks import command_line, substitute  # noqa: E402
from run_gemm_checks import ASYNC_MODELS, check_d, group_entries, grouped_reference, param_value, place, tma_gemm_inputs  # noqa: E402

KERNEL, ARCH = "gemm_bf16_sm100", "sm_100a"
DEFAULTS = {"bn": 256, "stages": 4, "group_m": 8, "out_f32": 0, "bias": 0, "groups": 0}
SMALL = ["bn=64", "stages=2"]
BM, BK = 128, 64  # fixed in the kernel
MODELS = ASYNC_MODELS  # name -> (tma, tcgen05)


def param(params, name):
    return param_value(params, name, DEFAULTS)


def check_gemm100(params, m, n, k, beta=0.0, grid=None, seed=0, model="wait", fast_warps=(), tile_groups=None,
                  groups=2):
    """One launch of gemm_bf16_sm100 with `params` on M x N x K, `grid` CTAs (default: one fewer than
    the tiles), in `model` (fast_warps: warps that always run at full speed, 0 the TMA warp, 1 the MMA
    warp); returns a Report. Inputs bf16 uniform in [-1, 1]. With groups=1 in `params`: B and the bias
    of `groups` groups, and `tile_groups` one entry per 128-row tile row (default tm % groups); an
    entry outside [0, groups) is padding, whose rows must stay unwritten."""
    bn = param(params, "bn")
    out_f32, with_bias = param(params, "out_f32") == 1, param(params, "bias") == 1
    tiles = -(-m // BM) * -(-n // bn)
    grid = grid or max(1, tiles - 1)
    tma, tc = MODELS[model]
    r = Report(f"{KERNEL} {' '.join(params)} {m}x{n}x{k} beta={beta} grid={grid} ({tiles} tiles) model {model}")
    kern = host.kernel(KERNEL, params, ARCH)
    rng = np.random.default_rng(seed)
    grouped = param(params, "groups") == 1
    ng = groups if grouped else 1  # every group's B and bias, one after the other
    arrays, (af, bf, cf, biasf) = tma_gemm_inputs(rng, False, m, n, k, out_f32, ng)
    if grouped:
        tile_groups = group_entries(tile_groups, -(-m // BM), groups)
        arrays["tile_groups"] = np.array(tile_groups, dtype=np.int32)
    alpha = 1.5

    mem = E.Memory(1 << 22)
    bufs = place(mem, [(x, arrays[x]) for x in ("a", "b", "c", "d") + (("bias",) if with_bias else ()) +
                       (("tile_groups",) if grouped else ())])
    params_ = {"m": m, "n": n, "k": k, "alpha": E.f2b(alpha), "beta": E.f2b(beta),
               "a": host.tensor_map(bufs["a"][0], 2, [k, m], [k * 2], [BK, BM], 128),
               "b": host.tensor_map(bufs["b"][0], 2, [k, ng * n], [k * 2], [BK, bn], 128),
               "c": bufs["c"][0], "d": bufs["d"][0]}
    if with_bias:
        params_["bias"] = bufs["bias"][0]
    if grouped:
        params_["tile_groups"], params_["groups"] = bufs["tile_groups"][0], groups
    emu = E.Emu(mem, kern, (grid, 1), kern.maxntid, params_, seed=seed, max_slice=128, tma=tma, tcgen05=tc,
                warp_speeds=True, fast_warps=fast_warps)
    emu.run()
    r.notes.append(f"{emu.instructions} instructions, {emu.rounds} rounds")
    def product(rows, g):  # alpha * A[rows] * B_g^T + beta * C[rows] (+ bias_g)
        out = alpha * (af[rows] @ bf[g * n:(g + 1) * n].T) + beta * cf[rows]
        return out + biasf[None, g * n:(g + 1) * n] if with_bias else out
    want, written = grouped_reference(m, n, tile_groups if grouped else None, ng, product)
    return check_d(r, mem, bufs, m, n, want, 1e-2, f32=out_f32, rows=written if grouped else None)


# ---------------- mutants ----------------
def _mma_span(text):
    """(start, end) of the MMA issue block: the first to the last tcgen05.mma."""
    s = text.find("tcgen05.mma")
    if s < 0:
        raise LookupError("no tcgen05.mma in the emitted PTX: update the mutants in tools/ptxemu/run_gemm100_checks.py")
    return s, text.rindex("tcgen05.mma")


COMMIT_EMPTY = r"(mad\.lo\.u32 (%r\d+), %r\d+, 8, %r\d+;\s*)tcgen05\.commit\.[^;]*\[\2\];"


def drop_empty_commit(text):
    # The MMA thread never releases a stage: the TMA warp waits forever once the ring is full.
    return substitute(text, COMMIT_EMPTY, r"\1", which=0)


def commit_before_mmas(text):
    # The stage's commit goes before its four MMAs (right after the fence that follows the stage's
    # wait): it covers the previous stage's MMAs only, so the stage is released, and may be refilled,
    # before the MMAs that read it have run.
    return substitute(text, r"(tcgen05\.fence::after_thread_sync;)"
                            r"((?:(?!tcgen05\.fence|tcgen05\.commit)[\s\S])*?tcgen05\.mma(?:(?!tcgen05\.commit)[\s\S])*?)"
                            r"(mad\.lo\.u32 (%r\d+), %r\d+, 8, %r\d+;\s*tcgen05\.commit\.[^;]*\[\4\];)",
                      r"\1\n\t\3\2", which=0)


ACC_WAIT = (r"(\$L_\d+_mbar_wait):\s*mbarrier\.try_wait\.parity[^;]*?(%p\d+), \[[^\]]+\], %r\d+;\s*"
            r"@!\2 bra(?:\.uni)? \1;")


def drop_acc_wait(text):
    # The epilogue reads the accumulator without waiting for its full barrier (the last wait loop).
    return substitute(text, ACC_WAIT, r"\1:\n\tmov.pred \2, 1;", which=-1)


RELEASE = (r"(tcgen05\.wait::ld\.sync\.aligned;)((?:\s*mov\.b32 %r\d+, %r\d+;)+)\s*"
           r"(add\.u32 (%r\d+), %r\d+, 1;\s*setp\.eq\.u32 (%p\d+), \4, \d+;)\s*"
           r"(@!\5 bra(?:\.uni)? \$L_\d+_endif;)\s*(tcgen05\.fence::before_thread_sync;)\s*"
           r"(mad\.lo\.u32 %r\d+, %r\d+, 8, %r\d+;)\s*(mbarrier\.arrive\.shared\.b64 _, \[%r\d+\];)")


def release_before_wait_ld(text):
    # The last chunk's release of the accumulator (fence, arrive on acc.empty) goes before the
    # tcgen05.wait::ld of that chunk's load: the MMA warp may overwrite columns still being read.
    return substitute(text, RELEASE, r"\3\n\t\7\n\t\8\n\t@\5 \9\n\t\1\2\n\t\6", which=0)


def one_accumulator(text):
    # Both accumulators at TMEM column 0: the accumulator stage's column offset (stage * stride) made
    # 0 in the MMA warp (after its acc.empty wait) and in the epilogue.
    text = substitute(text, r"(tcgen05\.fence::after_thread_sync;\s*mul\.lo\.u32 %r\d+, %r\d+, )\d+;", r"\g<1>0;",
                      which=0)
    return substitute(text, r"(mul\.lo\.u32 %r\d+, %r\d+, )\d+;(\s*mul\.lo\.u32 %r\d+, %r\d+, 32;\s*shl\.b32)",
                      r"\g<1>0;\2", which=0)


def kstep_offset(text):
    # The k-step 1 descriptor offset (+32 bytes: 16 bf16) of A and B made 0: k-step 1 re-reads k-step 0.
    s, e = _mma_span(text)
    mid = substitute(text[s:e], r"(add\.u32 %r\d+, %r\d+, )32;", r"\g<1>0;", which=0)
    mid = substitute(mid, r"(add\.u32 %r\d+, %r\d+, )32;", r"\g<1>0;", which=0)
    return text[:s] + mid + text[e:]


def idesc_half_n(text):
    # The instruction descriptor's N field halved: the MMAs write half of each accumulator's columns.
    s, _ = _mma_span(text)
    ops = text[s:text.index(";", s)].split(None, 1)[1].split(",")
    reg = ops[3].strip()
    m = re.search(r"(mov\.u32 " + re.escape(reg) + r", )(\d+);", text)
    if not m:
        raise LookupError(f"the instruction descriptor's mov to {reg} is not in the emitted PTX: update this mutant")
    v = int(m.group(2))
    v = (v & ~(0x3F << 17)) | ((((v >> 17) & 0x3F) // 2) << 17)
    return text[:m.start()] + m.group(1) + str(v) + ";" + text[m.end():]


def always_accumulate(text):
    # The first MMA of a stage accumulates even at k-tile 0 (its enable_input_d, kt != 0, made always
    # true): the first tile adds the poisoned TMEM, later ones the tile before last.
    s, _ = _mma_span(text)
    pred = text[s:text.index(";", s)].split(",")[-1].strip()
    m = list(re.finditer(r"(setp\.ne\.u32 " + re.escape(pred) + r", %r\d+, )0;", text[:s]))
    if not m:
        raise LookupError(f"the definition of the first MMA's enable_input_d ({pred}) is not in the emitted PTX: "
                          f"update this mutant")
    return text[:m[-1].start()] + m[-1].group(1) + "4294967295;" + text[m[-1].end():]


def lane_offset(text):
    # The epilogue's TMEM lane offset ((32 w) << 16) made a column offset (<< 0): warps 1-3 of the
    # warpgroup read lanes 0-31, which only warp 0 may access.
    return substitute(text, r"(mul\.lo\.u32 (%r\d+), %r\d+, 32;\s*shl\.b32 %r\d+, \2, )16;", r"\g<1>0;", which=0)


def drop_release_fence(text):
    # The epilogue's tcgen05.fence::before_thread_sync before it releases the accumulator goes.
    return substitute(text, r"tcgen05\.fence::before_thread_sync;(\s*mad\.lo\.u32 (%r\d+), %r\d+, 8, %r\d+;\s*"
                            r"mbarrier\.arrive\.shared\.b64 _, \[\2\];)", r"\1", which=0)


def drop_epilogue_fence(text):
    # The epilogue's tcgen05.fence::after_thread_sync after its acc.full wait goes.
    return substitute(text, r"(mbarrier\.try_wait[^;]*;\s*@!%p\d+ bra[^;]*;\s*\$L_\d+_mbar_done:\s*)"
                            r"tcgen05\.fence::after_thread_sync;", r"\1", which=-1)


def drop_dealloc(text):
    # The tensor memory is never freed.
    return substitute(text, r"tcgen05\.dealloc[^;]*;", "", which=0)


def mutant(name, params, transform, check, kind=None):
    return run_checks.mutant(name, KERNEL, params, transform, check, ARCH, kind)


def run_matrix(run, s):
    b128 = ["bn=128", "stages=3"]
    b48 = ["bn=48", "stages=2"]
    b16 = ["bn=16", "stages=3"]
    grouped = SMALL + ["group_m=2"]
    all3 = ("wait", "issue", "release")
    cases = [
        # (what, params, m, n, k, beta, grid, models)
        ("bn 64, beta, partial k-tile, 3 tiles per CTA (both accumulators wrap)", SMALL, 300, 136, 200, 0.5, 3, all3),
        ("bn 64, K shorter than the pipeline, odd N, 2 tiles on 1 CTA", SMALL, 130, 45, 40, 0.0, 1, ("wait", "issue")),
        ("bn 128, 3 stages, 2 tiles per CTA", b128, 200, 200, 328, 0.5, 2, all3),
        ("bn 48 (16-column loads, accumulators 64 columns apart), 3 tiles per CTA", b48, 130, 100, 136, 0.5, 2, all3),
        ("bn 16 (a 32-column allocation), 3 stages, odd N, 3 tiles per CTA", b16, 130, 41, 200, 0.5, 2,
         ("wait", "release")),
        ("bn 32, 4 stages, 4 CTAs of 3 tiles, 9 k-tiles", ["bn=32", "stages=4"], 500, 96, 520, 0.5, 4,
         ("wait", "release")),
        ("group_m 2 over 3 tile rows, 3 tiles per CTA", grouped, 300, 136, 72, 0.0, 3, ("wait", "issue")),
        ("more CTAs than tiles (one CTA only allocates and frees)", SMALL, 130, 64, 136, 0.5, 3, ("wait",)),
        ("K = 0: no MMA, D = beta C", SMALL, 130, 72, 0, 0.5, 1, ("wait", "issue")),
        ("f32 C and D with a bias (16-byte paths, and the element path at the right edge)", SMALL + ["out_f32=1", "bias=1"],
         130, 136, 200, 0.5, 2, ("wait", "issue")),
        ("bf16 with a bias, odd N", SMALL + ["bias=1"], 130, 45, 136, 0.5, 1, ("wait",)),
        ("default parameters (bn 256, 4 stages: two accumulators in all 512 columns)", [], 130, 264, 200, 0.5, 2,
         ("wait", "release")),
    ]
    for what, params, m, n, k, beta, grid, models in cases:
        for i, model in enumerate(models):
            run.run(f"{what}, {model}", lambda: check_gemm100(params, m, n, k, beta, grid, s * 101 + i, model))
    # Grouped (groups=1, MoE experts): each tile row multiplies its group's B and adds its group's bias;
    # padding tile rows (-1, or an index past the groups) have no MMAs and store nothing.
    moe = [
        ("grouped: 3 groups out of order, a padding tile row, bias per group, 2 tiles per CTA",
         SMALL + ["groups=1", "bias=1"], 400, 136, 200, 0.5, 3, ("wait", "issue", "release"), 3, [2, -1, 0, 1]),
        ("grouped f32 output, padding first and an index past the groups", SMALL + ["groups=1", "out_f32=1"], 300, 72,
         136, 0.0, 2, ("wait",), 2, [-1, 1, 2]),
    ]
    for what, params, m, n, k, beta, grid, models, ng, tg in moe:
        for i, model in enumerate(models):
            run.run(f"{what}, {model}", lambda: check_gemm100(params, m, n, k, beta, grid, s * 103 + i, model,
                                                              tile_groups=tg, groups=ng))

    fast = (0, 1)  # the TMA and MMA warps at full speed, the epilogue warps at random speeds
    mutants = [
        # (label, what the mutant breaks, params, transform, the check that must fail)
        ("empty commit dropped", "the MMA warp's commit to the stage's empty barrier dropped", SMALL,
         drop_empty_commit, lambda: check_gemm100(SMALL, 130, 64, 328, 0.0, 1, s)),
        ("empty commit before the MMAs", "the stage's commit moved before its MMAs", SMALL, commit_before_mmas,
         lambda: run_checks.until_failure(
             lambda i: check_gemm100(SMALL, 130, 64, 456, 0.0, 1, s + i, "release", fast_warps=(0,)), 3)),
        ("acc wait dropped", "the epilogue's wait on the accumulator's full barrier dropped", SMALL, drop_acc_wait,
         lambda: run_checks.until_failure(lambda i: check_gemm100(SMALL, 130, 64, 136, 0.0, 1, s + i), 3)),
        ("release before wait::ld", "the epilogue's release moved before its last tcgen05.wait::ld", SMALL,
         release_before_wait_ld, lambda: run_checks.until_failure(
             lambda i: check_gemm100(SMALL, 384, 64, 72, 0.0, 1, s + i, ("wait", "issue")[i % 2], fast), 4)),
        ("one accumulator", "both accumulators at TMEM column 0", SMALL, one_accumulator,
         lambda: run_checks.until_failure(
             lambda i: check_gemm100(SMALL, 260, 64, 72, 0.0, 1, s + i, ("issue", "wait")[i % 2], fast), 4)),
        ("k-step offset", "the k-step 1 descriptor offset dropped", SMALL, kstep_offset,
         lambda: check_gemm100(SMALL, 130, 64, 72, 0.0, 1, s)),
        ("idesc N halved", "the instruction descriptor's N halved", SMALL, idesc_half_n,
         lambda: check_gemm100(SMALL, 130, 64, 72, 0.0, 1, s)),
        ("always accumulate", "enable_input_d always true: a tile's first MMA adds what TMEM held", SMALL,
         always_accumulate, lambda: check_gemm100(SMALL, 130, 64, 72, 0.0, 1, s)),
        ("TMEM lane offset", "the epilogue's TMEM lane offset dropped: warps read lanes they may not access",
         SMALL, lane_offset, lambda: check_gemm100(SMALL, 64, 64, 72, 0.0, 1, s)),
        ("epilogue after-fence dropped", "the epilogue's tcgen05.fence::after_thread_sync dropped", SMALL,
         drop_epilogue_fence, lambda: check_gemm100(SMALL, 64, 64, 72, 0.0, 1, s)),
        ("epilogue before-fence dropped", "the epilogue's tcgen05.fence::before_thread_sync before its release "
         "dropped", SMALL, drop_release_fence, lambda: check_gemm100(SMALL, 64, 64, 72, 0.0, 1, s)),
        ("dealloc dropped", "tcgen05.dealloc dropped", SMALL, drop_dealloc,
         lambda: check_gemm100(SMALL, 64, 64, 72, 0.0, 1, s)),
    ]
    for label, what, params, transform, check in mutants:
        run.run(f"mutant: {label}", lambda w=what, p=params, t=transform, c=check: mutant(w, p, t, c))
    # The two faults of the Hopper GEMM's first H200 run, which this kernel could make the same way: the
    # emulator must report them as that GPU did (misaligned address).
    for label, what, transform in (
            ("dynamic base not rounded up", "the dynamic shared memory's base not rounded up to 1024 at run time",
             run_checks.drop_dynamic_round_up),
            ("TMA given .param addresses", "cvta.param made a mov: TMA given the tensor maps' .param addresses",
             run_checks.param_address_to_tma)):
        run.run(f"mutant: {label}", lambda w=what, t=transform: mutant(
            w, SMALL, t, lambda: check_gemm100(SMALL, 64, 64, 72, 0.0, 1, s), "misaligned"))


def main():
    command_line(__doc__, "ptxemu gemm100", lambda run, a: run_matrix(run, a.seed), backends=("direct",))


if __name__ == "__main__":
    main()
