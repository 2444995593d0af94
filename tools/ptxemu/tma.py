"""TMA and bulk copies for the PTX emulator (hopper.py dispatches to compile_bulk):

- TMA (cp.async.bulk.tensor.Nd, .tile): the tensor map is given by a generic address (tensor_map):
  a byte-array kernel parameter's (`mov.u64 %rd, param; cvta.param.u64 %rd2, %rd;`, the
  GENERIC_PARAM window; the .param-space address of the mov alone is the misaligned-address fault an
  H200 reported) or 128 bytes of global memory, in the emulator's
  own encoding (TMAP_FORMAT: host.tensor_map writes it; real maps are opaque driver encodings):
  global base, element size, dims, byte strides, box, swizzle (none, 32B, 64B, 128B), zero fill.
  A load reads the box (out-of-bounds elements zero; the tx count is the whole box) and writes it
  densely into shared memory, swizzled on the address bits (address bits [4, 4+b) ^= bits [7, 7+b),
  b = 1, 2, 3 for 32B, 64B, 128B), then complete_tx's its mbarrier; .multicast::cluster does so at
  the same CTA-relative offsets in every CTA of its ctaMask. Emu(tma="issue"): the bytes land at
  issue; tma="wait": the tx completes at issue, but the bytes land only when a thread sees that
  mbarrier phase complete (a successful wait), so a read of the stage before its wait sees the 0xff
  poison. A store (global.shared::cta.tile.bulk_group) reads the box from shared memory (swizzled)
  and writes its in-bounds elements; with tma="wait" it reads shared memory and writes at the bulk
  wait_group (.read or not) covering it. Non-tensor bulk copies (g2s with complete_tx, s2g with
  bulk_group) follow the same models. A thread exiting with bulk groups not waited for is an error.
  An L2 prefetch of a box (cp.async.bulk.prefetch.tensor) moves nothing; its map and policy are
  checked as a load's are.
  The shared side of every copy may be a static `.shared` array or the dynamic shared memory: it must
  lie inside one of them and clear of live mbarriers (Shared.check_range), a tensor box 128-byte
  aligned (swizzled: on its pattern's 256 / 512 / 1024 bytes), a bulk copy 16-byte aligned.
"""
import bisect
import struct

import numpy as np

import emulator as E
import hopper as H

M32, M64 = E.M32, E.M64

# ---------------- tensor maps ----------------
# The emulator's 128-byte tensor map: magic, rank, element bytes, swizzle bytes (0, 32, 64, 128),
# oob fill (0: zeros), 4 spare bytes, global base, dims[5] (u32), 4 spare bytes, byte strides of dims
# 1..4 (u64), box dims[5], element strides[5] (must be 1).
TMAP_FORMAT = "<5I4xQ5I4x4Q5I5I"
TMAP_MAGIC = 0x504D5457  # "WTMP"
assert struct.calcsize(TMAP_FORMAT) == 128


