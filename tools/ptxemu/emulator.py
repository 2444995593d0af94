"""A PTX emulator for weft's communication kernels and its GEMMs: runs the PTX that `weft emit`
writes for all_gather, reduce_scatter, all_reduce, moe_dispatch and moe_combine (run_checks.py), for
gemm_bf16_sm80 and gemm_e4m3_sm89 (run_gemm_checks.py), for gemm_bf16_sm90 and gemm_e4m3_sm90
(run_gemm90_checks.py) and for gemm_bf16_sm100 (run_gemm100_checks.py) on the CPU, from either
backend: weft's direct printer, or LLVM 19's NVPTX backend (`--backend llvm`, sm_80 .. sm_90a; the
runners' --backend); also every launch of the host programs on a machine without a GPU, through a
fake CUDA driver and device_launch.py (one launch per process: the basic samples, the comm kernels,
every GEMM, with or without --debug-waits, the libdevice math kernels of test_gpu_llvm).

Kernel parses and compiles the subset of PTX those kernels use (integer, f32 and f64 arithmetic, the
special-function instructions, bf16x2 conversion, predicates and branches, calls of the module's
functions (below), ld/st on global memory and generic addresses (a generic address is a global one
here, or, in a module that uses cvta.local, one in the GENERIC_LOCAL window of the thread's local
memory, or, for loads in a module that uses cvta.param, one in the GENERIC_PARAM window of a
byte-array kernel parameter: cvta to shared memory is not modelled, so no generic address can point
there) with any order and scope (.volatile too), ld/st on local memory, atom / red (add, min, max,
and, or, xor, exch, cas: Kernel.atomic_op) on global, generic and shared memory, ld/st on shared
memory, fence, named
barriers (bar.sync / bar.arrive with ids and thread counts), bar.warp.sync (full warp), shfl.sync (idx, up, down, bfly; full
warp), nanosleep, ret; module-scope .global variables (Kernel.globals, placed by Emu: `mov.u64 %rd,
weft_debug_wait`, `[weft_debug_wait]`; an initializer, `= {65, 144, ...}`, is written where Emu places
the variable itself, while device_launch.py's driver places and initializes them), %globaltimer (Emu's
virtual clock); one .entry of a module that may hold several (Kernel(text, entry=NAME)); for the
GEMMs cp.async (.ca/.cg, src-size zero-fill,
commit_group, wait_group, wait_all), ldmatrix.m8n8 .x1/.x2/.x4 [.trans] .b16 and its inverse stmatrix
(sm_90; a generic-proxy store), createpolicy (a tagged opaque policy: a .L2::cache_hint operand without
the tag is an error), mma.sync m16n8k16
bf16 and m16n8k32 e4m3 with f32 accumulators, u16 loads and stores, static and dynamic shared
memory (dynamic shared memory after static variables only 16-byte aligned, whatever its declared
.align, as an H200 placed it: dynamic_smem_base), byte-array parameters (tensor maps) with their
two addresses, as on a GPU (PARAM_BASE, GENERIC_PARAM): the .param-space one of `mov.u64 %rd, tmap`,
which `ld.param` through a register takes (plus an offset), and the generic one of cvta.param (back:
cvta.to.param), which generic loads and TMA's tensor-map operand take (a .param address there is the
misaligned-address fault an H200 reported); the sm_90 instructions, mbarriers, TMA,
wgmma and clusters, are hopper.py's, tma.py's and wgmma.py's; the sm_100 ones, tensor memory and tcgen05,
tcgen05.py's); anything else raises EmuError("unsupported instruction"), so a kernel that starts
using a new instruction fails loudly instead of being emulated wrongly.

The register arithmetic (integers with the carry flag, predicates, setp, f32 and f64, the special
functions, cvt, mov) is alu.py's, mixed into Kernel. Floating point is exact where the PTX ISA makes it
exact: add / sub / mul / fma / div / rcp / sqrt in any of .rn .rz .rm .rp round the exact result once
(fma.rn.f32 too: the product exact in a double, an error-free two-sum, the f32 midpoint case
corrected). The .approx instructions (ex2, lg2, sin, cos, rsqrt, rcp, sqrt .f32; rcp.approx.ftz.f64)
are approximations on a GPU whose exact errors the PTX ISA only bounds: here they are correctly
rounded (a libm double checked against the rounding boundaries, a decimal evaluation to 60 digits or
more near one), with the ISA's special values and .ftz flushing, so results that depend on the hardware's
last-bit approximation errors may differ from a GPU's by an ulp or so (alu.py's docstring).

Calls (Kernel.call, Kernel._return, K_CALL): the module's `.func`s with a body that the entry reaches
are compiled after it into the same program; `call` / `call.uni` [(returns),] func[, (arguments)]
(direct calls only: an indirect call through a register and a prototype is unsupported) gives the
callee a frame on the thread's call stack (Thread.frames; MAX_CALL_DEPTH, so recursion works): its own
registers (a callee's %r1 is not its caller's), its .param variables (Thread.lp: its parameters,
copied from the caller's arguments: .param variables of the same size, registers or immediates; its
return parameters; those it declares for its own calls, at function scope or in `{ }` blocks, as
LLVM's call sequences do) and its .local variables; ret (in a .func; the entry's ret is its exit)
pops the frame and copies the return parameters into the caller's (.param variables or registers).
Local memory (Kernel.local_op): each thread's own local stack (Thread.local, addresses from
LOCAL_BASE: the entry's .local variables at constant addresses, then a frame per call, poisoned with
0xff bytes), `mov.u64 %SPL, __local_depot0`, `[__local_depot0+8]`, ld.local / st.local (.v2 / .v4),
cvta.local / cvta.to.local to and from the GENERIC_LOCAL window, generic ld / st there (only in a
module that uses cvta.local, so that no other kernel pays for the test); every local access inside
the frames of the calls in progress and aligned (else illegal_address / misaligned).

The LLVM backend's PTX (Kernel._statements, Kernel.compile, alu.py): statements split at semicolons,
whatever the whitespace (tabs), several on a line; `{ ... }` scopes with registers of their own
(weft's inline asm wraps predicates as `{ .reg .pred %wp0; setp.ne.b32 %wp0, %r1, 0; ...; selp.u32
%r2, 1, 0, %wp0; }`; an inline-asm carry chain, `{ mad.lo.cc.u32 ...; madc.hi.u32 ...; }`; a
call sequence's `.param` variables), renamed apart so that they shadow; `.reg` declarations of any
prefix (their widths, for sign extension); `.pragma "nounroll"`; `$L__BB0_3:` labels (each
function's own); `<kernel>_param_<i>` parameters renamed to the signature block's names; `.local`
variables and the %SP / %SPL stack idiom (above); module-scope `.shared` variables and
`[symbol+imm]` addresses; `ld.param` at an offset. Integer instructions on 16/32/64-bit types with
their signedness (add sub mul.lo/hi/wide mad.lo/hi/wide div rem min max abs neg and or xor not shl
shr bfe; signed division truncates, shifts clamp at the width), setp with every integer and f32/f64
comparison (unordered ones true with a NaN) and .and/.or/.xor combinations, selp, and/or/xor/not
.pred, cvt (integer widening / narrowing by the source's sign, .rn integer to float, .rzi/.rni/
.rmi/.rpi float to integer saturating, f32 <-> f64, bf16, .rn.satfinite.e4m3x2.f32 (ties to even,
saturating to 448: f_to_e4m3_rn_satfinite), f32 -> f32 / f64 -> f64 with .rni/.rzi/.rmi/.rpi, .sat,
.ftz), mov packs and unpacks (`mov.b32 {%rs1, %rs2}, %r3`), add/sub/mul/fma/neg/abs .f32 and .f64 in
every rounding, min/max .f32 (a NaN operand yields the other), add.cc / addc / sub.cc / subc / mad.cc / madc (alu.carry_op),
ex2 / lg2 / sin / cos / rsqrt / rcp .approx, rcp / sqrt / div .rn..rp (alu.special_op), signed loads
(sign-extended into wider registers), trap, exit. Every other form (.sat on arithmetic, .ftz on
add / mul / fma, cvta to shared memory, ...) is still an error.

Emu runs one launch: grid.x x grid.y x grid.z CTAs (for the comm kernels grid.y = the virtual
ranks; clusters along x from .reqnctapercluster, or the launch's) of 1-, 2- or 3-D blocks of any
size (a last, partial warp may run everything but warp / warpgroup collectives and named barriers
with a thread count, which are "unsupported": what missing lanes do there is not modelled)
(max_resident: at most that many CTAs at once, the next launching as earlier ones exit), every
thread with its own registers (raw bits), under a randomized scheduler:
a thread runs until it blocks (a barrier, a warp- or warpgroup-collective instruction waiting for
its warp or warpgroup, nanosleep in a spin loop, a failed mbarrier wait, exit) or its random time
slice ends, and each CTA (with warp_speeds, each warp) gets a random speed, so CTAs, ranks and warps
overtake one another.

Checked while running: every global access inside one allocation and aligned to its size
(Memory.check), every shared access inside a static variable or the dynamic shared memory and
aligned (Shared.check; TMA, bulk copies and wgmma / tcgen05 operands alike, on static arrays or
dynamic shared memory: Shared.check_range), bar.sync 0 with exited threads, collectives with exited
or divergent lanes, and deadlock: three rounds in which nothing was stored, no collective completed, nothing exited, and
every running thread spun through a full wait with its flag read after the last store (threads
parked on an mbarrier or at a barrier do not run); but when a stuck thread has read %globaltimer
(a bounded debug wait), the virtual clock first jumps ahead, up to 10 s (Emu's docstring), so that
the wait times out, reports and traps as on a GPU (device_launch.py's launches that share memory with
other processes first wait, in real time, as long as those show progress: Emu.jump_clock). A trap
stops its thread and ends the launch at the end of that scheduling round (Emu.on_trap, TRAP_GRACE =
0): a GPU tears the grid down at an unknown moment after a trap, so nothing may rely on other threads
running on (the debug-wait report is complete before any timed-out thread traps,
dsl/debug_wait.cpp). Memory.wcount counts the writes to every byte, for the write-once checks in
checks.py and the GEMM runners. EmuError.kind classifies an error (trap,
illegal_address, misaligned, deadlock, unsupported) for device_launch.py.

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
visible everywhere; where device_launch.py maps parts of it from files other processes map too, their
stores show at once, and atom / red there hold a file lock: Memory.atomic), so this checks
algorithms, indexing, protocols (rendezvous, epochs, counters) and write coverage, not memory-model
reorderings (a missing fence or a .gpu where .sys is needed passes here; the verifier's peer-pointer
rule covers scopes) and not performance (no timing, bank conflicts or register pressure). The
.approx instructions are correctly rounded, not the hardware's approximations (above). The lanes of
a warp are scheduled independently (as Volta and later may) and meet only at warp collectives;
bra.uni is not checked for uniformity. Launches are small (a few CTAs of 64 to 384 threads): Python
runs roughly a million PTX instructions a second (a 65536-thread vector_add takes 2 s, one of 2^24
threads minutes).
"""
import bisect
import contextlib
import math
import random
import re
import struct

