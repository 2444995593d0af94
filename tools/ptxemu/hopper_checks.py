"""Checks of the sm_90 pieces of the emulator that no weft kernel emits yet (thread-block clusters,
multicast TMA, remote mbarrier arrives, TMA stores, stmatrix, red / atom for split-K), on small hand-written PTX
kernels: each runs in both TMA models and compares with what the PTX ISA says should happen, worked
out independently of hopper.py (the 128B swizzle as "16-byte chunk index XOR row % 8 within each
1024 bytes", out-of-bounds elements zero on loads and clipped on stores). run_gemm90_checks.py runs
them, with named barriers (bar.arrive / bar.sync with counts) and mutants: the multicast kernel's first
cluster barrier dropped, the named-barrier kernel's bar.arrive dropped, the store kernel's
fence.proxy.async and its bulk wait_group dropped.

Also the two address rules an H200 taught the emulator: where dynamic shared memory starts (1024-aligned
with no static variables; after them, an odd multiple of 16: emulator.dynamic_smem_base), and a
byte-array parameter's two addresses (the .param one of mov, the generic one of cvta.param, read by
ld.param and by a generic ld); with mutants that must fault as the GPU did or would: the multicast
kernel's base round-up dropped and the store kernel's cvta.param made a mov (misaligned, both),
ld.param given the generic address, a generic ld the .param one, a store past the dynamic shared
memory (illegal_address, all three).
"""
import numpy as np

import emulator as E
import host
from checks import Report

HEADER = ".version 8.0\n.target sm_90a\n.address_size 64\n"

# Two CTAs of a cluster: rank 0 multicasts one 64 x 16 bf16 box (128B swizzle, 2048 bytes) into both
# CTAs' shared memory, each CTA's mbarrier expecting the bytes; every CTA copies its 2048 bytes of
# shared memory to out[rank]; rank 1 then arrives on rank 0's `done` barrier through mapa, and rank 0
# waits for it; a cluster barrier keeps both CTAs alive until the end. As weft's kernels do, it rounds
# the dynamic shared memory's base up to 1024 bytes (after static variables it is only 16-byte
# aligned: emulator.dynamic_smem_base) and asks for the 1008 bytes that may skip, and it gives TMA the
# tensor map's generic address (cvta.param).
MULTICAST = HEADER + r"""//! dynamic_smem 3056
.extern .shared .align 1024 .b8 smem[];
.visible .entry mc(
	.param .align 64 .b8 tmap[128],
	.param .u64 out,
	.param .s32 x,
	.param .s32 y
)
.reqntid 64, 1, 1
.reqnctapercluster 2, 1, 1
{
	.reg .pred %p<8>;
	.reg .b32 %r<40>;
	.reg .b64 %rd<10>;
	.reg .b16 %rs<2>;
	.shared .align 8 .b8 full[8];
	.shared .align 8 .b8 done[8];
	mov.u32 %r0, %tid.x;
	mov.u32 %r1, %cluster_ctarank;
	mov.u32 %r2, full;
	mov.u32 %r3, done;
	mov.u32 %r21, smem;
	add.u32 %r22, %r21, 1023;
	and.b32 %r4, %r22, -1024;
	setp.eq.u32 %p0, %r0, 0;
	@!%p0 bra $L_init;
	mbarrier.init.shared::cta.b64 [%r2], 1;
	mbarrier.init.shared::cta.b64 [%r3], 1;
	fence.mbarrier_init.release.cluster;
$L_init:
	barrier.cluster.arrive.release.aligned;
	barrier.cluster.wait.acquire.aligned;
	@!%p0 bra $L_wait;
	mbarrier.arrive.expect_tx.release.cta.shared::cta.b64 _, [%r2], 2048;
	setp.eq.u32 %p1, %r1, 0;
	@!%p1 bra $L_wait;
	mov.u64 %rd5, tmap;
	cvta.param.u64 %rd0, %rd5;
	ld.param.s32 %r5, [x];
	ld.param.s32 %r6, [y];
	mov.u16 %rs0, 3;
	cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster [%r4], [%rd0, {%r5, %r6}], [%r2], %rs0;
$L_wait:
	mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
	@!%p2 bra $L_wait;
	shl.b32 %r7, %r0, 5;
	add.u32 %r8, %r4, %r7;
	ld.shared.v4.u32 {%r10, %r11, %r12, %r13}, [%r8];
	ld.shared.v4.u32 {%r14, %r15, %r16, %r17}, [%r8+16];
	ld.param.u64 %rd1, [out];
	cvta.to.global.u64 %rd2, %rd1;
	shl.b32 %r9, %r1, 11;
	add.u32 %r9, %r9, %r7;
	cvt.u64.u32 %rd3, %r9;
	add.u64 %rd4, %rd2, %rd3;
	st.global.v4.u32 [%rd4], {%r10, %r11, %r12, %r13};
	st.global.v4.u32 [%rd4+16], {%r14, %r15, %r16, %r17};
	@!%p0 bra $L_end;
	setp.eq.u32 %p3, %r1, 1;
	@!%p3 bra $L_w2;
	mapa.shared::cluster.u32 %r20, %r3, 0;
	mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%r20];
	bra.uni $L_end;
$L_w2:
	mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 %p4, [%r3], 0;
	@!%p4 bra $L_w2;
$L_end:
	barrier.cluster.arrive.aligned;
	barrier.cluster.wait.aligned;
	ret;
}
"""

