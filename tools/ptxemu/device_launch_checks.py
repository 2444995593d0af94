#!/usr/bin/env python3
"""Checks device_launch.py, the fake CUDA driver's bridge to the emulator, as the driver uses it: each
check writes a request (a temporary arena file holding the device memory, its allocations, the raw
parameter bytes) and runs `device_launch.py REQUEST.json` as a subprocess, then reads the result and
the arena.

    python3 tools/ptxemu/device_launch_checks.py --weft build/tools/weft [--seed N] [--keep DIR]

- vector_add (n = 1000: a partial last CTA; at most 2 of its 4 CTAs resident at once): status ok,
  c == a + b exactly; the basic samples the host apps run, small: saxpy (the second .entry of a
  module), reduce_sum (shfl.sync.bfly), scan (shfl.sync.up), transpose (a 2-D block, 4 KB of static
  shared memory), histogram (8-bit loads, red.shared), each ok and exact (saxpy and reduce_sum within
  f32 rounding);
- hand-written kernels (HAND): param_echo, 16 threads (a partial warp), reads a 128-byte parameter
  through a register (`mov.u64 %rd, tmap` + 8 tid): ok and exact; 8 bytes further: illegal_address;
  partial_shfl, a full-mask shuffle in a 16-thread CTA: unsupported; static_tma, a 128B-swizzled TMA
  box and a bulk copy into static `.shared` arrays: ok, the swizzle worked out independently; the box
  moved 1024 bytes (across the end of its array into the next): illegal_address; moved 128 bytes (off
  the swizzle pattern): misaligned;
- hand-written calls (CALLS): a .func of three parameters and a return, called twice per thread (once
  with the caller's own .param variables, once in a `{ }` scope of them, as LLVM writes calls), its
  registers named as the caller's (which must survive), a 16-byte .local array of its frame written
  by local-window and by generic (cvta.local) addresses, the entry's own .local array: ok and exact;
  the generic store moved 2 words past the frame: illegal_address; fma_once, fma.rn.f32 whose exact
  result a double rounds to an f32 midpoint: rounded once (a double's rounding would tie to even);
- gemm_bf16_sm90 built with --debug-waits (bn = 32, stages = 2, register stores) at 192 x 64 x 128 on
  2 CTAs: the module's `weft_debug_wait` global placed where the request says, holding the address of
  a host-mapped report; status ok, D within 1e-2 of float64 (relative Frobenius), the report untouched;
- the same debug-wait GEMM with expect_tx announcing 16 bytes more than the TMA boxes bring (at 128 x
  32 x 64, one k-tile: only the consumers' full-barrier wait can hang): status trap, with the report
  written before the trap: word 0 (taken) 1, word 1 the source line of that wait (read from the
  PTX's report code), word 4 (kind) 0 = mbarrier; the virtual %globaltimer had to jump past the 2 s
  bound for that;
- the same mutant without --debug-waits: status deadlock;
- vector_add with c in an allocation too small: illegal_address; with a misaligned by 2 bytes:
  misaligned; with a cluster along y: unsupported; with a parameter missing: a bad request (exit 2,
  no result);
- the shared world (request "mappings": VMM files two launch processes map at once, each a memfd laid
  out as the driver's, named /proc/<this pid>/fd/<n>, mapped at different addresses in the two): WORLD's
  pingpong, A and B 12 rounds through each other's buffer (flag + data, ld.acquire.sys + nanosleep
  waits bounded by 2 s of %globaltimer, then a report and trap), A's world_grace_s 0.5, B started 1 s
  after A (its host bumping the heartbeat meanwhile, as the driver does) and then busy 0.6 to 2 s
  (its launch bumping it) before its first reply: both ok, the flags, data and sums exact, the
  heartbeats bumped (A had to wait in real time, not jump its clock); B never started and
  world_grace_s 2: A traps (its report says round 1) within 2 to 17 s, and the
  message says the heartbeats did not move; hammer, A and B (after a rendezvous through the shared
  memory) each adding 3 per thread and iteration to one word (atom.gpu.add 1 + red.sys.add 2, 2 x 128
  threads x 16 each): the total exact (lost without the cross-process lock); bad mappings
  (overlapping, over the arena, a file too small for its heartbeat, a va off the page, an allocation
  in a hole between mappings): bad requests (exit 2, no result, the reason).
Prints one line when everything passed; names every failure and exits 1 otherwise (2 for a usage
error). About 9 s on a 2-core machine (more than half of it the shared world's waits).
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("device_launch_checks.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import numpy as np  # noqa: E402

import emulator as E  # noqa: E402
import host  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BRIDGE = os.path.join(HERE, "device_launch.py")
GEMM = "gemm_bf16_sm90"
GEMM_PARAMS = ["bn=32", "stages=2", "tma_store=0"]
BM, BK = 128, 64


class Arena:
    """Device memory as the fake driver keeps it: one byte array (file offset == device address) and
    its allocations, placed from 0x1000 up with 256-byte gaps."""

    def __init__(self, size=1 << 21):
        self.buf = bytearray(b"\xa5" * size)  # not zero: a kernel reading what it never wrote shows
        self.allocs = []
        self.top = 0x1000

    def alloc(self, nbytes, name, data=None):
        base = self.top
        self.top = (base + max(nbytes, 1) + 255) // 256 * 256 + 256
        assert self.top <= len(self.buf)
        self.allocs.append([base, nbytes, name])
        self.buf[base:base + nbytes] = bytes(nbytes) if data is None else data
        assert data is None or len(data) == nbytes
        return base

    def read(self, base, nbytes):
        return bytes(self.buf[base:base + nbytes])


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF).hex()


def u64(v):
    return struct.pack("<Q", v).hex()


def f32(v):
    return struct.pack("<f", v).hex()


class Runner:
    def __init__(self, weft, workdir, seed):
        self.weft, self.dir, self.seed = weft, workdir, seed
        self.failures, self.checks, self.n = [], 0, 0

    def emit(self, kernel, params=(), debug=False, arch="sm_90a"):
        d = os.path.join(self.dir, "ptx", kernel + "_" + "_".join(params) + ("_dbg" if debug else ""))
        cmd = [self.weft, "emit", kernel, "--arch", arch, "-o", d] + (["--debug-waits"] if debug else [])
        for p in params:
            cmd += ["--param", p]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(d, f"{kernel}.{arch}.ptx")) as f:
            return f.read()

    def launch(self, ptx, entry, arena, grid, block, params, cluster=(1, 1, 1), dynamic_smem=0, globals_=None,
               extra=None):
        """Writes the PTX, the arena and the request, runs the bridge; returns (exit code, result or None,
        stderr) and reads the arena back into `arena`."""
        return self.finish(self.start(ptx, entry, arena, grid, block, params, cluster, dynamic_smem, globals_,
                                      extra))

    def start(self, ptx, entry, arena, grid, block, params, cluster=(1, 1, 1), dynamic_smem=0, globals_=None,
              extra=None):
        """launch()'s first half: starts the bridge and returns at once (finish() waits for it)."""
        self.n += 1
        base = os.path.join(self.dir, f"launch{self.n}")
        with open(base + ".ptx", "w") as f:
            f.write(ptx)
        with open(base + ".bin", "wb") as f:
            f.write(arena.buf)
        req = {"ptx": base + ".ptx", "entry": entry, "grid": list(grid), "block": list(block),
               "cluster": list(cluster), "dynamic_smem": dynamic_smem, "params": params, "memory": base + ".bin",
               "size": len(arena.buf), "allocations": arena.allocs, "globals": globals_ or {}, "seed": self.seed,
               "result": base + ".result.json", **(extra or {})}
        with open(base + ".json", "w") as f:
            json.dump(req, f)
        p = subprocess.Popen([sys.executable, BRIDGE, base + ".json"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        return p, base, arena

    def finish(self, started, timeout=120):
        """Waits for a start()ed bridge (killed after `timeout` s: exit code None); returns launch()'s
        (exit code, result or None, stderr) and reads the arena back."""
        p, base, arena = started
        try:
            _, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            rc, err = None, f"killed after {timeout} s: " + err
        with open(base + ".bin", "rb") as f:
            arena.buf[:] = f.read()
        result = None
        if os.path.exists(base + ".result.json"):
            with open(base + ".result.json") as f:
                result = json.load(f)
        return rc, result, err

    def check(self, name, fn):
        t = time.time()
        self.checks += 1
        try:
            problems = fn()
        except Exception as ex:  # a broken check: a failure
            problems = [f"{type(ex).__name__}: {ex}"]
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {name} [{time.time() - t:.1f}s]" + "".join(f"\n      {p}" for p in problems or []), flush=True)
        if problems:
            self.failures.append(f"{name}: {problems[0][:300]}")


def expect_status(rc, result, stderr, status):
    if rc != 0 or result is None:
        return [f"device_launch.py exited {rc} with no result: {stderr.strip()[-500:]}"]
    if result["status"] != status:
        return [f"status {result['status']!r}, want {status!r}: {result['message'][:600]}"]
    for key in ("message", "instructions", "rounds", "seconds"):
        if key not in result:
            return [f"the result has no {key!r}"]
    return []


# ---------------- the basic samples ----------------
def check_vector_add(run, ptx, mode="ok"):
    rng = np.random.default_rng(run.seed)
    n = 1000
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    ar = Arena()
    da = ar.alloc(4 * n + (4 if mode == "misaligned" else 0), "a", a.tobytes() + (bytes(4) if mode == "misaligned"
                                                                                 else b""))
    db = ar.alloc(4 * n, "b", b.tobytes())
    dc = ar.alloc(4 * (n if mode != "illegal_address" else 256), "c")
    params = [u32(n), u64(da + (2 if mode == "misaligned" else 0)), u64(db), u64(dc)]
    if mode == "bad_request":
        rc, result, err = run.launch(ptx, "vector_add", ar, (4, 1, 1), (256, 1, 1), params[:3])
        if rc != 2 or result is not None or "parameters" not in err:
            return [f"a request with 3 of 4 parameters: exit {rc}, result {result}, stderr {err.strip()[-300:]!r}; "
                    f"want exit 2, no result and the reason"]
        return []
    cluster = (1, 2, 1) if mode == "unsupported" else (1, 1, 1)
    rc, result, err = run.launch(ptx, "vector_add", ar, (4, 2, 1) if mode == "unsupported" else (4, 1, 1),
                                 (256, 1, 1), params, cluster=cluster,
                                 extra={"resident_ctas": 2} if mode == "ok" else None)
    problems = expect_status(rc, result, err, mode)
    if problems or mode != "ok":
        if not problems and mode == "illegal_address" and "outside allocation c" not in result["message"]:
            problems.append(f"the message does not name allocation c: {result['message'][:300]}")
        return problems
    got = np.frombuffer(ar.read(dc, 4 * n), dtype=np.float32)
    if not np.array_equal(got, a + b):
        i = int(np.flatnonzero(got != a + b)[0])
        return [f"c[{i}] = {got[i]}, want {a[i] + b[i]}"]
    return []


def check_basics(run):
    rng = np.random.default_rng(run.seed + 1)
    problems = []

    def ok(name, rc, result, err):
        p = expect_status(rc, result, err, "ok")
        problems.extend(f"{name}: {x}" for x in p)
        return not p

    # saxpy: y = a x + y, its entry appended to vector_add's module (a module of two entries)
    n = 600
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    ar = Arena()
    dx, dy = ar.alloc(4 * n, "x", x.tobytes()), ar.alloc(4 * n, "y", y.tobytes())
    saxpy = run.emit("saxpy")
    two = run.emit("vector_add") + "\n" + saxpy[saxpy.index(".visible .entry"):]
    if ok("saxpy", *run.launch(two, "saxpy", ar, (3, 1, 1), (256, 1, 1), [u32(n), f32(1.75), u64(dx), u64(dy)])):
        got = np.frombuffer(ar.read(dy, 4 * n), dtype=np.float32).astype(np.float64)
        want = 1.75 * x.astype(np.float64) + y
        if np.max(np.abs(got - want)) > 1e-6 * (1 + np.max(np.abs(want))):
            problems.append(f"saxpy: max error {np.max(np.abs(got - want))}")
    # reduce_sum: *out += sum of in (a grid stride over 2 CTAs)
    n = 3000
    v = rng.standard_normal(n).astype(np.float32)
    ar = Arena()
    din, dout = ar.alloc(4 * n, "in", v.tobytes()), ar.alloc(4, "out", struct.pack("<f", 0.5))
    if ok("reduce_sum", *run.launch(run.emit("reduce_sum"), "reduce_sum", ar, (2, 1, 1), (256, 1, 1),
                                    [u32(n), u64(din), u64(dout)])):
        got = struct.unpack("<f", ar.read(dout, 4))[0]
        want = 0.5 + float(np.sum(v.astype(np.float64)))
        if abs(got - want) > 1e-4 * (1 + np.sum(np.abs(v))):
            problems.append(f"reduce_sum: {got}, want {want}")
    # scan: inclusive prefix sums of u32 per 256-element segment, and each segment's total
    n = 700
    v = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    ar = Arena()
    din, dout, dsums = ar.alloc(4 * n, "in", v.tobytes()), ar.alloc(4 * n, "out"), ar.alloc(4 * 3, "block_sums")
    if ok("scan", *run.launch(run.emit("scan"), "scan", ar, (3, 1, 1), (256, 1, 1),
                              [u32(n), u64(din), u64(dout), u64(dsums)])):
        want = np.concatenate([np.cumsum(v[i:i + 256], dtype=np.uint32) for i in range(0, n, 256)])
        got = np.frombuffer(ar.read(dout, 4 * n), dtype=np.uint32)
        sums = np.frombuffer(ar.read(dsums, 12), dtype=np.uint32)
        if not np.array_equal(got, want) or not np.array_equal(sums, want[[255, 511, n - 1]]):
            problems.append("scan: prefix sums or block_sums differ")
    # transpose: out[x][y] = in[y][x], 32 x 8 blocks, one per 32 x 32 tile
    w, h = 70, 45
    v = rng.standard_normal((h, w)).astype(np.float32)
    ar = Arena()
    din, dout = ar.alloc(4 * w * h, "in", v.tobytes()), ar.alloc(4 * w * h, "out")
    if ok("transpose", *run.launch(run.emit("transpose"), "transpose", ar, (3, 2, 1), (32, 8, 1),
                                   [u32(w), u32(h), u64(din), u64(dout)])):
        got = np.frombuffer(ar.read(dout, 4 * w * h), dtype=np.float32).reshape(w, h)
        if not np.array_equal(got, v.T):
            problems.append("transpose: out differs from in transposed")
    # histogram: hist[b] += count of bytes b
    n = 900
    v = rng.integers(0, 256, n).astype(np.uint8)
    ar = Arena()
    start = rng.integers(0, 1000, 256).astype(np.uint32)
    ddata, dhist = ar.alloc(n, "data", v.tobytes()), ar.alloc(1024, "hist", start.tobytes())
    if ok("histogram", *run.launch(run.emit("histogram"), "histogram", ar, (2, 1, 1), (256, 1, 1),
                                   [u32(n), u64(ddata), u64(dhist)])):
        got = np.frombuffer(ar.read(dhist, 1024), dtype=np.uint32)
        if not np.array_equal(got, start + np.bincount(v, minlength=256).astype(np.uint32)):
            problems.append("histogram: counts differ")
    return problems


# ---------------- hand-written kernels: parameters through registers, partial warps, static tiles ----
HAND = r"""
.version 8.0
.target sm_90a
.address_size 64

.shared .align 8 .b8 bar[8];
.shared .align 128 .b8 pad[16];
.shared .align 1024 .b8 tile[2048];
.shared .align 128 .b8 raw[1024];

// out[tid] = the tid-th 8 bytes of tmap, read through a register (+ skip bytes)
.visible .entry param_echo(.param .align 64 .b8 tmap[128], .param .u64 out, .param .u32 skip)
.reqntid 16, 1, 1
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<10>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r2, [skip];
  mov.u32 %r1, %tid.x;
  mov.u64 %rd3, tmap;
  mul.wide.u32 %rd4, %r1, 8;
  cvt.u64.u32 %rd8, %r2;
  add.s64 %rd5, %rd3, %rd4;
  add.s64 %rd5, %rd5, %rd8;
  ld.param.u64 %rd6, [%rd5];
  add.s64 %rd7, %rd1, %rd4;
  st.global.u64 [%rd7], %rd6;
  ret;
}

// a shuffle in a CTA of 16 threads: the missing lanes are named by the full member mask
.visible .entry partial_shfl(.param .u64 out)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  shfl.sync.bfly.b32 %r2, %r1, 1, 31, 0xffffffff;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r2;
  ret;
}

// a TMA box (64 x 16 bf16, 128B swizzle) into the static `tile` (+ shift bytes) and a 1024-byte bulk
// copy into the static `raw`, one mbarrier; then every thread copies 16 bytes of tile and 8 of raw out
.visible .entry static_tma(.param .align 64 .b8 tmap[128], .param .u64 src, .param .u64 out, .param .u32 shift)
.reqntid 128, 1, 1
{
  .reg .pred %p<4>;
  .reg .b32 %r<20>;
  .reg .b64 %rd<12>;
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  mov.u32 %r2, bar;
  @%p1 bra SYNC;
  mbarrier.init.shared::cta.b64 [%r2], 1;
  fence.mbarrier_init.release.cluster;
SYNC:
  bar.sync 0;
  @%p1 bra WAIT;
  mbarrier.arrive.expect_tx.shared::cta.b64 %rd1, [%r2], 3072;
  ld.param.u32 %r5, [shift];
  mov.u32 %r3, tile;
  add.u32 %r3, %r3, %r5;
  mov.u64 %rd10, tmap;
  cvta.param.u64 %rd2, %rd10;
  mov.u32 %r4, 0;
  cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r3], [%rd2, {%r4, %r4}], [%r2];
  ld.param.u64 %rd3, [src];
  mov.u32 %r6, raw;
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%r6], [%rd3], 1024, [%r2];
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
  @!%p2 bra WAIT;
  ld.param.u64 %rd4, [out];
  shl.b32 %r7, %r1, 4;
  mov.u32 %r8, tile;
  add.u32 %r8, %r8, %r7;
  ld.shared.v4.u32 {%r10, %r11, %r12, %r13}, [%r8];
  cvt.u64.u32 %rd5, %r7;
  add.s64 %rd6, %rd4, %rd5;
  st.global.v4.u32 [%rd6], {%r10, %r11, %r12, %r13};
  shl.b32 %r9, %r1, 3;
  mov.u32 %r14, raw;
  add.u32 %r14, %r14, %r9;
  ld.shared.u64 %rd7, [%r14];
  cvt.u64.u32 %rd8, %r9;
  add.s64 %rd9, %rd4, %rd8;
  st.global.u64 [%rd9+2048], %rd7;
  ret;
}
"""


def check_hand(run, what):
    """what: "ok" (every kernel right), "param_past" (param_echo reads 8 bytes past tmap: illegal_address),
    "partial_shfl" (unsupported), "straddle" (the TMA box shifted by 1024 bytes, across the end of `tile`
    into `raw`: illegal_address), "misaligned" (shifted by 128: not on the 128B swizzle's 1024 bytes)."""
    rng = np.random.default_rng(run.seed + 2)
    problems = []
    if what in ("ok", "param_past"):
        blob = rng.integers(0, 256, 128, dtype=np.uint8).tobytes()
        ar = Arena()
        dout = ar.alloc(128, "out")
        rc, result, err = run.launch(HAND, "param_echo", ar, (1, 1, 1), (16, 1, 1),
                                     [blob.hex(), u64(dout), u32(8 if what == "param_past" else 0)])
        problems += [f"param_echo: {x}" for x in expect_status(rc, result, err,
                                                               "ok" if what == "ok" else "illegal_address")]
        if not problems and what == "ok" and ar.read(dout, 128) != blob:
            problems.append("param_echo: out differs from the parameter's bytes")
        if what != "ok":
            return problems
    if what in ("ok", "partial_shfl"):
        ar = Arena()
        dout = ar.alloc(64, "out")
        rc, result, err = run.launch(HAND, "partial_shfl", ar, (1, 1, 1), (16, 1, 1), [u64(dout)])
        problems += [f"partial_shfl: {x}" for x in expect_status(rc, result, err, "unsupported")]
        if what != "ok":
            return problems
    # static_tma: a 64 x 16 bf16 tensor (rows of 128 bytes), one box of all of it
    g = rng.integers(0, 256, 2048, dtype=np.uint8)
    src = rng.integers(0, 256, 1024, dtype=np.uint8)
    ar = Arena()
    dg = ar.alloc(2048, "tensor", g.tobytes())
    ds = ar.alloc(1024, "src", src.tobytes())
    dout = ar.alloc(3072, "out")
    tmap = host.tensor_map(dg, 2, [64, 16], [128], [64, 16], swizzle=128)
    shift = {"ok": 0, "straddle": 1024, "misaligned": 128}[what]
    rc, result, err = run.launch(HAND, "static_tma", ar, (1, 1, 1), (128, 1, 1),
                                 [tmap.hex(), u64(ds), u64(dout), u32(shift)])
    problems += [f"static_tma: {x}" for x in expect_status(rc, result, err, "ok" if what == "ok" else
                                                           "illegal_address" if what == "straddle" else what)]
    if problems or what != "ok":
        return problems
    got = np.frombuffer(ar.read(dout, 3072), dtype=np.uint8)
    # the 128B swizzle as the PTX ISA draws it: within each 1024 bytes, the 16-byte chunk c of row r
    # (128-byte rows) is stored at chunk c ^ (r % 8)
    want = np.empty(2048, dtype=np.uint8)
    for r in range(16):
        for c in range(8):
            want[r * 128 + (c ^ (r % 8)) * 16:][:16] = g[r * 128 + c * 16:][:16]
    if not np.array_equal(got[:2048], want):
        problems.append("static_tma: the tile's bytes are not the swizzled box")
    if not np.array_equal(got[2048:], src):
        problems.append("static_tma: the bulk copy's bytes differ")
    return problems


# ---------------- hand-written: calls, frames, .local memory, fma.rn.f32 rounded once ----------------
CALLS = r"""
.version 8.0
.target sm_90
.address_size 64

// mix(a, b, skip) = 3 a + b, both through a 16-byte .local array of its frame: 3 a by local-window
// address, b by a generic one (cvta.local) skip words further; its registers clash with the caller's
.func (.param .b32 mix_ret) mix(.param .b32 mix_a, .param .b32 mix_b, .param .b32 mix_skip)
{
  .local .align 8 .b8 depot[16];
  .reg .b32 %r<6>;
  .reg .b64 %rd<3>;
  .reg .b64 %SP;
  .reg .b64 %SPL;
  mov.u64 %SPL, depot;
  cvta.local.u64 %SP, %SPL;
  ld.param.b32 %r1, [mix_a];
  ld.param.b32 %r2, [mix_b];
  ld.param.b32 %r5, [mix_skip];
  mul.lo.u32 %r3, %r1, 3;
  st.local.u32 [%SPL+4], %r3;
  mul.wide.u32 %rd1, %r5, 4;
  add.s64 %rd2, %SP, %rd1;
  st.u32 [%rd2+8], %r2;
  ld.local.u32 %r3, [depot+4];
  ld.local.u32 %r4, [%SPL+8];
  add.u32 %r1, %r3, %r4;
  st.param.b32 [mix_ret], %r1;
  ret;
}

// out[tid] = mix(tid, 7, skip) + 1000 mix(tid + 100, tid, 0), the two results kept in the entry's own
// .local array; the second call in a scope of its own .param variables (as LLVM writes calls)
.visible .entry calls(.param .u64 out, .param .u32 skip)
.reqntid 64, 1, 1
{
  .local .align 4 .b8 keep[8];
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  .param .b32 c0_a;
  .param .b32 c0_b;
  .param .b32 c0_s;
  .param .b32 c0_ret;
  ld.param.u32 %r7, [skip];
  mov.u32 %r1, %tid.x;
  st.param.b32 [c0_a], %r1;
  st.param.b32 [c0_b], 7;
  st.param.b32 [c0_s], %r7;
  call.uni (c0_ret), mix, (c0_a, c0_b, c0_s);
  ld.param.b32 %r2, [c0_ret];
  st.local.u32 [keep], %r2;
  add.u32 %r3, %r1, 100;
  {
  .param .b32 param0;
  .param .b32 param1;
  .param .b32 param2;
  st.param.b32 [param0], %r3;
  st.param.b32 [param1], %r1;
  st.param.b32 [param2], 0;
  .param .b32 retval0;
  call.uni (retval0), mix, (param0, param1, param2);
  ld.param.b32 %r4, [retval0];
  }
  st.local.u32 [keep+4], %r4;
  ld.local.u32 %r5, [keep];
  ld.local.u32 %r6, [keep+4];
  mad.lo.u32 %r5, %r6, 1000, %r5;
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r5;
  ret;
}

// out[0..3] = fma.rn.f32 (1 + 2^-12)^2 +- 2^-80 and its negation: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 is
// halfway between two f32s, so the tiny addend decides; a double's rounding loses it (then ties to even)
.visible .entry fma_once(.param .u64 out)
{
  .reg .f32 %f<8>;
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [out];
  mov.f32 %f1, 0f3F800800;
  fma.rn.f32 %f2, %f1, %f1, 0f17800000;
  fma.rn.f32 %f3, %f1, %f1, 0f97800000;
  neg.f32 %f4, %f1;
  fma.rn.f32 %f5, %f4, %f1, 0f97800000;
  fma.rn.f32 %f6, %f4, %f1, 0f17800000;
  st.global.v4.f32 [%rd1], {%f2, %f3, %f5, %f6};
  ret;
}
"""


def check_calls(run, what):
    """what: "ok" (calls: out[tid] = 3 tid + 7 + 1000 (4 tid + 300); fma_once: 1 + 2^-11 + 2^-23, 1 + 2^-11,
    and their negations), "local_past" (mix's generic store 2 words past its frame: illegal_address)."""
    ar = Arena()
    dout = ar.alloc(4 * 64, "out")
    rc, result, err = run.launch(CALLS, "calls", ar, (1, 1, 1), (64, 1, 1), [u64(dout), u32(2 if what != "ok" else 0)])
    problems = [f"calls: {x}" for x in expect_status(rc, result, err, "ok" if what == "ok" else "illegal_address")]
    if problems or what != "ok":
        if not problems and "local" not in result["message"]:
            problems.append(f"the message does not say local memory: {result['message'][:300]}")
        return problems
    got = np.frombuffer(ar.read(dout, 4 * 64), dtype=np.uint32)
    tid = np.arange(64, dtype=np.uint32)
    want = 3 * tid + 7 + 1000 * (4 * tid + 300)
    if not np.array_equal(got, want):
        i = int(np.flatnonzero(got != want)[0])
        problems.append(f"calls: out[{i}] = {got[i]}, want {want[i]}")
    ar = Arena()
    dout = ar.alloc(16, "out")
    rc, result, err = run.launch(CALLS, "fma_once", ar, (1, 1, 1), (1, 1, 1), [u64(dout)])
    problems += [f"fma_once: {x}" for x in expect_status(rc, result, err, "ok")]
    if not problems:
        got = [hex(v) for v in np.frombuffer(ar.read(dout, 16), dtype=np.uint32)]
        want = ["0x3f801001", "0x3f801000", "0xbf801001", "0xbf801000"]
        if got != want:
            problems.append(f"fma_once: {got}, want {want} (the exact a * b + c rounded once)")
    return problems


# ---------------- the Hopper GEMM with debug waits ----------------
def expect_tx_plus_16(text):
    new, n = re.subn(r"(mbarrier\.arrive\.expect_tx\.shared\.b64 _, \[%r\d+\], )(\d+);",
                     lambda m: f"{m.group(1)}{int(m.group(2)) + 16};", text)
    assert n >= 1, "no expect_tx to mutate"
    return new


def wait_report_lines(text):
    """The source lines the debug waits report (word 1), in PTX order."""
    return [int(x) for x in re.findall(r"mov\.u32 (%r\d+), (\d+);\s*st\.volatile\.u32 \[%rd\d+\+4\], \1;", text)
            for x in [x[1]]]


def gemm(run, ptx, m, n, k, grid, debug, status):
    """One launch of the small gemm_bf16_sm90; returns problems."""
    rng = np.random.default_rng(run.seed + 2)
    a = E.f_to_bf16_bits(rng.uniform(-1, 1, (m, k)))
    b = E.f_to_bf16_bits(rng.uniform(-1, 1, (n, k)))
    c = E.f_to_bf16_bits(rng.uniform(-1, 1, (m, n)))
    ar = Arena()
    da, db, dc = ar.alloc(a.nbytes, "A", a.tobytes()), ar.alloc(b.nbytes, "B", b.tobytes()), \
        ar.alloc(c.nbytes, "C", c.tobytes())
    dd = ar.alloc(2 * m * n, "D", b"\xff" * (2 * m * n))
    globals_ = {}
    report = None
    if debug:  # the report in host-mapped memory, the module's global holding its address
        report = ar.alloc(32, "debug_wait_report")
        globals_["weft_debug_wait"] = ar.alloc(8, "weft_debug_wait", struct.pack("<Q", report))
    alpha, beta = 1.5, 0.5
    params = [u32(m), u32(n), u32(k), f32(alpha), f32(beta),
              host.tensor_map(da, 2, [k, m], [k * 2], [BK, BM], 128).hex(),
              host.tensor_map(db, 2, [k, n], [k * 2], [BK, 32], 128).hex(), u64(dc), u64(dd)]
    smem = int(re.search(r"//! dynamic_smem (\d+)", ptx).group(1))
    rc, result, err = run.launch(ptx, GEMM, ar, (grid, 1, 1), (384, 1, 1), params, dynamic_smem=smem,
                                 globals_=globals_)
    problems = expect_status(rc, result, err, status)
    if problems:
        return problems
    words = np.frombuffer(ar.read(report, 32), dtype=np.uint32) if debug else None
    if status == "ok":
        want = alpha * (E.bf16_bits_to_f64(a) @ E.bf16_bits_to_f64(b).T) + beta * E.bf16_bits_to_f64(c)
        got = E.bf16_bits_to_f64(np.frombuffer(ar.read(dd, 2 * m * n), dtype=np.uint16)).reshape(m, n)
        err_ = np.linalg.norm(got - want) / np.linalg.norm(want) if np.all(np.isfinite(got)) else float("inf")
        if not err_ <= 1e-2:
            problems.append(f"D: relative Frobenius error {err_:.3g} (want <= 1e-2)")
        if debug and bytes(ar.read(report, 32)) != bytes(32):
            problems.append(f"the debug-wait report was written by a correct run: {words.tolist()}")
    elif status == "trap":
        lines = wait_report_lines(ptx)
        if len(lines) < 2:
            return [f"found {len(lines)} debug-wait reports in the PTX, want the producer's and the consumers'"]
        # The consumers' full-barrier wait in their MMA loop: in PTX order the producer's empty-barrier
        # wait comes first, then that one; an idle warpgroup's wait (rows past M, none at M = 128) after.
        want_line = lines[1]
        if words[0] != 1 or words[1] != want_line or words[4] != 0:
            problems.append(f"report words {words[:6].tolist()}: want taken 1, line {want_line} (the consumers' "
                            f"full-barrier wait), kind 0 (mbarrier)")
        if "trap" not in result["message"]:
            problems.append(f"the message does not say trap: {result['message'][:300]}")
    elif status == "deadlock" and "deadlock" not in result["message"]:
        problems.append(f"the message does not say deadlock: {result['message'][:300]}")
    return problems


# ---------------- the shared world: VMM mappings two launch processes share ----------------
VMM_BYTES = 2 << 20  # a cuMemCreate allocation's memory (its file: these, then a 4096-byte trailer)
WORLD = r"""
.version 8.0
.target sm_90
.address_size 64

// n rounds of ping-pong between two processes, thread 0 only: `inbox` (in this process's own VMM
// buffer, which the peer maps) holds [flag, data, sum, busy], `outbox` is the peer's inbox (its buffer,
// mapped here). First, busy > 0: store 0 .. busy - 1 to inbox[3] (local work that takes a while).
// Then first = 1: send round i (data 3 i + 1, then flag i), wait for the reply; first = 0: wait for
// round i, then reply (data 3 i). The received data summed into inbox[2] at the end. Each wait spins
// with ld.acquire.sys + nanosleep and gives up after 2 s of %globaltimer (a debug wait): report[0] =
// the round, then trap.
.visible .entry pingpong(.param .u64 inbox, .param .u64 outbox, .param .u32 n, .param .u32 first,
                         .param .u64 report, .param .u32 busy)
{
  .reg .pred %p<8>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<8>;
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra DONE;
  ld.param.u64 %rd1, [inbox];
  ld.param.u64 %rd2, [outbox];
  ld.param.u32 %r2, [n];
  ld.param.u32 %r3, [first];
  ld.param.u32 %r9, [busy];
  mov.u32 %r10, 0;
  setp.eq.u32 %p6, %r9, 0;
  @%p6 bra START;
BUSY:
  st.global.u32 [%rd1+12], %r10;
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p7, %r10, %r9;
  @%p7 bra BUSY;
START:
  mov.u32 %r4, 1;
  mov.u32 %r5, 0;
  setp.eq.u32 %p2, %r3, 0;
LOOP:
  @%p2 bra WAIT;
SEND:
  mul.lo.u32 %r6, %r4, 3;
  add.u32 %r6, %r6, %r3;
  st.global.u32 [%rd2+4], %r6;
  st.release.sys.global.u32 [%rd2], %r4;
  @%p2 bra NEXT;
WAIT:
  mov.u64 %rd3, %globaltimer;
SPIN:
  ld.acquire.sys.global.u32 %r7, [%rd1];
  setp.ge.u32 %p3, %r7, %r4;
  @%p3 bra GOT;
  nanosleep.u32 200;
  mov.u64 %rd4, %globaltimer;
  sub.s64 %rd5, %rd4, %rd3;
  setp.gt.u64 %p4, %rd5, 2000000000;
  @%p4 bra TIMEOUT;
  bra.uni SPIN;
GOT:
  ld.global.u32 %r8, [%rd1+4];
  add.u32 %r5, %r5, %r8;
  @%p2 bra SEND;
NEXT:
  add.u32 %r4, %r4, 1;
  setp.le.u32 %p5, %r4, %r2;
  @%p5 bra LOOP;
  st.global.u32 [%rd1+8], %r5;
DONE:
  ret;
TIMEOUT:
  ld.param.u64 %rd6, [report];
  st.volatile.global.u32 [%rd6], %r4;
  trap;
}

// both processes: thread 0 of each CTA arrives on `arrive` and waits (bounded, as above) for `everyone`
// arrivals (the CTAs of both processes: they hammer at the same time); then every thread adds 3 to
// `counter` iters times: atom.gpu.add 1 and red.sys.add 2
.visible .entry hammer(.param .u64 counter, .param .u64 arrive, .param .u32 iters, .param .u32 everyone,
                       .param .u64 report)
{
  .reg .pred %p<6>;
  .reg .b32 %r<10>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [counter];
  ld.param.u64 %rd2, [arrive];
  ld.param.u32 %r2, [iters];
  ld.param.u32 %r3, [everyone];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra GO;
  atom.sys.global.add.u32 %r4, [%rd2], 1;
  mov.u64 %rd3, %globaltimer;
SPIN:
  ld.acquire.sys.global.u32 %r5, [%rd2];
  setp.ge.u32 %p2, %r5, %r3;
  @%p2 bra GO;
  nanosleep.u32 200;
  mov.u64 %rd4, %globaltimer;
  sub.s64 %rd5, %rd4, %rd3;
  setp.gt.u64 %p3, %rd5, 2000000000;
  @%p3 bra TIMEOUT;
  bra.uni SPIN;
GO:
  bar.sync 0;
  mov.u32 %r6, 0;
LOOP:
  atom.gpu.global.add.u32 %r7, [%rd1], 1;
  red.sys.global.add.u32 [%rd1], 2;
  add.u32 %r6, %r6, 1;
  setp.lt.u32 %p4, %r6, %r2;
  @%p4 bra LOOP;
  ret;
TIMEOUT:
  ld.param.u64 %rd6, [report];
  st.volatile.global.u32 [%rd6], %r5;
  trap;
}
"""


class VmmFile:
    """A cuMemCreate allocation as the fake driver keeps it: a memfd of VMM_BYTES + a 4096-byte trailer
    (magic, size, heartbeat), named to the launch processes as /proc/<this pid>/fd/<n>."""

    def __init__(self, name, nbytes=VMM_BYTES, trailer=True):
        self.fd = os.memfd_create(name)
        self.bytes = nbytes
        os.ftruncate(self.fd, nbytes + (4096 if trailer else 0))
        if trailer:
            os.pwrite(self.fd, b"WEFTVMM1" + struct.pack("<QQ", nbytes, 0), nbytes)
        self.path = f"/proc/{os.getpid()}/fd/{self.fd}"
        self.heartbeat = nbytes + 16
        self.bumped = 0

    def mapping(self, va):
        return [va, self.bytes, self.path, self.heartbeat]

    def u32(self, off):
        return struct.unpack("<I", os.pread(self.fd, 4, off))[0]

    def beat(self):
        return struct.unpack("<Q", os.pread(self.fd, 8, self.heartbeat))[0]

    def bump(self):
        """The heartbeat + 1, as the driver's host copies and launches do (bumped: the value written)."""
        self.bumped = self.beat() + 1
        os.pwrite(self.fd, struct.pack("<Q", self.bumped), self.heartbeat)

    def close(self):
        os.close(self.fd)


def world_arena(maps):
    """An arena of 1 MiB with a report word, and `maps` (mappings) listed as allocations too."""
    ar = Arena(1 << 20)
    report = ar.alloc(16, "report")
    ar.allocs += [[m[0], m[1], "cuMemMap"] for m in maps]
    ar.allocs.sort()
    return ar, report


# each process maps both files, at addresses of its own: A's own buffer X, B's own buffer Y
VA_A = {"X": 0x400000, "Y": 0x800000}
VA_B = {"Y": 0x400000, "X": 0xA00000}


def check_world_pingpong(run, mode, n=12, delay=1.0, busy=400_000):
    """Processes A and B ping-pong n rounds through each other's buffers. mode "late": A's world_grace_s
    0.5, B started `delay` s after A, its host (this process, as the driver does on copies) bumping B's
    buffer's heartbeat every 0.1 s and on until B's kernel runs, which is busy (`busy` stores, 0.6 to
    2 s as its warp's random speed has it; its launch bumping the heartbeats) before its first reply: A must wait for it all, never
    jump its clock. mode "never": B never starts, A's world_grace_s 2: A must trap after 2 s and say
    the heartbeats did not move."""
    x, y = VmmFile("weft-check-X"), VmmFile("weft-check-Y")
    os.pwrite(y.fd, struct.pack("<I", 0xFFFFFFFF), 12)  # B's busy word: it changes once B's kernel runs
    try:
        grace = 2 if mode == "never" else 0.5
        procs = {}
        for who, va, inbox, outbox, first in (("A", VA_A, "X", "Y", 1), ("B", VA_B, "Y", "X", 0)):
            if who == "B" and mode == "never":
                break
            maps = [x.mapping(va["X"]), y.mapping(va["Y"])]
            ar, report = world_arena(maps)
            if who == "B":  # B's host at work: its heartbeat moves
                t_end = time.time() + delay
                while time.time() < t_end:
                    y.bump()
                    time.sleep(0.1)
            procs[who] = (run.start(WORLD, "pingpong", ar, (1, 1, 1), (32, 1, 1),
                                    [u64(va[inbox]), u64(va[outbox]), u32(n), u32(first), u64(report),
                                     u32(busy if who == "B" else 0)],
                                    extra={"mappings": maps, "world_grace_s": grace}), report, time.time())
            if who == "B":  # and on, until B's kernel runs (its startup takes a while): then only its bumps
                t_end = time.time() + 20
                while y.u32(12) == 0xFFFFFFFF and time.time() < t_end and procs["B"][0][0].poll() is None:
                    y.bump()
                    time.sleep(0.05)
        problems = []
        out = {}
        for who, (started, report, t) in procs.items():
            rc, result, err = run.finish(started, timeout=60)
            out[who] = (rc, result, err, started[2].read(report, 4), time.time() - t)
        if mode == "never":  # a trap: the bounded wait timed out (every spinning reader sees each clock jump)
            rc, result, err, rep, took = out["A"]
            problems += expect_status(rc, result, err, "trap")
            if problems:
                return problems
            if "heartbeats did not move" not in result["message"]:
                problems.append(f"the {result['status']}'s message does not say the heartbeats did not move: "
                                f"{result['message'][-300:]}")
            if result["status"] == "trap" and struct.unpack("<I", rep)[0] != 1:
                problems.append(f"report {struct.unpack('<I', rep)[0]}, want 1 (the first round's wait timed out)")
            if not grace <= took < grace + 15:
                problems.append(f"A took {took:.1f} s, want world_grace_s {grace} to {grace + 15} s")
            if y.u32(0) != 1 or y.u32(4) != 4:
                problems.append(f"B's inbox [{y.u32(0)}, {y.u32(4)}], want A's first ping [1, 4]")
            return problems
        for who in ("A", "B"):
            rc, result, err, rep, took = out[who]
            problems += [f"{who}: {p}" for p in expect_status(rc, result, err, "ok")]
        if problems:
            return problems
        tri = 3 * n * (n + 1) // 2
        want = {"X": [n, 3 * n, tri, 0], "Y": [n, 3 * n + 1, tri + n, busy - 1]}
        for name, f in (("X", x), ("Y", y)):
            got = [f.u32(0), f.u32(4), f.u32(8), f.u32(12)]
            if got != want[name]:
                problems.append(f"{name} (the inbox of {'A' if name == 'X' else 'B'}): [flag, data, sum, busy] "
                                f"{got}, want {want[name]}")
        if x.beat() == 0 or y.beat() == y.bumped:
            problems.append(f"heartbeats {x.beat()}, {y.beat()}: the launches did not bump them")
        return problems
    finally:
        x.close()
        y.close()


def check_world_atomics(run, ctas=2, block=128, iters=16):
    """A and B (started together) each add 3 to one word of X (mapped at different addresses) iters
    times from every thread: the total must be exact."""
    x, y = VmmFile("weft-check-X"), VmmFile("weft-check-Y")
    try:
        os.pwrite(x.fd, struct.pack("<I", 1000), 64)  # the counter, at X + 64; arrivals at X + 128
        procs = {}
        for who, va in (("A", VA_A), ("B", VA_B)):
            maps = [x.mapping(va["X"]), y.mapping(va["Y"])]
            ar, report = world_arena(maps)
            procs[who] = run.start(WORLD, "hammer", ar, (ctas, 1, 1), (block, 1, 1),
                                   [u64(va["X"] + 64), u64(va["X"] + 128), u32(iters), u32(2 * ctas), u64(report)],
                                   extra={"mappings": maps, "world_grace_s": 10})
        problems = []
        for who, started in procs.items():
            problems += [f"{who}: {p}" for p in expect_status(*run.finish(started, timeout=60), "ok")]
        if problems:
            return problems
        want = 1000 + 2 * ctas * block * iters * 3
        if x.u32(64) != want or x.u32(128) != 2 * ctas:
            problems.append(f"counter {x.u32(64)} (want {want}), arrivals {x.u32(128)} (want {2 * ctas}): atomics "
                            f"were lost between the processes")
        return problems
    finally:
        x.close()
        y.close()


def check_world_bad(run):
    """Requests whose mappings break the rules: exit 2, no result, the reason on stderr."""
    x, small = VmmFile("weft-check-X"), VmmFile("weft-check-small", trailer=False)
    problems = []
    try:
        cases = [
            ("overlapping mappings", [x.mapping(0x400000), [0x500000, VMM_BYTES, x.path, x.heartbeat]], "overlap"),
            ("a mapping over the arena", [x.mapping(0x80000)], "overlaps the arena"),
            ("a file too small for its heartbeat", [small.mapping(0x400000)], "fewer than"),
            ("va not on a page", [x.mapping(0x400800)], "multiples of"),
            ("an allocation in a hole", [x.mapping(0x400000)], "neither inside"),
        ]
        for what, maps, reason in cases:
            ar, report = world_arena(maps)
            if what == "an allocation in a hole":
                ar.allocs.append([0x300000, 64, "stray"])
                ar.allocs.sort()
            rc, result, err = run.launch(WORLD, "pingpong", ar, (1, 1, 1), (32, 1, 1),
                                         [u64(0x400000), u64(0x400000), u32(1), u32(1), u64(report), u32(0)],
                                         extra={"mappings": maps})
            if rc != 2 or result is not None or reason not in err:
                problems.append(f"{what}: exit {rc}, result {result}, stderr {err.strip()[-300:]!r}; want exit 2, no "
                                f"result and a reason with {reason!r}")
    finally:
        x.close()
        small.close()
    return problems


def main():
    ap = argparse.ArgumentParser(description="device_launch.py's checks")
    ap.add_argument("--weft", default=os.environ.get("WEFT"), help="the weft CLI (default $WEFT)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="keep the requests, arenas and results in this directory")
    args = ap.parse_args()
    if not args.weft or not os.path.exists(args.weft):
        print("device_launch_checks.py: --weft PATH (or $WEFT) must name the weft CLI", file=sys.stderr)
        return 2
    t0 = time.time()
    workdir = args.keep or tempfile.mkdtemp(prefix="device_launch_")
    os.makedirs(workdir, exist_ok=True)
    run = Runner(os.path.abspath(args.weft), workdir, args.seed)
    try:
        vadd = run.emit("vector_add")
        run.check("vector_add (2 CTAs resident at a time): ok, c = a + b", lambda: check_vector_add(run, vadd))
        run.check("basics: saxpy (the second entry of a module), reduce_sum, scan, transpose (2-D block), histogram",
                  lambda: check_basics(run))
        run.check("hand-written: ld.param through a register, a 16-thread CTA, TMA and a bulk copy into static "
                  "shared arrays: ok", lambda: check_hand(run, "ok"))
        run.check("hand-written: ld.param past the byte array: illegal_address", lambda: check_hand(run, "param_past"))
        run.check("hand-written: shfl.sync in a partial warp: unsupported", lambda: check_hand(run, "partial_shfl"))
        run.check("hand-written: a TMA box across the end of a static array: illegal_address",
                  lambda: check_hand(run, "straddle"))
        run.check("hand-written: a 128B-swizzled TMA box off its 1024-byte pattern: misaligned",
                  lambda: check_hand(run, "misaligned"))
        run.check("hand-written: calls of a .func (two frames at once: its own registers, .param and .local "
                  "variables, generic local addresses), the entry's .local array, fma.rn.f32 rounded once: ok",
                  lambda: check_calls(run, "ok"))
        run.check("hand-written: a generic store past a function's .local frame: illegal_address",
                  lambda: check_calls(run, "local_past"))
        dbg = run.emit(GEMM, GEMM_PARAMS, debug=True)
        plain = run.emit(GEMM, GEMM_PARAMS)
        run.check(f"{GEMM} --debug-waits 192x64x128 on 2 CTAs: ok, D correct, no report",
                  lambda: gemm(run, dbg, 192, 64, 128, 2, True, "ok"))
        run.check(f"{GEMM} --debug-waits, expect_tx 16 bytes too many: trap, the report written",
                  lambda: gemm(run, expect_tx_plus_16(dbg), 128, 32, 64, 1, True, "trap"))
        run.check(f"{GEMM}, expect_tx 16 bytes too many: deadlock",
                  lambda: gemm(run, expect_tx_plus_16(plain), 128, 32, 64, 1, False, "deadlock"))
        run.check("vector_add, c too small: illegal_address", lambda: check_vector_add(run, vadd, "illegal_address"))
        run.check("vector_add, a misaligned: misaligned", lambda: check_vector_add(run, vadd, "misaligned"))
        run.check("vector_add, a cluster along y: unsupported", lambda: check_vector_add(run, vadd, "unsupported"))
        run.check("vector_add, a parameter missing: a bad request", lambda: check_vector_add(run, vadd, "bad_request"))
        run.check("shared world: A and B ping-pong 12 rounds through VMM files, B started 1 s late (its host "
                  "bumping the heartbeat) and busy 0.6+ s, A's world_grace_s 0.5: ok, counters exact",
                  lambda: check_world_pingpong(run, "late"))
        run.check("shared world: B never started, world_grace_s 2: A traps, the heartbeats did not move",
                  lambda: check_world_pingpong(run, "never"))
        run.check("shared world: A and B atom/red.add on one word of a shared VMM file: the total exact",
                  lambda: check_world_atomics(run))
        run.check("shared world: bad mappings (overlapping, over the arena, a file too small, off a page, an "
                  "allocation in a hole): bad requests", lambda: check_world_bad(run))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if run.failures:
        print(f"device_launch: {len(run.failures)} of {run.checks} checks FAILED:")
        for f in run.failures:
            print("  " + f)
        return 1
    print(f"device_launch: all {run.checks} checks passed in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
