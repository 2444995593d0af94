#!/usr/bin/env python3
"""Runs weft's communication kernels on the CPU, in a PTX emulator, and checks their results.

    python3 tools/ptxemu/run_checks.py --weft build/tools/weft [--quick] [--seed N] [--backend llvm]

Emits all_gather, reduce_scatter, all_reduce, moe_dispatch, moe_combine and moe_quantize with the weft CLI
(--weft, or $WEFT) into a temporary directory and runs them in emulator.py:
- LocalSim (one launch, grid.y = ranks) at 2 and 3 ranks: all_gather; reduce_scatter f32 / bf16;
  all_reduce one- and two-shot, f32 / bf16; sizes that are not multiples of the grid; every launch
  of a rank count reusing one flag buffer at increasing epochs (checks.py);
- MoE dispatch -> a host-side expert -> combine at 2 and 3 ranks, twice on the same buffers;
- Ipc mode (one stream per rank, ranks drifting apart) at 2 and 3 ranks: the collectives back to
  back, MoE rounds, and the moe_dispatch entry race (ipc_checks.py);
- edge cases: one rank, five ranks on one CTA each, top-32 MoE;
- moe_quantize (fp8 dispatch's 1 x 128 e4m3 quantization) bit for bit against NumPy (fp8_checks.py);
- mutants: the emitted PTX broken on purpose (a grid stride of half a block, a flag wait for
  epoch + 1, the opening rendezvous wait of moe_dispatch or all_gather dropped, moe_quantize's 448
  taken as 450), each of which the checks above must detect, so that a run that passes is known to be able to fail.
Exits 1 naming every failure (2 for a usage error). The default run takes about 15 s (one core of
a 2-core machine, 2026-11-28), --quick about 3 s. --seed N picks other schedules (CTest runs 0).

--backend llvm emits with `weft emit --backend llvm` (LLVM 19's NVPTX backend; the kernels' sm_90a
PTX, which for these kernels is the same as their sm_80 PTX but for .target) and runs the same
checks on it (about 12 s). The mutants' patterns are written against the direct backend's PTX
(its labels and register forms), so with llvm the grid-stride mutant is skipped and the three
flag-wait mutants break the wait's acquire load instead (weft's inline asm: flag + 2^30 passes at
once, flag - 1 waits for epoch + 1); run_gemm_checks.py and run_gemm90_checks.py run the mutants
whose patterns are weft's inline-asm text, the same in both backends (Runner.mutant).

What the emulator cannot check (sequentially consistent memory: no memory-model reorderings, no
timing) is in emulator.py and docs/comm.md ("Checking the kernels without a GPU").
"""
import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("run_checks.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import checks  # noqa: E402
import fp8_checks  # noqa: E402
import emulator as E  # noqa: E402
import host  # noqa: E402
import ipc_checks  # noqa: E402
from checks import Report  # noqa: E402
from host import Collectives, Heap, MoeAllToAll, elem_bytes  # noqa: E402


class Runner:
    def __init__(self):
        self.failures = []
        self.checks = 0
        self.mutants_skipped = []

    def mutant(self, label, fn, llvm=False):
        """Runs the mutant check fn() as `mutant: label` when it fits the PTX under test: every mutant on
        the direct backend's PTX (the default); with --backend llvm only those marked `llvm` (their
        patterns match weft's own inline-asm text, which both backends print alike, or they have a
        transform of their own for the LLVM PTX): the others' patterns are written against the direct
        backend's register allocation and labels, so they are skipped and counted."""
        if host.backend != "direct" and not llvm:
            self.mutants_skipped.append(label)
            return
        self.run(f"mutant: {label}", fn)

    def run(self, name, fn):
        """fn() returns a Report or a list of them; an exception is a failure of `name`."""
        t = time.time()
        try:
            reports = fn()
        except E.EmuError as ex:
            reports = Report(name)
            reports.fail("emulator: " + str(ex)[:2000])
        except Exception:  # a broken check or host code: report it and go on
            reports = Report(name)
            reports.fail(traceback.format_exc())
        if isinstance(reports, Report):
            reports = [reports]
        for r in reports:
            self.checks += 1
            print(r, flush=True)
            if not r.ok:
                self.failures.append(f"{r.name}: {r.detail}")
        print(f"      [{name}: {time.time() - t:.1f}s]", flush=True)


def localsim_collectives(n, ctas, block, seed, quick):
    """One Collectives (one flag buffer) for every launch: epochs 1, 2, ... on reused flags."""
    c = Collectives(Heap(n, mem_bytes=1 << 23), ctas=ctas, block=block, seed=seed * 7919 + n * 100 + ctas)
    grid = ctas * block
    out = []
    # Sizes below the grid, just above it (the one-packet tail loop), and above four grids (the
    # kernels' default unroll of 4: whole batches, then a tail).
    for nb in ([16 * 7, 16 * (grid + 5), 16 * (4 * grid + 5)] if not quick else [16 * (4 * grid + 5)]):
        out.append(checks.check_all_gather(c, nb, seed=nb + n))
    for e in ["f32", "bf16"]:
        per = 16 // elem_bytes(e)
        for cnt in ([per, per * (grid + 3), per * (4 * grid + 3)] if not quick else [per * (4 * grid + 3)]):
            out.append(checks.check_reduce_scatter(c, cnt, e, seed=cnt))
    for shots in [1, 2]:
        for e in ["f32", "bf16"]:
            per = 16 // elem_bytes(e) * n
            for cnt in ([per * 11, per * (grid // n + 7), per * (4 * grid + 7)] if not quick else
                        [per * (4 * grid + 7)]):
                out.append(checks.check_all_reduce(c, cnt, e, shots, seed=cnt + shots))
    return out


def localsim_moe(n, ctas, seed, quick):
    """dispatch -> host expert -> combine, twice on the same buffers, for a few shapes."""
    c = Collectives(Heap(n, mem_bytes=1 << 23), ctas=ctas, block=64, seed=seed * 7919 + n * 100 + ctas + 50)
    # (tokens, hidden, topk, experts, warps, unroll, bulk, scale blocks). Rows of 133 and 70 packets run
    # the batched trips (4 x 32 and 2 x 32 packets per warp) and then the one-packet tail; 37 and 2 only
    # the tail; bulk=1 moves whole rows by bulk copies (sm_90a); scale blocks (fp8 dispatch's scales=1):
    # 40 takes each lane's scale loop a second trip (7168-wide fp8 tokens carry 56).
    shapes = [(7, 8 * 133, 3, 2 * n, 2, 0, False, 0), (11, 8 * 37, 4, 3 * n, 2, 0, False, 0),
              (5, 16, 1, n, 4, 0, False, 0), (6, 8 * 70, 2, 2 * n, 2, 2, False, 0), (9, 8 * 37, 4, 3 * n, 2, 0, True, 0),
              (7, 8 * 5, 3, 2 * n, 2, 0, False, 40), (6, 8 * 9, 2, 2 * n, 2, 0, True, 3)]
    out = []
    for tokens, hidden, topk, experts, warps, unroll, bulk, scales in (shapes[:1] + shapes[-1:] if quick else shapes):
        moe = MoeAllToAll(c, tokens, hidden, topk, experts, warps, unroll, bulk, scales)
        for it in range(2):
            out.append(checks.check_moe(c, moe, seed=seed * 1000 + tokens * 10 + it))
    return out


def localsim_edges(seed):
    """One rank (every peer is itself), five ranks on a single CTA each, top-32 MoE (every lane of
    combine's warp holds a choice)."""
    out = []
    for n, ctas in [(1, 2), (5, 1)]:
        c = Collectives(Heap(n, mem_bytes=1 << 23), ctas=ctas, block=64, seed=seed * 7919 + n)
        out += [checks.check_all_gather(c, 16 * 37, 1), checks.check_reduce_scatter(c, 4 * 37, "f32", 2),
                checks.check_reduce_scatter(c, 8 * 37, "bf16", 2)]
        for shots in (1, 2):
            out.append(checks.check_all_reduce(c, 4 * n * 23, "f32", shots, 3))
            out.append(checks.check_all_reduce(c, 8 * n * 23, "bf16", shots, 3))
        moe = MoeAllToAll(c, 9, 8 * 33, min(4, 2 * n), 2 * n, 2)
        out.append(checks.check_moe(c, moe, 4))
        if n > 1:
            moe = MoeAllToAll(c, 3, 16, 32, 16 * n, 2)
            out.append(checks.check_moe(c, moe, 6))
    return out


def until_failure(check, tries):
    """Runs check(i) for i < tries until a report fails; returns that report, or the last one."""
    for i in range(tries):
        r = check(i)
        if not r.ok:
            break
    return r


# ---------------- mutants ----------------
def substitute(text, pattern, repl, which=0):
    """Replaces the `which`-th match (negative: from the end) of `pattern`; fails if there is none, so
    a mutant whose target disappeared from the emitted PTX says so instead of testing nothing."""
    matches = list(re.finditer(pattern, text))
    if not -len(matches) <= which < len(matches):
        raise LookupError(f"pattern {pattern!r} not found in the emitted PTX (or fewer than {abs(which) + 1} "
                          f"matches): update this mutant in tools/ptxemu/run_checks.py")
    m = matches[which]
    return text[:m.start()] + m.expand(repl) + text[m.end():]


def substitute_all(text, pattern, repl):
    """Replaces every match of `pattern`; fails if there is none (see substitute)."""
    out, count = re.subn(pattern, repl, text)
    if not count:
        raise LookupError(f"pattern {pattern!r} not found in the emitted PTX: update the mutant that uses it")
    return out


def drop_dynamic_round_up(text):
    # The dynamic shared memory's base used as its symbol gives it, without the run-time round-up to
    # the declared .align (an add of align - 1, an and with ~(align - 1): KernelBuilder::dynamic_shared):
    # after the static mbarriers it is only 16-byte aligned, and a 128B-swizzled TMA box there faults
    # with a misaligned address, as on the H200 before weft rounded it up.
    for m in re.finditer(r"add\.[us]32\s+(%r\d+),\s*(%r\d+),\s*(\d+);", text):
        align = int(m.group(3)) + 1
        if align < 32 or align & (align - 1):
            continue
        mask = rf"and\.b32\s+(%r\d+),\s*{re.escape(m.group(1))},\s*(?:{(1 << 32) - align}|-{align});"
        if re.search(mask, text):
            return substitute(text, mask, rf"mov.b32 \g<1>, {m.group(2)};")
    raise LookupError("no run-time round-up of the dynamic shared memory's base (an add of align - 1, then an and "
                      "with ~(align - 1)) in the emitted PTX: update this mutant in tools/ptxemu/run_checks.py")


def param_address_to_tma(text):
    # The tensor maps given to TMA by their .param-space address (cvta.param made a mov), as weft
    # emitted them until an H200 reported a misaligned address for it.
    return substitute_all(text, r"cvta\.param\.u64(\s+%rd\d+,\s*%rd\d+;)", r"mov.u64\1")


def half_grid_stride(text):
    # The grid-stride loop's step, nctaid.x * block, made half a block: packets are written twice.
    m = re.search(r"(mov\.u32 (%r\d+), %nctaid\.x;\s*mul\.lo\.u32 %r\d+, \2, )(\d+);", text)
    if not m:
        raise LookupError("the grid-stride step (mov %nctaid.x, then mul.lo.u32 by the block) is not in the "
                          "emitted PTX: update this mutant in tools/ptxemu/run_checks.py")
    return text[:m.start()] + m.group(1) + str(int(m.group(3)) // 2) + ";" + text[m.end():]


def wait_for_next_epoch(text):
    # The last flag wait tests (int)(value - epoch) >= 1 instead of >= 0: it waits for an epoch no one sends.
    return substitute(text, r"(_flag_wait:\s*ld\.acquire\.sys\.global\.u32 [^;]*;\s*sub\.u32 [^;]*;\s*"
                            r"mov\.b32 [^;]*;\s*setp\.ge\.s32 %p\d+, %r\d+, )0;", r"\g<1>1;", which=-1)


def drop_first_wait(text):
    # The first flag wait leaves at once (its exit branch made unconditional): that rendezvous arrives,
    # but never waits.
    return substitute(text, r"@%p\d+ bra(?:\.uni)? (\$L_\d+_flag_done);", r"bra.uni \g<1>;", which=0)


def drop_row_read_wait(text):
    # moe_dispatch bulk=1: the next row is loaded into the warp's buffer without waiting for the bulk
    # stores of the last one to have read it (they read it later, at the final wait: another row).
    return substitute(text, r"cp\.async\.bulk\.wait_group\.read 0;", "", which=0)


def flag_read_offset(which, delta):
    """For the LLVM backend's PTX (whose flag waits LLVM compiles into its own compare and branch
    forms): the `which`-th flag wait (text order) reads flag + delta. delta -1: it waits for epoch + 1,
    which no one sends (a deadlock); delta 2^30: (int)(flag - epoch) >= 0 holds at once, so the wait
    passes without waiting. The acquire load itself is weft's inline asm, the same text in both backends."""
    def transform(text):
        return substitute(text, r"(ld\.acquire\.sys\.global\.u32 (%r\d+), \[%rd\d+\];)",
                          rf"\g<1> add.u32 \g<2>, \g<2>, {delta & 0xFFFFFFFF};", which=which)
    return transform


def mutant(name, kernel, params, transform, check, arch="sm_90a", kind=None):
    """Runs check() with kernel's PTX (for `arch`) transformed; the mutant must be detected (a failed
    report or an emulator error; with `kind`, an emulator error of that kind: the fault a GPU gave for
    that bug). Returns a Report that passes when it was detected."""
    r = Report(f"mutant {kernel} ({name}) must be detected" + (f" as a {kind} fault" if kind else ""))
    try:
        with open(host.ptx_path(kernel, params, arch)) as f:
            text = f.read()
        mutated = transform(text)
        assert mutated != text
        host.set_ptx(kernel, params, mutated, arch)
        try:
            got = check()
        except E.EmuError as ex:
            if kind is not None and ex.kind != kind:
                r.fail(f"detected by a {ex.kind} error, not a {kind} fault: " + str(ex).split("\n")[0][:300])
            else:
                r.notes.append("detected: emulator: " + str(ex).split("\n")[0][:300])
            return r
        bad = [x for x in (got if isinstance(got, list) else [got]) if not x.ok]
        if bad and kind is not None:
            r.fail(f"detected by the results, not a {kind} fault: " + bad[0].detail.split("\n")[0][:200])
        elif bad:
            r.notes.append("detected: " + bad[0].detail.split("\n")[0][:200])
        else:
            r.fail("NOT detected: every check passed on the broken PTX, so these checks cannot catch this bug")
    except LookupError as ex:
        r.fail(str(ex))
    finally:
        host.forget_ptx()
    return r


def run_matrix(run, s, q):
    for n, ctas in [(2, 2), (3, 3)]:
        run.run(f"LocalSim collectives, {n} ranks", lambda: localsim_collectives(n, ctas, 64, s, q))
    if not q:
        run.run("LocalSim collectives, 2 ranks, block 128", lambda: localsim_collectives(2, 3, 128, s, q))
    for n, ctas in [(2, 2), (3, 3)]:
        run.run(f"LocalSim MoE, {n} ranks", lambda: localsim_moe(n, ctas, s, q))
    if not q:
        run.run("LocalSim edge cases", lambda: localsim_edges(s))
    for n, ctas in ([(2, 2)] if q else [(2, 2), (3, 3)]):
        for seed in ([s] if q or n > 2 else [s, s + 1]):
            run.run(f"Ipc collectives, {n} ranks",
                    lambda: ipc_checks.run_collectives(n, ctas, 64, 7 if q else 14, seed))
    run.run("Ipc MoE, 2 ranks", lambda: ipc_checks.run_moe(2, 2, 2, 7, 24, 3, 4, 2 if q else 3, s))
    if not q:
        run.run("Ipc MoE, 3 ranks", lambda: ipc_checks.run_moe(3, 3, 2, 9, 8 * 35, 4, 9, 3, s))
    run.run("Ipc moe_dispatch entry race", lambda: ipc_checks.run_moe_entry_race(4 if q else 10))
    # 5 blocks a row: one trip of 4 blocks loaded together, then one alone; and a block a trip.
    run.run("moe_quantize (fp8 dispatch)", lambda: [fp8_checks.check_moe_quantize(5, 640, 2, 2, s, unroll)
                                                    for unroll in (4, 1)])

    # Mutants: each must make the checks above fail. The schedules are seeded, so a mutant that needs
    # a race to show is given several tries (it stops at its first detection). With --backend llvm the
    # flag-wait mutants break the wait's inline-asm acquire load instead (flag_read_offset).
    llvm = host.backend == "llvm"
    run.mutant("grid stride", lambda: mutant(
        "grid stride of half a block: packets written twice", "all_gather", ["block=64"], half_grid_stride,
        lambda: checks.check_all_gather(Collectives(Heap(2), ctas=2, block=64, seed=s), 16 * 150, 1)))
    run.mutant("epoch + 1", lambda: mutant(
        "last flag wait waits for epoch + 1: a deadlock", "all_reduce", ["block=64", "bf16=1", "shots=2"],
        flag_read_offset(-1, -1) if llvm else wait_for_next_epoch,
        lambda: checks.check_all_reduce(Collectives(Heap(3), ctas=2, block=64, seed=s), 8 * 3 * 40, "bf16", 2, 1)),
        llvm=True)
    run.mutant("moe_dispatch entry wait", lambda: mutant(
        "opening rendezvous arrives but does not wait, as before commit aedc967: the entry race, Ipc",
        "moe_dispatch", ["warps=2"], flag_read_offset(0, 1 << 30) if llvm else drop_first_wait,
        lambda: ipc_checks.run_moe_entry_race(10)), llvm=True)
    bulk_moe = ["warps=2", "unroll=0", "bulk=1", f"row_bytes={8 * 37 * 2}"]
    run.mutant("moe_dispatch bulk buffer reuse", lambda: mutant(
        "bulk rows: a warp's buffer refilled before the bulk stores of its last row have read it",
        "moe_dispatch", bulk_moe, drop_row_read_wait,
        lambda: checks.check_moe(c := Collectives(Heap(2, mem_bytes=1 << 23), ctas=2, block=64, seed=s),
                                 MoeAllToAll(c, 9, 8 * 37, 4, 6, 2, 0, True), 3)))
    run.mutant("moe_dispatch scale to the next row", lambda: mutant(
        "fp8 dispatch: each scale stored one recv row too far (an off-by-one in the scale index)",
        "moe_dispatch", ["warps=2", "unroll=0", "scales=1"],
        lambda text: substitute(text, r"st\.relaxed\.sys\.global\.f32 \[(%rd\d+)\]", r"st.relaxed.sys.global.f32 [\1+4]"),
        lambda: checks.check_moe(c := Collectives(Heap(2, mem_bytes=1 << 23), ctas=2, block=64, seed=s),
                                 MoeAllToAll(c, 7, 8 * 5, 3, 4, 2, 0, False, 40), 5)))
    run.mutant("moe_quantize 448 / amax", lambda: mutant(
        "the e4m3 range taken as 450, not 448: values scaled past the format's largest", "moe_quantize",
        ["warps=2", "unroll=4"],
        lambda text: substitute(text, r"div\.rn\.f32 (%f\d+), (%f\d+), (%f\d+);", r"div.rn.f32 \1, \2, \3;\n\tmul.f32 \1, \1, 0f3F809249;"),
        lambda: fp8_checks.check_moe_quantize(5, 640, 2, 2, s)))
    run.mutant("all_gather entry wait", lambda: mutant(
        "opening rendezvous arrives but does not wait: a faster rank's packets land before the peer's host "
        "poisons out, Ipc", "all_gather", ["block=64"], flag_read_offset(0, 1 << 30) if llvm else drop_first_wait,
        lambda: until_failure(lambda i: ipc_checks.run_collectives(2, 2, 64, 14, s + i), 10)), llvm=True)


def command_line(doc, label, run_matrix, quick=False, backends=("direct", "llvm")):
    """The command line the runners share: --weft PATH (or $WEFT), --seed, --keep-ptx DIR, --backend
    (one of `backends`: the weft backend that emits the PTX, host.backend) and, with `quick`, --quick.
    Emits through the CLI into a temporary directory, runs run_matrix(runner, args) and exits 1 naming
    every failed check, or prints one line when all passed."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--weft", default=os.environ.get("WEFT"), help="the weft CLI (default: $WEFT)")
    ap.add_argument("--backend", choices=backends, default="direct",
                    help="the backend that emits the PTX (weft emit --backend): direct (default) or llvm (LLVM 19's "
                         "NVPTX backend: the same checks, and the mutants that fit its PTX)" if "llvm" in backends else
                    "the backend that emits the PTX: only direct (LLVM 19 stops at sm_90a)")
    if quick:
        ap.add_argument("--quick", action="store_true", help="a smaller matrix (about a fifth of the time)")
    ap.add_argument("--seed", type=int, default=0, help="scheduler (and input) seed offset: other interleavings")
    ap.add_argument("--keep-ptx", metavar="DIR", help="emit into DIR and keep it (default: a temporary directory)")
    a = ap.parse_args()
    if not a.weft:
        ap.error("no weft CLI: pass --weft PATH or set $WEFT")
    if not (os.path.isfile(a.weft) and os.access(a.weft, os.X_OK)):
        ap.error(f"--weft {a.weft}: not an executable file")

    ptx_dir = a.keep_ptx or tempfile.mkdtemp(prefix="weft-ptxemu-")
    os.makedirs(ptx_dir, exist_ok=True)
    host.configure(os.path.abspath(a.weft), ptx_dir, a.backend)
    start = time.time()
    run = Runner()
    try:
        run_matrix(run, a)
    finally:
        if not a.keep_ptx:
            shutil.rmtree(ptx_dir, ignore_errors=True)

    took = time.time() - start
    if run.failures:
        print(f"\n{label}: {len(run.failures)} of {run.checks} checks FAILED in {took:.1f}s:", file=sys.stderr)
        for f in run.failures:
            print("  " + f.split("\n")[0], file=sys.stderr)
        sys.exit(1)
    n = len(run.mutants_skipped)
    skipped = f" ({n} mutant{'s' if n > 1 else ''} skipped: written for the direct backend's PTX)" if n else ""
    if a.backend == "direct" and not skipped:
        print(f"\n{label}: all {run.checks} checks passed, every mutant detected, in {took:.1f}s")
    else:
        print(f"\n{label} (--backend {a.backend}): all {run.checks} checks passed, every mutant run detected{skipped}, "
              f"in {took:.1f}s")


def main():
    command_line(__doc__, "ptxemu", lambda run, a: run_matrix(run, a.seed, a.quick), quick=True)


if __name__ == "__main__":
    main()
