"""moe_quantize (the fp8 MoE dispatch's quantization) run in the emulator against a NumPy reference.

Rows of bf16 values become e4m3 with one f32 scale per 128 values (samples/kernels/comm/
fp8_block_quant.h): amax = max(max |v|, 1e-4), q = e4m3_rn_satfinite(v * (448 / amax)),
scale = amax / 448, each an f32 operation. The reference repeats those operations in np.float32 and
rounds to e4m3 by brute force over the 127 finite magnitudes (ties to the even code), independently of
the emulator's own conversion (emulator.f_to_e4m3_rn_satfinite), and the check demands every byte
and every scale bit for bit. Crafted rows cover what random ones rarely reach: a block whose amax is
448 (so v * 448 / amax is v itself), holding every e4m3 magnitude and every midpoint between two
(ties to even, the subnormal ones too), negative values and -0; an all-zero block (amax floored);
then random rows of different magnitudes.
"""
import numpy as np

import host
from checks import Report
from emulator import E4M3
from host import Collectives, Heap, float_to_bf16, bf16_to_float

MAGNITUDES = [float(E4M3[c]) for c in range(0x7F)]  # codes 0 .. 0x7E


def e4m3_reference(x):
    """np.float32 x to e4m3, round to nearest, ties to the even code, saturating; sign kept."""
    x = float(x)
    a = min(abs(x), 448.0)
    best = 0
    for c in range(1, 0x7F):
        db, dc = abs(MAGNITUDES[best] - a), abs(MAGNITUDES[c] - a)
        if dc < db or (dc == db and c % 2 == 0):
            best = c
    return best | (0x80 if np.signbit(x) else 0)


def quantize_reference(values, rows, hidden):
    """values: rows x hidden float32 (bf16-exact). Returns (q bytes rows x hidden, scales hidden/128 x rows)."""
    q = np.zeros((rows, hidden), dtype=np.uint8)
    scales = np.zeros((hidden // 128, rows), dtype=np.float32)
    for r in range(rows):
        for kb in range(hidden // 128):
            block = values[r, kb * 128:(kb + 1) * 128].astype(np.float32)
            amax = np.float32(max(np.max(np.abs(block)), np.float32(1e-4)))
            to_q = np.float32(448.0) / amax
            for i, v in enumerate(block):
                q[r, kb * 128 + i] = e4m3_reference(np.float32(v * to_q))
            scales[kb, r] = amax / np.float32(448.0)
    return q, scales


def crafted_rows(hidden, rows, seed):
    """The rows described in the module docstring, as bf16-exact float32 values (hidden >= 384)."""
    assert hidden >= 3 * 128
    v = np.zeros((rows, hidden), dtype=np.float32)
    # Row 0: three blocks whose amax is 448, so v * 448 / amax is v itself. Block 0 holds every positive
    # e4m3 magnitude, block 1 every midpoint between two neighbours (ties: the even code wins), block 2
    # the negatives of both (a sample) and -0. bf16 holds them all: e4m3 midpoints have 4 significant bits.
    mids = [(MAGNITUDES[c] + MAGNITUDES[c + 1]) / 2 for c in range(0x7E)]
    blocks = [[448.0] + MAGNITUDES[1:],
              [448.0] + mids,
              [-448.0] + [-x for x in MAGNITUDES[1:64]] + [-x for x in mids[:63]] + [-0.0]]
    for b, values in enumerate(blocks):
        assert len(values) <= 128
        v[0, b * 128:b * 128 + len(values)] = values
    # Row 1 stays zero: amax is floored, every byte 0.
    rng = np.random.default_rng(seed)
    for r in range(2, rows):
        scale = 10.0 ** rng.uniform(-3, 2)
        v[r] = rng.uniform(-1, 1, hidden) * scale
    return np.vectorize(lambda x: bf16_to_float(float_to_bf16(float(x))))(v).astype(np.float32)


def check_moe_quantize(rows, hidden, warps, ctas, seed, unroll=4):
    r = Report(f"moe_quantize, {rows} rows x {hidden}, warps {warps}, unroll {unroll}, {ctas} CTAs")
    values = crafted_rows(hidden, rows, seed)
    heap = Heap(1)
    x = heap.alloc(rows * hidden * 2, "x")
    q8 = heap.alloc(rows * hidden, "q")
    sc = heap.alloc(rows * hidden // 128 * 4, "scales")
    bits = np.vectorize(lambda f: float_to_bf16(float(f)))(values).astype(np.uint16)
    x.upload(0, bits.tobytes())
    q8.poison(0)
    sc.poison(0)
    c = Collectives(heap, ctas=ctas, block=max(64, 32 * warps))
    k = host.kernel("moe_quantize", [f"warps={warps}", f"unroll={unroll}"])
    c.launch_with_block(k, 32 * warps, x.bases[0], q8.bases[0], sc.bases[0], rows, hidden)
    got_q = np.frombuffer(q8.download(0), dtype=np.uint8).reshape(rows, hidden)
    got_s = np.frombuffer(sc.download(0), dtype=np.float32).reshape(hidden // 128, rows)
    want_q, want_s = quantize_reference(values, rows, hidden)
    bad = np.argwhere(got_q != want_q)
    if len(bad):
        i, j = bad[0]
        r.fail(f"{len(bad)} e4m3 bytes differ; first row {i} col {j}: got {got_q[i, j]:#04x}, want {want_q[i, j]:#04x} "
               f"(value {values[i, j]!r})")
    bad = np.argwhere(got_s.view(np.uint32) != want_s.view(np.uint32))
    if len(bad):
        kb, i = bad[0]
        r.fail(f"{len(bad)} scales differ; first block {kb} row {i}: got {got_s[kb, i]!r}, want {want_s[kb, i]!r}")
    for buf in (q8, sc):
        w = buf.writes(0)
        if (w != 1).any():
            r.fail(f"{buf.name}: {int((w == 0).sum())} bytes never written, {int((w > 1).sum())} written twice")
    return r