class TensorMap:
    def __init__(self, raw, what="tensor map"):
        f = struct.unpack(TMAP_FORMAT, raw)
        magic, self.rank, self.esize, self.swizzle, fill, self.base = f[:6]
        self.dims, self.strides, self.box, estr = f[6:6 + 5], f[11:15], f[15:20], f[20:25]
        r = self.rank
        bad = None
        if magic != TMAP_MAGIC:
            bad = "not a tensor map in the emulator's encoding (host.tensor_map)"
        elif not 1 <= r <= 5 or self.esize not in (1, 2, 4, 8) or self.swizzle not in (0, 32, 64, 128) or fill:
            bad = f"rank {r}, {self.esize}-byte elements, swizzle {self.swizzle}, fill {fill}"
        elif self.base % 16 or any(s % 16 for s in self.strides[:r - 1]):
            bad = f"base {self.base:#x} or strides {self.strides[:r - 1]} not multiples of 16"
        elif any(not 1 <= b <= 256 for b in self.box[:r]) or any(e != 1 for e in estr[:r]):
            bad = f"box {self.box[:r]} (1..256 each) or element strides {estr[:r]} (1 only)"
        elif self.box[0] * self.esize % 16:
            bad = f"inner box of {self.box[0] * self.esize} bytes, not a multiple of 16"
        elif self.swizzle and self.box[0] * self.esize != self.swizzle:
            bad = (f"inner box of {self.box[0] * self.esize} bytes with a {self.swizzle}B swizzle (the emulator "
                   f"models a swizzled box whose rows are exactly the swizzle span)")
        if bad:
            raise E.EmuError(f"{what}: {bad}")
        self.row_bytes = self.box[0] * self.esize
        self.rows = int(np.prod(self.box[1:r]))
        self.bytes = self.row_bytes * self.rows
        # bytes from base to the end of the last element: every in-bounds element lies before it
        self.extent = self.dims[0] * self.esize + sum((self.dims[d] - 1) * self.strides[d - 1] for d in range(1, r))

    def row_origins(self, coords):
        """For each box row (outer dims, row-major), the global address of the row's element 0 and
        whether the row is inside the tensor."""
        out = []
        for j in range(self.rows):
            a, inside, q = self.base + coords[0] * self.esize, True, j
            for d in range(1, self.rank):
                i = coords[d] + q % self.box[d]
                q //= self.box[d]
                inside &= 0 <= i < self.dims[d]
                a += i * self.strides[d - 1]
            out.append((a, inside))
        return out

    def inner_span(self, c0):
        """The in-bounds elements [lo, hi) of a box row starting at coordinate c0."""
        return max(0, -c0), max(0, min(self.box[0], self.dims[0] - c0))


def generic_map_address(a, what):
    """A tensor map's operand must be a generic address: a parameter's .param-space address (its mov
    without cvta.param) is an error of the kind an H200 reported for it (misaligned address)."""
    if E.in_window(a, E.PARAM_BASE):
        raise E.EmuError(f"{what}: the tensor map address {a:#x} is a .param-space address (the parameter's "
                         f"mov without cvta.param) where a generic address is needed", "misaligned")


def tensor_map(t, a, what):
    """The tensor map at generic address a: a byte-array parameter's (the GENERIC_PARAM window) or
    global memory's, 64-byte aligned."""
    emu = t.emu
    generic_map_address(a, what)
    if E.in_window(a, E.GENERIC_PARAM):
        base, i = emu.k.param_at(a - E.GENERIC_PARAM + E.PARAM_BASE, 128, what, align=64)
        raw = emu.param_mem[base][i:i + 128]
    else:  # a tensor map in global memory
        if a % 64:
            raise E.EmuError(f"{what}: tensor map address {a:#x} not 64-byte aligned", "misaligned")
        in_global(t.mem, a, 128, what)
        raw = bytes(t.mem.mem[a:a + 128])
    cache = emu.__dict__.setdefault("_tmaps", {})
    if raw not in cache:
        cache[raw] = TensorMap(raw, what)
    return cache[raw]


def compile_prefetch_tensormap(k, ops, text):
    """prefetch.tensormap [a] (generic address): nothing to cache here, but the address must hold a
    tensor map a TMA could use (the same checks as the copy's), so a prefetch of the wrong address
    (the map's .param one, say) fails as the copy would."""
    if len(ops) != 1:
        raise E.EmuError(f"unsupported instruction: {text}")
    reg, off = E._addr(ops[0])

    def fn(t):
        tensor_map(t, (t.r[reg] + off) & M64, text)
    return E.K_ALU, fn, None


def in_global(mem, a, n, what):
    i = bisect.bisect_right(mem.starts, a) - 1
    if i < 0 or a + n > mem.allocs[i][0] + mem.allocs[i][1]:
        raise E.EmuError(f"{what}: global [{a:#x}, +{n}) outside every allocation", "illegal_address")