# One warp stores four 8x8 b16 matrices with stmatrix .x4: lane l's register q holds the elements
# q * 256 + 2 l and + 1 (low half first), and lane l gives the address of row l % 8 of matrix l / 8 at
# byte 16 (4 (l % 8) + l / 8) (the matrices' rows interleaved, so a wrong address map shows); then
# the warp copies the 512 bytes out. TRANS marks where .trans goes.
STMATRIX = HEADER + r"""//! dynamic_smem 512
.extern .shared .align 16 .b8 smem[];
.visible .entry stm(
	.param .u64 out
)
.reqntid 32, 1, 1
{
	.reg .b32 %r<20>;
	.reg .b64 %rd<4>;
	mov.u32 %r0, %tid.x;
	shl.b32 %r1, %r0, 1;
	mad.lo.u32 %r2, %r1, 65537, 65536;
	add.u32 %r3, %r2, 16777472;
	add.u32 %r4, %r3, 16777472;
	add.u32 %r5, %r4, 16777472;
	and.b32 %r6, %r0, 7;
	shr.u32 %r7, %r0, 3;
	shl.b32 %r6, %r6, 2;
	add.u32 %r6, %r6, %r7;
	shl.b32 %r6, %r6, 4;
	mov.u32 %r8, smem;
	add.u32 %r9, %r8, %r6;
	stmatrix.sync.aligned.m8n8.x4TRANS.shared.b16 [%r9], {%r2, %r3, %r4, %r5};
	bar.sync 0;
	shl.b32 %r10, %r0, 4;
	add.u32 %r11, %r8, %r10;
	ld.shared.v4.u32 {%r12, %r13, %r14, %r15}, [%r11];
	ld.param.u64 %rd0, [out];
	cvt.u64.u32 %rd1, %r10;
	add.s64 %rd2, %rd0, %rd1;
	st.global.v4.u32 [%rd2], {%r12, %r13, %r14, %r15};
	ret;
}
"""

