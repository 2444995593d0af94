"""A PTX emulator for weft's communication kernels and its sm_80-path GEMMs: runs the PTX that
`weft emit` writes for all_gather, reduce_scatter, all_reduce, moe_dispatch and moe_combine
(run_checks.py) and for gemm_bf16_sm80 and gemm_e4m3_sm89 (run_gemm_checks.py) on the CPU.

Kernel parses and compiles the subset of PTX those kernels use (integer and f32 arithmetic, bf16x2
conversion, predicates and branches, ld/st/atom.add on global memory with any order and scope,
fence, bar.sync 0, shfl.sync.idx, nanosleep, ret; for the GEMMs cp.async (.ca/.cg, src-size
zero-fill, commit_group, wait_group, wait_all), ldmatrix.m8n8 .x1/.x2/.x4 [.trans] .b16,
mma.sync m16n8k16 bf16 and m16n8k32 e4m3 with f32 accumulators, u16 loads and stores, dynamic
shared memory); anything else raises EmuError("unsupported instruction"), so a kernel that starts
using a new instruction fails loudly instead of being emulated wrongly. Emu runs one launch: grid.x
x grid.y CTAs (for the comm kernels grid.y = the virtual ranks), every thread with its own registers
(raw bits), under a randomized scheduler: a thread runs until it blocks (bar.sync, a warp-collective
instruction waiting for its warp, nanosleep in a spin loop, exit) or its random time slice ends, and
each CTA (with warp_speeds, each warp) gets a random speed, so CTAs, ranks and warps overtake one
another.

Checked while running: every global access inside one allocation and aligned to its size
(Memory.check), every shared access inside the dynamic shared memory and aligned (Shared.check),
bar.sync with exited threads, warp collectives with exited or divergent lanes, and deadlock: three
rounds in which nothing was stored, no collective completed, nothing exited, and every running
thread spun through a full wait with its flag read after the last store. Memory.wcount counts the
writes to every byte, for the write-once checks in checks.py and run_gemm_checks.py.

cp.async: a copy reads global memory at issue and lands in shared memory either at issue or only at
the wait_group that covers its group (Emu cp_async="issue" / "wait"), the two ends of what a GPU may
do; shared memory starts as 0xff bytes (NaN in bf16 and e4m3), so a tile read before it landed
shows. ldmatrix and mma.sync follow the fragment maps of the PTX ISA's figures as this file reads
them (_frag_maps, Kernel.ldmatrix): that reading is the same one the GEMM's addressing was written
from, so the GEMM checks cover addressing, predication, zero-fill, pipeline ordering and coverage,
not the fragment layouts themselves (a misreading shared by both passes here). mma.sync computes
A B + C in float64 and rounds once to f32 (the hardware's summation order is not modelled).

Limits: memory is sequentially consistent (one byte array, each access atomic and immediately
visible everywhere), so this checks algorithms, indexing, protocols (rendezvous, epochs, counters)
and write coverage, not memory-model reorderings (a missing fence or a .gpu where .sys is needed
passes here; the verifier's peer-pointer rule covers scopes) and not performance (no timing, bank
conflicts or register pressure). fma.rn.f32 rounds twice (through a double), rarely off by one ulp.
The lanes of a warp are scheduled independently (as Volta and later may) and meet only at warp
collectives. Launches are small (a few CTAs of 64 to 256 threads, thousands of packets): Python
runs roughly a million PTX instructions a second.
"""
import bisect
import random
import re
import struct

import numpy as np

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


def f2b(x):
    return struct.unpack("<I", struct.pack("<f", np.float32(x)))[0]


def b2f(b):
    return struct.unpack("<f", struct.pack("<I", b & M32))[0]


def f_to_bf16_rn(x):
    u = f2b(x)
    if (u & 0x7FFFFFFF) > 0x7F800000:
        return 0x7FC0
    u = (u + 0x7FFF + ((u >> 16) & 1)) & M32
    return u >> 16


def bf16_bits_to_f64(bits):
    """numpy: an array of bf16 bit patterns (any integer dtype) to float64, exactly."""
    return (np.asarray(bits, dtype=np.uint32) << 16).astype(np.uint32).view(np.float32).astype(np.float64)