def global_write(mem, a, data, what):
    """A bulk write to global memory: inside one allocation, any alignment (Memory.write wants a % n == 0)."""
    in_global(mem, a, len(data), what)
    mem.mem[a:a + len(data)] = data
    if mem.wcount is not None:
        mem.wcount[a:a + len(data)] += 1
    mem.stores += 1


def swizzle(a, width):
    """The shared address of byte a under a `width`-byte swizzle (numpy arrays or ints)."""
    if not width:
        return a
    bits = {32: 1, 64: 2, 128: 3}[width]
    return a ^ ((a >> 3) & (((1 << bits) - 1) << 4))


def box_index(tm, smem, dst, what):
    """The shared addresses of the box's bytes at dst, in box order (rows of row_bytes)."""
    if dst % 128 or (tm.swizzle and dst % (8 * tm.swizzle)):
        raise E.EmuError(f"{what}: shared address {dst:#x} not 128-byte aligned (or, swizzled, not aligned to the "
                         f"{8 * tm.swizzle}-byte swizzle pattern)", "misaligned")
    smem.check_range(dst, dst + tm.bytes, f"{what}: box")  # (swizzling keeps every byte in its row)
    return swizzle(dst + np.arange(tm.bytes), tm.swizzle)


def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v


def load_box(t, tm, coords, what):
    """The box at coords from global memory, out-of-bounds elements zero: uint8 array of tm.bytes."""
    in_global(t.mem, tm.base, tm.extent, what)
    out = np.zeros((tm.rows, tm.row_bytes), dtype=np.uint8)
    lo, hi = tm.inner_span(coords[0])
    if lo < hi:
        g = np.frombuffer(t.mem.mem, dtype=np.uint8)
        for j, (a, inside) in enumerate(tm.row_origins(coords)):
            if inside:
                out[j, lo * tm.esize:hi * tm.esize] = g[a + lo * tm.esize:a + hi * tm.esize]
    return out.ravel()


def store_box(t, tm, coords, data, what):
    """Writes the in-bounds elements of a box (uint8 array, box order) to global memory."""
    in_global(t.mem, tm.base, tm.extent, what)
    lo, hi = tm.inner_span(coords[0])
    if lo >= hi:
        return
    data = data.reshape(tm.rows, tm.row_bytes)
    for j, (a, inside) in enumerate(tm.row_origins(coords)):
        if inside:
            global_write(t.mem, a + lo * tm.esize, data[j, lo * tm.esize:hi * tm.esize].tobytes(), what)


def _optional_operands(k, extra, multicast, hint, text):
    """A bulk copy's operands after its fixed ones: the ctaMask (.multicast::cluster), then the cache
    policy (.L2::cache_hint), each present exactly when its qualifier is. Their read closures (None
    when absent)."""
    if len(extra) != multicast + hint:
        raise E.EmuError(f"unsupported instruction (operands): {text}")
    return (k.src(extra[0]) if multicast else None), (k.src(extra[-1], 64) if hint else None)


def _tensor_operand(s):
    inner = s.strip()[1:-1]
    mreg, coords = inner.split(",", 1)
    return mreg.strip(), E._regs(coords.strip())


def _compile_prefetch(k, o, ops, text):
    """cp.async.bulk.prefetch.tensor.Nd.L2.global.tile [map, {coords}] (an optional cache policy): a
    hint with no effect on memory here, but its operands are checked as a load's would be (a usable
    tensor map of that rank in global memory, a tagged policy), so a prefetch of a wrong map fails."""
    if len(o) < 9 or o[4] != "tensor" or o[5] not in ("1d", "2d", "3d", "4d", "5d") or \
            o[6:9] != ["L2", "global", "tile"] or set(o[9:]) - {"L2::cache_hint"}:
        raise E.EmuError(f"unsupported instruction: {text}")
    dims = int(o[5][0])
    mreg, creg = _tensor_operand(ops[0])
    if len(creg) != dims:
        raise E.EmuError(f"{text}: {len(creg)} coordinates for .{o[5]}")
    _, policy = _optional_operands(k, ops[1:], False, "L2::cache_hint" in o[9:], text)

    def fn(t):
        if policy:
            E.check_policy(policy(t.r), text)
        tm = tensor_map(t, t.r[mreg], text)
        if tm.rank != dims:
            raise E.EmuError(f"{text}: a rank-{tm.rank} tensor map")
        in_global(t.mem, tm.base, tm.extent, text)
    return E.K_ALU, fn, None