# One warp stores words holding their own shared offsets (2048 bytes), fences the generic-proxy
# stores for the async proxy, and lane 0 stores the 64 x 16 bf16 box to global memory with TMA at
# (x, y) (clipped to the tensor), then waits for the bulk group's reads.
STORE = HEADER + r"""//! dynamic_smem 2048
.extern .shared .align 1024 .b8 smem[];
.visible .entry st(
	.param .align 64 .b8 tmap[128],
	.param .s32 x,
	.param .s32 y
)
.reqntid 32, 1, 1
{
	.reg .pred %p<4>;
	.reg .b32 %r<30>;
	.reg .b64 %rd<4>;
	mov.u32 %r0, %tid.x;
	mov.u32 %r1, smem;
	shl.b32 %r2, %r0, 6;
	add.u32 %r3, %r1, %r2;
	shr.u32 %r4, %r2, 2;
	add.u32 %r5, %r4, 1;
	add.u32 %r6, %r4, 2;
	add.u32 %r7, %r4, 3;
	st.shared.v4.u32 [%r3], {%r4, %r5, %r6, %r7};
	add.u32 %r4, %r4, 4;
	add.u32 %r5, %r4, 1;
	add.u32 %r6, %r4, 2;
	add.u32 %r7, %r4, 3;
	st.shared.v4.u32 [%r3+16], {%r4, %r5, %r6, %r7};
	add.u32 %r4, %r4, 4;
	add.u32 %r5, %r4, 1;
	add.u32 %r6, %r4, 2;
	add.u32 %r7, %r4, 3;
	st.shared.v4.u32 [%r3+32], {%r4, %r5, %r6, %r7};
	add.u32 %r4, %r4, 4;
	add.u32 %r5, %r4, 1;
	add.u32 %r6, %r4, 2;
	add.u32 %r7, %r4, 3;
	st.shared.v4.u32 [%r3+48], {%r4, %r5, %r6, %r7};
	fence.proxy.async.shared::cta;
	bar.sync 0;
	setp.eq.u32 %p0, %r0, 0;
	@!%p0 bra $L_end;
	mov.u64 %rd1, tmap;
	cvta.param.u64 %rd0, %rd1;
	ld.param.s32 %r8, [x];
	ld.param.s32 %r9, [y];
	cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%rd0, {%r8, %r9}], [%r1];
	cp.async.bulk.commit_group;
	cp.async.bulk.wait_group.read 0;
$L_end:
	ret;
}
"""

# Split-K style reductions: every thread adds 1.0 with red.global.add.f32 and counts itself with an
# acq_rel atom; the thread that counts last reads the count (ld.acquire) and the sum into out.
REDUCE = HEADER + r"""
.visible .entry ra(
	.param .u64 f,
	.param .u64 cnt,
	.param .u64 out
)
.reqntid 64, 1, 1
{
	.reg .pred %p<2>;
	.reg .b32 %r<8>;
	.reg .b64 %rd<8>;
	ld.param.u64 %rd0, [f];
	cvta.to.global.u64 %rd1, %rd0;
	ld.param.u64 %rd2, [cnt];
	cvta.to.global.u64 %rd3, %rd2;
	ld.param.u64 %rd4, [out];
	cvta.to.global.u64 %rd5, %rd4;
	red.relaxed.gpu.global.add.f32 [%rd1], 0f3F800000;
	atom.acq_rel.gpu.global.add.u32 %r1, [%rd3], 1;
	setp.eq.u32 %p0, %r1, 63;
	@!%p0 bra $L_end;
	ld.acquire.gpu.global.u32 %r2, [%rd3];
	ld.relaxed.gpu.global.f32 %r3, [%rd1];
	st.global.u32 [%rd5], %r2;
	st.global.u32 [%rd5+4], %r3;
$L_end:
	ret;
}
"""


# Named barriers: warps 0-1 store to shared memory and bar.arrive on barrier 1 (128 threads), then
# exit; warps 2-3 bar.sync on it, read, meet on barrier 2 (64 threads) and store to out.
NAMED = HEADER + r"""//! dynamic_smem 256
.extern .shared .align 1024 .b8 smem[];
.visible .entry nb(
	.param .u64 out
)
.reqntid 128, 1, 1
{
	.reg .pred %p<4>;
	.reg .b32 %r<20>;
	.reg .b64 %rd<6>;
	mov.u32 %r0, %tid.x;
	mov.u32 %r1, smem;
	setp.lt.u32 %p0, %r0, 64;
	@!%p0 bra $L_cons;
	shl.b32 %r2, %r0, 2;
	add.u32 %r3, %r1, %r2;
	mul.lo.u32 %r4, %r0, 7;
	st.shared.u32 [%r3], %r4;
	bar.arrive 1, 128;
	ret;
$L_cons:
	bar.sync 1, 128;
	sub.u32 %r5, %r0, 64;
	shl.b32 %r6, %r5, 2;
	add.u32 %r7, %r1, %r6;
	ld.shared.u32 %r8, [%r7];
	bar.sync 2, 64;
	ld.param.u64 %rd0, [out];
	cvta.to.global.u64 %rd1, %rd0;
	mul.wide.u32 %rd2, %r5, 4;
	add.u64 %rd3, %rd1, %rd2;
	st.global.u32 [%rd3], %r8;
	ret;
}
"""


