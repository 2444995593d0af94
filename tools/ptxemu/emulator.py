"""A PTX emulator for weft's communication kernels and its GEMMs: runs the PTX that `weft emit`
writes for all_gather, reduce_scatter, all_reduce, moe_dispatch and moe_combine (run_checks.py), for
gemm_bf16_sm80 and gemm_e4m3_sm89 (run_gemm_checks.py), for gemm_bf16_sm90 and gemm_e4m3_sm90
(run_gemm90_checks.py) and for gemm_bf16_sm100 (run_gemm100_checks.py) on the CPU, from either
backend: weft's direct printer, or LLVM 19's NVPTX backend (`--backend llvm`, sm_80 .. sm_90a; the
runners' --backend).

Kernel parses and compiles the subset of PTX those kernels use (integer and f32 arithmetic, bf16x2
conversion, predicates and branches, ld/st/atom.add/red.add on global memory with any order and
scope, ld/st on shared memory, fence, named barriers (bar.sync / bar.arrive with ids and thread
counts), shfl.sync.idx, nanosleep, ret; for the GEMMs cp.async (.ca/.cg, src-size zero-fill,
commit_group, wait_group, wait_all), ldmatrix.m8n8 .x1/.x2/.x4 [.trans] .b16, mma.sync m16n8k16
bf16 and m16n8k32 e4m3 with f32 accumulators, u16 loads and stores, static and dynamic shared
memory, byte-array parameters (tensor maps); the sm_90 instructions, mbarriers, TMA, wgmma and
clusters, are hopper.py's, tma.py's and wgmma.py's; the sm_100 ones, tensor memory and tcgen05,
tcgen05.py's); anything else raises EmuError("unsupported instruction"), so a kernel that starts
using a new instruction fails loudly instead of being emulated wrongly.

The register arithmetic (integers, predicates, setp, f32, cvt, mov) is alu.py's, mixed into Kernel.

The LLVM backend's PTX (Kernel._statements, Kernel.compile, alu.py): statements split at semicolons,
whatever the whitespace (tabs), several on a line; `{ ... }` scopes with registers of their own
(weft's inline asm wraps predicates as `{ .reg .pred %wp0; setp.ne.b32 %wp0, %r1, 0; ...; selp.u32
%r2, 1, 0, %wp0; }`), renamed apart so that they shadow; `.reg` declarations of any prefix (their
widths, for sign extension); `.pragma "nounroll"`; `$L__BB0_3:` labels; `<kernel>_param_<i>`
parameters renamed to the signature block's names; module-scope `.shared` variables and
`[symbol+imm]` addresses; `ld.param` at an offset. Integer instructions on 16/32/64-bit types with
their signedness (add sub mul.lo/hi/wide mad.lo/hi/wide div rem min max abs neg and or xor not shl
shr bfe; signed division truncates, shifts clamp at the width), setp with every integer and f32/f64
comparison (unordered ones true with a NaN) and .and/.or/.xor combinations, selp, and/or/xor/not
.pred, cvt (integer widening / narrowing by the source's sign, .rn integer to float, .rzi/.rni/
.rmi/.rpi float to integer saturating, f32 <-> f64, bf16), mov packs and unpacks (`mov.b32 {%rs1,
%rs2}, %r3`), sub/neg/abs.f32, signed loads (sign-extended into wider registers), trap, exit.
Every other form (.sat, .cc, .ftz, other roundings, generic addressing, ...) is still an error.

Emu runs one launch: grid.x x
grid.y CTAs (for the comm kernels grid.y = the virtual ranks; clusters along x from
.reqnctapercluster), every thread with its own registers (raw bits), under a randomized scheduler:
a thread runs until it blocks (a barrier, a warp- or warpgroup-collective instruction waiting for
its warp or warpgroup, nanosleep in a spin loop, a failed mbarrier wait, exit) or its random time
slice ends, and each CTA (with warp_speeds, each warp) gets a random speed, so CTAs, ranks and warps
overtake one another.

Checked while running: every global access inside one allocation and aligned to its size
(Memory.check), every shared access inside a static variable or the dynamic shared memory and
aligned (Shared.check), bar.sync 0 with exited threads, collectives with exited or divergent lanes,
and deadlock: three rounds in which nothing was stored, no collective completed, nothing exited, and
every running thread spun through a full wait with its flag read after the last store (threads
parked on an mbarrier or at a barrier do not run). Memory.wcount counts the writes to every byte,
for the write-once checks in checks.py and the GEMM runners.

cp.async: a copy reads global memory at issue and lands in shared memory either at issue or only at
the wait_group that covers its group (Emu cp_async="issue" / "wait"), the two ends of what a GPU may
do (TMA and wgmma have the same two models: tma.py, wgmma.py); shared memory starts as 0xff bytes
(NaN in bf16 and e4m3), so a tile read before it landed shows. ldmatrix and mma.sync follow the
fragment maps of the PTX ISA's figures as this file reads them (_frag_maps, Kernel.ldmatrix): that
reading is the same one the GEMM's addressing was written from, so the GEMM checks cover addressing,
predication, zero-fill, pipeline ordering and coverage, not the fragment layouts themselves (a
misreading shared by both passes here). mma.sync computes A B + C in float64 and rounds once to f32
(the hardware's summation order is not modelled).

Limits: memory is sequentially consistent (one byte array, each access atomic and immediately
visible everywhere), so this checks algorithms, indexing, protocols (rendezvous, epochs, counters)
and write coverage, not memory-model reorderings (a missing fence or a .gpu where .sys is needed
passes here; the verifier's peer-pointer rule covers scopes) and not performance (no timing, bank
conflicts or register pressure). fma.rn.f32 rounds twice (through a double), rarely off by one ulp.
The lanes of a warp are scheduled independently (as Volta and later may) and meet only at warp
collectives; bra.uni is not checked for uniformity. Launches are small (a few CTAs of 64 to 384
threads): Python runs roughly a million PTX instructions a second.
"""
import bisect
import random
import re
import struct

