"""The host side of the emulated runs, mirroring samples/apps/comm/{collectives,moe,checks}.cpp.

- Values: the same draws as checks.cpp (mix / draw / input_value, bf16 round-to-nearest-even), so
  inputs and references match the GPU checks.
- Heap / Buf: a LocalSim symmetric heap in emulated memory: one allocation per rank per buffer
  (with a gap between allocations, so that an overrun is an out-of-bounds error, not a silent write
  into a neighbour) and its peer table (nranks rows of nranks u64 bases).
- tensor_map(): a TMA tensor map in the emulator's own 128-byte encoding (the sm_90 GEMMs).
- kernel(name, params[, arch]): the kernel's PTX from `weft emit --arch sm_90a --no-line-info` (or
  another arch; with configure(..., backend="llvm"), `--backend llvm`: LLVM 19's NVPTX backend, sm_80
  to sm_90a), emitted once per variant into the directory given to configure() (run_checks.py and
  run_gemm_checks.py pass a temporary one), parsed by emulator.Kernel. set_ptx() replaces a variant's
  PTX (the mutants of run_checks.py).
- Collectives / MoeAllToAll: the launches of collectives.cpp and moe.cpp (the same arguments in the
  same order, the same epochs and flag buffer), each launch one emulator.Emu run.

Arguments are positional, like the C++ launches, and bound to the parameter names of the emitted
.entry; a launch with more or fewer arguments than the kernel has parameters fails an assertion (a
reordered signature is not caught here, only by the results).
"""
import os
import struct
import subprocess

import numpy as np

import emulator as E
import tma

M64 = (1 << 64) - 1
_weft = None
_ptx_dir = None
backend = "direct"  # the weft backend that emits the PTX: "direct" (weft's printer) or "llvm"


def configure(weft, ptx_dir, backend_="direct"):
    """weft: the CLI to emit with; ptx_dir: where the emitted PTX goes; backend_: `weft emit --backend`
    ("direct" or "llvm")."""
    global _weft, _ptx_dir, backend
    assert backend_ in ("direct", "llvm"), backend_
    _weft, _ptx_dir, backend = weft, ptx_dir, backend_
    _kernels.clear()


# ---------------- values, as checks.cpp ----------------
def mix(x):
    x = (x + 0x9e3779b97f4a7c15) & M64
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def draw(seed, rank, index, stream):
    return mix(mix(mix((seed * 0x100000001 + stream) & M64) ^ rank) ^ index)


def float_to_bf16(f):
    bits = struct.unpack("<I", struct.pack("<f", np.float32(f)))[0]
    if (bits & 0x7fffffff) > 0x7f800000:
        return 0x7fc0
    bits = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xFFFFFFFF
    return bits >> 16


def bf16_to_float(b):
    return struct.unpack("<f", struct.pack("<I", (b & 0xFFFF) << 16))[0]


def input_value(seed, rank, index):
    return float(np.float32((draw(seed, rank, index, 0) >> 11) * 2.0 ** -52 - 1.0))


def stored_value(e, seed, rank, i):
    v = input_value(seed, rank, i)
    return v if e == "f32" else bf16_to_float(float_to_bf16(v))


def encode(e, values):
    if e == "f32":
        return np.array(values, dtype=np.float32).tobytes()
    return np.array([float_to_bf16(v) for v in values], dtype=np.uint16).tobytes()


def decode(e, data, i):
    if e == "f32":
        return struct.unpack_from("<f", data, 4 * i)[0]
    return bf16_to_float(struct.unpack_from("<H", data, 2 * i)[0])


def elem_bytes(e):
    return 4 if e == "f32" else 2


def tolerance(e, n):
    return 1e-6 * n if e == "f32" else 8e-3


# ---------------- tensor maps (TMA) ----------------
def tensor_map(base, elem_bytes, dims, strides, box, swizzle=0):
    """The 128 bytes of a tensor map in the emulator's own encoding (tma.TMAP_FORMAT; real tensor
    maps are opaque driver encodings): a tiled map of the tensor at global address `base`, dims and
    box innermost first, strides in bytes of dims 1.. (as cuTensorMapEncodeTiled takes them), swizzle
    in bytes (0, 32, 64, 128), out-of-bounds elements read as zero. Checked as tma.TensorMap
    checks it at use (alignment, box limits, swizzle span)."""
    r = len(dims)
    assert len(box) == r and len(strides) == r - 1

    def pad(v, n, w=0):
        return list(v) + [w] * (n - len(v))
    raw = struct.pack(tma.TMAP_FORMAT, tma.TMAP_MAGIC, r, elem_bytes, swizzle, 0, base, *pad(dims, 5, 1),
                      *pad(strides, 4), *pad(box, 5, 1), *pad([1] * r, 5, 1))
    tma.TensorMap(raw, "host.tensor_map")
    return raw