# Where dynamic shared memory starts: one thread stores 16 bytes at the base and 16 at base + 48 (the
# last of the 64 bytes), reads the last word back and stores it and STATIC's address to out.
BASES = HEADER + r"""//! dynamic_smem 64
.extern .shared .align 1024 .b8 smem[];
.visible .entry sb(
	.param .u64 out
)
.reqntid 1, 1, 1
{
	.reg .b32 %r<4>;
	.reg .b64 %rd<2>;
STATIC
	mov.u32 %r0, smem;
	st.shared.v4.u32 [%r0], {%r0, %r0, %r0, %r0};
	st.shared.v4.u32 [%r0+48], {%r0, %r0, %r0, %r0};
	ld.shared.u32 %r1, [%r0+60];
	ld.param.u64 %rd0, [out];
	cvta.to.global.u64 %rd1, %rd0;
	st.global.u32 [%rd1], %r1;
ADDRESS
	ret;
}
"""

# A byte-array parameter's two addresses: thread i reads word i of tmap by its generic address
# (cvta.param, then a generic ld) and by its .param address again (cvta.to.param, then ld.param),
# into out[i] and out[16 + i]; thread 0 also stores both addresses.
PARAMS = HEADER + r"""
.visible .entry ps(
	.param .align 64 .b8 tmap[128],
	.param .u64 out
)
.reqntid 16, 1, 1
{
	.reg .pred %p<2>;
	.reg .b32 %r<2>;
	.reg .b64 %rd<12>;
	mov.u32 %r0, %tid.x;
	mov.u64 %rd0, tmap;
	cvta.param.u64 %rd1, %rd0;
	cvta.to.param.u64 %rd2, %rd1;
	mul.wide.u32 %rd3, %r0, 8;
	add.s64 %rd4, %rd1, %rd3;
	ld.u64 %rd5, [%rd4];
	add.s64 %rd6, %rd2, %rd3;
	ld.param.u64 %rd7, [%rd6];
	ld.param.u64 %rd8, [out];
	cvta.to.global.u64 %rd9, %rd8;
	add.s64 %rd10, %rd9, %rd3;
	st.global.u64 [%rd10], %rd5;
	st.global.u64 [%rd10+128], %rd7;
	setp.eq.u32 %p0, %r0, 0;
	@!%p0 bra $L_end;
	st.global.u64 [%rd9+256], %rd0;
	st.global.u64 [%rd9+264], %rd1;
$L_end:
	ret;
}
"""