import numpy as np

from alu import Alu  # noqa: E402  (the register arithmetic; it imports this module)

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


def b2d(b):
    return struct.unpack("<d", struct.pack("<Q", b & M64))[0]


def d2b(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f2b_rn_int(v):
    """An integer to f32 bits, rounded to nearest even once (not through a double, which could round
    twice for 64-bit integers)."""
    m = -v if v < 0 else v
    sh = m.bit_length() - 24
    if sh > 0:
        q, rest, half = m >> sh, m & ((1 << sh) - 1), 1 << (sh - 1)
        if rest > half or (rest == half and q & 1):
            q += 1
        m = q << sh  # at most 25 significant bits: exact in a double and in an f32
    return f2b(np.float32(-m if v < 0 else m))


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
SPECIAL = {"%tid.x", "%ctaid.x", "%ctaid.y", "%nctaid.x", "%laneid", "%ntid.x", "%cluster_ctarank",
           "%cluster_nctarank", "%clusterid.x", "%nclusterid.x", "%cluster_ctaid.x", "%cluster_nctaid.x",
           "%tid.y", "%tid.z", "%ntid.y", "%ntid.z", "%ctaid.z", "%nctaid.y", "%nctaid.z"}
# special registers without a dot that the emulator does not model (a mov of one is an error)
SPECIAL_NAMES = {"warpid", "nwarpid", "smid", "nsmid", "gridid", "clock", "clock_hi", "clock64", "globaltimer",
                 "globaltimer_lo", "globaltimer_hi", "lanemask_eq", "lanemask_le", "lanemask_lt", "lanemask_ge",
                 "lanemask_gt", "dynamic_smem_size", "total_smem_size", "aggr_smem_size", "is_explicit_cluster",
                 "current_graph_exec", "reserved_smem_offset_begin", "reserved_smem_offset_end",
                 "reserved_smem_offset_cap"}
# integer types -> (bits, signed); the integer instructions int_op compiles; memory access types -> bytes
INT_TYPES = {"b16": (16, False), "u16": (16, False), "s16": (16, True), "b32": (32, False), "u32": (32, False),
             "s32": (32, True), "b64": (64, False), "u64": (64, False), "s64": (64, True)}
INT_OPS = {"add", "sub", "mul", "mad", "div", "rem", "min", "max", "abs", "neg", "and", "or", "xor", "not", "shl",
           "shr", "bfe"}
MEM_TYPES = {"u8": 1, "s8": 1, "b8": 1, "u16": 2, "s16": 2, "b16": 2, "u32": 4, "s32": 4, "b32": 4, "f32": 4,
             "u64": 8, "s64": 8, "b64": 8, "f64": 8}
SMEM_BASE = 0x400  # the shared-window address of dynamic shared memory (1024-aligned, not 0)
STATIC_BASE = 0x10  # static .shared variables (mbarriers) go from here up to SMEM_BASE
PARAM_BASE = 0x7F0000000000  # `mov.u64 %rd, param` of a byte-array parameter: an address in this window

# control kinds; K_WARP / K_WG: a warp- / warpgroup-collective instruction (shfl.sync, ldmatrix,
# mma.sync, elect.sync / wgmma, setmaxnreg), run by Emu.run once all 32 / 128 threads have reached
# it, as extra(lanes); K_PARK: fn(t) may return PARK_AFTER (a failed mbarrier.try_wait: the thread
# moves on, but is not scheduled again until the barrier completes a phase) or PARK_AT (it blocks at
# the instruction and runs it again when woken)
K_ALU, K_BRA, K_BAR, K_WARP, K_SLEEP, K_RET, K_WG, K_PARK = range(8)
PARK_AFTER, PARK_AT = 1, 2


class Shared:
    """One CTA's shared memory, addressed by its shared-window address: static variables (the
    kernel's `.shared` arrays: mbarriers) from STATIC_BASE, dynamic shared memory at SMEM_BASE, all
    poisoned with 0xff bytes (a NaN in bf16 and in e4m3), so that a read of bytes no copy has landed
    yet shows in the results. `np` is a numpy view of the same bytes. mbarriers live in `mbars`
    (address -> hopper.Mbarrier), not in the bytes: a plain access to a live barrier is an error."""

    def __init__(self, size, statics=(), base=SMEM_BASE):
        self.base, self.size = base, size
        self.mem = bytearray(b"\xff" * (base + size))
        self.np = np.frombuffer(self.mem, dtype=np.uint8)
        self.statics = sorted(statics)  # (address, bytes, name)
        self.static_starts = [a for a, _, _ in self.statics]
        self.mbars = {}
        self.unfenced = {}  # hopper: thread -> shared ranges it stored with no fence.proxy.async since

    def check(self, a, n, what):
        if a % n:
            raise EmuError(f"{what}: misaligned shared address {a:#x} for {n} bytes")
        if self.base <= a and a + n <= self.base + self.size:
            return
        i = bisect.bisect_right(self.static_starts, a) - 1
        if i >= 0:
            sa, sn, name = self.statics[i]
            if a + n <= sa + sn:
                if any(a < b + 8 and b < a + n for b in self.mbars):
                    raise EmuError(f"{what}: shared [{a:#x}, +{n}) overlaps a live mbarrier in {name}")
                return
        raise EmuError(f"{what}: shared [{a:#x}, +{n}) outside the {self.size} bytes of dynamic shared "
                       f"memory at {self.base:#x} and every static shared variable")

    def read(self, a, n, what):
        self.check(a, n, what)
        return self.mem[a:a + n]

    def write(self, a, data, what):
        self.check(a, len(data), what)
        self.mem[a:a + len(data)] = data


class Cta:
    """What the threads of one CTA share besides global memory: shared memory, named barriers
    (id -> [arrived, expected, waiting threads]), the wgmma state of each warpgroup (hopper.py), and
    its cluster (the Ctas of the cluster by rank; a CTA alone is a cluster of one)."""

    def __init__(self, index, ctaid, smem):
        self.index, self.ctaid, self.smem = index, ctaid, smem
        self.threads = []
        self.bars = {}
        self.exited = 0
        self.wg = {}
        self.cluster = [self]
        self.rank = 0
        self.cluster_state = None  # hopper: barrier.cluster, shared by the cluster's CTAs


def _addr(s):
    """[%reg], [%reg+imm], [%reg+-imm] or [symbol+imm] (a symbol's address is a constant register of every
    thread: Thread.r starts with Kernel.symbols) -> (reg, imm)"""
    m = re.fullmatch(r"\[\s*(%?[\w$.#]+)\s*(?:\+\s*(-?\w+)\s*)?\]", s.strip())
    if not m:
        raise EmuError(f"unsupported address operand {s!r}")
    try:
        return m.group(1), int(m.group(2), 0) if m.group(2) else 0
    except ValueError:
        raise EmuError(f"unsupported address operand {s!r}") from None


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


class Kernel(Alu):
    def __init__(self, text):
        head = text[:text.index(".entry")]
        body = text[text.index(".entry"):]
        self.name = re.match(r"\.entry\s+(\w+)", body).group(1)
        # LLVM's NVPTX backend names the parameters <kernel>_param_<i>: the signature block's `//! param
        # NAME ...` lines (weft's names, in order) rename them, so that launches bind by the same names
        llvm_params = [int(i) for i in re.findall(rf"\b{re.escape(self.name)}_param_(\d+)\b", body[:body.index(")")])]
        if llvm_params:
            names = re.findall(r"^//! param (\S+)", head, re.M)
            if llvm_params != list(range(len(names))):
                raise EmuError(f"{self.name}: parameters {self.name}_param_0.. do not match the {len(names)} "
                               f"`//! param` lines of the signature block")
            body = re.sub(rf"\b{re.escape(self.name)}_param_(\d+)\b", lambda m: names[int(m.group(1))], body)
        # parameters: (type, name); a byte array `.param .align A .b8 name[N]` (a tensor map) has type
        # "b8", its size in param_bytes and an address in the PARAM_BASE window (`mov.u64 %rd, name`)
        self.params, self.param_bytes, self.symbols = [], {}, {}
        for align, ty, pname, size in re.findall(r"\.param\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+(\w+)(?:\[(\d+)\])?",
                                                 body[: body.index(")")]):
            self.params.append((ty, pname))
            if size:
                self.param_bytes[pname] = int(size)
                self.symbols[pname] = PARAM_BASE + 256 * len(self.param_bytes)
        self.param_types = dict((n, t) for t, n in self.params)
        m = re.search(r"\.reqntid (\d+)", body)
        self.reqntid = int(m.group(1)) if m else None
        m = re.search(r"\.maxntid (\d+)", body)
        self.maxntid = int(m.group(1)) if m else None
        m = re.search(r"\.reqnctapercluster (\d+)(?:, *(\d+))?(?:, *(\d+))?", body)
        self.cluster = tuple(int(x or 1) for x in m.groups()) if m else (1, 1, 1)
        # dynamic shared memory: `.extern .shared ... name[]` (at SMEM_BASE), its size from the signature;
        # static `.shared .align A .b8 name[N]` variables (in the kernel's body, or at module scope as LLVM
        # writes them) from STATIC_BASE, below it
        for sym in re.findall(r"\.extern \.shared [^;]*?(\w+)\[\];", text):
            self.symbols[sym] = SMEM_BASE
        m = re.search(r"//! dynamic_smem (\d+)", text)
        self.dynamic_smem = int(m.group(1)) if m else 0
        self.statics, top = [], STATIC_BASE
        code = head + body
        for decl in re.findall(r"^[ \t]*(?:\.visible[ \t]+)?\.shared\b[^;]*;", code, re.M):
            m = re.fullmatch(r"\s*(?:\.visible\s+)?\.shared\s+\.align\s+(\d+)\s+\.(\w+)\s+(\w+)\[(\d+)\];", decl)
            if not m:
                raise EmuError(f"unsupported shared variable declaration: {decl.strip()}")
            align, ty, sym, count = m.groups()
            size = int(count) * {"b8": 1, "u8": 1, "b16": 2, "u16": 2, "b32": 4, "u32": 4, "b64": 8, "u64": 8}[ty]
            top = (top + int(align) - 1) // int(align) * int(align)
            self.statics.append((top, size, sym))
            self.symbols[sym] = top
            top += size
        if top > SMEM_BASE:
            raise EmuError(f"{top - STATIC_BASE} bytes of static shared variables: the emulator has room for "
                           f"{SMEM_BASE - STATIC_BASE} below dynamic shared memory")
        clash = set(self.param_types) & (set(self.symbols) - set(self.param_bytes))
        if clash:
            raise EmuError(f"parameter and shared variable of the same name: {sorted(clash)}")
        self.reg_bits = {}  # declared registers: name (or "%prefix<" for a `%prefix<N>` range) -> bits
        raw_ins, labels = [], {}
        for kind, s in self._statements(body[body.index("{") + 1:]):
            if kind == "label":
                labels[s] = len(raw_ins)
                continue
            guard = None
            if s.startswith("@"):
                g, s = s.split(None, 1)
                guard = (g[1:].startswith("!"), g.lstrip("@!"))
            parts = s.split(None, 1)
            raw_ins.append((guard, parts[0], split_ops(parts[1]) if len(parts) > 1 else [], s))
        self.labels = labels
        self.prog = [self.compile(g, op, ops, s) for g, op, ops, s in raw_ins]

    # ---- the body's statements ----
    _LABEL = re.compile(r"([$A-Za-z_][$\w]*):(?!:)")
    _TOKEN = re.compile(r"(?<![\w%$#.:])(%?[A-Za-z_$][\w$]*)(?![\w$#])")

    def _statements(self, src):
        """The statements of a function body (the text after its opening brace) up to its closing brace:
        ("label", name) and ("ins", text) with whitespace runs made one space. Comments and the
        directives that do not change what runs (.loc, .pragma "nounroll", .shared, already read) are
        dropped; `.reg` declarations give register widths (reg_bits); `{ ... }` opens a scope (LLVM's
        inline asm: `{ .reg .pred %wp0; setp.ne.b32 %wp0, %r1, 0; ... }`) whose own registers are
        renamed apart (`%wp0#3`), so that they shadow registers of the same name outside. Any other
        directive is an error."""
        src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
        src = re.sub(r"//[^\n]*", "", src)
        scopes = [{}]  # per open scope: declared name -> unique name (the function's own scope: none)
        uid = 0
        i, n = 0, len(src)
        out = []
        while i < n:
            c = src[i]
            if c.isspace():
                i += 1
                continue
            if c == "{":
                scopes.append({})
                i += 1
                continue
            if c == "}":
                scopes.pop()
                i += 1
                if not scopes:
                    return out
                continue
            m = self._LABEL.match(src, i)
            if m:
                if len(scopes) > 1:
                    raise EmuError(f"unsupported: label {m.group(1)} inside a nested scope")
                out.append(("label", m.group(1)))
                i = m.end()
                continue
            if re.match(r"\.loc\s", src[i:i + 5]):  # `.loc file line column`: no semicolon
                j = src.find("\n", i)
                i = n if j < 0 else j
                continue
            j = src.find(";", i)
            if j < 0:
                raise EmuError(f"unterminated statement: {src[i:i + 80]!r}")
            s = " ".join(src[i:j].split())
            i = j + 1
            if s.startswith("."):  # (a declaration is not renamed: it declares the scope's own name)
                self._directive(s, scopes, uid)
                uid += 1
                continue
            ren = {}
            for sc in scopes:
                ren.update(sc)
            if ren:
                s = self._TOKEN.sub(lambda mm: ren.get(mm.group(1), mm.group(1)), s)
            out.append(("ins", s))
        raise EmuError("the kernel's body has no closing brace")

    REG_TYPES = {"pred": 1, "b8": 8, "u8": 8, "s8": 8, "b16": 16, "u16": 16, "s16": 16, "f16": 16, "bf16": 16,
                 "b32": 32, "u32": 32, "s32": 32, "f32": 32, "f16x2": 32, "bf16x2": 32, "b64": 64, "u64": 64,
                 "s64": 64, "f64": 64}

    def _directive(self, s, scopes, uid):
        d = s.split(None, 1)[0]
        if d == ".reg":
            m = re.fullmatch(r"\.reg \.(\w+) (.+)", s)
            if not m or m.group(1) not in self.REG_TYPES:
                raise EmuError(f"unsupported register declaration: {s}")
            bits = self.REG_TYPES[m.group(1)]
            for nm in (x.strip() for x in m.group(2).split(",")):
                r = re.fullmatch(r"(%?[A-Za-z_$][\w$]*?)<(\d+)>", nm)
                if not r and not re.fullmatch(r"%?[A-Za-z_$][\w$]*", nm):
                    raise EmuError(f"unsupported register declaration: {s}")
                if len(scopes) > 1:  # a nested scope's own register: renamed apart
                    if r:
                        raise EmuError(f"unsupported: a register range in a nested scope: {s}")
                    new = "%" + nm.lstrip("%") + f"#{uid}"
                    scopes[-1][nm] = new
                    self.reg_bits[new] = bits
                elif r:
                    self.reg_bits[r.group(1) + "<"] = bits
                else:
                    self.reg_bits[nm] = bits
        elif d == ".pragma":
            if s != '.pragma "nounroll"':
                raise EmuError(f"unsupported directive: {s}")
        elif d == ".shared":
            if len(scopes) > 1:
                raise EmuError(f"unsupported: a shared variable in a nested scope: {s}")
        else:
            raise EmuError(f"unsupported directive: {s}")

    def reg_width(self, name):
        """The declared width in bits of register `name`, or None when it was not declared."""
        b = self.reg_bits.get(name)
        if b is None:
            m = re.fullmatch(r"(.*?)(\d+)", name)
            if m:
                b = self.reg_bits.get(m.group(1) + "<")
        return b

    # ---- operand helpers: return closures reading raw bits from a register dict ----
    def src(self, s, bits=32):
        """A closure r -> the operand's raw bits: a register (or a symbol's address), or an immediate
        (integers masked to `bits`; 0f / 0d: f32 / f64 bit patterns)."""
        s = s.strip()
        if s.startswith("%"):
            return lambda r, s=s: r[s]
        if s in self.symbols:
            v = self.symbols[s]
            return lambda r, v=v: v
        if s[:2] in ("0f", "0F") and len(s) == 10 or s[:2] in ("0d", "0D") and len(s) == 18:
            v = int(s[2:], 16)
            return lambda r, v=v: v
        try:
            v = int(s, 0) & ((1 << bits) - 1)
        except ValueError:
            raise EmuError(f"unsupported operand {s!r}") from None
        return lambda r, v=v: v

    def compile(self, guard, op, ops, text):
        o = op.split(".")
        name = o[0]
        d = ops[0] if ops else None
        kind, fn, extra = K_ALU, None, None
        h = hopper.compile(self, op, ops, text)  # sm_90 instructions: mbarrier, TMA, wgmma, clusters
        if h is not None:
            kind, fn, extra = h
        elif name == "bra":
            if o[1:] not in ([], ["uni"]) or len(ops) != 1 or ops[0] not in self.labels:
                raise EmuError(f"unsupported instruction: {text}")
            kind, extra = K_BRA, self.labels[ops[0]]
        elif name == "bar" or (name == "barrier" and o[1] != "cluster"):
            # bar.sync / bar.arrive / barrier.sync[.aligned] id[, threads]: a named barrier; without a
            # thread count, every thread of the CTA
            if o[1] not in ("sync", "arrive") or len(o) > 2 + ("aligned" in o) or len(ops) not in (1, 2):
                raise EmuError(f"unsupported instruction: {text}")
            kind = K_BAR
            extra = (o[1] == "sync", self.src(ops[0]), self.src(ops[1]) if len(ops) == 2 else None, text)
        elif name in ("ret", "exit") and len(o) == 1 and not ops:
            kind = K_RET
        elif op == "trap" and not ops:
            def fn(t):
                raise EmuError(f"trap in thread {t.tid} of CTA {t.cta}")
        elif name == "nanosleep":
            if op != "nanosleep.u32" or len(ops) != 1:
                raise EmuError(f"unsupported instruction: {text}")
            kind = K_SLEEP
        elif name == "shfl":
            assert op == "shfl.sync.idx.b32", text
            assert ops[3] == "31" and ops[4] in ("4294967295", "-1"), text
            kind, extra = K_WARP, self.shfl(d, self.src(ops[1]), self.src(ops[2]))
        elif name == "ldmatrix":
            kind, extra = K_WARP, self.ldmatrix(o, ops, text)
        elif name == "mma":
            kind, extra = K_WARP, self.mma(op, ops, text)
        elif name == "cp" and o[1] == "async":
            fn = self.cp_async(op, ops, text)
        elif name == "cvt":
            fn = self.cvt(o, ops, text)
        elif name == "fence":
            # fence.{sc,acq_rel}.{cta,cluster,gpu,sys}: memory is sequentially consistent here
            if len(o) != 3 or o[1] not in ("sc", "acq_rel") or o[2] not in ("cta", "cluster", "gpu", "sys"):
                raise EmuError(f"unsupported instruction: {text}")
            fn = lambda t: None
        elif name == "ld" and o[1] == "param":
            fn = self.ld_param(o, ops, text)
        elif name == "cvta":
            # cvta.to.global / cvta.global: global addresses are generic addresses here
            if o[1:] not in (["to", "global", "u64"], ["global", "u64"]) or len(ops) != 2:
                raise EmuError(f"unsupported instruction: {text}")
            sr = self.src(ops[1], 64)
            fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
        elif name == "mov":
            fn = self.mov(o, ops, text)
        elif name == "setp":
            fn = self.setp(o, ops, text)
        elif name == "selp":
            if len(o) != 2 or o[1] not in self.REG_TYPES or o[1] == "pred" or len(ops) != 4 or \
                    not ops[3].startswith("%"):
                raise EmuError(f"unsupported instruction: {text}")
            bits = self.REG_TYPES[o[1]]
            a, b = self.src(ops[1], bits), self.src(ops[2], bits)
            fn = lambda t, d=d, a=a, b=b, p=ops[3]: t.r.__setitem__(d, a(t.r) if t.r[p] else b(t.r))
        elif o[-1] == "pred" and len(o) == 2 and name in ("and", "or", "xor", "not"):
            fn = self.pred_op(name, ops, text)
        elif o[-1] in INT_TYPES and name in INT_OPS:
            fn = self.int_op(name, o, ops, text)
        elif o[-1] == "f32" and name in ("add", "sub", "mul", "fma", "neg", "abs"):
            fn = self.f32_op(name, o, ops, text)
        elif name in ("ld", "st", "atom", "red"):
            fn = self.memory_op(name, o, ops, text, d)
        else:
            raise EmuError(f"unsupported instruction: {text}")
        return (guard, kind, fn, extra, text)

    # ---- integer, predicate, f32 and conversion instructions ----
    def ld_param(self, o, ops, text):
        """ld.param.type d, [name] or [name+offset]: a scalar parameter's bytes (little-endian), or
        bytes of a byte-array parameter."""
        if len(o) != 3 or o[2] not in MEM_TYPES or len(ops) != 2 or not ops[1].startswith("["):
            raise EmuError(f"unsupported instruction: {text}")
        size = MEM_TYPES[o[2]]
        d = ops[0]
        p, off = _addr(ops[1])
        if p not in self.param_types:
            raise EmuError(f"{text}: no parameter {p}")
        if p in self.param_bytes:
            if off + size > self.param_bytes[p]:
                raise EmuError(f"{text}: past the {self.param_bytes[p]} bytes of {p}")
            addr = self.symbols[p]
            return lambda t, d=d: t.r.__setitem__(
                d, int.from_bytes(t.emu.param_mem[addr][off:off + size], "little"))
        psize = MEM_TYPES.get(self.param_types[p])
        if psize is None or off + size > psize or off % size:
            raise EmuError(f"{text}: {size} bytes at offset {off} of a .{self.param_types[p]} parameter")
        if off == 0 and size == psize:
            return lambda t, d=d, p=p: t.r.__setitem__(d, t.params[p])
        mask = (1 << (8 * size)) - 1
        return lambda t, d=d, p=p: t.r.__setitem__(d, (t.params[p] >> (8 * off)) & mask)

    def memory_op(self, name, o, ops, text, d):
        shared = [q for q in o if q.startswith("shared")]
        if "global" not in o and not shared:
            raise EmuError(f"unsupported instruction (generic or other state space): {text}")
        quals = [q for q in o[1:] if q != "global" and not q.startswith("shared")]
        ty = quals[-1]
        vec = 4 if "v4" in quals else 2 if "v2" in quals else 1
        if ty not in MEM_TYPES:
            raise EmuError(f"unsupported instruction: {text}")
        size = MEM_TYPES[ty]
        # a signed load narrower than its destination register sign-extends
        sext = None
        if name == "ld" and ty[0] == "s":
            dregs0 = _regs(d) if vec > 1 else [d]
            widths = {self.reg_width(x) for x in dregs0}
            if widths - {8 * size}:
                if None in widths or len(widths) != 1:
                    raise EmuError(f"unsupported instruction (a signed load into a register of unknown width): {text}")
                sext = (1 << (8 * size - 1), (1 << widths.pop()) - 1)
        sem = [q for q in quals if q in ("relaxed", "acquire", "release", "acq_rel", "volatile")]
        scope = [q for q in quals if q in ("sys", "gpu", "cta", "cluster")]
        nc = "nc" in quals
        info = {"op": name, "sem": sem[0] if sem else "weak", "scope": scope[0] if scope else None, "nc": nc,
                "text": text}
        addr_s = ops[1] if name in ("ld", "atom") else ops[0]
        areg, off = _addr(addr_s)
        if shared:  # shared memory (::cluster: any CTA of the cluster, through mapa addresses)
            remote = shared[0] == "shared::cluster"
            if name != "ld" and name != "st":
                raise EmuError(f"unsupported instruction: {text}")
            if name == "ld":
                dregs = _regs(d) if vec > 1 else [d]

                def fn(t, dregs=dregs, areg=areg, off=off, size=size, vec=vec, remote=remote):
                    smem, a = hopper.shared_at(t, (t.r[areg] + off) & M32, remote, text)
                    data = smem.read(a, size * vec, text)
                    for i, dr in enumerate(dregs):
                        v = int.from_bytes(data[i * size:(i + 1) * size], "little")
                        t.r[dr] = v if sext is None else ((v ^ sext[0]) - sext[0]) & sext[1]
            else:
                vs = [self.src(x, size * 8) for x in (_regs(ops[1]) if vec > 1 else [ops[1]])]

                def fn(t, vs=vs, areg=areg, off=off, size=size, remote=remote):
                    smem, a = hopper.shared_at(t, (t.r[areg] + off) & M32, remote, text)
                    smem.write(a, b"".join((v(t.r) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                                           for v in vs), text)
                    hopper.generic_store(t, smem, a, size * len(vs))
                    t.mem.stores += 1  # progress (a flag in shared memory)
        elif name == "ld":
            dregs = _regs(d) if vec > 1 else [d]

            def fn(t, dregs=dregs, areg=areg, off=off, size=size, vec=vec, info=info):
                a = (t.r[areg] + off) & M64
                data = t.mem.read(a, size * vec, info["text"])
                t.emu.on_access(t, "ld", a, size * vec, info)
                for i, dr in enumerate(dregs):
                    v = int.from_bytes(data[i * size:(i + 1) * size], "little")
                    t.r[dr] = v if sext is None else ((v ^ sext[0]) - sext[0]) & sext[1]
        elif name == "st":
            vs = [self.src(x, size * 8) for x in (_regs(ops[1]) if vec > 1 else [ops[1]])]

            def fn(t, vs=vs, areg=areg, off=off, size=size, vec=vec, info=info):
                a = (t.r[areg] + off) & M64
                data = b"".join((v(t.r) & ((1 << (8 * size)) - 1)).to_bytes(size, "little") for v in vs)
                t.emu.on_access(t, "st", a, size * vec, info)
                t.mem.write(a, data, info["text"])
        else:
            # atom.add / red.add, u32 or f32 (the f32 sum rounded once), any order and scope
            if "add" not in quals or ty not in ("u32", "f32") or vec != 1:
                raise EmuError(f"unsupported instruction: {text}")
            b = self.src(ops[2] if name == "atom" else ops[1])
            if ty == "u32":
                add = lambda x, y: (x + y) & M32
            else:
                add = lambda x, y: f2b(np.float32(b2f(x) + b2f(y)))

            def fn(t, d=d if name == "atom" else None, areg=areg, off=off, b=b, info=info, add=add):
                a = (t.r[areg] + off) & M64
                old = int.from_bytes(t.mem.read(a, 4, info["text"]), "little")
                t.emu.on_access(t, name, a, 4, info)
                t.mem.write(a, add(old, b(t.r)).to_bytes(4, "little"), info["text"])
                if d is not None:
                    t.r[d] = old
        return fn

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
                 "mem", "emu", "cta", "tid", "warp", "spins", "sleeps", "smem", "cp_open", "cp_groups", "c",
                 "bulk_open", "bulk_groups", "cluster_arrived")

    def __init__(self, emu, cta, tid, special, params, c=None):
        self.r = dict(emu.k.symbols)  # registers; symbols' addresses as constants ([symbol+imm] operands)
        self.speed = 1.0
        self.last_slept = False
        self.slept_at = -1
        self.confirmed = -1
        self.prog = emu.k.prog
        self.pc = 0
        # run, bar, warp / wg (at a warp / warpgroup collective), park (after a failed mbarrier wait),
        # block (at barrier.cluster.wait), exit
        self.state = "run"
        self.special = special
        self.params = params
        self.mem = emu.mem
        self.emu = emu
        self.cta = cta
        self.tid = tid
        self.spins = 0
        self.sleeps = 0
        self.c = c  # the Cta
        self.smem = c.smem if c is not None else None  # the CTA's Shared
        self.cp_open = []  # cp.async copies since the last commit_group: (shared address, bytes)
        self.cp_groups = []  # committed groups, oldest first
        self.bulk_open = []  # hopper: cp.async.bulk stores since the last bulk commit_group
        self.bulk_groups = []
        self.cluster_arrived = None  # hopper: the barrier.cluster phase this thread arrived on


class Emu:
    """One launch: Emu(mem, kernel, (grid.x, grid.y), block, params by name, seed).run(). `log`, when a
    list, receives (kind, rank, cta, tid, address, bytes, order, scope, nc) for every global access.
    cp_async: when a cp.async copy lands in shared memory, "wait" (at the wait_group covering it) or
    "issue". tma / wgmma: the same choice for TMA copies and wgmma (hopper.py): "wait" (a TMA load's
    bytes land when a thread sees its mbarrier phase complete, a TMA store reads shared memory at the
    bulk wait_group covering it; wgmma reads shared memory and writes its accumulators at the
    wgmma.wait_group covering it) or "issue". warp_speeds: a random speed per warp instead of per CTA;
    fast_warps: warps (of every CTA) that always run at full speed. tcgen05: when tcgen05.mma reads
    shared memory and writes tensor memory and when tcgen05.ld reads it, "wait" (at the commit / the
    wait::ld) or "issue" (tcgen05.py). A byte-array parameter (a tensor map) is given as `bytes`."""
    tc = None  # tcgen05.State for a kernel that uses tcgen05 (ipc.World sets up no Emu.__init__)

    def __init__(self, mem, kernel, grid, block, params, seed=0, max_slice=64, log=None, cp_async="wait",
                 warp_speeds=False, tma="wait", wgmma="wait", fast_warps=(), tcgen05="wait"):
        self.mem, self.k, self.grid, self.block, self.params = mem, kernel, grid, block, params
        assert cp_async in ("wait", "issue") and tma in ("wait", "issue") and wgmma in ("wait", "issue")
        assert tcgen05 in ("wait", "issue")
        self.cp_async, self.tma, self.wgmma = cp_async, tma, wgmma
        # tcgen05.py's state (tensor memory, MMAs and commits in flight) for a kernel that uses tcgen05
        self.tc = hopper.tcgen05.State(tcgen05) if getattr(kernel, "tcgen05", False) else None
        self.rng = random.Random(seed)
        self.max_slice = max_slice
        self.log = log
        if kernel.reqntid is not None and kernel.reqntid != block:
            raise EmuError(f"block {block} != .reqntid {kernel.reqntid}")
        if kernel.maxntid is not None and block > kernel.maxntid:
            raise EmuError(f"block {block} > .maxntid {kernel.maxntid}")
        assert block % 32 == 0
        names = [n for _, n in kernel.params]
        assert set(params) == set(names), (sorted(params), names)
        self.param_mem = {}  # PARAM_BASE-window address -> bytes of a byte-array parameter
        for pname, size in kernel.param_bytes.items():
            if not isinstance(params[pname], (bytes, bytearray)) or len(params[pname]) != size:
                raise EmuError(f"parameter {pname}: {size} bytes expected")
            self.param_mem[kernel.symbols[pname]] = bytes(params[pname])
        cx = kernel.cluster[0]
        if kernel.cluster[1:] != (1, 1) or grid[0] % cx:
            raise EmuError(f"grid {grid} and cluster {kernel.cluster}: clusters along x dividing grid.x only")
        self.ctas = []
        self.cta_objs = []
        for y in range(grid[1]):
            for x in range(grid[0]):
                c = Cta(len(self.cta_objs), (x, y), Shared(kernel.dynamic_smem, kernel.statics))
                if x % cx:
                    c.cluster = self.cta_objs[-1].cluster
                    c.cluster.append(c)
                c.rank = x % cx
                c.cluster_state = c.cluster[0].cluster_state if x % cx else hopper.ClusterState(cx * block)
                ths = []
                for t in range(block):
                    sp = {"%tid.x": t, "%ctaid.x": x, "%ctaid.y": y, "%nctaid.x": grid[0], "%laneid": t % 32,
                          "%ntid.x": block, "%cluster_ctarank": x % cx, "%cluster_nctarank": cx,
                          "%clusterid.x": x // cx, "%nclusterid.x": grid[0] // cx, "%cluster_ctaid.x": x % cx,
                          "%cluster_nctaid.x": cx, "%tid.y": 0, "%tid.z": 0, "%ntid.y": 1, "%ntid.z": 1,
                          "%ctaid.z": 0, "%nctaid.y": grid[1], "%nctaid.z": 1}
                    ths.append(Thread(self, (x, y), t, sp, params, c))
                sp_ = self.rng.choice(SPEEDS)
                for th in ths:
                    if warp_speeds and th.tid % 32 == 0:  # a speed per warp: warps overtake one another
                        sp_ = self.rng.choice(SPEEDS)
                    th.speed = 1.0 if th.tid // 32 in fast_warps else sp_
                c.threads = ths
                self.ctas.append(ths)
                self.cta_objs.append(c)
        self.instructions = 0
        self.waiting = set()  # (Cta, group size, group index) with a thread at a collective
        self.held = {}  # such a key -> rounds its collective still waits (run.latency)
        self.events = 0

    def on_access(self, t, kind, a, n, info):
        if self.log is not None:
            self.log.append((kind, t.cta[1], t.cta[0], t.tid, a, n, info["sem"], info["scope"], info["nc"]))

    def barrier(self, t, extra):
        """bar.sync / bar.arrive: True if t goes on (an arrive, or the barrier completed)."""
        sync, idf, cntf, text = extra
        c = t.c
        bid = idf(t.r)
        cnt = cntf(t.r) if cntf else len(c.threads)
        if not 0 <= bid < 16 or cnt <= 0 or cnt % 32 or cnt > len(c.threads):
            raise EmuError(f"{text!r}: barrier {bid} with {cnt} threads")
        if cntf is None and c.exited:
            raise EmuError(f"bar.sync in CTA {c.ctaid} with {c.exited} exited threads")
        if self.tc is not None:  # tcgen05: fence::before_thread_sync after tcgen05 work
            hopper.tcgen05.before_sync(t, text)
        st = c.bars.get(bid)
        if st is None:
            st = c.bars[bid] = [0, cnt, [], cntf is None]
        elif st[1] != cnt:
            raise EmuError(f"{text!r}: barrier {bid} used with {st[1]} and {cnt} threads at once in CTA {c.ctaid}")
        st[0] += 1
        if st[0] == cnt:
            for w in st[2]:
                w.state = "run"
                w.pc += 1
            del c.bars[bid]
            self.events += 1
            if self.tc is not None:  # tcgen05: fence::after_thread_sync before more tcgen05 work
                hopper.tcgen05.after_sync(st[2] + ([t] if sync else []))
            t.pc += 1
            return True
        if sync:
            st[2].append(t)
            t.state = "bar"
            return False
        t.pc += 1
        return True

    def on_exit(self, t):
        c = t.c
        if c is None:
            return
        c.exited += 1
        for bid, st in c.bars.items():
            if st[3] and st[2]:
                raise EmuError(f"bar.sync in CTA {c.ctaid} with {c.exited} exited threads")
        if t.bulk_groups or t.bulk_open or c.wg:
            hopper.on_exit(t)

    def run_thread(self, t, budget):
        """Runs t until it blocks or the budget ends. Returns True if it yielded on a nanosleep or a
        failed mbarrier wait."""
        try:
            return self._run_thread(t, budget)
        except KeyError as ex:  # a register read before any instruction wrote it
            raise EmuError(f"{t.prog[t.pc][4]!r}: {ex.args[0]!r} read before it was written (thread {t.tid} of "
                           f"CTA {t.cta})") from ex

    def _run_thread(self, t, budget):
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
            elif kind == K_PARK:
                how = fn(t)
                if how != PARK_AT:
                    t.pc += 1
                if how:
                    t.state = "park" if how == PARK_AFTER else "block"
                    return True
            elif kind == K_BAR:
                if not self.barrier(t, extra):
                    return False
            elif kind == K_WARP or kind == K_WG:
                t.state = "warp" if kind == K_WARP else "wg"
                size = 32 if kind == K_WARP else 128
                self.waiting.add((t.c, size, t.tid // size))
                return False
            elif kind == K_SLEEP:
                t.pc += 1
                t.sleeps += 1
                return True
            elif kind == K_RET:
                t.state = "exit"
                self.on_exit(t)
                return False
        return False

    def collectives(self):
        """Runs every warp / warpgroup collective all of whose threads have reached it."""
        events = 0
        for key in list(self.waiting):
            c, size, g = key
            lanes = c.threads[size * g:size * g + size]
            state = "warp" if size == 32 else "wg"
            if any(t.state != state for t in lanes):
                if all(t.state in (state, "exit") for t in lanes):
                    first = next(t for t in lanes if t.state == state)
                    raise EmuError(f"{first.prog[first.pc][4]!r} with exited lanes in CTA {c.ctaid} "
                                   f"{'warp' if size == 32 else 'warpgroup'} {g}")
                continue
            pcs = {t.pc for t in lanes}
            if len(pcs) != 1:
                raise EmuError(f"divergent {'warp' if size == 32 else 'warpgroup'} collective in CTA {c.ctaid} "
                               f"{'warp' if size == 32 else 'warpgroup'} {g}: "
                               + "; ".join(repr(lanes[0].prog[p][4]) for p in sorted(pcs)))
            run = lanes[0].prog[lanes[0].pc][3]
            if getattr(run, "latency", 0):  # a wait that takes a while (wgmma.wait_group): 0..latency rounds
                left = self.held.get(key)
                if left is None:
                    left = self.rng.randint(0, run.latency)
                if left:
                    self.held[key] = left - 1
                    events += 1
                    continue
                self.held.pop(key, None)
            self.waiting.discard(key)
            run(lanes)
            for t in lanes:
                t.state = "run"
                t.pc += 1
            events += 1
        return events

    def run(self, max_rounds=200000):
        rounds = 0
        stuck = 0
        while True:
            threads = [t for c in self.ctas for t in c]
            rounds += 1
            if rounds > max_rounds:
                raise EmuError("too many rounds")
            before = self.mem.stores
            self.events = 0
            order = [t for t in threads if t.state == "run"]
            self.rng.shuffle(order)
            self.woken = order  # wake() appends: a thread woken this round runs later in it
            rnd = self.rng.random
            for t in order:
                if t.state != "run":
                    continue
                if t.speed < 1.0 and rnd() > t.speed:
                    continue
                slept = self.run_thread(t, self.rng.randint(1, self.max_slice))
                t.last_slept = slept
                if slept:
                    # two sleeps with no store anywhere in between: a full spin iteration (with its
                    # flag read) saw the current memory
                    if t.slept_at == self.mem.stores:
                        t.confirmed = self.mem.stores
                    t.slept_at = self.mem.stores
                if t.state == "exit":
                    self.events += 1
            events = self.events + self.collectives() + self.after_round()
            if self.tc is not None:  # tcgen05 commits due this round
                events += hopper.tcgen05.tick(self)
            threads = [t for c in self.ctas for t in c]
            if all(t.state == "exit" for t in threads) and not getattr(self, "active", None):
                self.rounds = rounds
                hopper.at_end(self)
                return
            st_now = self.mem.stores
            all_slept = all(t.state != "run" or (t.last_slept and t.confirmed == st_now) for t in threads)
            if events == 0 and st_now == before and all_slept:
                stuck += 1
                if stuck >= 3:
                    raise EmuError("deadlock: " + self.describe())
            else:
                stuck = 0

    def wake(self, t):
        """A parked thread may run again (its mbarrier or cluster barrier completed a phase)."""
        if t.state in ("park", "block"):
            t.state = "run"
            self.woken.append(t)

    def after_round(self):
        return 0

    def describe(self):
        out = []
        for cta in self.ctas:
            states = {}
            for t in cta:
                pc = t.pc - 1 if t.state == "park" else t.pc  # parked after its failed wait
                key = (t.state, t.prog[pc][4] if t.state != "exit" else "")
                states.setdefault(key, []).append(t.tid)
            out.append(f"CTA {cta[0].cta}: " + "; ".join(f"{s} @ {txt!r}: tids {v[:6]}{'...' if len(v) > 6 else ''}"
                                                        for (s, txt), v in states.items()))
        return "\n".join(out)


import hopper  # noqa: E402  (sm_90 instructions; it imports this module)