# ---------------- heap ----------------
class Buf:
    def __init__(self, heap, name, nbytes):
        self.heap, self.name, self.bytes = heap, name, nbytes
        n = heap.nranks
        self.bases = [heap.mem.alloc(nbytes, f"{name}[rank {r}]") for r in range(n)]
        self.table = heap.mem.alloc(n * n * 8, f"{name}.table")
        heap.mem.mem[self.table:self.table + n * n * 8] = np.array(self.bases * n, dtype=np.uint64).tobytes()
        heap.bufs.append(self)

    def upload(self, row, data):
        assert len(data) <= self.bytes
        self.heap.mem.mem[self.bases[row]:self.bases[row] + len(data)] = data

    def download(self, row, nbytes=None):
        nbytes = self.bytes if nbytes is None else nbytes
        return bytes(self.heap.mem.mem[self.bases[row]:self.bases[row] + nbytes])

    def poison(self, row, nbytes=None):
        self.upload(row, b"\xff" * (self.bytes if nbytes is None else nbytes))

    def writes(self, row):
        b = self.bases[row]
        return self.heap.mem.wcount[b:b + self.bytes]


class Heap:
    def __init__(self, nranks, mem_bytes=1 << 22):
        self.mem = E.Memory(mem_bytes)
        self.nranks = nranks
        self.rank_base = 0
        self.rows = nranks
        self.bufs = []

    def alloc(self, nbytes, name):
        return Buf(self, name, nbytes)


_kernels = {}
_emitted = set()


def ptx_path(name, params, arch="sm_90a"):
    """Emits the variant (once) for `arch` with the configured backend and returns its .ptx file
    (`--backend llvm` writes <kernel>.<target>.ptx too; its variants go to directories of their own)."""
    if _weft is None:
        raise RuntimeError("host.configure(weft, ptx_dir) was not called")
    d = os.path.join(_ptx_dir, name + "_" + "_".join(params) + ("" if arch == "sm_90a" else "_" + arch)
                     + ("" if backend == "direct" else "_" + backend))
    path = os.path.join(d, f"{name}.{arch}.ptx")
    if path not in _emitted:  # emitted afresh by every run, even into a kept directory
        cmd = [_weft, "emit", name, "--arch", arch, "--no-line-info", "-o", d]
        if backend != "direct":
            cmd += ["--backend", backend]
        for p in params:
            cmd += ["--param", p]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        _emitted.add(path)
    return path


def kernel(name, params, arch="sm_90a"):
    key = (name, tuple(params), arch)
    if key not in _kernels:
        with open(ptx_path(name, params, arch)) as f:
            _kernels[key] = E.Kernel(f.read())
    return _kernels[key]


def set_ptx(name, params, text, arch="sm_90a"):
    """Makes kernel(name, params, arch) run `text` instead of the emitted PTX (until forget_ptx())."""
    _kernels[(name, tuple(params), arch)] = E.Kernel(text)


def forget_ptx():
    _kernels.clear()