def swizzled(j, byte):
    """Offset of byte `byte` of row j of a 128-byte-row box under the 128B swizzle."""
    return j * 128 + ((byte // 16) ^ (j % 8)) * 16 + byte % 16


def tensor(rows, cols, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 0xFFFF, (rows, cols)).astype(np.uint16)


def box_of(t, x, y, w=64, h=16):
    """The box at (x, y) of 2-D tensor t, out-of-bounds zero."""
    out = np.zeros((h, w), dtype=np.uint16)
    for j in range(h):
        for i in range(w):
            if 0 <= y + j < t.shape[0] and 0 <= x + i < t.shape[1]:
                out[j, i] = t[y + j, x + i]
    return out


def check_multicast(seed, tma, text=MULTICAST):
    r = Report(f"emulator: cluster of 2, multicast TMA (128B swizzle, out of bounds) + mapa remote arrive + "
               f"barrier.cluster, TMA at {tma}")
    k = E.Kernel(text)
    rows, cols, x, y = 20, 104, 48, 10  # the box reaches past both edges
    t = tensor(rows, cols, seed)
    mem = E.Memory(1 << 20)
    tb = mem.alloc(t.nbytes, "tensor")
    mem.mem[tb:tb + t.nbytes] = t.tobytes()
    out = mem.alloc(2 * 2048, "out")
    tmap = host.tensor_map(tb, 2, [cols, rows], [cols * 2], [64, 16], 128)
    E.Emu(mem, k, (4, 1), 64, {"tmap": tmap, "out": out, "x": x, "y": y}, seed=seed, tma=tma,
          warp_speeds=True).run()
    box = box_of(t, x, y).view(np.uint8)
    want = np.zeros(2048, dtype=np.uint8)
    for j in range(16):
        for b in range(128):
            want[swizzled(j, b)] = box[j, b]
    got = np.frombuffer(bytes(mem.mem[out:out + 4096]), dtype=np.uint8)
    for rank in range(2):  # grid 4 = two clusters writing the same out: each CTA's copy is checked
        if not np.array_equal(got[2048 * rank:2048 * rank + 2048], want):
            bad = int(np.argmax(got[2048 * rank:2048 * rank + 2048] != want))
            r.fail(f"CTA rank {rank}: shared byte {bad} is {got[2048 * rank + bad]}, want {want[bad]}")
    return r


def check_store(seed, tma, text=STORE):
    r = Report(f"emulator: TMA store of a 128B-swizzled box clipped at the tensor's edges, bulk_group wait, "
               f"TMA at {tma}")
    k = E.Kernel(text)
    rows, cols, x, y = 20, 104, 48, 10
    mem = E.Memory(1 << 20)
    tb = mem.alloc(rows * cols * 2, "tensor")
    mem.mem[tb:tb + rows * cols * 2] = bytes(rows * cols * 2)
    tmap = host.tensor_map(tb, 2, [cols, rows], [cols * 2], [64, 16], 128)
    E.Emu(mem, k, (1, 1), 32, {"tmap": tmap, "x": x, "y": y}, seed=seed, tma=tma).run()
    image = np.arange(512, dtype=np.uint32).view(np.uint8)  # shared memory: each word its index
    want = np.zeros((rows, cols), dtype=np.uint16)
    writes = np.zeros((rows, cols), dtype=np.uint16)
    for j in range(16):
        for i in range(64):
            if y + j < rows and x + i < cols:
                p = swizzled(j, 2 * i)
                want[y + j, x + i] = image[p] | (image[p + 1] << 8)
                writes[y + j, x + i] = 1
    got = np.frombuffer(bytes(mem.mem[tb:tb + rows * cols * 2]), dtype=np.uint16).reshape(rows, cols)
    if not np.array_equal(got, want):
        bad = tuple(int(v) for v in np.argwhere(got != want)[0])
        r.fail(f"element {bad} is {got[bad]}, want {want[bad]}")
    wc = mem.wcount[tb:tb + rows * cols * 2].reshape(rows, cols, 2)
    if not np.array_equal(wc[:, :, 0], writes) or not np.array_equal(wc[:, :, 1], writes):
        r.fail("the store wrote outside the box's in-bounds part, or twice")
    return r


def check_stmatrix(seed, trans):
    """stmatrix against the PTX ISA's fragment figure, worked out here: matrix q's element (row, col)
    comes from lane 4 row + col / 2, half col % 2 (.trans: element (col, row) of that matrix)."""
    r = Report(f"emulator: stmatrix.x4{'.trans' if trans else ''} against the fragment layout")
    mem = E.Memory(1 << 16)
    out = mem.alloc(512, "out")
    E.Emu(mem, E.Kernel(STMATRIX.replace("TRANS", ".trans" if trans else "")), (1, 1), 32, {"out": out},
          seed=seed).run()
    got = np.frombuffer(bytes(mem.mem[out:out + 512]), dtype="<u2")
    for q in range(4):
        for row in range(8):
            for col in range(8):
                sr, sc = (col, row) if trans else (row, col)  # the fragment element stored at (row, col)
                want = q * 256 + 2 * (4 * sr + sc // 2) + sc % 2
                at = (16 * (4 * row + q)) // 2 + col
                if got[at] != want:
                    r.fail(f"matrix {q} ({row}, {col}) is {got[at]}, want {want}")
                    return r
    return r


def check_reduce(seed):
    r = Report("emulator: red.global.add.f32, atom.acq_rel.gpu.add.u32, ld.acquire.gpu")
    k = E.Kernel(REDUCE)
    mem = E.Memory(1 << 16)
    f, cnt, out = (mem.alloc(8, name) for name in ("f", "cnt", "out"))
    E.Emu(mem, k, (1, 1), 64, {"f": f, "cnt": cnt, "out": out}, seed=seed).run()
    got = np.frombuffer(bytes(mem.mem[out:out + 8]), dtype=np.uint32)
    if got[0] != 64 or got[1:].view(np.float32)[0] != 64.0:
        r.fail(f"count {got[0]}, sum {got[1:].view(np.float32)[0]}: want 64 and 64.0")
    return r


def check_multicast_early(seed):
    """The multicast kernel without its first cluster barrier: rank 0 may multicast into rank 1 before
    rank 1 has initialized its mbarrier. Tries schedules until one shows it."""
    r = Report("mutant of the multicast kernel (first barrier.cluster dropped: the multicast may reach a peer "
               "whose mbarrier is not initialized) must be detected")
    text = MULTICAST.replace("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;", "")
    assert text != MULTICAST
    for i in range(8):
        try:
            got = check_multicast(seed + i, "wait", text)
        except E.EmuError as ex:
            r.notes.append(f"detected (schedule {i}): emulator: " + str(ex)[:200])
            return r
        if not got.ok:
            r.notes.append(f"detected (schedule {i}): " + got.detail[:200])
            return r
    r.fail("NOT detected in 8 schedules")
    return r


def check_named(seed, text=NAMED):
    r = Report("emulator: named barriers (bar.arrive / bar.sync with ids and thread counts)")
    mem = E.Memory(1 << 16)
    out = mem.alloc(256, "out")
    E.Emu(mem, E.Kernel(text), (2, 1), 128, {"out": out}, seed=seed, warp_speeds=True).run()
    got = np.frombuffer(bytes(mem.mem[out:out + 256]), dtype=np.uint32)
    if not np.array_equal(got, 7 * np.arange(64, dtype=np.uint32)):
        r.fail(f"out {got[:8]}..., want 0, 7, 14, ...")
    return r


def bases_kernel(static_bytes):
    """BASES with a static array of static_bytes before the dynamic shared memory (0: none)."""
    if not static_bytes:
        return BASES.replace("STATIC\n", "").replace("ADDRESS\n", "")
    return BASES.replace("STATIC", f"\t.shared .align 8 .b8 bars[{static_bytes}];").replace(
        "ADDRESS", "\tmov.u32 %r2, bars;\n\tst.global.u32 [%rd1+4], %r2;")


def check_smem_base(seed, static_bytes, text=None):
    """The dynamic shared memory's base: 1024-aligned with no static variables; after static ones, the
    next 16-byte boundary past them or the one after, never a multiple of 32 (as an H200 placed it,
    whatever the declared .align: emulator.dynamic_smem_base); its 64 bytes usable from there."""
    r = Report(f"emulator: dynamic shared memory's base after {static_bytes} bytes of static shared memory")
    mem = E.Memory(1 << 16)
    out = mem.alloc(8, "out")
    E.Emu(mem, E.Kernel(text or bases_kernel(static_bytes)), (1, 1), 1, {"out": out}, seed=seed).run()
    base, bars = np.frombuffer(bytes(mem.mem[out:out + 8]), dtype=np.uint32).tolist()
    if not static_bytes:
        if base % 1024:
            r.fail(f"base {base:#x} without static variables: not 1024-aligned")
    elif not (base % 16 == 0 and base % 32 and 0 <= base - (bars + static_bytes) < 32):
        r.fail(f"base {base:#x} after static variables at [{bars:#x}, {bars + static_bytes:#x}): not the next odd "
               f"multiple of 16")
    return r


def check_param_spaces(seed, text=PARAMS):
    r = Report("emulator: a byte-array parameter read by its generic address (cvta.param, generic ld) and by its "
               ".param address (cvta.to.param, ld.param through a register)")
    blob = np.random.default_rng(seed).integers(0, 256, 128, dtype=np.uint8).tobytes()
    mem = E.Memory(1 << 16)
    out = mem.alloc(272, "out")
    E.Emu(mem, E.Kernel(text), (1, 1), 16, {"tmap": blob, "out": out}, seed=seed).run()
    got = bytes(mem.mem[out:out + 272])
    param, generic = np.frombuffer(got[256:], dtype=np.uint64).tolist()
    if got[:128] != blob or got[128:256] != blob:
        r.fail("out differs from the parameter's bytes")
    elif param == generic:
        r.fail(f"cvta.param gave the .param address {param:#x} itself: the two spaces are not told apart")
    return r


def hinted_store(policy="%rd2"):
    """STORE with its TMA store carrying .L2::cache_hint and `policy` as the policy operand (%rd2 is
    made by createpolicy)."""
    text = mutated(STORE, "cvta.param.u64 %rd0, %rd1;",
                   "cvta.param.u64 %rd0, %rd1;\n\tcreatepolicy.fractional.L2::evict_first.b64 %rd2;")
    return mutated(text, ".tile.bulk_group [%rd0, {%r8, %r9}], [%r1];",
                   f".tile.bulk_group.L2::cache_hint [%rd0, {{%r8, %r9}}], [%r1], {policy};")


def must_fault(what, kind, check, message=None):
    """A mutant that must end in an emulator error of `kind` (and, given `message`, one that says it):
    the fault a GPU gives for that bug."""
    r = Report(f"mutant ({what}) must fault with {kind}")
    try:
        got = check()
        r.fail("NOT detected" if got.ok else f"detected by its results, not a {kind} fault: {got.detail[:200]}")
    except E.EmuError as ex:
        if message is not None and message not in str(ex):
            r.fail(f"an error that does not say {message!r}: {str(ex)[:300]}")
        elif ex.kind == kind:
            r.notes.append("detected: emulator: " + str(ex)[:300])
        else:
            r.fail(f"a {ex.kind} error, not {kind}: {str(ex)[:300]}")
    return r


def mutated(text, old, new):
    assert old in text, old
    return text.replace(old, new)


def run_all(run, s):
    for static_bytes in (0, 8, 96, 1008):  # 1008: the statics end at 0x400, a multiple of 1024
        run.run(f"emulator: dynamic shared memory after {static_bytes} static bytes",
                lambda: check_smem_base(s, static_bytes))
    run.run("emulator: a parameter's .param and generic addresses", lambda: check_param_spaces(s))
    # the two faults of the first H200 run, and the address spaces' other rules
    faults = [
        ("multicast without the dynamic base rounded up: the swizzled box on a 16-byte-aligned base", "misaligned",
         lambda: check_multicast(s, "wait", mutated(MULTICAST, "add.u32 %r22, %r21, 1023;\n\tand.b32 %r4, %r22, "
                                                                "-1024;", "mov.u32 %r4, %r21;"))),
        ("TMA store given the tensor map's .param address (cvta.param made a mov)", "misaligned",
         lambda: check_store(s, "wait", mutated(STORE, "cvta.param.u64 %rd0, %rd1;", "mov.u64 %rd0, %rd1;"))),
        ("ld.param given the generic address", "illegal_address",
         lambda: check_param_spaces(s, mutated(PARAMS, "ld.param.u64 %rd7, [%rd6];", "ld.param.u64 %rd7, [%rd4];"))),
        ("generic ld given the .param address", "illegal_address",
         lambda: check_param_spaces(s, mutated(PARAMS, "add.s64 %rd4, %rd1, %rd3;", "add.s64 %rd4, %rd0, %rd3;"))),
        ("a store just past the dynamic shared memory after static variables", "illegal_address",
         lambda: check_smem_base(s, 96, mutated(bases_kernel(96), "[%r0+48]", "[%r0+64]"))),
    ]
    for what, kind, check in faults:
        run.run(f"mutant: {what.split(':')[0]}", lambda w=what, k=kind, c=check: must_fault(w, k, c))
    # The store with an L2 cache hint (createpolicy's policy operand) stores the same box; given some
    # other register as its policy, it is an error (a GPU's behaviour with such a policy is undefined).
    run.run("emulator: TMA store with an L2 evict_first policy", lambda: check_store(s, "wait", hinted_store()))
    # prefetch.tensormap before the store: of the generic address, fine; of the .param one, the same
    # misaligned-map fault as the copy itself.
    def prefetched(a):
        return mutated(STORE, "cvta.param.u64 %rd0, %rd1;", f"cvta.param.u64 %rd0, %rd1;\n\tprefetch.tensormap [{a}];")
    run.run("emulator: prefetch.tensormap of the map's generic address",
            lambda: check_store(s, "wait", prefetched("%rd0")))
    run.run("mutant: prefetch.tensormap of the map's .param address",
            lambda: must_fault("prefetch.tensormap given the .param address", "misaligned",
                               lambda: check_store(s, "wait", prefetched("%rd1"))))
    # cp.async.bulk.prefetch.tensor of the store's box: a hint that moves nothing (the store still
    # stores the same box), checked as a load: of the .param address, the misaligned-map fault too.
    def box_prefetched(a):
        return mutated(STORE, "ld.param.s32 %r9, [y];",
                       f"ld.param.s32 %r9, [y];\n\tcp.async.bulk.prefetch.tensor.2d.L2.global.tile [{a}, {{%r8, %r9}}];")
    run.run("emulator: an L2 prefetch of a box (cp.async.bulk.prefetch.tensor) moves nothing",
            lambda: check_store(s, "wait", box_prefetched("%rd0")))
    run.run("mutant: an L2 prefetch of a box through the map's .param address",
            lambda: must_fault("cp.async.bulk.prefetch.tensor given the .param address", "misaligned",
                               lambda: check_store(s, "wait", box_prefetched("%rd1"))))
    run.run("mutant: the cache-policy operand not made by createpolicy",
            lambda: must_fault("the policy operand is the tensor map's address", None,
                               lambda: check_store(s, "wait", hinted_store("%rd0")), "not made by createpolicy"))

    for trans in (False, True):
        run.run(f"emulator: stmatrix{' .trans' if trans else ''}", lambda t=trans: check_stmatrix(s, t))
    run.run("emulator: named barriers", lambda: check_named(s))
    run.run("mutant: multicast before the peer's mbarrier init", lambda: check_multicast_early(s))
    for tma in ("wait", "issue"):
        run.run(f"emulator: multicast, {tma}", lambda: check_multicast(s, tma))
        run.run(f"emulator: TMA store, {tma}", lambda: check_store(s, tma))
    run.run("emulator: red / atom", lambda: check_reduce(s))
    def named_mutant():
        r = Report("mutant of the named-barrier kernel (the producers' bar.arrive dropped: a deadlock) must be "
                   "detected")
        try:
            got = check_named(s, NAMED.replace("bar.arrive 1, 128;", ""))
            if got.ok:
                r.fail("NOT detected")
            else:
                r.notes.append("detected: " + got.detail[:200])
        except E.EmuError as ex:
            r.notes.append("detected: emulator: " + str(ex)[:300])
        return r
    run.run("mutant: bar.arrive dropped", named_mutant)
    for what, old, new in (("fence.proxy.async dropped: the TMA store reads unfenced generic stores",
                            "fence.proxy.async.shared::cta;", ""),
                           ("bulk wait_group dropped: the thread exits with its store in flight",
                            "cp.async.bulk.wait_group.read 0;", "")):
        def mutant(what=what, old=old, new=new):
            r = Report(f"mutant of the TMA store kernel ({what}) must be detected")
            assert old in STORE
            try:
                got = check_store(s, "wait", STORE.replace(old, new))
                if got.ok:
                    r.fail("NOT detected")
                else:
                    r.notes.append("detected: " + got.detail[:200])
            except E.EmuError as ex:
                r.notes.append("detected: emulator: " + str(ex)[:200])
            return r
        run.run("mutant: " + what.split(":")[0], mutant)