def f_to_bf16_bits(x):
    """numpy: float values to bf16 bit patterns (uint16), round to nearest even, as f_to_bf16_rn."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where((u & 0x7FFFFFFF) > 0x7F800000, np.uint16(0x7FC0), r)


def e4m3_to_f(v):
    """One OCP e4m3 (fp8, bias 7, no infinities; S.1111.111 is NaN) byte to a Python float."""
    e, m = (v >> 3) & 0xF, v & 7
    if e == 15 and m == 7:
        return float("nan")
    mag = (m / 8.0) * 2.0 ** -6 if e == 0 else (1 + m / 8.0) * 2.0 ** (e - 7)
    return -mag if v & 0x80 else mag


E4M3 = np.array([e4m3_to_f(v) for v in range(256)])  # byte -> float64 value


class EmuError(RuntimeError):
    pass


class Memory:
    def __init__(self, size=1 << 22):
        self.mem = bytearray(size)
        self.wcount = np.zeros(size, dtype=np.uint16)
        self.allocs = []  # (base, size, name)
        self.starts = []
        self.top = 0x1000
        self.stores = 0  # progress counter

    def alloc(self, size, name):
        base = self.top
        self.top = (base + max(size, 1) + 255) // 256 * 256 + 256  # a gap between allocations
        assert self.top <= len(self.mem)
        self.allocs.append((base, size, name))
        self.starts.append(base)
        self.mem[base:base + size] = bytes(size)
        return base

    def check(self, a, n, what):
        i = bisect.bisect_right(self.starts, a) - 1
        if i < 0:
            raise EmuError(f"{what}: address {a:#x} outside every allocation")
        base, size, name = self.allocs[i]
        if a + n > base + size:
            raise EmuError(f"{what}: [{a:#x}, +{n}) outside allocation {name} [{base:#x}, +{size})")
        if a % n:
            raise EmuError(f"{what}: misaligned {a:#x} for {n} bytes")

    def read(self, a, n, what="ld"):
        self.check(a, n, what)
        return self.mem[a:a + n]

    def write(self, a, data, what="st"):
        self.check(a, len(data), what)
        self.mem[a:a + len(data)] = data
        self.wcount[a:a + len(data)] += 1
        self.stores += 1


def split_ops(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "{[":
            depth += 1
        if ch in "}]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


SPEEDS = [1.0, 1.0, 0.3, 0.05]
SPECIAL = {"%tid.x", "%ctaid.x", "%ctaid.y", "%nctaid.x", "%laneid", "%ntid.x"}
SMEM_BASE = 0x400  # the shared-window address of dynamic shared memory (1024-aligned, not 0)

# control kinds; K_WARP: a warp-collective instruction (shfl.sync, ldmatrix, mma.sync), run by
# Emu.run once all 32 lanes have reached it, as extra(lanes)
K_ALU, K_BRA, K_BAR, K_WARP, K_SLEEP, K_RET = range(6)


class Shared:
    """One CTA's dynamic shared memory at SMEM_BASE, poisoned with 0xff bytes (a NaN in bf16 and in
    e4m3), so that a read of bytes no cp.async has landed yet shows in the results."""

    def __init__(self, size):
        self.mem = bytearray(b"\xff" * size)

    def check(self, a, n, what):
        if a % n:
            raise EmuError(f"{what}: misaligned shared address {a:#x} for {n} bytes")
        if a < SMEM_BASE or a + n > SMEM_BASE + len(self.mem):
            raise EmuError(f"{what}: shared [{a:#x}, +{n}) outside the {len(self.mem)} bytes of dynamic shared "
                           f"memory at {SMEM_BASE:#x}")

    def read(self, a, n, what):
        self.check(a, n, what)
        return self.mem[a - SMEM_BASE:a - SMEM_BASE + n]

    def write(self, a, data, what):
        self.check(a, len(data), what)
        self.mem[a - SMEM_BASE:a - SMEM_BASE + len(data)] = data


def _addr(s):
    """[%reg] or [%reg+imm] -> (reg, imm)"""
    inner = s.strip()[1:-1]
    off = 0
    if "+" in inner:
        inner, o2 = inner.split("+")
        off = int(o2, 0)
    return inner.strip(), off


def _regs(s):
    return [x.strip() for x in s.strip().strip("{}").split(",")]


# mma.sync fragment maps (the PTX ISA's figures for m16n8k16 .bf16 and m16n8k32 .e4m3, row.col):
# for lane l (g = l / 4, t = l % 4), register j, element e of the register (low bits first), the
# (row, column) of A (16 x K), B (K x 8) and C/D (16 x 8). The kernel's ldmatrix addressing was
# written from the same figures: these maps are an assumption shared with it, not a check of it.
def _frag_maps(per, kk):
    g = np.arange(32)[:, None, None] // 4
    t = np.arange(32)[:, None, None] % 4
    j = np.arange(4)[None, :, None]
    e = np.arange(per)[None, None, :]
    a = (np.broadcast_to(g + 8 * (j % 2), (32, 4, per)),
         np.broadcast_to(per * t + (kk // 2) * (j // 2) + e, (32, 4, per)))
    j2 = np.arange(2)[None, :, None]
    b = (np.broadcast_to(per * t + (kk // 2) * j2 + e, (32, 2, per)), np.broadcast_to(g, (32, 2, per)))
    j4 = np.arange(4)[None, :]
    c = (np.broadcast_to(g[:, :, 0] + 8 * (j4 // 2), (32, 4)), np.broadcast_to(2 * t[:, :, 0] + j4 % 2, (32, 4)))
    return a, b, c


MMA_SHAPES = {  # op -> (K, elements per register, decode: array of 32-bit words -> float64 per element)
    "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32":
        (16, 2, lambda w: bf16_bits_to_f64(np.stack([w & 0xFFFF, w >> 16], axis=-1))),
    "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32":
        (32, 4, lambda w: E4M3[np.stack([(w >> (8 * i)) & 0xFF for i in range(4)], axis=-1)]),
}


class Kernel:
    def __init__(self, text):
        body = text[text.index(".entry"):]
        self.name = re.match(r"\.entry (\w+)", body).group(1)
        self.params = re.findall(r"\.param \.(\w+) (\w+)", body[: body.index(")")])
        m = re.search(r"\.reqntid (\d+)", body)
        self.reqntid = int(m.group(1)) if m else None
        # dynamic shared memory: `.extern .shared ... name[]` (at SMEM_BASE), its size from the signature
        self.shared_syms = set(re.findall(r"\.extern \.shared [^;]*?(\w+)\[\];", text))
        m = re.search(r"//! dynamic_smem (\d+)", text)
        self.dynamic_smem = int(m.group(1)) if m else 0
        lines = body[body.index("{") + 1:].split("\n")
        raw_ins, labels = [], {}
        for raw in lines:
            s = raw.strip()
            if not s or s.startswith(".") or s.startswith("//") or s == "}":
                continue
            if s.endswith(":"):
                labels[s[:-1]] = len(raw_ins)
                continue
            s = s.rstrip(";")
            guard = None
            if s.startswith("@"):
                g, s = s.split(None, 1)
                guard = (g[1:].startswith("!"), g.lstrip("@!"))
            parts = s.split(None, 1)
            raw_ins.append((guard, parts[0], split_ops(parts[1]) if len(parts) > 1 else [], s))
        self.labels = labels
        self.prog = [self.compile(g, op, ops, s) for g, op, ops, s in raw_ins]

    # ---- operand helpers: return closures reading raw bits from a register dict ----
    @staticmethod
    def src(s, bits=32):
        s = s.strip()
        if s.startswith("%"):
            return lambda r, s=s: r[s]
        if s.startswith("0f") or s.startswith("0F"):
            v = int(s[2:], 16)
            return lambda r, v=v: v
        v = int(s, 0) & (M64 if bits == 64 else M32)
        return lambda r, v=v: v

    def compile(self, guard, op, ops, text):
        o = op.split(".")
        name = o[0]
        d = ops[0] if ops else None
        kind, fn, extra = K_ALU, None, None
        if name == "bra":
            kind, extra = K_BRA, self.labels[ops[0]]
        elif name == "bar":
            assert op == "bar.sync" and ops == ["0"], text
            kind = K_BAR
        elif name == "ret":
            kind = K_RET
        elif name == "nanosleep":
            kind = K_SLEEP
        elif name == "shfl":
            assert op == "shfl.sync.idx.b32", text
            assert ops[3] == "31" and ops[4] == "4294967295", text
            kind, extra = K_WARP, self.shfl(d, self.src(ops[1]), self.src(ops[2]))
        elif name == "ldmatrix":
            kind, extra = K_WARP, self.ldmatrix(o, ops, text)
        elif name == "mma":
            kind, extra = K_WARP, self.mma(op, ops, text)
        elif name == "cp" and o[1] == "async":
            fn = self.cp_async(op, ops, text)
        elif op in ("cvt.u16.u32", "cvt.u32.u16"):
            sr = self.src(ops[1])
            fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r) & 0xFFFF)
        elif name == "fence":
            assert op == "fence.acq_rel.sys", text
            fn = lambda t: None
        elif name == "ld" and o[1] == "param":
            p = ops[1][1:-1]
            fn = lambda t, d=d, p=p: t.r.__setitem__(d, t.params[p])
        elif name == "cvta":
            sr = self.src(ops[1], 64)
            fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
        elif name == "mov":
            s = ops[1]
            if s in SPECIAL:
                fn = lambda t, d=d, s=s: t.r.__setitem__(d, t.special[s])
            elif s in self.shared_syms:
                fn = lambda t, d=d: t.r.__setitem__(d, SMEM_BASE)
            else:
                sr = self.src(s, 64 if o[1] in ("u64", "b64") else 32)
                fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
        elif name in ("add", "sub", "mul", "mad", "div", "rem", "min", "shl", "shr", "and", "or", "xor") and o[-1] in (
                "u32", "u64", "b32", "s32"):
            wide = len(o) > 1 and o[1] == "wide"
            bits = 64 if o[-1] == "u64" else 32
            a = self.src(ops[1], bits)
            b = self.src(ops[2], bits)
            mask = M64 if (bits == 64 or wide) else M32
            if name == "mad":
                c = self.src(ops[3], 64 if wide else bits)
                fn = lambda t, d=d, a=a, b=b, c=c, m=mask: t.r.__setitem__(d, (a(t.r) * b(t.r) + c(t.r)) & m)
            else:
                f = {
                    "add": lambda x, y: x + y,
                    "sub": lambda x, y: x - y,
                    "mul": lambda x, y: x * y,
                    "div": lambda x, y: x // y if y else (_ for _ in ()).throw(EmuError("div by 0")),
                    "rem": lambda x, y: x % y if y else (_ for _ in ()).throw(EmuError("rem by 0")),
                    "min": min,
                    "shl": lambda x, y: x << y if y < bits else 0,
                    "shr": lambda x, y: x >> y,
                    "and": lambda x, y: x & y,
                    "or": lambda x, y: x | y,
                    "xor": lambda x, y: x ^ y,
                }[name]
                assert o[-1] != "s32" or name in ("add", "sub", "and"), text
                if name == "mul":
                    assert o[1] in ("lo", "wide"), text
                fn = lambda t, d=d, a=a, b=b, f=f, m=mask: t.r.__setitem__(d, f(a(t.r), b(t.r)) & m)
        elif name == "and" and o[1] == "pred":
            fn = lambda t, d=d, a=ops[1], b=ops[2]: t.r.__setitem__(d, bool(t.r[a]) and bool(t.r[b]))
        elif name == "setp":
            cmp, ty = o[1], o[2]
            a, b = self.src(ops[1]), self.src(ops[2])
            conv = {"u32": lambda x: x, "s32": lambda x: x - (1 << 32) if x & 0x80000000 else x, "f32": b2f}[ty]
            c = {"lt": lambda x, y: x < y, "le": lambda x, y: x <= y, "gt": lambda x, y: x > y,
                 "ge": lambda x, y: x >= y, "eq": lambda x, y: x == y, "ne": lambda x, y: x != y}[cmp]
            fn = lambda t, d=d, a=a, b=b, conv=conv, c=c: t.r.__setitem__(d, c(conv(a(t.r)), conv(b(t.r))))
        elif name == "selp":
            bits = 64 if o[1] in ("u64", "b64") else 32
            a, b = self.src(ops[1], bits), self.src(ops[2], bits)
            fn = lambda t, d=d, a=a, b=b, p=ops[3]: t.r.__setitem__(d, a(t.r) if t.r[p] else b(t.r))
        elif name in ("add", "mul", "fma") and o[-1] == "f32":
            a, b = self.src(ops[1]), self.src(ops[2])
            if name == "add":
                fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(d, f2b(np.float32(b2f(a(t.r))) + np.float32(b2f(b(t.r)))))
            elif name == "mul":
                fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(d, f2b(np.float32(b2f(a(t.r))) * np.float32(b2f(b(t.r)))))
            else:
                assert op == "fma.rn.f32", text
                c = self.src(ops[3])
                # a*b is exact in double; one more rounding to double then to f32 (double rounding: rare 1-ulp)
                fn = lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
                    d, f2b(np.float32(b2f(a(t.r)) * b2f(b(t.r)) + b2f(c(t.r)))))
        elif op == "cvt.rn.bf16x2.f32":
            a, b = self.src(ops[1]), self.src(ops[2])
            fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, (f_to_bf16_rn(b2f(a(t.r))) << 16) | f_to_bf16_rn(b2f(b(t.r))))
        elif name in ("ld", "st", "atom"):
            assert "global" in o, text
            quals = [q for q in o[1:] if q not in ("global",)]
            ty = quals[-1]
            vec = 4 if "v4" in quals else 1
            size = {"u16": 2, "b16": 2, "u32": 4, "s32": 4, "f32": 4, "b32": 4, "u64": 8, "b64": 8}[ty]
            sem = [q for q in quals if q in ("relaxed", "acquire", "release", "acq_rel", "volatile")]
            scope = [q for q in quals if q in ("sys", "gpu", "cta")]
            nc = "nc" in quals
            info = {"op": name, "sem": sem[0] if sem else "weak", "scope": scope[0] if scope else None, "nc": nc,
                    "text": text}
            addr_s = ops[1] if name in ("ld", "atom") else ops[0]
            inner = addr_s[1:-1]
            off = 0
            if "+" in inner:
                inner, o2 = inner.split("+")
                off = int(o2, 0)
            areg = inner.strip()
            if name == "ld":
                dregs = [x.strip() for x in d.strip("{}").split(",")] if vec > 1 else [d]
                def fn(t, dregs=dregs, areg=areg, off=off, size=size, vec=vec, info=info):
                    a = (t.r[areg] + off) & M64
                    data = t.mem.read(a, size * vec, info["text"])
                    t.emu.on_access(t, "ld", a, size * vec, info)
                    for i, dr in enumerate(dregs):
                        t.r[dr] = int.from_bytes(data[i * size:(i + 1) * size], "little")
            elif name == "st":
                vs = [self.src(x, size * 8) for x in (ops[1].strip("{}").split(",") if vec > 1 else [ops[1]])]
                def fn(t, vs=vs, areg=areg, off=off, size=size, vec=vec, info=info):
                    a = (t.r[areg] + off) & M64
                    data = b"".join((v(t.r) & ((1 << (8 * size)) - 1)).to_bytes(size, "little") for v in vs)
                    t.emu.on_access(t, "st", a, size * vec, info)
                    t.mem.write(a, data, info["text"])
            else:
                assert "add" in quals and ty == "u32", text
                b = self.src(ops[2])
                def fn(t, d=d, areg=areg, off=off, b=b, info=info):
                    a = (t.r[areg] + off) & M64
                    old = int.from_bytes(t.mem.read(a, 4, info["text"]), "little")
                    t.emu.on_access(t, "atom", a, 4, info)
                    t.mem.write(a, ((old + b(t.r)) & M32).to_bytes(4, "little"), info["text"])
                    t.r[d] = old
        else:
            raise EmuError(f"unsupported instruction: {text}")
        return (guard, kind, fn, extra, text)

    # ---- warp collectives: extra(lanes) runs once all 32 lanes are at the instruction ----
    @staticmethod
    def shfl(d, a, b):
        def run(lanes):
            vals = [a(t.r) for t in lanes]
            for l, t in enumerate(lanes):
                j = b(t.r)
                t.r[d] = vals[j if j <= 31 else l]
        return run

    @staticmethod
    def ldmatrix(o, ops, text):
        """ldmatrix.sync.aligned.m8n8.{x1,x2,x4}[.trans].shared.b16: lanes 8q..8q+7 give the 16-byte
        rows of matrix q; register q of lane l gets row l/4, columns 2(l%4), +1 (.trans: the transpose)."""
        num = {"x1": 1, "x2": 2, "x4": 4}.get(o[4] if len(o) > 4 else "", 0)
        if o[1:4] != ["sync", "aligned", "m8n8"] or not num or "shared" not in o or o[-1] != "b16":
            raise EmuError(f"unsupported instruction: {text}")
        trans = "trans" in o
        dregs = _regs(ops[0])
        areg, aoff = _addr(ops[1])
        assert len(dregs) == num, text

        def run(lanes):
            smem = lanes[0].smem
            rows = [np.frombuffer(bytes(smem.read((lanes[i].r[areg] + aoff) & M32, 16, text)), dtype="<u2")
                    for i in range(8 * num)]
            for q in range(num):
                mat = np.array(rows[8 * q:8 * q + 8], dtype=np.uint32)
                if trans:
                    mat = mat.T
                for l, t in enumerate(lanes):
                    t.r[dregs[q]] = int(mat[l // 4, 2 * (l % 4)]) | (int(mat[l // 4, 2 * (l % 4) + 1]) << 16)
        return run

    @staticmethod
    def mma(op, ops, text):
        """mma.sync m16n8k16 bf16 / m16n8k32 e4m3, f32 accumulate: D = A B + C in float64, rounded once
        to f32 (the hardware's internal order and rounding are not modelled)."""
        if op not in MMA_SHAPES:
            raise EmuError(f"unsupported instruction: {text}")
        kk, per, decode = MMA_SHAPES[op]
        dl, al, bl, cl = (_regs(x) for x in ops)
        assert len(dl) == 4 and len(al) == 4 and len(bl) == 2 and len(cl) == 4, text
        (ar, ac), (br, bc), (cr, cc) = _frag_maps(per, kk)

        def run(lanes):
            aw = np.array([[t.r[x] for x in al] for t in lanes], dtype=np.uint32)
            bw = np.array([[t.r[x] for x in bl] for t in lanes], dtype=np.uint32)
            cw = np.array([[t.r[x] for x in cl] for t in lanes], dtype=np.uint32)
            A = np.zeros((16, kk))
            B = np.zeros((kk, 8))
            C = np.zeros((16, 8))
            A[ar, ac] = decode(aw)
            B[br, bc] = decode(bw)
            C[cr, cc] = cw.view(np.float32)
            D = (A @ B + C).astype(np.float32).view(np.uint32)
            for l, t in enumerate(lanes):
                for j in range(4):
                    t.r[dl[j]] = int(D[cr[l, j], cc[l, j]])
        return run

    def cp_async(self, op, ops, text):
        """cp.async.{ca,cg}.shared.global [dst], [src], cp-size[, src-size] (bytes past src-size are
        zero-filled), cp.async.commit_group, cp.async.wait_group N, cp.async.wait_all. A copy reads
        global memory at issue and lands in shared memory at issue (Emu cp_async="issue") or only at
        the wait that covers its group ("wait"): a copy may land anywhere in between on a GPU."""
        if op == "cp.async.commit_group":
            def fn(t):
                t.cp_groups.append(t.cp_open)
                t.cp_open = []
            return fn
        if op in ("cp.async.wait_group", "cp.async.wait_all"):
            keep = int(ops[0]) if op == "cp.async.wait_group" else 0

            def fn(t, keep=keep, all_=op == "cp.async.wait_all"):
                if all_:  # wait_all = commit_group + wait_group 0
                    t.cp_groups.append(t.cp_open)
                    t.cp_open = []
                while len(t.cp_groups) > keep:
                    for dst, data in t.cp_groups.pop(0):
                        t.smem.write(dst, data, text)
            return fn
        o = op.split(".")
        if o[3:] != ["shared", "global"] or o[2] not in ("ca", "cg") or len(ops) not in (3, 4):
            raise EmuError(f"unsupported instruction: {text}")
        dreg, doff = _addr(ops[0])
        sreg, soff = _addr(ops[1])
        size = int(ops[2], 0)
        if size not in ((16,) if o[2] == "cg" else (4, 8, 16)):
            raise EmuError(f"cp.async size {size}: {text}")
        srcsize = self.src(ops[3]) if len(ops) == 4 else (lambda r, v=size: v)

        def fn(t):
            dst = (t.r[dreg] + doff) & M32
            src = (t.r[sreg] + soff) & M64
            n = srcsize(t.r)
            if n > size:
                raise EmuError(f"cp.async src-size {n} > {size}: {text}")
            t.smem.check(dst, size, text)
            if src % size:
                raise EmuError(f"{text}: misaligned global address {src:#x} for {size} bytes")
            data = bytes(t.mem.read(src, n, text)) if n else b""
            data += bytes(size - n)
            if t.emu.cp_async == "issue":
                t.smem.write(dst, data, text)
            else:
                t.cp_open.append((dst, data))
        return fn


class Thread:
    __slots__ = ("speed", "last_slept", "slept_at", "confirmed", "prog", "r", "pc", "state", "special", "params",
                 "mem", "emu", "cta", "tid", "warp", "spins", "sleeps", "smem", "cp_open", "cp_groups")

    def __init__(self, emu, cta, tid, special, params):
        self.r = {}
        self.speed = 1.0
        self.last_slept = False
        self.slept_at = -1
        self.confirmed = -1
        self.prog = emu.k.prog
        self.pc = 0
        self.state = "run"  # run, bar, warp (at a warp collective), exit
        self.special = special
        self.params = params
        self.mem = emu.mem
        self.emu = emu
        self.cta = cta
        self.tid = tid
        self.spins = 0
        self.sleeps = 0
        self.smem = None  # the CTA's Shared
        self.cp_open = []  # cp.async copies since the last commit_group: (shared address, bytes)
        self.cp_groups = []  # committed groups, oldest first


class Emu:
    """One launch: Emu(mem, kernel, (grid.x, grid.y), block, params by name, seed).run(). `log`, when a
    list, receives (kind, rank, cta, tid, address, bytes, order, scope, nc) for every global access.
    cp_async: when a cp.async copy lands in shared memory, "wait" (at the wait_group covering it) or
    "issue". warp_speeds: a random speed per warp instead of per CTA."""

    def __init__(self, mem, kernel, grid, block, params, seed=0, max_slice=64, log=None, cp_async="wait",
                 warp_speeds=False):
        self.mem, self.k, self.grid, self.block, self.params = mem, kernel, grid, block, params
        assert cp_async in ("wait", "issue")
        self.cp_async = cp_async
        self.rng = random.Random(seed)
        self.max_slice = max_slice
        self.log = log
        if kernel.reqntid is not None and kernel.reqntid != block:
            raise EmuError(f"block {block} != .reqntid {kernel.reqntid}")
        assert block % 32 == 0
        names = [n for _, n in kernel.params]
        assert set(params) == set(names), (sorted(params), names)
        self.ctas = []
        for y in range(grid[1]):
            for x in range(grid[0]):
                ths = []
                for t in range(block):
                    sp = {"%tid.x": t, "%ctaid.x": x, "%ctaid.y": y, "%nctaid.x": grid[0], "%laneid": t % 32,
                          "%ntid.x": block}
                    ths.append(Thread(self, (x, y), t, sp, params))
                sp_ = self.rng.choice(SPEEDS)
                smem = Shared(kernel.dynamic_smem)
                for th in ths:
                    if warp_speeds and th.tid % 32 == 0:  # a speed per warp: warps overtake one another
                        sp_ = self.rng.choice(SPEEDS)
                    th.speed = sp_
                    th.smem = smem
                self.ctas.append(ths)
        self.instructions = 0

    def on_access(self, t, kind, a, n, info):
        if self.log is not None:
            self.log.append((kind, t.cta[1], t.cta[0], t.tid, a, n, info["sem"], info["scope"], info["nc"]))

    def run_thread(self, t, budget):
        """Runs t until it blocks or the budget ends. Returns True if it yielded on a nanosleep."""
        prog = t.prog
        r = t.r
        while budget > 0:
            budget -= 1
            self.instructions += 1
            guard, kind, fn, extra, text = prog[t.pc]
            if guard is not None and bool(r[guard[1]]) == guard[0]:
                t.pc += 1
                continue
            if kind == K_ALU:
                fn(t)
                t.pc += 1
            elif kind == K_BRA:
                t.pc = extra
            elif kind == K_BAR:
                t.state = "bar"
                return False
            elif kind == K_WARP:
                t.state = "warp"
                return False
            elif kind == K_SLEEP:
                t.pc += 1
                t.sleeps += 1
                return True
            elif kind == K_RET:
                t.state = "exit"
                return False
        return False

    def run(self, max_rounds=200000):
        rounds = 0
        stuck = 0
        while True:
            threads = [t for c in self.ctas for t in c]
            rounds += 1
            if rounds > max_rounds:
                raise EmuError("too many rounds")
            before = self.mem.stores
            events = 0
            all_slept = True
            order = [t for t in threads if t.state == "run"]
            self.rng.shuffle(order)
            rnd = self.rng.random
            for t in order:
                if t.state != "run":
                    continue
                if t.speed < 1.0 and rnd() > t.speed:
                    if not t.last_slept:
                        all_slept = False
                    continue
                slept = self.run_thread(t, self.rng.randint(1, self.max_slice))
                t.last_slept = slept
                if slept:
                    # two sleeps with no store anywhere in between: a full spin iteration (with its
                    # flag read) saw the current memory
                    if t.slept_at == self.mem.stores:
                        t.confirmed = self.mem.stores
                    t.slept_at = self.mem.stores
                if not slept:
                    all_slept = False
                if t.state == "exit":
                    events += 1
            # collectives
            for cta in self.ctas:
                live = [t for t in cta if t.state != "exit"]
                if not live:
                    continue
                if all(t.state == "bar" for t in live):
                    if len(live) != len(cta):
                        raise EmuError(f"bar.sync in CTA {cta[0].cta} with {len(cta) - len(live)} exited threads")
                    for t in live:
                        t.state = "run"
                        t.pc += 1
                    events += 1
                for w in range(len(cta) // 32):
                    lanes = cta[32 * w:32 * w + 32]
                    if any(t.state == "warp" for t in lanes) and all(t.state in ("warp", "exit") for t in lanes):
                        if any(t.state == "exit" for t in lanes):
                            raise EmuError(f"{lanes[0].prog[next(t for t in lanes if t.state == 'warp').pc][4]!r} "
                                           f"with exited lanes in CTA {cta[0].cta} warp {w}")
                    if all(t.state == "warp" for t in lanes):
                        pcs = {t.pc for t in lanes}
                        if len(pcs) != 1:
                            raise EmuError(f"divergent warp collective in CTA {cta[0].cta} warp {w}: "
                                           + "; ".join(repr(lanes[0].prog[p][4]) for p in sorted(pcs)))
                        lanes[0].prog[lanes[0].pc][3](lanes)
                        for t in lanes:
                            t.state = "run"
                            t.pc += 1
                        events += 1
            events += self.after_round()
            threads = [t for c in self.ctas for t in c]
            if all(t.state == "exit" for t in threads) and not getattr(self, "active", None):
                self.rounds = rounds
                return
            st_now = self.mem.stores
            all_slept = all(t.state != "run" or (t.last_slept and t.confirmed == st_now) for t in threads)
            if events == 0 and st_now == before and all_slept:
                stuck += 1
                if stuck >= 3:
                    raise EmuError("deadlock: " + self.describe())
            else:
                stuck = 0

    def after_round(self):
        return 0

    def describe(self):
        out = []
        for cta in self.ctas:
            states = {}
            for t in cta:
                key = (t.state, t.prog[t.pc][4] if t.state != "exit" else "")
                states.setdefault(key, []).append(t.tid)
            out.append(f"CTA {cta[0].cta}: " + "; ".join(f"{s} @ {txt!r}: tids {v[:6]}{'...' if len(v) > 6 else ''}"
                                                        for (s, txt), v in states.items()))
        return "\n".join(out)