import numpy as np

# IEEE arithmetic on the emulated registers overflows, divides by zero and makes NaNs (inf * 0) by
# design: the results are the point, numpy's warnings about them are noise in every log.
np.seterr(all="ignore")

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
_E4M3_MAGNITUDES = [e4m3_to_f(v) for v in range(0x7F)]  # codes 0 .. 0x7E, increasing


def f_to_e4m3_rn_satfinite(x):
    """cvt.rn.satfinite to e4m3: the nearest finite e4m3 (ties to the even code), magnitudes past 448
    (infinities too) saturate to 448, NaN stays NaN (0x7F); the sign is kept, zero's too."""
    if x != x:
        return 0x7F
    sign = 0x80 if math.copysign(1.0, x) < 0 else 0
    a = min(abs(x), 448.0)
    hi = bisect.bisect_left(_E4M3_MAGNITUDES, a)  # first magnitude >= a
    if hi == 0:
        return sign
    lo = hi - 1
    if hi == len(_E4M3_MAGNITUDES) or a - _E4M3_MAGNITUDES[lo] < _E4M3_MAGNITUDES[hi] - a:
        return sign | lo
    if a - _E4M3_MAGNITUDES[lo] > _E4M3_MAGNITUDES[hi] - a:
        return sign | hi
    return sign | (lo if lo % 2 == 0 else hi)


class EmuError(RuntimeError):
    """An emulator error. `kind` says what a launch reports (device_launch.py): "trap" (the trap
    instruction), "illegal_address" (outside every allocation, or past the one it starts in; shared
    memory alike), "misaligned", "deadlock", "unsupported" (an instruction, operand or launch shape
    the emulator does not model: every message that starts with "unsupported" is of this kind), or
    None (any other error: a broken protocol, a bad launch)."""

    def __init__(self, message="", kind=None):
        super().__init__(message)
        if kind is None and str(message).startswith("unsupported"):
            kind = "unsupported"
        self.kind = kind