class Collectives:
    def __init__(self, heap, ctas, block, seed=0, max_slice=64):
        self.heap, self.ctas, self.block = heap, ctas, block
        assert 64 <= block <= 1024 and block % 32 == 0 and heap.nranks <= block
        self.flags = heap.alloc(2 * heap.nranks * ctas * 4, "flags")
        self.epoch = 0
        self.seed = seed
        self.max_slice = max_slice
        self.launches = []

    def next_epoch(self):
        self.epoch += 1
        return self.epoch

    def launch_with_block(self, k, block, *args):
        assert len(args) == len(k.params), (k.name, len(args), len(k.params))
        params = {}
        for (ty, name), a in zip(k.params, args):
            v = a.table if isinstance(a, Buf) else a
            params[name] = v & (M64 if ty == "u64" else 0xFFFFFFFF)
        self.heap.mem.wcount[:] = 0
        self.seed += 1
        emu = E.Emu(self.heap.mem, k, (self.ctas, self.heap.nranks), block, params, seed=self.seed,
                    max_slice=self.max_slice)
        emu.run()
        self.launches.append((k.name, emu.instructions, emu.rounds))
        return emu

    def launch(self, k, *args):
        return self.launch_with_block(k, self.block, *args)

    def all_gather(self, inb, out, bytes_per_rank):
        assert bytes_per_rank % 16 == 0
        h = self.heap
        k = kernel("all_gather", [f"block={self.block}"])
        return self.launch(k, h.rank_base, h.nranks, inb, out, self.flags, bytes_per_rank // 16, self.next_epoch())

    def reduce_scatter(self, inb, out, count, e):
        nb = count * elem_bytes(e)
        assert nb % 16 == 0
        h = self.heap
        k = kernel("reduce_scatter", [f"block={self.block}", f"bf16={int(e == 'bf16')}"])
        return self.launch(k, h.rank_base, h.nranks, inb, out, self.flags, nb // 16, self.next_epoch())

    def all_reduce(self, inb, out, count, e, shots):
        nb = count * elem_bytes(e)
        h = self.heap
        assert nb % (16 * h.nranks) == 0
        k = kernel("all_reduce", [f"block={self.block}", f"bf16={int(e == 'bf16')}", f"shots={shots}"])
        return self.launch(k, h.rank_base, h.nranks, inb, out, self.flags, nb // 16 // h.nranks, self.next_epoch())


class MoeAllToAll:
    def __init__(self, c, tokens, hidden, topk, experts, warps, unroll=0, bulk=False, scale_blocks=0):
        heap = c.heap
        n = heap.nranks
        assert experts % n == 0 and hidden * 2 % 16 == 0 and 1 <= topk <= 32 and n <= 32 * warps
        self.c, self.tokens, self.hidden, self.topk, self.experts, self.warps = c, tokens, hidden, topk, experts, warps
        self.unroll, self.bulk = unroll, bulk
        self.params = [f"warps={warps}", f"unroll={unroll}"]
        # bulk: dispatch moves rows with bulk copies through shared memory, built for this row size
        self.dispatch_params = self.params + ([f"bulk=1", f"row_bytes={hidden * 2}"] if bulk else [])
        # scale_blocks > 0: dispatch with scales=1 also moves f32 scales per token (fp8 dispatch's
        # x_scales [scale_blocks][tokens] -> recv_scales [scale_blocks][recv rows]); the kernel does not
        # tie their count to the row size, so a check can take more than 32 (a lane's second trip)
        self.scale_blocks = scale_blocks
        if scale_blocks:
            self.dispatch_params = self.dispatch_params + ["scales=1"]
        self.local_experts = experts // n
        self.capacity = tokens
        self.row_bytes = hidden * 2
        pairs = tokens * topk
        self.x = heap.alloc(tokens * self.row_bytes, "x")
        self.topk_idx = heap.alloc(pairs * 4, "topk_idx")
        self.topk_w = heap.alloc(pairs * 4, "topk_w")
        self.slot_map = heap.alloc(pairs * 4, "slot_map")
        self.counters = heap.alloc((experts + 1) * 4, "counters")
        self.recv = heap.alloc(self.local_experts * n * self.capacity * self.row_bytes, "recv")
        self.recv_count = heap.alloc(self.local_experts * n * 4, "recv_count")
        self.out = heap.alloc(tokens * self.row_bytes, "out")
        self.dispatch_flags = heap.alloc(n * 4, "dispatch_flags")
        self.recv_rows = self.local_experts * n * self.capacity
        if scale_blocks:
            self.x_scales = heap.alloc(scale_blocks * tokens * 4, "x_scales")
            self.recv_scales = heap.alloc(scale_blocks * self.recv_rows * 4, "recv_scales")

    def recv_offset(self, le, src, slot):
        return ((le * self.c.heap.nranks + src) * self.capacity + slot) * self.row_bytes

    def dispatch(self):
        h = self.c.heap
        k = kernel("moe_dispatch", self.dispatch_params)
        scales = (self.x_scales, self.recv_scales, self.scale_blocks) if self.scale_blocks else ()
        return self.c.launch_with_block(k, 32 * self.warps, h.rank_base, h.nranks, self.x, self.topk_idx,
                                        self.slot_map, self.counters, self.recv, self.recv_count,
                                        self.dispatch_flags, self.c.flags, self.tokens, self.topk, self.local_experts,
                                        self.capacity, self.row_bytes // 16, self.c.next_epoch(), self.experts,
                                        *scales)

    def combine(self):
        h = self.c.heap
        k = kernel("moe_combine", self.params)
        return self.c.launch_with_block(k, 32 * self.warps, h.rank_base, h.nranks, self.topk_idx, self.topk_w,
                                        self.slot_map, self.recv, self.out, self.c.flags, self.tokens, self.topk,
                                        self.local_experts, self.capacity, self.row_bytes // 16,
                                        self.c.next_epoch())
