"""wgmma for the PTX emulator (hopper.py dispatches to compile_wgmma):

- wgmma.mma_async (.ss, K-major operands, or B MN-major with imm-trans-b 1 for 16-bit types (see
  operand()), bf16 / f16 / e4m3 / e5m2 inputs, f32 accumulators,
  m64nNk16 / k32): the 64-bit shared-memory descriptors are decoded as the PTX ISA ("Matrix
  Descriptor Format", "Canonical Layouts") defines them for K-major operands: start address >> 4 in
  bits 0-13, leading byte offset in 16-29 (used only without swizzle), stride byte offset (8-row
  groups) in 32-45, base offset in 49-51 (must be 0), layout in 62-63 (1: 128B, 2: 64B, 3: 32B
  swizzle, 0: none). Element (row r, byte k of the instruction's K extent) is at start + (r % 8) *
  width + (r / 8) * SBO + k, swizzled as TMA does; the K extent must stay inside one swizzle row.
  D = A B^T (x imm-scale-a x imm-scale-b) (+ D when scale-d), summed in float64 and rounded once to
  f32 per instruction. Accumulator map (PTX ISA figure for m64nNk16 D, the same as CUTLASS's
  CLayout_64xN): register i of thread t of the warpgroup is row 16 (t / 32) + (t % 32) / 4 +
  8 ((i / 2) % 2), column 8 (i / 4) + 2 (t % 4) + i % 2. fence / commit_group / wait_group: with
  Emu(wgmma="wait") an instruction reads shared memory and writes its accumulators only at the
  wait_group that covers its group (so a stage released before that wait and refilled is caught);
  with "issue", at issue. Every wgmma instruction is warpgroup-collective (all 128 threads, same
  instruction, warpgroup-uniform descriptors). A wgmma.mma_async needs a wgmma.fence since the
  warpgroup's last completed wait_group unless every thread's accumulators still hold what wgmma last
  wrote to them (chaining); a thread exiting with wgmma groups pending is an error.
"""
import re

import numpy as np

import emulator as E
import tma as T

# ---------------- wgmma ----------------
E5M2 = np.array([((-1) ** (v >> 7)) * ((float("inf") if v & 3 == 0 else float("nan")) if (v >> 2) & 31 == 31 else
                                       (v & 3) / 4 * 2.0 ** -14 if (v >> 2) & 31 == 0 else
                                       (1 + (v & 3) / 4) * 2.0 ** (((v >> 2) & 31) - 15)) for v in range(256)])
WG_TYPES = {  # input type -> (bytes per element, decode: uint16 / uint8 values -> float64)
    "bf16": (2, E.bf16_bits_to_f64),
    "f16": (2, lambda v: np.asarray(v, dtype=np.uint16).view(np.float16).astype(np.float64)),
    "e4m3": (1, lambda v: E.E4M3[v]),
    "e5m2": (1, lambda v: E5M2[v]),
}
_dmaps = {}


