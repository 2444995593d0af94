#!/usr/bin/env python3
"""Runs weft's sm_80-path GEMMs on the CPU, in the PTX emulator, and checks D against float64.

    python3 tools/ptxemu/run_gemm_checks.py --weft build/tools/weft [--seed N] [--keep-ptx DIR] [--backend llvm]

Emits gemm_bf16_sm80 (--arch sm_80) and gemm_e4m3_sm89 (--arch sm_89) with the weft CLI (--weft, or
$WEFT) into a temporary directory and runs every thread of every CTA of each launch in emulator.py
(cp.async with src-size zero-fill and commit / wait_group groups, ldmatrix .x4 / .trans, mma.sync
m16n8k16 bf16 and m16n8k32 e4m3, the epilogue's loads and stores):
- bf16 TN and NN, with and without bias, beta 0 and 0.5, M and N no multiple of the tile (odd N
  for TN), K a multiple of 8 with a partial last k-tile and shorter than the pipeline's prologue;
  a 32 x 32 (NN: 32 x 64) tile with 2 warps for speed, plus the default 128 x 128 tile once;
  group_m = 2 over 3 tile rows (a partial group of the grouped tile order);
- e4m3 TN with bias (32 x 32 tile, bk = 64: a partial last k-tile of 16 bytes);
- grouped (groups = 1, MoE experts): B and the bias of 2 or 3 groups, a group per 128 rows of A out
  of order (bm = 32: four CTA tile rows read one entry), padding blocks (-1, an index past the
  groups) whose rows of D stay unwritten; bf16 with the default tile, e4m3 with a bias;
- each in two cp.async models: copies land only at the wait_group that covers them (a read of a
  slot before its wait sees the 0xff poison of shared memory: NaN), and copies land at issue (a
  refill issued before every warp is done with its slot overwrites data still to be read); the
  random scheduler lets warps of a CTA overtake one another between barriers;
- checks: relative Frobenius error of D against float64 alpha A B + beta C + bias (<= 1e-2 bf16,
  <= 3e-2 e4m3, the tolerances of gemm_app), D poisoned with NaN beforehand, every byte of D written
  exactly once and no byte of A, B, C or bias written (Memory.wcount); an access outside its
  allocation or misaligned, in global or shared memory, is an emulator error;
- mutants: the emitted PTX broken on purpose (the k-loop's cp.async.wait_group dropped, src-size
  ignored so that nothing is zero-filled, B's k-step offset dropped, the k-loop's bar.sync
  dropped), each of which the checks must detect, so that a run that passes is known to be able to
  fail.
Exits 1 naming every failure (2 for a usage error). About 8 s on one core of a 2-core machine
(2026-11-28). --seed N picks other inputs and schedules (CTest runs 0). --backend llvm: the same
checks on the LLVM backend's PTX (sm_80 / sm_89), with the mutants whose patterns match it (wait_group
dropped, no zero-fill, k-loop barrier dropped; B's k-step offset is skipped), about 6 s.

Limits (emulator.py): the ldmatrix and mma.sync fragment maps are the emulator's reading of the
PTX ISA, the same reading the kernel's addressing was written from, so this checks addressing,
predication, zero-fill, pipeline ordering and coverage, not the fragment layouts themselves (a
misreading shared by both passes); mma.sync sums in float64 and rounds once to f32; no timing,
bank conflicts or register pressure.
"""
import importlib.util
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("run_gemm_checks.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import numpy as np  # noqa: E402

import emulator as E  # noqa: E402
import host  # noqa: E402
from checks import Report  # noqa: E402
import run_checks  # noqa: E402
from run_checks import command_line, substitute, substitute_all  # noqa: E402

DEFAULTS = {"bm": 128, "bn": 128}
SMALL = ["bm=32", "bn=32", "warps_m=1", "warps_n=2"]  # 64 threads, a 32 x 16 warp tile
SMALL_NN = ["bm=32", "bn=64", "warps_m=1", "warps_n=2"]  # NN needs bn a multiple of 64


def param_value(params, name, defaults):
    """The value of `name=...` among the --param settings `params`, else defaults.get(name, 0)."""
    for p in params:
        if p.startswith(name + "="):
            return int(p.split("=", 1)[1])
    return defaults.get(name, 0)


def param(params, name):
    return param_value(params, name, DEFAULTS)


# The TMA GEMMs' timing models: name -> (when TMA bytes land, when the MMAs run): at the wait that
# covers them, or at issue; "release" lands TMA at once but defers the MMAs, so that a stage released
# before its MMAs ran and refilled at once shows.
ASYNC_MODELS = {
    "wait": ("wait", "wait"),
    "issue": ("issue", "issue"),
    "release": ("issue", "wait"),
}


def tma_gemm_inputs(rng, fp8, m, n, k, out_f32=False, groups=1):
    """The TMA GEMMs' random operands: A (m x k) and B (groups x n x k: one n x k matrix per group) drawn
    by input_drawer, C (m x n) and a bias (groups x n) bf16 uniform in [-1, 1], and D poisoned with NaN;
    C and D f32 with out_f32 (C holding the same bf16 values). Returns (arrays to place by name, float64
    values of A, B, C and the bias)."""
    draw = input_drawer(rng, fp8)
    a, af = draw((m, k))
    b, bf = draw((groups * n, k))
    c = E.f_to_bf16_bits(rng.uniform(-1, 1, (m, n)))
    bias = E.f_to_bf16_bits(rng.uniform(-1, 1, groups * n))
    arrays = {"a": a, "b": b, "c": E.bf16_bits_to_f64(c).astype(np.float32) if out_f32 else c,
              "d": np.full((m, n), 0xFFFFFFFF if out_f32 else 0xFFFF, dtype=np.uint32 if out_f32 else np.uint16),
              "bias": bias}
    return arrays, (af, bf, E.bf16_bits_to_f64(c), E.bf16_bits_to_f64(bias))


def group_entries(tile_groups, blocks, groups):
    """A grouped check's tile_groups: the given entries (one per 128-row block of A), else block t's
    group t % groups."""
    entries = [t % groups for t in range(blocks)] if tile_groups is None else list(tile_groups)
    assert len(entries) == blocks, "one tile_groups entry per 128-row block of A"
    return entries


def grouped_reference(m, n, entries, groups, product):
    """D's float64 reference, block by block of 128 rows: product(rows, group) for a block whose entry
    names a group (entries None: every block group 0), nothing for padding. Returns (want, written:
    the rows the kernel must store, for check_d's rows=)."""
    want = np.zeros((m, n))
    written = np.zeros(m, dtype=bool)
    for t in range(-(-m // 128)):
        g = 0 if entries is None else entries[t]
        if 0 <= g < groups:
            rows = slice(t * 128, min(m, t * 128 + 128))
            want[rows] = product(rows, g)
            written[rows] = True
    return want, written


def place(mem, arrays):
    """Copies each (name, array) into a fresh allocation of mem: {name: (base, bytes)}."""
    bufs = {}
    for name, arr in arrays:
        data = arr.tobytes()
        base = mem.alloc(len(data), name)
        mem.mem[base:base + len(data)] = data
        bufs[name] = (base, len(data))
    return bufs


def input_drawer(rng, fp8):
    """draw(shape) -> (stored values, their float64 values): e4m3 of magnitude 1/8 .. 3.75 with random
    signs, or bf16 uniform in [-1, 1]."""
    if fp8:
        def draw(shape):
            v = (rng.integers(0, 2, shape) << 7) | (rng.integers(4, 9, shape) << 3) | rng.integers(0, 8, shape)
            return v.astype(np.uint8), E.E4M3[v]
    else:
        def draw(shape):
            v = E.f_to_bf16_bits(rng.uniform(-1, 1, shape))
            return v, E.bf16_bits_to_f64(v)
    return draw


def check_gemm(kernel, params, m, n, k, beta=0.0, seed=0, cp_async="wait", arch=None, tile_groups=None, groups=2):
    """One launch of `kernel` (gemm_bf16_sm80 or gemm_e4m3_sm89) with `params` on M x N x K; returns a
    Report. Inputs: bf16 uniform in [-1, 1], e4m3 of magnitude 1/8 .. 3.75 with random signs. With
    groups=1 in `params`: B and the bias of `groups` groups, `tile_groups` one entry per 128 rows of A
    (default: (row block) % groups); an entry outside [0, groups) is padding, whose rows must stay
    unwritten."""
    fp8 = kernel == "gemm_e4m3_sm89"
    arch = arch or ("sm_89" if fp8 else "sm_80")
    nn, bias = param(params, "nn") == 1, param(params, "bias") == 1
    r = Report(f"{kernel} {'NN' if nn else 'TN'}{' +bias' if bias else ''} {' '.join(params)} "
               f"{m}x{n}x{k} beta={beta} cp.async lands at {cp_async}")
    kern = host.kernel(kernel, params, arch)
    rng = np.random.default_rng(seed)
    draw = input_drawer(rng, fp8)
    grouped = param(params, "groups") == 1
    ng = groups if grouped else 1
    if grouped:
        tile_groups = group_entries(tile_groups, -(-m // 128), groups)
    a, af = draw((m, k))
    b, bf = draw((k, n) if nn else (ng * n, k))
    c = E.f_to_bf16_bits(rng.uniform(-1, 1, (m, n)))
    bias_v = E.f_to_bf16_bits(rng.uniform(-1, 1, ng * n))
    alpha = 1.5 if not fp8 else 0.25

    mem = E.Memory(1 << 21)
    bufs = {}
    for name, arr in (("a", a), ("b", b), ("c", c), ("d", np.full((m, n), 0xFFFF, dtype=np.uint16)),
                      ("bias", bias_v), ("tile_groups", np.array(tile_groups or [], dtype=np.int32))):
        if (name == "bias" and not bias) or (name == "tile_groups" and not grouped):
            continue
        data = arr.tobytes()
        base = mem.alloc(len(data), name)
        mem.mem[base:base + len(data)] = data
        bufs[name] = (base, len(data))
    params_ = {"m": m, "n": n, "k": k, "alpha": E.f2b(alpha), "beta": E.f2b(beta)}
    params_.update({name: base for name, (base, _) in bufs.items()})
    if grouped:
        params_["groups"] = groups
    grid = -(-m // param(params, "bm")) * -(-n // param(params, "bn"))
    E.Emu(mem, kern, (grid, 1), kern.reqntid, params_, seed=seed, max_slice=128, cp_async=cp_async,
          warp_speeds=True).run()

    cf, biasf = E.bf16_bits_to_f64(c), E.bf16_bits_to_f64(bias_v)

    def product(rows, g):  # alpha * A[rows] * B_g (+ beta C + bias_g)
        bg = bf if nn else bf[g * n:(g + 1) * n].T
        out = alpha * (af[rows] @ bg) + beta * cf[rows]
        return out + biasf[None, g * n:(g + 1) * n] if bias else out
    want, written = grouped_reference(m, n, tile_groups if grouped else None, ng, product)
    return check_d(r, mem, bufs, m, n, want, 3e-2 if fp8 else 1e-2, rows=written if grouped else None)


def check_d(r, mem, bufs, m, n, want, tol, f32=False, scratch=(), rows=None):
    """The checks of D (bf16, or f32, m x n, in bufs["d"]) against `want` (float64): every byte written
    exactly once, no byte of another buffer written (but those named in `scratch`), all finite,
    relative Frobenius error <= tol. `rows` (booleans, one per row of D): only those rows are written
    and checked, the others must not be written at all. Fills and returns the Report r."""
    base, size = bufs["d"]
    raw = bytes(mem.mem[base:base + size])
    got = (np.frombuffer(raw, dtype=np.float32).astype(np.float64) if f32 else
           E.bf16_bits_to_f64(np.frombuffer(raw, dtype=np.uint16))).reshape(m, n)
    es = 4 if f32 else 2
    counts = mem.wcount[base:base + size].reshape(m, es * n)
    expected = np.ones((m, 1), dtype=counts.dtype) if rows is None else np.asarray(rows, dtype=counts.dtype)[:, None]
    if not np.all(counts == expected):
        bad = np.argwhere(counts != expected)[0]
        r.fail(f"D element ({bad[0]}, {bad[1] // es}) written {int(counts[tuple(bad)])} times, not "
               f"{int(expected[bad[0], 0])} ({int(np.sum(counts != expected))} bytes of D written otherwise)")
    if rows is not None:  # only the written rows have values to check
        keep = np.asarray(rows, dtype=bool)
        got, want = got[keep], want[keep]
    for name, (b0, sz) in bufs.items():
        if name != "d" and name not in scratch and np.any(mem.wcount[b0:b0 + sz]):
            r.fail(f"input {name} written")
    if not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))
        r.fail(f"{len(bad)} elements of D not finite, first at {tuple(int(x) for x in bad[0])}")
        r.max_error = float("inf")
        return r
    r.max_error = float(np.sqrt(((got - want) ** 2).sum() / (want ** 2).sum()))
    if not r.max_error <= tol:
        worst = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
        r.fail(f"relative Frobenius error {r.max_error:.3g} > {tol}; worst element {tuple(int(x) for x in worst)}: "
               f"got {got[worst]:.6g}, want {want[worst]:.6g}")
    return r


# ---------------- mutants ----------------
def drop_loop_wait(text):
    # The k-loop's cp.async.wait_group goes: its tile is read before it has landed.
    return substitute(text, r"cp\.async\.wait_group \d+;", "", which=0)


def no_zero_fill(text):
    # Every cp.async copies 16 bytes (src-size ignored): K tails read the matrix base, not zeros.
    return substitute_all(text, r"(cp\.async\.cg\.shared\.global \[[^\]]+\], \[[^\]]+\], 16), %r\d+;", r"\1, 16;")


def b_kstep_offset(text):
    # The last k-step XOR (kk * 32 on the lane's address) of the k-loop made 0: k-step 1 of B re-reads k-step 0.
    return substitute(text, r"(xor\.b32 %r\d+, %r\d+, )32;(\s*ldmatrix)", r"\g<1>0;\2", which=-1)


def drop_loop_barrier(text):
    # The k-loop's bar.sync goes: a warp refills the slot another warp is still reading.
    return substitute(text, r"(cp\.async\.wait_group \d+;\s*)bar\.sync\s+0;", r"\1", which=0)


def mutant(name, kernel, params, transform, check):
    """run_checks.mutant for the GEMMs' PTX (sm_80, or sm_89 for e4m3)."""
    arch = "sm_89" if kernel == "gemm_e4m3_sm89" else "sm_80"
    return run_checks.mutant(name, kernel, params, transform, check, arch)


def run_matrix(run, s):
    bf16, fp8 = "gemm_bf16_sm80", "gemm_e4m3_sm89"
    cases = [
        # (what, kernel, params, m, n, k, beta)
        ("TN, odd N, beta, partial group", bf16, SMALL + ["group_m=2"], 80, 45, 200, 0.5),
        ("TN + bias, K shorter than the prologue", bf16, SMALL + ["bias=1"], 40, 34, 40, 0.0),
        ("NN, beta", bf16, SMALL_NN + ["nn=1"], 40, 72, 184, 0.5),
        ("NN + bias, one partial k-tile", bf16, SMALL_NN + ["nn=1", "bias=1"], 33, 136, 24, 0.0),
        ("e4m3 TN + bias, beta", fp8, SMALL + ["bias=1"], 45, 37, 336, 0.5),
    ]
    for what, kernel, params, m, n, k, beta in cases:
        for i, mode in enumerate(("wait", "issue")):
            run.run(f"{what}, cp.async at {mode}",
                    lambda: check_gemm(kernel, params, m, n, k, beta, seed=s * 101 + i, cp_async=mode))
    run.run("TN, default 128 x 128 tile, 8 warps", lambda: check_gemm(bf16, [], 130, 70, 264, 0.5, seed=s))
    # Grouped (groups=1, MoE experts): each 128-row block of A multiplies its group's B and adds its
    # group's bias; padding blocks (-1, an index past the groups) load nothing and store nothing.
    # bm = 32: four CTA tile rows share one tile_groups entry.
    grouped = [
        ("grouped, 3 groups out of order, a padding block, bias per group, bm 32 (4 CTA rows an entry)", bf16,
         SMALL + ["groups=1", "bias=1"], 400, 45, 72, 0.5, 3, [2, -1, 0, 1]),
        ("grouped, default 128 x 128 tiles, an index past the groups", bf16, ["groups=1"], 300, 70, 136, 0.0, 2,
         [1, 2, 0]),
        ("e4m3 grouped + bias, padding first", fp8, SMALL + ["groups=1", "bias=1"], 256, 37, 128, 0.5, 2, [-1, 1]),
    ]
    for what, kernel, params, m, n, k, beta, ng, tg in grouped:
        for i, mode in enumerate(("wait", "issue")):
            run.run(f"{what}, cp.async at {mode}",
                    lambda: check_gemm(kernel, params, m, n, k, beta, seed=s * 103 + i, cp_async=mode, tile_groups=tg,
                                       groups=ng))

    # (llvm=True: the pattern matches the LLVM backend's PTX too: run_checks.Runner.mutant)
    small = SMALL + ["bias=1"]
    run.mutant("wait_group dropped", lambda: mutant(
        "k-loop cp.async.wait_group dropped", bf16, small, drop_loop_wait,
        lambda: check_gemm(bf16, small, 40, 34, 72, seed=s)), llvm=True)
    run.mutant("no zero-fill", lambda: mutant(
        "src-size ignored: no zero-fill of K tails", bf16, small, no_zero_fill,
        lambda: check_gemm(bf16, small, 40, 34, 72, seed=s)), llvm=True)
    run.mutant("B k-step offset", lambda: mutant(
        "B's k-step 1 reads k-step 0", bf16, SMALL_NN + ["nn=1"], b_kstep_offset,
        lambda: check_gemm(bf16, SMALL_NN + ["nn=1"], 40, 72, 56, seed=s)))
    run.mutant("k-loop barrier dropped", lambda: mutant(
        "k-loop bar.sync dropped: refills race the other warps' reads", bf16, small, drop_loop_barrier,
        lambda: check_gemm(bf16, small, 40, 34, 136, seed=s, cp_async="issue")), llvm=True)


def main():
    command_line(__doc__, "ptxemu gemm", lambda run, a: run_matrix(run, a.seed))


if __name__ == "__main__":
    main()