class Memory:
    """Global memory: one byte buffer addressed by device address, with allocations (base, size, name)
    that every access must stay inside. Memory(size) is a fresh zeroed bytearray with no allocations
    (alloc() places them from 0x1000 up, with gaps); Memory(size, buf=..., allocs=...) works on a given
    writable buffer (an mmap of a launch's arena: device_launch.py) with the given allocations, sorted by
    base. wcount counts the writes to every byte (count_writes=False: none are counted, wcount is None).
    atomic(a): the context an atom / red on global address a runs its read-modify-write in: nothing here
    (one process owns the memory); device_launch.py's memory, parts of which other processes map too,
    takes a lock on the file behind a shared mapping there."""

    def __init__(self, size=1 << 22, buf=None, allocs=None, count_writes=True):
        self.mem = bytearray(size) if buf is None else buf
        self.wcount = np.zeros(size, dtype=np.uint16) if count_writes else None
        self.allocs = []  # (base, size, name)
        self.starts = []
        self.top = 0x1000
        self.stores = 0  # progress counter
        for base, n, name in allocs or ():
            if self.allocs and base < self.allocs[-1][0] + self.allocs[-1][1]:
                raise EmuError(f"allocation {name} at {base:#x} overlaps {self.allocs[-1][2]} or is out of order")
            if base < 0 or base + n > size:
                raise EmuError(f"allocation {name} [{base:#x}, +{n}) outside the {size} bytes of memory")
            self.allocs.append((base, n, name))
            self.starts.append(base)
            self.top = max(self.top, (base + n + 255) // 256 * 256 + 256)

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
            raise EmuError(f"{what}: address {a:#x} outside every allocation", "illegal_address")
        base, size, name = self.allocs[i]
        if a + n > base + size:
            raise EmuError(f"{what}: [{a:#x}, +{n}) outside allocation {name} [{base:#x}, +{size})", "illegal_address")
        if a % n:
            raise EmuError(f"{what}: misaligned {a:#x} for {n} bytes", "misaligned")

    def read(self, a, n, what="ld"):
        self.check(a, n, what)
        return self.mem[a:a + n]

    def atomic(self, a):
        return NO_LOCK

    def write(self, a, data, what="st"):
        self.check(a, len(data), what)
        self.mem[a:a + len(data)] = data
        if self.wcount is not None:
            self.wcount[a:a + len(data)] += 1
        self.stores += 1


NO_LOCK = contextlib.nullcontext()  # Memory.atomic's context for memory no other process shares


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
SMEM_BASE = 0x400  # dynamic shared memory's shared-window address in a kernel without static .shared variables
STATIC_BASE = 0x10  # static .shared variables (mbarriers) go from here; dynamic shared memory follows them at
# a 16-byte boundary only (dynamic_smem_base)

# control kinds; K_WARP / K_WG: a warp- / warpgroup-collective instruction (shfl.sync, ldmatrix,
# mma.sync, elect.sync / wgmma, setmaxnreg), run by Emu.run once all 32 / 128 threads have reached
# it, as extra(lanes); K_PARK: fn(t) may return PARK_AFTER (a failed mbarrier.try_wait: the thread
# moves on, but is not scheduled again until the barrier completes a phase) or PARK_AT (it blocks at
# the instruction and runs it again when woken); K_TRAP: trap (Emu.on_trap)
K_ALU, K_BRA, K_BAR, K_WARP, K_SLEEP, K_RET, K_WG, K_PARK, K_TRAP = range(9)
PARK_AFTER, PARK_AT = 1, 2
# K_CALL: fn(t) changes the thread's frame (a call, or a function's ret): its pc, registers (t.r), parameters
K_CALL = 9
LOCAL_BASE = 0x1000  # a thread's local-window addresses: its local stack from here (the entry's frame first)
GENERIC_LOCAL = 0x7E0000000000  # generic addresses of local memory (cvta.local): GENERIC_LOCAL + (a - LOCAL_BASE)
LOCAL_SPAN = 1 << 32  # the generic local window's size
# Byte-array kernel parameters (tensor maps) have two addresses, as on a GPU: `mov.u64 %rd, param` gives
# its .param-space address, in the PARAM_BASE window (ld.param through a register takes it), and
# cvta.param its generic one, in the GENERIC_PARAM window (generic ld and TMA's tensor-map operand take
# it): an H200 faulted (misaligned address) on a TMA given the .param address, which passed here while
# one window served as both. Global addresses lie far below every window.
PARAM_BASE = 0x7F0000000000
GENERIC_PARAM = 0x7D0000000000  # GENERIC_PARAM + (a - PARAM_BASE)
PARAM_SPAN = 1 << 32  # each parameter window's size
# createpolicy's result: this tag in the top 16 bits, the priorities below. A .L2::cache_hint operand
# must carry it, so a copy given some other register (uninitialised, an address) is an error here.
POLICY_TAG = 0xCAC0 << 48
POLICY_PRIORITIES = ("L2::evict_last", "L2::evict_normal", "L2::evict_first", "L2::evict_unchanged")


def check_policy(value, text):
    if value >> 48 != POLICY_TAG >> 48:
        raise EmuError(f"{text}: the cache-policy operand {value:#x} was not made by createpolicy")


CVTA_WINDOWS = {"local": (LOCAL_BASE, GENERIC_LOCAL), "param": (PARAM_BASE, GENERIC_PARAM)}  # cvta: (own, generic)
MAX_CALL_DEPTH = 256  # frames a thread may have (a runaway recursion is an error)


def in_window(a, base):
    """Whether address a is in the parameter window (PARAM_BASE or GENERIC_PARAM) at base."""
    return 0 <= a - base < PARAM_SPAN


def dynamic_smem_base(top):
    """Where dynamic shared memory starts in a kernel whose static .shared variables end at shared
    address `top`: the next multiple of 16, and never a multiple of 32 (16 more if it is), whatever
    alignment `.extern .shared .align N` declares. An H200 placed it right after the static variables
    at 16-byte alignment: a 128B-swizzled TMA box that relied on the declared .align 1024 faulted
    there with a misaligned shared address, so here a kernel relying on more than 16 bytes fails as
    it did there (weft rounds the base up at run time and its signature asks for the padding:
    KernelBuilder::dynamic_shared)."""
    base = (top + 15) // 16 * 16
    return base + 16 if base % 32 == 0 else base


class Shared:
    """One CTA's shared memory, addressed by its shared-window address: static variables (the
    kernel's `.shared` arrays: mbarriers) from STATIC_BASE, `size` bytes of dynamic shared memory (the
    signature's or the launch's) at `base` (Kernel.smem_base: SMEM_BASE, or just past the static
    variables at a 16-byte boundary only: dynamic_smem_base), all
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
            raise EmuError(f"{what}: misaligned shared address {a:#x} for {n} bytes", "misaligned")
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
                       f"memory at {self.base:#x} and every static shared variable", "illegal_address")

    def check_range(self, lo, hi, what):
        """An async-proxy access (TMA, bulk copies, wgmma and tcgen05 operands) of shared [lo, hi): inside
        the dynamic shared memory or inside one static variable, and clear of every live mbarrier (the
        caller checks its alignment)."""
        i = bisect.bisect_right(self.static_starts, lo) - 1
        inside = (self.base <= lo and hi <= self.base + self.size) or \
            (i >= 0 and hi <= self.statics[i][0] + self.statics[i][1])
        if not inside:
            raise EmuError(f"{what}: shared [{lo:#x}, {hi:#x}) not inside the {self.size} bytes of dynamic shared "
                           f"memory at {self.base:#x} nor inside one static shared variable", "illegal_address")
        if self.mbars and any(lo < b + 8 and b < hi for b in self.mbars):
            raise EmuError(f"{what}: shared [{lo:#x}, {hi:#x}) overlaps a live mbarrier")

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


def _blank_comments(text):
    """text with its comments (and string literals) made spaces, every offset kept."""
    return re.sub(r'//[^\n]*|/\*.*?\*/|"[^"\n]*"', lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)


def split_module(text):
    """A module's functions and what is outside them: (module-scope text, [(kind, name, start, end)]) with
    kind "entry" or "func" and text[start:end] the function from its `.entry` / `.func` to its closing
    brace (prototypes without a body stay in the module-scope text)."""
    blank = _blank_comments(text)
    funcs, scope, pos = [], [], 0
    for m in re.finditer(r"\.(entry|func)\s+(?:\([^)]*\)\s*)?([$\w]+)", blank):
        if m.start() < pos:
            continue
        brace, semi = blank.find("{", m.end()), blank.find(";", m.end())
        if brace < 0 or 0 <= semi < brace:  # a prototype (`.extern .func f (...);`)
            continue
        depth, i = 0, brace
        while i < len(blank):
            if blank[i] == "{":
                depth += 1
            elif blank[i] == "}":
                depth -= 1
                if not depth:
                    break
            i += 1
        else:
            raise EmuError(f".{m.group(1)} {m.group(2)} has no closing brace")
        funcs.append((m.group(1), m.group(2), m.start(), i + 1))
        scope.append(blank[pos:m.start()])
        pos = i + 1
    scope.append(blank[pos:])
    return "".join(scope), funcs


class Func:
    """A .func of the module that the entry calls (directly or through other functions): pc, its first
    instruction in Kernel.prog; params and rets, its parameters and return parameters ((name, bytes) in
    order); its .local variables' frame (local_size bytes, local_align, local_offs: (name, offset))."""
    __slots__ = ("name", "pc", "params", "rets", "local_size", "local_align", "local_offs")

    def __init__(self, name, params, rets):
        self.name, self.params, self.rets = name, params, rets
        self.pc, self.local_size, self.local_align, self.local_offs = None, 0, 1, []


GLOBAL_TYPES = {"b8": 1, "u8": 1, "s8": 1, "b16": 2, "u16": 2, "s16": 2, "b32": 4, "u32": 4, "s32": 4, "f32": 4,
                "b64": 8, "u64": 8, "s64": 8, "f64": 8}


class Kernel(Alu):
    """One .entry of a module, parsed and compiled: Kernel(text) runs the module's first .entry,
    Kernel(text, entry=NAME) the named one (a module may hold several). Module-scope `.global`
    variables (`.visible .global .align 8 .b8 weft_debug_wait[8];`) are in `globals` (name -> (bytes,
    alignment)), their initializers' bytes in `global_init` (name -> bytes): each Emu places them (at
    the addresses it is given, initialized there by whoever gave them, or in fresh allocations it
    zeroes and initializes) and every thread has their addresses as constant registers, so `mov.u64
    %rd, name`, `[name]` and `[name+imm]` operands work like those of shared variables. The `.func`s
    the entry calls are compiled after it into `prog` (`functions`: name -> Func; the module
    docstring's "Calls"); `local_size`: the bytes of the entry's own .local variables."""

    def __init__(self, text, entry=None):
        scope, funcs = split_module(text)
        entries = [f for f in funcs if f[0] == "entry"]
        if not entries:
            raise EmuError("the module has no .entry")
        if entry is None:
            chosen = entries[0]
        else:
            chosen = next((f for f in entries if f[1] == entry), None)
            if chosen is None:
                raise EmuError(f"no .entry {entry} in the module (its entries: {', '.join(f[1] for f in entries)})")
        self.name = chosen[1]
        body = text[chosen[2]:chosen[3]]
        # the signature block's section of this kernel (`//! kernel NAME` .. `//! end-kernel`), else
        # everything before the entry
        m = re.search(rf"^//! kernel {re.escape(self.name)}\n(.*?)^//! end-kernel", text, re.M | re.S)
        head = m.group(1) if m else text[:chosen[2]]
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
        # "b8", its size in param_bytes and a .param-space address in the PARAM_BASE window (`mov.u64
        # %rd, name`; param_windows: (address, bytes) by address, for param_at)
        self.params, self.param_bytes, self.symbols, self.param_windows = [], {}, {}, []
        window = PARAM_BASE + 256  # the next byte-array parameter's address (windows 256-byte aligned, disjoint)
        for align, ty, pname, size in re.findall(r"\.param\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+(\w+)(?:\[(\d+)\])?",
                                                 body[: body.index(")")]):
            self.params.append((ty, pname))
            if size:
                self.param_bytes[pname] = int(size)
                self.symbols[pname] = window
                self.param_windows.append((window, int(size)))
                window += max(256, (int(size) + 255) // 256 * 256)
        self.param_starts = [a for a, _ in self.param_windows]
        self.param_types = dict((n, t) for t, n in self.params)
        # performance directives (between the parameter list and the body): thread counts as products
        # (reqntid_dims / maxntid_dims: the three numbers), the cluster shape
        perf = body[body.index(")"):body.index("{")]
        m = re.search(r"\.reqntid\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?", perf)
        self.reqntid_dims = tuple(int(x or 1) for x in m.groups()) if m else None
        self.reqntid = self.reqntid_dims[0] * self.reqntid_dims[1] * self.reqntid_dims[2] if m else None
        m = re.search(r"\.maxntid\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?", perf)
        self.maxntid_dims = tuple(int(x or 1) for x in m.groups()) if m else None
        self.maxntid = self.maxntid_dims[0] * self.maxntid_dims[1] * self.maxntid_dims[2] if m else None
        m = re.search(r"\.reqnctapercluster\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?", perf)
        self.cluster = tuple(int(x or 1) for x in m.groups()) if m else (1, 1, 1)
        self.cluster_declared = m is not None
        # dynamic shared memory: `.extern .shared ... name[]`, its size from the signature (a launch may
        # give another: Emu dynamic_smem); static `.shared .align A .b8 name[N]` variables (in the
        # kernel's body, or at module scope as LLVM writes them) from STATIC_BASE, below it, which then
        # starts only 16-byte aligned, as on an H200 (dynamic_smem_base)
        m = re.search(r"//! dynamic_smem (\d+)", head) or re.search(r"//! dynamic_smem (\d+)", text)
        self.dynamic_smem = int(m.group(1)) if m else 0
        self.statics, top = [], STATIC_BASE
        code = scope + "\n" + _blank_comments(body)
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
        self.smem_base = dynamic_smem_base(top) if self.statics else SMEM_BASE
        for sym in re.findall(r"\.extern\s+\.shared\s[^;]*?(\w+)\[\]\s*;", code):
            self.symbols[sym] = self.smem_base
        # module-scope .global variables: name -> (bytes, alignment); an initializer's bytes in global_init
        self.globals, self.global_init = {}, {}
        for decl in re.findall(r"(?:^|;)[ \t]*((?:\.(?:visible|extern|weak|common)[ \t]+)*\.global\b[^;]*;)", scope,
                               re.M):
            m = re.fullmatch(r"(?:\.visible\s+)?\.global\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+([$\w]+)(?:\[(\d+)\])?"
                             r"(?:\s*=\s*(\{[^{}]*\}|[^{};=]+?))?\s*;", decl.strip())
            if not m or m.group(2) not in GLOBAL_TYPES:
                raise EmuError(f"unsupported global variable declaration: {decl.strip()}")
            align, ty, sym, count, init = m.groups()
            esize = GLOBAL_TYPES[ty]
            self.globals[sym] = (esize * (int(count) if count else 1), int(align) if align else esize)
            if init is not None:
                self.global_init[sym] = self._initializer(init, ty, esize, int(count) if count else None, decl)
        clash = (set(self.param_types) & (set(self.symbols) - set(self.param_bytes))) | \
            (set(self.globals) & (set(self.symbols) | set(self.param_types)))
        if clash:
            raise EmuError(f"parameter, shared or global variables of the same name: {sorted(clash)}")
        # calls: the module's functions with a body (name -> text from `.func` to its closing brace); those
        # the entry reaches are compiled after it into prog (functions: name -> Func)
        self.funcs = {f[1]: text[f[2]:f[3]] for f in funcs if f[0] == "func"}
        self.functions, self._pending = {}, []
        # modules that convert local or parameter addresses to generic ones: their generic ld / st test
        # for those windows (memory_op; no other kernel pays for the test)
        self.generic_local = re.search(r"\bcvta(?:\.to)?\.local\b", _blank_comments(text)) is not None
        self.generic_param = re.search(r"\bcvta(?:\.to)?\.param\b", _blank_comments(text)) is not None
        # the function being compiled: a .func (ret returns) or the entry; its .param variables (name ->
        # bytes: a .func's parameters and return parameters, and those it declares), its .local variables
        # ((name, bytes, alignment)), the names of its frame's local addresses (a .func's: registers of
        # the frame; the entry's are constants, in symbols)
        self.in_func, self.local_params, self.local_vars, self.frame_syms = False, {}, [], set()
        self.reg_bits = {}  # declared registers: name (or "%prefix<" for a `%prefix<N>` range) -> bits
        raw_ins, labels = self._raw(body[body.index("{") + 1:])
        # the entry's .local variables: the bottom of every thread's local stack, at constant addresses
        self.local_size, self.local_align, offs = self._local_layout()
        clash = set(offs) & (set(self.symbols) | set(self.globals) | set(self.param_types))
        if clash:
            raise EmuError(f"local variables named as parameter, shared or global variables: {sorted(clash)}")
        self.symbols.update((n, LOCAL_BASE + o) for n, o in offs.items())
        self.labels = labels
        self.prog = [self.compile(g, op, ops, s) for g, op, ops, s in raw_ins]
        entry = (self.labels, self.reg_bits, self.local_params)
        while self._pending:
            self._compile_func(self._pending.pop(0))
        self.labels, self.reg_bits, self.local_params = entry
        self.in_func, self.frame_syms = False, set()

    def _raw(self, src):
        """The statements of a body (the text after its opening brace) as (guard, op, operands, text), and its
        labels (name -> index)."""
        raw_ins, labels = [], {}
        for kind, s in self._statements(src):
            if kind == "label":
                labels[s] = len(raw_ins)
                continue
            guard = None
            if s.startswith("@"):
                g, s = s.split(None, 1)
                guard = (g[1:].startswith("!"), g.lstrip("@!"))
            parts = s.split(None, 1)
            raw_ins.append((guard, parts[0], split_ops(parts[1]) if len(parts) > 1 else [], s))
        return raw_ins, labels

    def _local_layout(self):
        """The .local variables declared in the body just read (local_vars), laid out in declaration order:
        (frame bytes, frame alignment, name -> offset)."""
        offs, top, align = {}, 0, 1
        for name, size, al in self.local_vars:
            top = (top + al - 1) // al * al
            offs[name] = top
            top += size
            align = max(align, al)
        return top, align, offs

    @staticmethod
    def _initializer(init, ty, esize, count, decl):
        """A .global's initializer (`= {1, 2, 3}` or `= 5`; integers, 0f / 0d bit patterns) as bytes, the
        elements past the list zero."""
        vals = [v.strip() for v in init.strip().strip("{}").split(",")] if init.strip().startswith("{") else [init]
        n = count if count is not None else 1
        if len(vals) > n or (count is None and init.strip().startswith("{")):
            raise EmuError(f"unsupported global variable initializer: {decl.strip()}")
        out = bytearray(esize * n)
        for i, v in enumerate(vals):
            try:
                if v[:2] in ("0f", "0F", "0d", "0D"):
                    x = int(v[2:], 16)
                else:
                    x = int(v, 0)
            except ValueError:
                raise EmuError(f"unsupported global variable initializer: {decl.strip()}") from None
            if ty[0] == "f" and v[:2] not in ("0f", "0F", "0d", "0D"):
                x = f2b(np.float32(x)) if esize == 4 else d2b(float(x))
            out[i * esize:(i + 1) * esize] = (x & ((1 << (8 * esize)) - 1)).to_bytes(esize, "little")
        return bytes(out)

    # ---- functions and calls ----
    def _formals(self, s, what):
        """A .func's parameter (or return) list: [(name, bytes)]; .param variables only (scalars, byte arrays)."""
        out = []
        for p in ([] if s is None or not s.strip() else s.split(",")):
            m = re.fullmatch(r"\s*\.param\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+([$\w]+)(?:\[(\d+)\])?\s*", p)
            if not m or m.group(2) not in MEM_TYPES:
                raise EmuError(f"unsupported {what} declaration: {p.strip()}")
            out.append((m.group(3), MEM_TYPES[m.group(2)] * (int(m.group(4)) if m.group(4) else 1)))
        return out

    def _func(self, name, text):
        """The Func a call names (its signature read at the first call; its body compiled later, _pending)."""
        f = self.functions.get(name)
        if f is not None:
            return f
        if name not in self.funcs:
            raise EmuError(f"unsupported: {text!r} calls {name}, which has no body in the module (an external "
                           f"function, or not a function)")
        src = _blank_comments(self.funcs[name])
        head = src[:src.index("{")]
        m = re.fullmatch(r"\s*\.func\s*(?:\(([^()]*)\))?\s*([$\w]+)\s*(?:\(([^()]*)\))?\s*(?:\.noreturn\s*)?", head)
        if not m:
            raise EmuError(f"unsupported function declaration: {' '.join(head.split())}")
        f = self.functions[name] = Func(name, self._formals(m.group(3), f"{name} parameter"),
                                        self._formals(m.group(1), f"{name} return parameter"))
        if len({n for n, _ in f.params + f.rets}) != len(f.params) + len(f.rets):
            raise EmuError(f"function {name}: two parameters of the same name")
        self._pending.append(f)
        return f

    def _compile_func(self, f):
        """Compiles a .func's body onto the end of prog (its registers, labels, .param and .local variables
        its own: every call gets a frame)."""
        src = self.funcs[f.name]
        self.in_func = True
        self.reg_bits = {}
        self.local_params = dict(f.params + f.rets)
        self.local_vars = []
        raw_ins, labels = self._raw(src[_blank_comments(src).index("{") + 1:])
        f.local_size, f.local_align, offs = self._local_layout()
        f.local_offs = list(offs.items())
        self.frame_syms = set(offs)
        f.pc = len(self.prog)
        self.labels = {k: v + f.pc for k, v in labels.items()}
        self.prog.extend([self.compile(g, op, ops, s) for g, op, ops, s in raw_ins])

    _CALL = re.compile(r"call(?:\.uni)? (?:\(\s*([^()]*?)\s*\)\s*,\s*)?([$A-Za-z_][$\w]*)"
                       r"\s*(?:,\s*\(\s*([^()]*?)\s*\))?")

    def call(self, text):
        """call[.uni] [(ret)], func[, (args)]: a direct call of a .func with a body in the module. The
        arguments are .param variables of the caller (copied into the callee's parameters, of the same
        size), registers or immediates; the returns .param variables or registers (copied back at its
        ret; one the callee did not write is left unwritten). The callee gets a frame: its own registers
        (none written yet but the symbols' constants), parameters and .local variables (on the thread's
        local stack, poisoned with 0xff bytes); ret pops it."""
        m = self._CALL.fullmatch(text)
        if not m:
            raise EmuError(f"unsupported instruction (an indirect call, or a call form not modelled): {text}")
        f = self._func(m.group(2), text)
        rets = [x.strip() for x in m.group(1).split(",")] if m.group(1) else []
        args = [x.strip() for x in m.group(3).split(",")] if m.group(3) else []
        if len(rets) != len(f.rets) or len(args) != len(f.params):
            raise EmuError(f"{text}: {len(rets)} returns and {len(args)} arguments for {f.name}'s {len(f.rets)} and "
                           f"{len(f.params)}")
        argspec, retspec = [], []
        for x, (formal, size) in zip(args, f.params):
            if x in self.local_params:
                if self.local_params[x] != size:
                    raise EmuError(f"{text}: the {self.local_params[x]}-byte {x} for {f.name}'s {size}-byte {formal}")
                argspec.append((formal, x, None, size))
            else:
                argspec.append((formal, None, self.src(x, 8 * size), size))
        for x, (formal, size) in zip(rets, f.rets):
            if x in self.local_params:
                if self.local_params[x] != size:
                    raise EmuError(f"{text}: the {self.local_params[x]}-byte {x} for {f.name}'s {size}-byte {formal}")
                retspec.append((True, x, formal))
            elif x.startswith("%"):
                retspec.append((False, x, formal))
            else:
                raise EmuError(f"unsupported instruction: {text}")
        kernel = self

        def fn(t):
            lp = t.lp
            nlp = {}
            for formal, p, v, size in argspec:
                nlp[formal] = bytearray(lp[p]) if p is not None else \
                    bytearray((v(t.r) & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            frames = t.frames
            if len(frames) >= MAX_CALL_DEPTH:
                raise EmuError(f"{text}: more than {MAX_CALL_DEPTH} frames (a runaway recursion?)")
            frames.append((t.pc, t.r, lp, t.lsp, retspec))
            r = dict(getattr(t.emu, "symbol_regs", None) or kernel.symbols)
            if f.local_size:
                al = f.local_align
                base = (t.lsp + al - 1) // al * al
                top = base + f.local_size
                loc = t.local
                if loc is None:
                    loc = t.local = bytearray()
                if len(loc) < top:
                    loc.extend(bytes(top - len(loc)))
                loc[base:top] = b"\xff" * f.local_size
                for name, off in f.local_offs:
                    r[name] = LOCAL_BASE + base + off
                t.lsp = top
            t.r, t.lp, t.pc = r, nlp, f.pc
        return fn

    @staticmethod
    def _return(t):
        """A .func's ret: back to the caller's frame after the call, the return parameters copied."""
        if not t.frames:
            raise EmuError("ret in a function with no caller (the entry ran into a function's body?)")
        pc, r, lp, lsp, retspec = t.frames.pop()
        own = t.lp
        for to_param, x, formal in retspec:
            v = own.get(formal)
            if to_param:
                if v is None:
                    lp.pop(x, None)
                else:
                    lp[x] = v
            elif v is None:
                r.pop(x, None)
            else:
                r[x] = int.from_bytes(v, "little")
        t.r, t.lp, t.lsp, t.pc = r, lp, lsp, pc + 1

    def sign_extension(self, ty, size, dregs, text):
        """A signed load (.s8 / .s16 / .s32) narrower than its destination registers sign-extends: (sign bit,
        mask of the register width) for `((v ^ sign) - sign) & mask`, or None when nothing is extended."""
        if ty[0] != "s":
            return None
        widths = {self.reg_width(x) for x in dregs}
        if not widths - {8 * size}:
            return None
        if None in widths or len(widths) != 1:
            raise EmuError(f"unsupported instruction (a signed load into a register of unknown width): {text}")
        return (1 << (8 * size - 1), (1 << widths.pop()) - 1)

    def param_local(self, name, o, ops, text):
        """ld.param / st.param [.v2/.v4] of a .param variable of the function's frame (a .func's parameters
        and return parameters, those a body declares for its calls): bytes of t.lp[name], a bytearray of
        the declared size (st creates it; ld of one never written is an error)."""
        quals = o[2:]
        vec = {"v2": 2, "v4": 4}.get(quals[0], 1) if quals else 1
        if vec > 1:
            quals = quals[1:]
        if len(quals) != 1 or quals[0] not in MEM_TYPES or len(ops) != 2:
            raise EmuError(f"unsupported instruction: {text}")
        ty = quals[0]
        size = MEM_TYPES[ty]
        p, off = _addr(ops[1] if name == "ld" else ops[0])
        psize = self.local_params[p]
        n = size * vec
        if off < 0 or off + n > psize or off % size:
            raise EmuError(f"{text}: {n} bytes at offset {off} of the {psize}-byte parameter {p}")
        if name == "ld":
            dregs = _regs(ops[0]) if vec > 1 else [ops[0]]
            sext = self.sign_extension(ty, size, dregs, text)
            if vec == 1 and sext is None:
                d = dregs[0]
                return lambda t, d=d, p=p, a=off, b=off + size: t.r.__setitem__(
                    d, int.from_bytes(t.lp[p][a:b], "little"))

            def fn(t):
                buf = t.lp[p]
                for i, dr in enumerate(dregs):
                    v = int.from_bytes(buf[off + i * size:off + (i + 1) * size], "little")
                    t.r[dr] = v if sext is None else ((v ^ sext[0]) - sext[0]) & sext[1]
            return fn
        vs = [self.src(x, 8 * size) for x in (_regs(ops[1]) if vec > 1 else [ops[1]])]
        mask = (1 << (8 * size)) - 1

        def fn(t):
            lp = t.lp
            buf = lp.get(p)
            if buf is None:
                buf = lp[p] = bytearray(psize)
            buf[off:off + n] = b"".join((v(t.r) & mask).to_bytes(size, "little") for v in vs)
        return fn

    def local_op(self, name, o, ops, text):
        """ld / st .local [.v2/.v4]: the thread's local memory (t.local, its local stack: the entry's .local
        variables, then a frame per call), addressed by local-window address from LOCAL_BASE (`mov.u64
        %SPL, __local_depot0`: a frame's variable; `[__local_depot0+8]`); every access inside the live
        stack (the frames of the calls in progress) and aligned to its size."""
        quals = [q for q in o[1:] if q != "local"]
        vec = {"v2": 2, "v4": 4}.get(quals[0], 1) if quals else 1
        if vec > 1:
            quals = quals[1:]
        if len(quals) != 1 or quals[0] not in MEM_TYPES or len(ops) != 2:
            raise EmuError(f"unsupported instruction: {text}")
        return self._local_access(name, quals[0], vec, ops, text, 0)

    def _local_access(self, name, ty, vec, ops, text, shift):
        """The closure of a local load / store of vec elements of type ty (shift: what to add to the address
        register's value for a local-window address; a generic address's is LOCAL_BASE - GENERIC_LOCAL)."""
        size = MEM_TYPES[ty]
        n = size * vec
        areg, off = _addr(ops[1] if name == "ld" else ops[0])
        off += shift

        def where(t):
            a = (t.r[areg] + off) & M64
            i = a - LOCAL_BASE
            if i < 0 or i + n > t.lsp:
                raise EmuError(f"{text}: local [{a:#x}, +{n}) outside the thread's {t.lsp} bytes of live local memory "
                               f"at {LOCAL_BASE:#x}", "illegal_address")
            if a % n:
                raise EmuError(f"{text}: misaligned local address {a:#x} for {n} bytes", "misaligned")
            return i
        if name == "ld":
            dregs = _regs(ops[0]) if vec > 1 else [ops[0]]
            sext = self.sign_extension(ty, size, dregs, text)

            def fn(t):
                i = where(t)
                data = t.local[i:i + n]
                for k, dr in enumerate(dregs):
                    v = int.from_bytes(data[k * size:(k + 1) * size], "little")
                    t.r[dr] = v if sext is None else ((v ^ sext[0]) - sext[0]) & sext[1]
            return fn
        vs = [self.src(x, 8 * size) for x in (_regs(ops[1]) if vec > 1 else [ops[1]])]
        mask = (1 << (8 * size)) - 1

        def fn(t):
            i = where(t)
            t.local[i:i + n] = b"".join((v(t.r) & mask).to_bytes(size, "little") for v in vs)
        return fn

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
        elif d == ".param":  # a .param variable for calls: the frame's (a nested scope's renamed apart)
            m = re.fullmatch(r"\.param (?:\.align (\d+) )?\.(\w+) ([$A-Za-z_][$\w]*)(?:\[(\d+)\])?", s)
            if not m or m.group(2) not in MEM_TYPES:
                raise EmuError(f"unsupported parameter declaration: {s}")
            nm, size = m.group(3), MEM_TYPES[m.group(2)] * (int(m.group(4)) if m.group(4) else 1)
            if len(scopes) > 1:
                scopes[-1][nm] = nm + f"#{uid}"
                nm += f"#{uid}"
            if nm in self.local_params or (not self.in_func and nm in self.param_types):
                raise EmuError(f"unsupported: a second parameter named {nm}: {s}")
            self.local_params[nm] = size
        elif d == ".local":  # a .local variable: the frame's, on the thread's local stack
            m = re.fullmatch(r"\.local (?:\.align (\d+) )?\.(\w+) ([$A-Za-z_][$\w]*)(?:\[(\d+)\])?", s)
            if not m or m.group(2) not in MEM_TYPES or len(scopes) > 1:
                raise EmuError(f"unsupported local variable declaration: {s}")
            esize = MEM_TYPES[m.group(2)]
            align = int(m.group(1)) if m.group(1) else esize
            if align & (align - 1) or align > 4096:
                raise EmuError(f"unsupported local variable alignment: {s}")
            self.local_vars.append((m.group(3), esize * (int(m.group(4)) if m.group(4) else 1), align))
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
        if s.startswith("%") or s in self.globals or s in self.frame_syms:
            # (a global variable's address is a constant register; a .func's .local variable's one of its frame)
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
        elif name == "bar" and o[1:] == ["warp", "sync"]:
            # bar.warp.sync mask: the warp's lanes wait for one another here (a warp collective that
            # moves nothing); only the full warp is modelled.
            if len(ops) != 1:
                raise EmuError(f"unsupported instruction: {text}")
            mask = self.src(ops[0])

            def warp_sync(lanes):
                if mask(lanes[0].r) & M32 != M32:  # -1 (LLVM's spelling) or 0xffffffff
                    raise EmuError(f"unsupported: {text}: a member mask other than 0xffffffff is not modelled")
            kind, extra = K_WARP, warp_sync
        elif name == "bar" or (name == "barrier" and o[1] != "cluster"):
            # bar.sync / bar.arrive / barrier.sync[.aligned] id[, threads]: a named barrier; without a
            # thread count, every thread of the CTA
            if o[1] not in ("sync", "arrive") or len(o) > 2 + ("aligned" in o) or len(ops) not in (1, 2):
                raise EmuError(f"unsupported instruction: {text}")
            kind = K_BAR
            extra = (o[1] == "sync", self.src(ops[0]), self.src(ops[1]) if len(ops) == 2 else None, text)
        elif name in ("ret", "exit") and len(o) == 1 and not ops:
            if name == "ret" and self.in_func:  # a function's return (the entry's ret is its thread's exit)
                kind, fn = K_CALL, self._return
            else:
                kind = K_RET
        elif name == "call":
            kind, fn = K_CALL, self.call(text)
        elif op == "trap" and not ops:
            kind = K_TRAP
        elif name == "nanosleep":
            if op != "nanosleep.u32" or len(ops) != 1:
                raise EmuError(f"unsupported instruction: {text}")
            kind = K_SLEEP
        elif name == "shfl":
            kind, extra = K_WARP, self.shfl(o, ops, text)
        elif name == "ldmatrix":
            kind, extra = K_WARP, self.ldmatrix(o, ops, text)
        elif name == "stmatrix":
            kind, extra = K_WARP, self.stmatrix(o, ops, text)
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
        elif name == "createpolicy":
            # createpolicy.fractional.L2::<primary>[.L2::<secondary>].b64 d[, fraction]: an opaque,
            # tagged policy (the cache itself is not modelled)
            pri = [x for x in o[2:-1]]
            if o[1] != "fractional" or o[-1] != "b64" or not 1 <= len(pri) <= 2 or pri[0] not in POLICY_PRIORITIES or \
                    (len(pri) == 2 and pri[1] not in ("L2::evict_first", "L2::evict_unchanged")) or len(ops) not in (1, 2):
                raise EmuError(f"unsupported instruction: {text}")  # (the secondary: evict_first or _unchanged)
            f = ops[1].strip() if len(ops) == 2 else "1.0"
            try:
                fraction = struct.unpack("<f", int(f[2:], 16).to_bytes(4, "little"))[0] if f[:2] in ("0f", "0F") \
                    else float(f)
            except ValueError:
                raise EmuError(f"unsupported instruction (fraction): {text}") from None
            if not 0.0 < fraction <= 1.0:
                raise EmuError(f"{text}: the fraction must be in (0, 1]")
            v = POLICY_TAG | sum(POLICY_PRIORITIES.index(x) << (4 * i) for i, x in enumerate(pri))
            fn = lambda t, d=d, v=v: t.r.__setitem__(d, v)
        elif name == "ld" and o[1] == "param":
            fn = self.ld_param(o, ops, text)
        elif name == "st" and o[1] == "param":
            if len(ops) != 2 or _addr(ops[0])[0] not in self.local_params:
                raise EmuError(f"unsupported instruction (st.param to other than a .param variable of the "
                               f"function): {text}")
            fn = self.param_local("st", o, ops, text)
        elif name in ("ld", "st") and "local" in o[1:]:
            fn = self.local_op(name, o, ops, text)
        elif name == "cvta" and o[-2] in CVTA_WINDOWS:
            # cvta.local.u64 / cvta.param.u64 (local -> generic: into the GENERIC_LOCAL window; .param ->
            # generic: into the GENERIC_PARAM window), cvta.to.local.u64 / cvta.to.param.u64 (back)
            space = o[-2]
            if o[1:] not in (["to", space, "u64"], [space, "u64"]) or len(ops) != 2:
                raise EmuError(f"unsupported instruction: {text}")
            sr = self.src(ops[1], 64)
            own, generic = CVTA_WINDOWS[space]
            sh = (own - generic) if o[1] == "to" else (generic - own)
            fn = lambda t, d=d, sr=sr, sh=sh: t.r.__setitem__(d, (sr(t.r) + sh) & M64)
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
        elif o[-1] in INT_TYPES and (name in ("addc", "subc", "madc") or (name in ("add", "sub", "mad") and "cc" in o)):
            fn = self.carry_op(name, o, ops, text)
        elif o[-1] in INT_TYPES and name in INT_OPS:
            fn = self.int_op(name, o, ops, text)
        elif o[-1] == "f32" and name in ("add", "sub", "mul", "fma", "neg", "abs", "min", "max"):
            fn = self.f32_op(name, o, ops, text)
        elif o[-1] == "f64" and name in ("add", "sub", "mul", "fma", "neg", "abs"):
            fn = self.f64_op(name, o, ops, text)
        elif o[-1] in ("f32", "f64") and name in self.SPECIAL_F32:
            fn = self.special_op(name, o, ops, text)
        elif name in ("ld", "st", "atom", "red"):
            fn = self.memory_op(name, o, ops, text, d)
        else:
            raise EmuError(f"unsupported instruction: {text}")
        return (guard, kind, fn, extra, text)

    # ---- integer, predicate, f32 and conversion instructions ----
    def param_at(self, a, n, what, align=None):
        """(the parameter's PARAM_BASE-window address, offset) of n bytes at .param-space address a:
        inside one byte-array parameter and aligned to align (default n)."""
        i = bisect.bisect_right(self.param_starts, a) - 1
        if i < 0 or a + n > self.param_windows[i][0] + self.param_windows[i][1]:
            raise EmuError(f"{what}: param address {a:#x} ({n} bytes) outside every byte-array parameter",
                           "illegal_address")
        if a % (align or n):
            raise EmuError(f"{what}: misaligned param address {a:#x} for {n} bytes", "misaligned")
        return self.param_windows[i][0], a - self.param_windows[i][0]

    def ld_param(self, o, ops, text):
        """ld.param.type d, [name] or [name+offset]: a scalar parameter's bytes (little-endian), or
        bytes of a byte-array parameter; ld.param.type d, [%reg] or [%reg+offset]: bytes of the
        byte-array parameter whose .param-space address (PARAM_BASE window: `mov.u64 %rd, name`, plus an
        offset) the register holds (param_at; its generic address, cvta.param's, is an error); of a
        .param variable of the function's frame (a .func's parameters, a call's return): param_local."""
        if len(ops) == 2 and ops[1].startswith("[") and _addr(ops[1])[0] in self.local_params:
            return self.param_local("ld", o, ops, text)
        if len(o) != 3 or o[2] not in MEM_TYPES or len(ops) != 2 or not ops[1].startswith("["):
            raise EmuError(f"unsupported instruction: {text}")
        size = MEM_TYPES[o[2]]
        d = ops[0]
        p, off = _addr(ops[1])
        if p.startswith("%") and p not in self.param_types:  # an address in a register
            def fn(t, d=d, p=p, off=off):
                a = (t.r[p] + off) & M64
                if in_window(a, GENERIC_PARAM):
                    raise EmuError(f"{text}: {a:#x} is a parameter's generic address (cvta.param's): ld.param "
                                   f"needs its .param-space address (mov, or cvta.to.param)", "illegal_address")
                base, i = self.param_at(a, size, text)
                t.r[d] = int.from_bytes(t.emu.param_mem[base][i:i + size], "little")
            return fn
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
        """ld / st / atom / red on global memory, on a generic address (the same as a global one here:
        the emulator has no generic window onto shared memory, as cvta to it is not modelled, so a
        generic address comes from a global pointer; or, in a module that uses cvta.local, from a local
        one: ld / st then go to local memory in the GENERIC_LOCAL window; or, in a module that uses
        cvta.param, from a byte-array kernel parameter: ld reads it in the GENERIC_PARAM window) or on
        shared memory (.shared[::cta], .shared::cluster through mapa addresses); atom / red:
        atomic_op()."""
        shared = [q for q in o if q.startswith("shared")]
        if any(q in ("const", "local", "param", "tex", "surf") for q in o[1:]):
            raise EmuError(f"unsupported instruction (state space): {text}")
        quals = [q for q in o[1:] if q != "global" and not q.startswith("shared")]
        ty = quals[-1]
        vec = 4 if "v4" in quals else 2 if "v2" in quals else 1
        if ty not in MEM_TYPES:
            raise EmuError(f"unsupported instruction: {text}")
        size = MEM_TYPES[ty]
        sext = self.sign_extension(ty, size, _regs(d) if vec > 1 else [d], text) if name == "ld" else None
        sem = [q for q in quals if q in ("relaxed", "acquire", "release", "acq_rel", "volatile")]
        scope = [q for q in quals if q in ("sys", "gpu", "cta", "cluster")]
        nc = "nc" in quals
        info = {"op": name, "sem": sem[0] if sem else "weak", "scope": scope[0] if scope else None, "nc": nc,
                "text": text}
        addr_s = ops[1] if name in ("ld", "atom") else ops[0]
        areg, off = _addr(addr_s)
        if shared:  # shared memory (::cluster: any CTA of the cluster, through mapa addresses)
            remote = shared[0] == "shared::cluster"
            if name in ("atom", "red"):
                rmw, b, c = self.atomic_op(name, quals, ops, vec, text)

                def fn(t, d=d if name == "atom" else None, areg=areg, off=off, size=size, remote=remote):
                    smem, a = hopper.shared_at(t, (t.r[areg] + off) & M32, remote, text)
                    old = int.from_bytes(smem.read(a, size, text), "little")
                    new = rmw(old, b(t.r), c(t.r))
                    if new is not None:
                        smem.write(a, new.to_bytes(size, "little"), text)
                        hopper.generic_store(t, smem, a, size)
                        t.mem.stores += 1
                    if d is not None:
                        t.r[d] = old
            elif name == "ld":
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
            rmw, b, c = self.atomic_op(name, quals, ops, vec, text)

            def fn(t, d=d if name == "atom" else None, areg=areg, off=off, size=size, info=info):
                a = (t.r[areg] + off) & M64
                with t.mem.atomic(a):  # (atomic across processes where they share the memory: Memory.atomic)
                    old = int.from_bytes(t.mem.read(a, size, info["text"]), "little")
                    t.emu.on_access(t, name, a, size, info)
                    new = rmw(old, b(t.r), c(t.r))
                    if new is not None:
                        t.mem.write(a, new.to_bytes(size, "little"), info["text"])
                if d is not None:
                    t.r[d] = old
        if self.generic_local and name in ("ld", "st") and not shared and "global" not in o:
            # a module that converts local addresses to generic ones (cvta.local): a generic address in the
            # GENERIC_LOCAL window is the thread's local memory (only such modules pay for the test)
            gfn, lfn = fn, self._local_access(name, ty, vec, ops, text, LOCAL_BASE - GENERIC_LOCAL)

            def fn(t, areg=areg, off=off):
                if 0 <= ((t.r[areg] + off) & M64) - GENERIC_LOCAL < LOCAL_SPAN:
                    lfn(t)
                else:
                    gfn(t)
        if self.generic_param and name == "ld" and not shared and "global" not in o:
            # a module that converts parameter addresses to generic ones (cvta.param): a generic address in
            # the GENERIC_PARAM window is a byte-array parameter's (a store there goes to global memory,
            # outside every allocation: kernel parameters are read-only)
            ofn, pfn = fn, self._generic_param_load(ty, vec, ops, text)

            def fn(t, areg=areg, off=off):
                if in_window((t.r[areg] + off) & M64, GENERIC_PARAM):
                    pfn(t)
                else:
                    ofn(t)
        return fn

    def _generic_param_load(self, ty, vec, ops, text):
        """The closure of a generic load of vec elements of type ty from a byte-array parameter by its
        generic address (the GENERIC_PARAM window: inside the parameter and aligned, param_at)."""
        size = MEM_TYPES[ty]
        n = size * vec
        areg, off = _addr(ops[1])
        dregs = _regs(ops[0]) if vec > 1 else [ops[0]]
        sext = self.sign_extension(ty, size, dregs, text)

        def fn(t):
            base, i = self.param_at((t.r[areg] + off - GENERIC_PARAM + PARAM_BASE) & M64, n, text)
            data = t.emu.param_mem[base][i:i + n]
            for k, dr in enumerate(dregs):
                v = int.from_bytes(data[k * size:(k + 1) * size], "little")
                t.r[dr] = v if sext is None else ((v ^ sext[0]) - sext[0]) & sext[1]
        return fn

    ATOMIC_TYPES = {"add": ("u32", "s32", "u64", "f32"), "min": ("u32", "s32", "u64", "s64"),
                    "max": ("u32", "s32", "u64", "s64"), "and": ("b32", "b64"), "or": ("b32", "b64"),
                    "xor": ("b32", "b64"), "exch": ("b32", "b64"), "cas": ("b32", "b64")}

    def atomic_op(self, name, quals, ops, vec, text):
        """atom / red: (rmw(old, b, c) -> the new value or None (a cas that does not swap: no write), b,
        c) for add (u32 s32 u64; f32, the sum rounded once), min / max (u32 s32 u64 s64), and / or / xor
        / exch (b32 b64), cas (b32 b64; atom only), with any .sem and .scope (memory is sequentially
        consistent here)."""
        rest = [q for q in quals if q not in ("relaxed", "acquire", "release", "acq_rel", "sys", "gpu", "cta",
                                              "cluster")]
        if len(rest) != 2 or vec != 1 or rest[0] not in self.ATOMIC_TYPES or \
                rest[1] not in self.ATOMIC_TYPES[rest[0]] or (name == "red" and rest[0] in ("cas", "exch")):
            raise EmuError(f"unsupported instruction: {text}")
        op, ty = rest
        bits, signed = INT_TYPES.get(ty, (32, False))
        mask = (1 << bits) - 1
        srcs = ops[2:] if name == "atom" else ops[1:]
        if len(srcs) != (2 if op == "cas" else 1):
            raise EmuError(f"unsupported instruction: {text}")
        b = self.src(srcs[0], bits)
        c = self.src(srcs[1], bits) if op == "cas" else (lambda r: 0)
        sx = (lambda v: v - ((v >> (bits - 1) & 1) << bits)) if signed else (lambda v: v)
        rmw = {
            "add": (lambda x, y, z: f2b(np.float32(b2f(x) + b2f(y)))) if ty == "f32" else
                   (lambda x, y, z: (x + y) & mask),
            "min": lambda x, y, z: x if sx(x) <= sx(y) else y,
            "max": lambda x, y, z: x if sx(x) >= sx(y) else y,
            "and": lambda x, y, z: x & y,
            "or": lambda x, y, z: x | y,
            "xor": lambda x, y, z: x ^ y,
            "exch": lambda x, y, z: y,
            "cas": lambda x, y, z: z if x == y else None,
        }[op]
        return rmw, b, c

    # ---- warp collectives: extra(lanes) runs once all 32 lanes are at the instruction ----
    def shfl(self, o, ops, text):
        """shfl.sync.{idx,up,down,bfly}.b32 d[|p], a, b, c, 0xffffffff, as the PTX ISA selects the source
        lane j with clamp = c[4:0] and b[4:0]: up j = lane - b (valid when j >= clamp), down j = lane + b,
        bfly j = lane ^ b, idx j = b (valid when j <= clamp); an invalid j reads the lane's own a, and p
        says whether j was valid. Only a full warp (the member mask 0xffffffff) and no segment mask
        (c[12:8] = 0) are modelled."""
        if len(o) != 4 or o[1] != "sync" or o[2] not in ("idx", "up", "down", "bfly") or o[3] != "b32" or \
                len(ops) != 5:
            raise EmuError(f"unsupported instruction: {text}")
        d, p = (ops[0].split("|") + [None])[:2]
        a, b, c, mask = (self.src(x) for x in ops[1:])
        mode = o[2]

        def run(lanes):
            r0 = lanes[0].r
            if mask(r0) != M32:
                raise EmuError(f"unsupported: {text}: a member mask other than 0xffffffff is not modelled")
            vals = [a(t.r) for t in lanes]
            for lane, t in enumerate(lanes):
                bv, cv = b(t.r) & 31, c(t.r)
                if cv & 0x1F00:
                    raise EmuError(f"unsupported: {text}: a segment mask (c = {cv:#x}) is not modelled")
                clamp = cv & 31
                if mode == "up":
                    j = lane - bv
                    ok = j >= clamp
                else:
                    j = lane + bv if mode == "down" else lane ^ bv if mode == "bfly" else bv
                    ok = j <= clamp
                t.r[d] = vals[j if ok else lane]
                if p is not None:
                    t.r[p] = ok
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
    def stmatrix(o, ops, text):
        """stmatrix.sync.aligned.m8n8.{x1,x2,x4}[.trans].shared.b16 (sm_90): ldmatrix's inverse, the same
        fragment map: register q of lane l holds row l/4, columns 2(l%4), +1 of matrix q (.trans: of its
        transpose); lanes 8q..8q+7 give the shared addresses of matrix q's 16-byte rows. Each row is a
        generic-proxy store (a TMA store reading it needs fence.proxy.async first)."""
        num = {"x1": 1, "x2": 2, "x4": 4}.get(o[4] if len(o) > 4 else "", 0)
        if o[1:4] != ["sync", "aligned", "m8n8"] or not num or "shared" not in o and "shared::cta" not in o or \
                o[-1] != "b16":
            raise EmuError(f"unsupported instruction: {text}")
        trans = "trans" in o
        areg, aoff = _addr(ops[0])
        sregs = _regs(ops[1])
        if len(sregs) != num:
            raise EmuError(f"{text}: {len(sregs)} registers for .x{num}")

        def run(lanes):
            smem = lanes[0].smem
            for q in range(num):
                mat = np.zeros((8, 8), dtype=np.uint16)
                for l, t in enumerate(lanes):
                    v = t.r[sregs[q]]
                    mat[l // 4, 2 * (l % 4)], mat[l // 4, 2 * (l % 4) + 1] = v & 0xFFFF, v >> 16
                if trans:
                    mat = mat.T.copy()
                for i in range(8):
                    t = lanes[8 * q + i]
                    a = (t.r[areg] + aoff) & M32
                    smem.write(a, mat[i].astype("<u2").tobytes(), text)
                    hopper.generic_store(t, smem, a, 16)
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
                 "bulk_open", "bulk_groups", "cluster_arrived", "timed", "lp", "frames", "local", "lsp")

    def __init__(self, emu, cta, tid, special, params, c=None):
        # registers; symbols' addresses as constants ([symbol+imm] operands), and the module's .global
        # variables' addresses (Emu.symbol_regs)
        self.r = dict(getattr(emu, "symbol_regs", None) or emu.k.symbols)
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
        self.tid = tid  # the linear thread index in the CTA (x + y ntid.x + z ntid.x ntid.y): warps by it
        self.spins = 0
        self.sleeps = 0
        self.c = c  # the Cta
        self.smem = c.smem if c is not None else None  # the CTA's Shared
        self.cp_open = []  # cp.async copies since the last commit_group: (shared address, bytes)
        self.cp_groups = []  # committed groups, oldest first
        self.bulk_open = []  # hopper: cp.async.bulk stores since the last bulk commit_group
        self.bulk_groups = []
        self.cluster_arrived = None  # hopper: the barrier.cluster phase this thread arrived on
        self.timed = False  # it has read %globaltimer
        # calls (Kernel.call): the frame's .param variables (name -> bytearray), the callers' frames, the local
        # stack (bytes from LOCAL_BASE: the entry's .local variables, then a frame per call; None until one
        # is needed) and its live top
        self.lp = {}
        self.frames = []
        n = getattr(emu.k, "local_size", 0)
        self.local = bytearray(b"\xff" * n) if n else None
        self.lsp = n


CLOCK_START = 1 << 40  # the virtual %globaltimer (ns) at launch
CLOCK_PER_ROUND = 1000  # ns the clock advances per scheduling round
CLOCK_JUMP = 1_000_000_000  # ns it jumps when nothing can progress and a parked or sleeping thread reads it
CLOCK_GIVE_UP = 10  # jumps with no progress before that is a deadlock after all
TRAP_GRACE = 0  # more rounds the other threads run after a trap's round (Emu.on_trap); 0: none


class Emu:
    """One launch: Emu(mem, kernel, grid, block, params by name, seed).run(). grid: (x, y) or (x, y, z)
    CTAs; block: the thread count (x only) or (x, y, z) (warps are formed from the linear thread index,
    as on a GPU); clusters along x only (from `.reqnctapercluster`, or `cluster` for a kernel that
    declares none; both given, they must agree). dynamic_smem: the bytes of dynamic shared memory each
    CTA has (default: the signature's `//! dynamic_smem`). global_addrs: the device addresses of the
    module's .global variables (name -> address, inside allocations of mem); without them each is
    placed in a fresh zeroed allocation of mem. max_resident: at most this many CTAs resident at once
    (whole clusters; a CTA launches once an earlier one has exited, in linear order, as a GPU full of
    CTAs does), default all. `log`, when a
    list, receives (kind, rank, cta, tid, address, bytes, order, scope, nc) for every global access.
    cp_async: when a cp.async copy lands in shared memory, "wait" (at the wait_group covering it) or
    "issue". tma / wgmma: the same choice for TMA copies and wgmma (hopper.py): "wait" (a TMA load's
    bytes land when a thread sees its mbarrier phase complete, a TMA store reads shared memory at the
    bulk wait_group covering it; wgmma reads shared memory and writes its accumulators at the
    wgmma.wait_group covering it) or "issue". warp_speeds: a random speed per warp instead of per CTA;
    fast_warps: warps (of every CTA) that always run at full speed. tcgen05: when tcgen05.mma reads
    shared memory and writes tensor memory and when tcgen05.ld reads it, "wait" (at the commit / the
    wait::ld) or "issue" (tcgen05.py). A byte-array parameter (a tensor map) is given as `bytes`.

    %globaltimer is a virtual clock (`clock`, ns): CLOCK_PER_ROUND per round, so that no wait of a
    correct kernel ever sees much time pass; when nothing can progress (what would be a deadlock) and
    a thread that has read %globaltimer is parked on an mbarrier wait or sleeping in a spin loop, the
    clock jumps CLOCK_JUMP ahead and the parked readers are woken to check it again, the spinning ones
    must spin once more before the next jump (so even a slow warp sees every jump: a bounded debug
    wait then times out, reports and traps, as on a GPU); CLOCK_GIVE_UP jumps with no progress are a
    deadlock. Hooks for a launch whose memory other processes share (device_launch.WorldEmu):
    on_progress() after every round that progressed, and jump_clock() itself, which may return True
    without a jump (it waited a while for the others: stuck rounds are counted afresh)."""
    tc = None  # tcgen05.State for a kernel that uses tcgen05 (ipc.World sets up no Emu.__init__)
    clock = CLOCK_START  # (ipc.World too)
    jumps = 0  # clock jumps since the last progress
    trapped, grace = None, 0  # the first trap (an EmuError) and the rounds left before it ends the launch
    max_resident, left = None, 0

    def __init__(self, mem, kernel, grid, block, params, seed=0, max_slice=64, log=None, cp_async="wait",
                 warp_speeds=False, tma="wait", wgmma="wait", fast_warps=(), tcgen05="wait", dynamic_smem=None,
                 global_addrs=None, cluster=None, max_resident=None):
        dims = (block, 1, 1) if isinstance(block, int) else tuple(block) + (1,) * (3 - len(block))
        shaped = not isinstance(block, int)  # (x, y, z) given: compared with .reqntid's three numbers
        block = dims[0] * dims[1] * dims[2]
        grid = tuple(grid) + (1,) * (3 - len(grid))
        self.mem, self.k, self.grid, self.block, self.params = mem, kernel, grid, block, params
        self.block_dims = dims
        assert cp_async in ("wait", "issue") and tma in ("wait", "issue") and wgmma in ("wait", "issue")
        assert tcgen05 in ("wait", "issue")
        self.cp_async, self.tma, self.wgmma = cp_async, tma, wgmma
        # tcgen05.py's state (tensor memory, MMAs and commits in flight) for a kernel that uses tcgen05
        self.tc = hopper.tcgen05.State(tcgen05) if getattr(kernel, "tcgen05", False) else None
        self.rng = random.Random(seed)
        self.max_slice = max_slice
        self.log = log
        self.warp_speeds, self.fast_warps = warp_speeds, fast_warps
        if kernel.reqntid is not None and kernel.reqntid != block:
            raise EmuError(f"block {block} != .reqntid {kernel.reqntid}")
        if shaped and kernel.reqntid_dims is not None and dims != kernel.reqntid_dims:
            raise EmuError(f"block {dims} != .reqntid {kernel.reqntid_dims}")
        if kernel.maxntid is not None and block > kernel.maxntid:
            raise EmuError(f"block {block} > .maxntid {kernel.maxntid}")
        if min(grid) < 1 or min(dims) < 1:
            raise EmuError(f"grid {grid} or block {dims} with a zero dimension")
        names = [n for _, n in kernel.params]
        assert set(params) == set(names), (sorted(params), names)
        self.param_mem = {}  # .param-space (PARAM_BASE-window) address -> bytes of a byte-array parameter
        for pname, size in kernel.param_bytes.items():
            if not isinstance(params[pname], (bytes, bytearray)) or len(params[pname]) != size:
                raise EmuError(f"parameter {pname}: {size} bytes expected")
            self.param_mem[kernel.symbols[pname]] = bytes(params[pname])
        if cluster is not None and kernel.cluster_declared and tuple(cluster) != (1, 1, 1) and \
                tuple(cluster) != kernel.cluster:
            raise EmuError(f"the launch's cluster {tuple(cluster)} differs from the kernel's .reqnctapercluster "
                           f"{kernel.cluster}")
        self.cluster = kernel.cluster if kernel.cluster_declared or cluster is None else tuple(cluster)
        cx = self.cluster[0]
        if self.cluster[1:] != (1, 1):
            raise EmuError(f"unsupported: cluster {self.cluster}: clusters along x only")
        if grid[0] % cx:
            raise EmuError(f"grid {grid} and cluster {self.cluster}: grid.x is not a multiple of the cluster")
        self.dynamic_smem = kernel.dynamic_smem if dynamic_smem is None else dynamic_smem
        # the module's .global variables: their addresses, constant registers of every thread
        self.globals = {}
        for gname, (size, align) in kernel.globals.items():
            if global_addrs is not None and gname in global_addrs:
                a = global_addrs[gname]
                if a % align:
                    raise EmuError(f"global variable {gname} at {a:#x}: not {align}-byte aligned", "misaligned")
                mem.check(a, 1, f"global variable {gname}")
                mem.check(a + size - 1, 1, f"global variable {gname}")
            elif global_addrs is not None:
                raise EmuError(f"no address for the module's global variable {gname}")
            else:
                a = mem.alloc(size, gname)
                init = kernel.global_init.get(gname)
                if init is not None:  # (not a kernel's store: not counted in wcount)
                    mem.mem[a:a + len(init)] = init
            self.globals[gname] = a
        self.symbol_regs = dict(kernel.symbols, **self.globals)
        self.max_resident = max_resident
        self.ctas = []  # the resident CTAs' threads
        self.cta_objs = []  # every CTA launched (retired ones keep their mbarriers, for hopper.at_end)
        self.pending = ((x, y, z) for z in range(grid[2]) for y in range(grid[1]) for x in range(0, grid[0], cx))
        self.left = grid[0] * grid[1] * grid[2] // cx  # clusters not launched yet
        self.instructions = 0
        self.wgmma_issued = 0  # wgmma.mma_async instructions issued, one per warpgroup (wgmma.py)
        self.tma_boxes = {}  # global base address of a tensor -> TMA loads of its boxes issued (tma.py)
        self.waiting = set()  # (Cta, group size, group index) with a thread at a collective
        self.held = {}  # such a key -> rounds its collective still waits (run.latency)
        self.events = 0
        self.launch_ctas()

    def launch_ctas(self):
        """Launches the next clusters while there is room (max_resident); returns how many CTAs."""
        grid, dims, cx, block = self.grid, self.block_dims, self.cluster[0], self.block
        n = 0
        while self.left and (self.max_resident is None or len(self.ctas) + cx <= max(self.max_resident, cx)):
            x0, y, z = next(self.pending)
            self.left -= 1
            first = None
            for x in range(x0, x0 + cx):
                c = Cta(len(self.cta_objs), (x, y, z) if grid[2] > 1 else (x, y),
                        Shared(self.dynamic_smem, self.k.statics, self.k.smem_base))
                if first is None:
                    first = c
                    c.cluster_state = hopper.ClusterState(cx * block)
                else:
                    c.cluster = first.cluster
                    c.cluster.append(c)
                    c.cluster_state = first.cluster_state
                c.rank = x % cx
                ths = []
                for t in range(block):
                    tx, ty, tz = t % dims[0], t // dims[0] % dims[1], t // (dims[0] * dims[1])
                    sp = {"%tid.x": tx, "%ctaid.x": x, "%ctaid.y": y, "%nctaid.x": grid[0], "%laneid": t % 32,
                          "%ntid.x": dims[0], "%cluster_ctarank": x % cx, "%cluster_nctarank": cx,
                          "%clusterid.x": x // cx, "%nclusterid.x": grid[0] // cx, "%cluster_ctaid.x": x % cx,
                          "%cluster_nctaid.x": cx, "%tid.y": ty, "%tid.z": tz, "%ntid.y": dims[1],
                          "%ntid.z": dims[2], "%ctaid.z": z, "%nctaid.y": grid[1], "%nctaid.z": grid[2]}
                    ths.append(Thread(self, c.ctaid, t, sp, self.params, c))
                sp_ = self.rng.choice(SPEEDS)
                for th in ths:
                    if self.warp_speeds and th.tid % 32 == 0:  # a speed per warp: warps overtake one another
                        sp_ = self.rng.choice(SPEEDS)
                    th.speed = 1.0 if th.tid // 32 in self.fast_warps else sp_
                c.threads = ths
                self.ctas.append(ths)
                self.cta_objs.append(c)
                n += 1
        return n

    def retire_ctas(self):
        """With max_resident: clusters whose threads have all exited leave (their shared memory and
        threads freed) and the next ones launch. Returns how many CTAs launched."""
        if self.max_resident is None or not self.left:
            return 0
        done = [ths for ths in self.ctas if ths[0].c.exited == len(ths)]
        if not done:
            return 0
        gone = set()
        for ths in done:
            cl = ths[0].c.cluster
            if all(c.exited == len(c.threads) for c in cl):
                gone.update(id(c) for c in cl)
        if not gone:
            return 0
        keep = []
        for ths in self.ctas:
            c = ths[0].c
            if id(c) in gone:
                c.smem.mem = c.smem.np = None
                c.threads, c.exited = (), 0  # (freed; "every thread exited" still holds)
                for key in [k for k in self.waiting if k[0] is c]:
                    self.waiting.discard(key)
            else:
                keep.append(ths)
        self.ctas = keep
        return self.launch_ctas()

    def on_access(self, t, kind, a, n, info):
        if self.log is not None:
            self.log.append((kind, t.cta[1], t.cta[0], t.tid, a, n, info["sem"], info["scope"], info["nc"]))

    def barrier(self, t, extra):
        """bar.sync / bar.arrive: True if t goes on (an arrive, or the barrier completed)."""
        sync, idf, cntf, text = extra
        c = t.c
        bid = idf(t.r)
        cnt = cntf(t.r) if cntf else len(c.threads)
        if cntf is not None and len(c.threads) % 32:
            raise EmuError(f"unsupported: {text!r}: a thread count in a CTA of {len(c.threads)} threads (how a "
                           f"partial warp counts is not modelled)")
        if not 0 <= bid < 16 or cnt <= 0 or (cntf is not None and cnt % 32) or cnt > len(c.threads):
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
        except EmuError as ex:  # where: the thread, its CTA and the instruction (once)
            if not getattr(ex, "where", False) and 0 <= t.pc < len(t.prog):
                ex.args = (f"{ex.args[0]} (thread {t.tid} of CTA {t.cta}, instruction {t.pc}: "
                           f"{t.prog[t.pc][4]!r})",) + ex.args[1:]
                ex.where = True
            raise

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
            elif kind == K_TRAP:
                t.state = "trap"
                self.on_trap(t)
                return False
            elif kind == K_CALL:  # a call or a function's ret: the thread's pc and frame change
                fn(t)
                r = t.r
        return False

    def on_trap(self, t):
        """A thread executed trap: it stops, and the launch ends in this trap (the first one) after the
        other threads have run TRAP_GRACE more rounds at full speed and with whole time slices. A GPU
        tears a grid down at an unknown moment after a trap; with TRAP_GRACE = 0 no thread runs past
        the trap's round, so a protocol that relies on others finishing (a debug-wait report written
        while a loser of its claim traps) fails here."""
        if self.trapped is None:
            self.trapped = EmuError(f"trap (thread {t.tid} of CTA {t.cta}, instruction {t.pc}: {t.prog[t.pc][4]!r})",
                                    "trap")
            self.trapped.where = True
            self.grace = TRAP_GRACE

    def collectives(self):
        """Runs every warp / warpgroup collective all of whose threads have reached it."""
        events = 0
        for key in list(self.waiting):
            c, size, g = key
            lanes = c.threads[size * g:size * g + size]
            state = "warp" if size == 32 else "wg"
            if len(lanes) < size:  # a partial warp (a block not a multiple of 32 threads), or warpgroup
                first = next(t for t in lanes if t.state == state)
                raise EmuError(f"unsupported: {first.prog[first.pc][4]!r} in CTA {c.ctaid}'s partial "
                               f"{'warp' if size == 32 else 'warpgroup'} {g} of {len(lanes)} threads (a collective "
                               f"of missing lanes is not modelled)")
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
            self.rounds = rounds
            if rounds > max_rounds:
                raise EmuError(f"too many rounds ({max_rounds}): a thread spinning forever, or a launch too big")
            self.clock += CLOCK_PER_ROUND
            before = self.mem.stores
            self.events = 0
            order = [t for t in threads if t.state == "run"]
            self.rng.shuffle(order)
            self.woken = order  # wake() appends: a thread woken this round runs later in it
            rnd = self.rng.random
            for t in order:
                if t.state != "run":
                    continue
                if self.trapped is not None:  # after a trap: full speed, whole slices, other errors ignored
                    try:
                        self.run_thread(t, self.max_slice)
                    except EmuError:
                        t.state = "trap"
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
            if self.trapped is not None:
                self.grace -= 1
                if self.grace <= 0 or not any(t.state == "run" for c in self.ctas for t in c):
                    raise self.trapped
                try:
                    self.collectives()
                except EmuError:
                    pass
                continue
            events = self.events + self.collectives() + self.after_round()
            if self.tc is not None:  # tcgen05 commits due this round
                events += hopper.tcgen05.tick(self)
            events += self.retire_ctas()
            threads = [t for c in self.ctas for t in c]
            if all(t.state == "exit" for t in threads) and not getattr(self, "active", None) and not self.left:
                self.rounds = rounds
                hopper.at_end(self)
                return
            st_now = self.mem.stores
            if events or st_now != before:
                self.jumps = 0  # progress since the last clock jump
                self.on_progress()
            all_slept = all(t.state != "run" or (t.last_slept and t.confirmed == st_now) for t in threads)
            if events == 0 and st_now == before and all_slept:
                stuck += 1
                if stuck >= 3:
                    if self.jump_clock(threads):
                        stuck = 0
                        continue
                    raise EmuError(("deadlock" if not self.jumps else
                                    f"deadlock (with {self.jumps * CLOCK_JUMP // 10 ** 9} s of virtual time "
                                    f"passed and no progress)") + ": " + self.describe(), "deadlock")
            else:
                stuck = 0

    def jump_clock(self, threads):
        """Nothing can progress: if a thread that has read %globaltimer is parked on an mbarrier wait or
        sleeping in a spin loop, the clock jumps CLOCK_JUMP ahead and the parked ones are woken to check
        it again (their failed wait parks them again). False (a deadlock) when none has, or after
        CLOCK_GIVE_UP jumps with no progress. (device_launch.WorldEmu first waits here for other
        processes that share the memory, returning True with no jump while they progress.)"""
        if self.jumps >= CLOCK_GIVE_UP:
            return False
        readers = [t for t in threads if t.timed and (t.state == "park" or (t.state == "run" and t.last_slept))]
        if not readers:
            return False
        self.jumps += 1
        self.clock += CLOCK_JUMP
        for t in readers:
            if t.state == "park":
                self.wake(t)
            else:  # a spinning reader must run (and sleep) again, seeing the new time, before the next jump
                t.last_slept = False
        for ths in self.ctas:  # the woken threads wait on their mbarriers no more
            smem = ths[0].c.smem if ths and ths[0].c is not None else None
            if smem is not None:
                for m in smem.mbars.values():
                    if m.waiters:
                        m.waiters = [w for w in m.waiters if w.state == "park"]
        return True

    def on_progress(self):
        """A round in which this launch progressed (stores, events). device_launch.py's launches whose
        memory other processes map too tell them so here (a heartbeat), and override jump_clock to wait
        for theirs before calling a wait on them a deadlock."""

    def wake(self, t):
        """A parked thread may run again (its mbarrier or cluster barrier completed a phase)."""
        if t.state in ("park", "block"):
            t.state = "run"
            self.woken.append(t)

    def after_round(self):
        return 0

    def describe(self, most=8):
        """Where every thread of every resident CTA is; with more than `most` CTAs, only the first `most`
        with threads left and a count of the rest."""
        out = []
        ctas = self.ctas
        if len(ctas) > most:
            live = [c for c in ctas if any(t.state != "exit" for t in c)]
            ctas = live[:most]
            if len(live) > most:
                out.append(f"({len(live) - most} more CTAs with threads left, and {len(self.ctas) - len(live)} "
                           f"exited, not shown)")
        for cta in ctas:
            states = {}
            for t in cta:
                pc = t.pc - 1 if t.state == "park" else t.pc  # parked after its failed wait
                key = (t.state, t.prog[pc][4] if t.state != "exit" else "")
                states.setdefault(key, []).append(t.tid)
            out.append(f"CTA {cta[0].cta}: " + "; ".join(f"{s} @ {txt!r}: tids {v[:6]}{'...' if len(v) > 6 else ''}"
                                                        for (s, txt), v in states.items()))
        return "\n".join(out[1:] + out[:1] if out and out[0].startswith("(") else out)


import hopper  # noqa: E402  (sm_90 instructions; it imports this module)