def compile_bulk(k, op, o, ops, text):
    if o[3:] == ["commit_group"]:
        def fn(t):
            t.bulk_groups.append(t.bulk_open)
            t.bulk_open = []
        return E.K_ALU, fn, None
    if o[3] == "wait_group":
        if o[4:] not in ([], ["read"]):
            raise E.EmuError(f"unsupported instruction: {text}")
        keep = int(ops[0])

        def fn(t):
            while len(t.bulk_groups) > keep:
                for run in t.bulk_groups.pop(0):
                    run()
        return E.K_ALU, fn, None
    if o[3] == "prefetch":
        return _compile_prefetch(k, o, ops, text)
    tensor = o[3] == "tensor"
    q = o[5:] if tensor else o[3:]
    if tensor and (o[4] not in ("1d", "2d", "3d", "4d", "5d")):
        raise E.EmuError(f"unsupported instruction: {text}")
    dims = int(o[4][0]) if tensor else 0
    load = q[:2] in (["shared::cluster", "global"], ["shared::cta", "global"])
    store = q[:2] == ["global", "shared::cta"]
    rest = set(q[2:])
    if load:
        multicast = "multicast::cluster" in rest
        hint = "L2::cache_hint" in rest
        if rest - {"tile", "mbarrier::complete_tx::bytes", "multicast::cluster", "L2::cache_hint"} or \
                "mbarrier::complete_tx::bytes" not in rest or (tensor and "tile" not in rest) or \
                (not tensor and "tile" in rest):
            raise E.EmuError(f"unsupported instruction: {text}")
        remote = q[0] == "shared::cluster"
        dreg, doff = E._addr(ops[0])
        if tensor:
            mreg, creg = _tensor_operand(ops[1])
            if len(creg) != dims:
                raise E.EmuError(f"{text}: {len(creg)} coordinates for .{o[4]}")
            breg, boff = E._addr(ops[2])
            extra = ops[3:]
        else:
            sreg, soff = E._addr(ops[1])
            size = k.src(ops[2])
            breg, boff = E._addr(ops[3])
            extra = ops[4:]
        mask, policy = _optional_operands(k, extra, multicast, hint, text)

        def fn(t):
            r = t.r
            if policy:
                E.check_policy(policy(r), text)
            dst, bar = (r[dreg] + doff) & M32, (r[breg] + boff) & M32
            if tensor:
                tm = tensor_map(t, r[mreg], text)
                if tm.rank != dims:
                    raise E.EmuError(f"{text}: a rank-{tm.rank} tensor map")
                data = load_box(t, tm, [s32(r[c]) for c in creg], text)
                t.emu.tma_boxes[tm.base] = t.emu.tma_boxes.get(tm.base, 0) + 1
            else:
                src, n = (r[sreg] + soff) & M64, size(r)
                if n % 16 or src % 16 or dst % 16:
                    raise E.EmuError(f"{text}: {n} bytes from {src:#x} to {dst:#x}: multiples of 16 needed",
                                     "misaligned")
                in_global(t.mem, src, n, text)
                data = np.frombuffer(bytes(t.mem.mem[src:src + n]), dtype=np.uint8)
                tm = None
            if multicast:
                m16 = mask(r) & 0xFFFF
                cl = t.c.cluster
                if m16 >> len(cl):
                    raise E.EmuError(f"{text}: ctaMask {m16:#x} names CTAs outside the cluster of {len(cl)}")
                targets = [(cl[i], dst & H.CLUSTER_MASK, bar & H.CLUSTER_MASK) for i in range(len(cl)) if m16 >> i & 1]
            else:
                c, ld = H.cta_at(t, dst, remote, text)
                c2, lb = H.cta_at(t, bar, remote, text)
                if c2 is not c:
                    raise E.EmuError(f"{text}: the mbarrier is not in the destination's CTA")
                targets = [(c, ld, lb)]
            for c, ld, lb in targets:
                if c.exited == len(c.threads):
                    raise E.EmuError(f"{text}: copy into CTA {c.ctaid}, which has exited")
                smem = c.smem
                if tm is not None:
                    idx = box_index(tm, smem, ld, text)
                else:
                    smem.check_range(ld, ld + len(data), text)
                    idx = np.arange(ld, ld + len(data))
                m = smem.mbars.get(lb)
                if m is None:
                    raise E.EmuError(f"{text}: no initialized mbarrier at shared {lb:#x} of CTA {c.ctaid}")
                if t.emu.tma == "issue":
                    smem.np[idx] = data
                else:
                    m.inflight.append((smem, idx, data))
                m.complete_tx(t.emu, len(data), text)
        return E.K_ALU, fn, None
    if store:
        if rest - {"tile", "bulk_group", "L2::cache_hint"} or "bulk_group" not in rest or \
                (tensor and "tile" not in rest) or (not tensor and "tile" in rest):
            raise E.EmuError(f"unsupported instruction: {text}")
        if tensor:
            mreg, creg = _tensor_operand(ops[0])
            sreg, soff = E._addr(ops[1])
            extra = ops[2:]
        else:
            dreg, doff = E._addr(ops[0])
            sreg, soff = E._addr(ops[1])
            size = k.src(ops[2])
            extra = ops[3:]
        _, policy = _optional_operands(k, extra, False, "L2::cache_hint" in rest, text)

        def fn(t):
            r = t.r
            if policy:
                E.check_policy(policy(r), text)
            src = (r[sreg] + soff) & M32
            smem = t.smem
            if tensor:
                tm = tensor_map(t, r[mreg], text)
                coords = [s32(r[c]) for c in creg]
                idx = box_index(tm, smem, src, text)

                def run(t=t, tm=tm, coords=coords, idx=idx):
                    async_read(t, smem, idx, text)
                    store_box(t, tm, coords, smem.np[idx].copy(), text)
            else:
                dst, n = (r[dreg] + doff) & M64, size(r)
                if n % 16 or src % 16 or dst % 16:
                    raise E.EmuError(f"{text}: {n} bytes from {src:#x} to {dst:#x}: multiples of 16 needed",
                                     "misaligned")
                smem.check_range(src, src + n, text)

                def run(t=t, src=src, dst=dst, n=n):
                    async_read(t, smem, np.arange(src, src + n), text)
                    global_write(t.mem, dst, bytes(smem.mem[src:src + n]), text)
            if t.emu.tma == "issue":
                run()
            else:
                t.bulk_open.append(run)
        return E.K_ALU, fn, None
    raise E.EmuError(f"unsupported instruction: {text}")


def async_read(t, smem, idx, what):
    """An async-proxy read of shared memory: generic-proxy stores to these bytes must have been
    followed by a fence.proxy.async of the storing thread."""
    if not smem.unfenced:
        return
    lo, hi = int(idx.min()), int(idx.max()) + 1
    for th, ranges in smem.unfenced.items():
        for a, n in ranges:
            if a < hi and lo < a + n and np.any((idx >= a) & (idx < a + n)):
                raise E.EmuError(f"{what}: reads shared [{a:#x}, +{n}), stored by thread {th.tid} of CTA "
                                 f"{th.c.ctaid} with no fence.proxy.async after the store (generic-proxy writes "
                                 f"are not visible to the async proxy without it)")