def d_map(n):
    """(rows, cols) of accumulator register i of warpgroup thread t, arrays of shape (128, n / 2)."""
    if n not in _dmaps:
        tt = np.arange(128)[:, None]
        i = np.arange(n // 2)[None, :]
        _dmaps[n] = (16 * (tt // 32) + (tt % 32) // 4 + 8 * ((i // 2) % 2), 8 * (i // 4) + 2 * (tt % 4) + i % 2)
    return _dmaps[n]


class WgState:
    """One warpgroup's wgmma state: issued instructions not committed, committed groups (oldest
    first), whether a wgmma.fence came since the last completed wait_group, and what wgmma last wrote
    to each set of accumulators (registers -> values per thread)."""

    def __init__(self):
        self.open, self.groups, self.fenced, self.written = [], [], False, {}


def wg_state(lanes):
    return lanes[0].c.wg.setdefault(lanes[0].tid // 128, WgState())


def operand(t, desc, rows, kbytes, esize, what, mn_major=False):
    """Shared addresses of an operand's elements (rows x kbytes / esize: row = M or N index, column = K
    index) from its descriptor; K-major, or MN-major (imm-trans 1) with a swizzle: CUTLASS's canonical
    ((T,8,m),(8,k)) : ((1,T,LBO),(8T,SBO)) with T elements per 16 bytes, i.e. along MN one swizzle row
    of elements, the next swizzle row of MN elements LBO bytes further; along K 8 rows of the swizzle
    width, the next 8 K rows SBO bytes further."""
    start = (desc & 0x3FFF) << 4
    lbo, sbo = ((desc >> 16) & 0x3FFF) << 4, ((desc >> 32) & 0x3FFF) << 4
    base_off, layout = (desc >> 49) & 7, desc >> 62
    if base_off or (desc >> 46) & 0xFFFF & ~(7 << 3):  # bits 46-61 other than the base offset: reserved, 0
        raise E.EmuError(f"{what}: descriptor {desc:#018x}: base offset {base_off} or reserved bits set (the "
                         f"emulator models base offset 0: swizzle patterns from 1024-byte boundaries)")
    r = np.arange(rows)[:, None]
    k = np.arange(0, kbytes, esize)[None, :]
    if mn_major:
        if layout == 0:
            raise E.EmuError(f"{what}: descriptor {desc:#018x}: an MN-major operand without swizzle is not modelled",
                             "unsupported")
        width = {1: 128, 2: 64, 3: 32}[layout]
        per_row = width // esize  # MN elements in one swizzle row
        kk = k // esize
        a = T.swizzle(start + (r // per_row) * lbo + (kk // 8) * sbo + (kk % 8) * width + (r % per_row) * esize, width)
    elif layout == 0:
        a = start + (r % 8) * 16 + (r // 8) * sbo + (k // 16) * lbo + k % 16
    else:
        width = {1: 128, 2: 64, 3: 32}[layout]
        if start % width + kbytes > width:
            raise E.EmuError(f"{what}: descriptor {desc:#018x}: the K extent of {kbytes} bytes from start {start:#x} "
                             f"crosses a {width}-byte swizzle row")
        a = T.swizzle(start + (r % 8) * width + (r // 8) * sbo + k, width)
    smem = t.smem
    lo, hi = int(a.min()), int(a.max()) + esize
    smem.check_range(lo, hi, f"{what}: descriptor {desc:#018x} reads")
    T.async_read(t, smem, a, what)
    return a


def read_operand(t, desc, rows, kbytes, esize, decode, what, mn_major=False):
    a = operand(t, desc, rows, kbytes, esize, what, mn_major)
    g = t.smem.np
    v = g[a] if esize == 1 else g[a].astype(np.uint16) | (g[a + 1].astype(np.uint16) << 8)
    return decode(v)


def execute(ops, lanes, wg):
    """Runs wgmma instructions in order; an accumulator chain stays in float32 values between them."""
    cur = None  # (dregs, n, D as float64 holding f32 values)

    def flush():
        dregs, n, D = cur
        rows, cols = d_map(n)
        vals = D.astype(np.float32).view(np.uint32)[rows, cols].tolist()
        for t, v in zip(lanes, vals):
            r = t.r
            for x, b in zip(dregs, v):
                r[x] = b
        wg.written[dregs] = [tuple(v) for v in vals]

    for n, kk, esize, decode, dregs, ad, bd, sd, sa, sb, tb, text in ops:
        t0 = lanes[0]
        A = read_operand(t0, ad, 64, kk * esize, esize, decode, text)
        B = read_operand(t0, bd, n, kk * esize, esize, decode, text, mn_major=tb)
        D = (A @ B.T) * (sa * sb)
        if cur is not None and cur[0] != dregs:
            flush()
            cur = None
        if sd:
            if cur is None:
                rows, cols = d_map(n)
                try:
                    cw = np.array([[t.r[x] for x in dregs] for t in lanes], dtype=np.uint32)
                except KeyError as ex:
                    raise E.EmuError(f"{text}: scale-d reads accumulator {ex} before anything was written to it")
                C = np.zeros((64, n))
                C[rows, cols] = cw.view(np.float32)
            else:
                C = cur[2]
            D = D + C
        cur = (dregs, n, D.astype(np.float32).astype(np.float64))
    if cur is not None:
        flush()


def compile_wgmma(k, op, o, ops, text):
    if o[1] == "fence" and o[2:] == ["sync", "aligned"]:
        def run(lanes):
            wg_state(lanes).fenced = True
        return E.K_WG, None, run
    if o[1] == "commit_group" and o[2:] == ["sync", "aligned"]:
        def run(lanes):
            wg = wg_state(lanes)
            wg.groups.append(wg.open)
            wg.open = []
        return E.K_WG, None, run
    if o[1] == "wait_group" and o[2:] == ["sync", "aligned"]:
        keep = int(ops[0])

        def run(lanes):
            wg = wg_state(lanes)
            while len(wg.groups) > keep:
                g = wg.groups.pop(0)
                if lanes[0].emu.wgmma == "wait":
                    execute(g, lanes, wg)
                wg.fenced = False
        run.latency = 16  # the wait completes 0..16 rounds after the warpgroup reaches it: others run meanwhile
        return E.K_WG, None, run
    if o[1] != "mma_async" or o[2:4] != ["sync", "aligned"] or len(o) != 8:
        raise E.EmuError(f"unsupported instruction: {text}")
    shape, dty, aty, bty = o[4:8]
    m = re.fullmatch(r"m64n(\d+)k(\d+)", shape)
    if not m or dty != "f32" or aty != bty or aty not in WG_TYPES:
        raise E.EmuError(f"unsupported instruction: {text}")
    n, kk = int(m.group(1)), int(m.group(2))
    esize, decode = WG_TYPES[aty]
    if n % 8 or not 8 <= n <= 256 or kk * esize != 32:
        raise E.EmuError(f"unsupported instruction: {text}")
    dregs = tuple(E._regs(ops[0]))
    if len(dregs) != n // 2:
        raise E.EmuError(f"{text}: {len(dregs)} accumulator registers for N = {n}")
    if ops[1].startswith("{"):
        raise E.EmuError(f"unsupported instruction (A in registers): {text}")
    areg, breg, pd = ops[1], ops[2], ops[3]
    neg = pd.startswith("!")
    pd = pd.lstrip("!")
    imms = [int(x, 0) for x in ops[4:]]
    if (len(imms) != (4 if esize == 2 else 2) or imms[0] not in (1, -1) or imms[1] not in (1, -1) or
            (esize == 2 and (imms[2] != 0 or imms[3] not in (0, 1)))):
        raise E.EmuError(f"{text}: imm-scale-a / b must be 1 or -1, imm-trans-a 0 (A K-major; an MN-major A is not "
                         f"modelled) and imm-trans-b 0 or 1")
    sa, sb = imms[0], imms[1]
    tb = esize == 2 and imms[3] == 1  # B MN-major

    def uniform(lanes, get, what):
        vals = {get(t.r) for t in lanes}
        if len(vals) != 1:
            raise E.EmuError(f"{text}: {what} differs across the warpgroup ({len(vals)} values)")
        return vals.pop()

    def run(lanes):
        wg = wg_state(lanes)
        ad = uniform(lanes, lambda r: r[areg], "the A descriptor")
        bd = uniform(lanes, lambda r: r[breg], "the B descriptor")
        sd = uniform(lanes, lambda r: bool(r[pd]) != neg, "scale-d")
        if not wg.fenced:
            w = wg.written.get(dregs)
            if w is None or any(tuple(t.r.get(x) for x in dregs) != w[i] for i, t in enumerate(lanes)):
                raise E.EmuError(f"{text}: no wgmma.fence before this wgmma.mma_async (warpgroup "
                                 f"{lanes[0].tid // 128} of CTA {lanes[0].c.ctaid}): its registers were accessed since "
                                 f"the last wgmma wrote them, or this is the first wgmma")
        ins = (n, kk, esize, decode, dregs, ad, bd, sd, sa, sb, tb, text)
        lanes[0].emu.wgmma_issued += 1
        if lanes[0].emu.wgmma == "issue":
            execute([ins], lanes, wg)
        wg.open.append(ins)
    return E.K_WG, None, run
