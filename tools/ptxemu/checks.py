"""Checks of one LocalSim launch sequence, mirroring samples/apps/comm/checks.cpp, plus what only an
emulator can check.

Each check_* fills its inputs with checks.cpp's values, poisons the outputs (0xff), launches through
host.Collectives / host.MoeAllToAll and returns a Report. As checks.cpp: every output element against
a double-precision reference within its tolerance, MoE rows against the rows the peers sent (the
host applies a stand-in expert between dispatch and combine). In addition:
- every output byte written exactly once and no byte of any other buffer (inputs, peer tables,
  other ranks' unused buffers) written at all (Memory.wcount), which catches grid-stride and
  indexing errors that a tolerance check passes, e.g. a packet written twice with the same value;
- the rendezvous flags at the current epoch on every rank after every launch, the MoE dispatch
  flags too, and the MoE expert counters back to zero (the next dispatch needs them zeroed);
- for the reductions, the elements that differ bitwise from the f32 sum in the kernel's order are
  counted in a note (bf16 and fma rounding may differ by one ulp; it is not a failure).
Emulator errors (deadlock, out of bounds, misalignment) propagate as emulator.EmuError.
"""
import numpy as np

from host import (bf16_to_float, decode, draw, elem_bytes, encode, float_to_bf16, input_value, stored_value,
                  tolerance)


class Report:
    def __init__(self, name):
        self.name, self.ok, self.max_error, self.detail, self.notes = name, True, 0.0, "", []

    def fail(self, msg):
        if self.ok:
            self.ok = False
            self.detail = msg

    def __str__(self):
        s = f"{'PASS' if self.ok else 'FAIL'}  {self.name}  (max rel err {self.max_error:.3g})"
        if not self.ok:
            s += "\n      " + self.detail
        for n in self.notes:
            s += "\n      note: " + n
        return s


def compare(r, e, got, n, tol, where, want):
    for i in range(n):
        w = want(i)
        g = decode(e, got, i)
        err = abs(g - w) / max(abs(w), 1.0) if np.isfinite(g) else float("inf")
        r.max_error = max(r.max_error, err)
        if not (err <= tol):
            r.fail(f"{where} element {i}: got {g}, want {w}")


def exact_sum(e, vals_in_order):
    s = np.float32(vals_in_order[0])
    for v in vals_in_order[1:]:
        s = np.float32(s + np.float32(v))
    return float(s) if e == "f32" else bf16_to_float(float_to_bf16(float(s)))


def check_writes(r, c, expect_once, where):
    """expect_once: list of (buf, row, nbytes) written exactly once; every other byte of every
    non-flags buffer must be untouched."""
    mem = c.heap.mem
    once = set()
    for buf, row, nbytes in expect_once:
        w = buf.writes(row)
        bad = np.nonzero(w[:nbytes] != 1)[0]
        if len(bad):
            r.fail(f"{where}: {buf.name}[rank {row}] byte {bad[0]} written {w[bad[0]]} times "
                   f"({len(bad)} bytes not written exactly once)")
        if np.any(w[nbytes:]):
            r.fail(f"{where}: {buf.name}[rank {row}] written past {nbytes} bytes")
        once.add((buf.name, row))
    for buf in c.heap.bufs:
        if buf.name in ("flags", "dispatch_flags", "counters"):
            continue
        for row in range(c.heap.nranks):
            if (buf.name, row) in once:
                continue
            if np.any(buf.writes(row)):
                r.fail(f"{where}: unexpected writes to {buf.name}[rank {row}]")
        tb = buf.table
        if np.any(mem.wcount[tb:tb + c.heap.nranks ** 2 * 8]):
            r.fail(f"{where}: peer table of {buf.name} written")


def check_flags(r, c, buf, words, epoch, where):
    for row in range(c.heap.nranks):
        v = np.frombuffer(buf.download(row, words * 4), dtype=np.uint32)
        if not np.all(v == epoch):
            r.fail(f"{where}: {buf.name}[rank {row}] = {v.tolist()} after epoch {epoch}")


def rz_flags(r, c, where):
    check_flags(r, c, c.flags, 2 * c.heap.nranks * c.ctas, c.epoch, where)


def check_all_gather(c, bytes_per_rank, seed):
    h = c.heap
    n = h.nranks
    r = Report(f"all_gather {n} ranks, {bytes_per_rank} B/rank, ctas {c.ctas}, block {c.block}")
    count = bytes_per_rank // 4
    inb, out = h.alloc(bytes_per_rank, "in"), h.alloc(bytes_per_rank * n, "out")
    for row in range(n):
        inb.upload(row, np.array([input_value(seed, row, i) for i in range(count)], dtype=np.float32).tobytes())
        out.poison(row)
    c.all_gather(inb, out, bytes_per_rank)
    for row in range(n):
        got = out.download(row)
        compare(r, "f32", got, count * n, 0.0, f"rank {row}", lambda i: input_value(seed, i // count, i % count))
    check_writes(r, c, [(out, row, bytes_per_rank * n) for row in range(n)], "writes")
    rz_flags(r, c, "flags")
    return r


def check_sums(r, e, got, count, n, where, addends):
    """Each element i of `got` against the sum of addends(i) (the values in the kernel's summation
    order): within the tolerance of the float64 sum, and noted when not bitwise the f32 sum."""
    compare(r, e, got, count, tolerance(e, n), where, lambda i: sum(addends(i)))
    exact_bad = sum(1 for i in range(count) if decode(e, got, i) != exact_sum(e, addends(i)))
    if exact_bad:
        r.notes.append(f"{where}: {exact_bad} elements differ bitwise from the f32 sum in the kernel's order")


def check_reduce_scatter(c, count, e, seed):
    h = c.heap
    n = h.nranks
    r = Report(f"reduce_scatter {e} {n} ranks, {count} elem/segment, ctas {c.ctas}, block {c.block}")
    eb = elem_bytes(e)
    inb, out = h.alloc(count * n * eb, "in"), h.alloc(count * eb, "out")
    vals = [[stored_value(e, seed, p, i) for i in range(count * n)] for p in range(n)]
    for row in range(n):
        inb.upload(row, encode(e, vals[row]))
        out.poison(row)
    c.reduce_scatter(inb, out, count, e)
    for rank in range(n):
        check_sums(r, e, out.download(rank), count, n, f"rank {rank}",
                   lambda i: [vals[(rank + j) % n][rank * count + i] for j in range(n)])
    check_writes(r, c, [(out, row, count * eb) for row in range(n)], "writes")
    rz_flags(r, c, "flags")
    return r


def check_all_reduce(c, count, e, shots, seed):
    h = c.heap
    n = h.nranks
    r = Report(f"all_reduce {e} {'one' if shots == 1 else 'two'}-shot {n} ranks, {count} elem, ctas {c.ctas}, "
               f"block {c.block}")
    eb = elem_bytes(e)
    inb, out = h.alloc(count * eb, "in"), h.alloc(count * eb, "out")
    vals = [[stored_value(e, seed, p, i) for i in range(count)] for p in range(n)]
    for row in range(n):
        inb.upload(row, encode(e, vals[row]))
        out.poison(row)
    c.all_reduce(inb, out, count, e, shots)
    seg = count // n
    for rank in range(n):
        check_sums(r, e, out.download(rank), count, n, f"rank {rank}",
                   lambda i: [vals[((rank if shots == 1 else i // seg) + j) % n][i] for j in range(n)])
    check_writes(r, c, [(out, row, count * eb) for row in range(n)], "writes")
    rz_flags(r, c, "flags")
    return r


# ---------------- MoE ----------------
def moe_choices(tokens, topk, experts, seed, rank):
    idx = [-1] * (tokens * topk)
    for t in range(tokens):
        taken = set()
        used = topk - 1 if (t % 5 == 4 and topk > 1) else topk
        k = attempt = 0
        while k < used and k < experts:
            e = draw(seed, rank, t * 64 + attempt, 1) % experts
            attempt += 1
            if e not in taken:
                taken.add(e)
                idx[t * topk + k] = e
                k += 1
    return idx


def moe_weight(seed, rank, pair):
    return float(np.float32((draw(seed, rank, pair, 2) >> 40) * 2.0 ** -24))


def moe_x(seed, rank, i):
    return float_to_bf16(input_value(seed, rank, i))


def expert_apply(x, expert):
    return float_to_bf16(float(np.float32(np.float32(bf16_to_float(x)) * np.float32(expert + 1))))


def check_moe(c, moe, seed):
    h = c.heap
    n = h.nranks
    s = moe
    r = Report(f"moe dispatch+combine {n} ranks, {s.tokens} tokens x {s.hidden}, top-{s.topk} of {s.experts}, "
               f"ctas {c.ctas}, warps {s.warps}" + (f", unroll {s.unroll}" if s.unroll else "") +
               (", bulk" if s.bulk else "") + (f", {s.scale_blocks} scales a token" if s.scale_blocks else ""))
    hid, pairs, lec = s.hidden, s.tokens * s.topk, s.local_experts
    choices = [moe_choices(s.tokens, s.topk, s.experts, seed, p) for p in range(n)]
    xs = [[moe_x(seed, p, i) for i in range(s.tokens * hid)] for p in range(n)]
    for row in range(n):
        s.x.upload(row, np.array(xs[row], dtype=np.uint16).tobytes())
        s.topk_idx.upload(row, np.array(choices[row], dtype=np.int32).tobytes())
        s.topk_w.upload(row, np.array([moe_weight(seed, row, i) for i in range(pairs)], dtype=np.float32).tobytes())
        s.recv.poison(row)
        s.recv_count.poison(row)
        s.out.poison(row)
        if s.scale_blocks:  # distinct per (rank, block, token): a scale in the wrong place shows
            s.x_scales.upload(row, np.array([1.0 + row + (i + 1) / 4096.0 for i in range(s.scale_blocks * s.tokens)],
                                            dtype=np.float32).tobytes())
            s.recv_scales.poison(row)
    s.dispatch()
    # dispatch-only checks: recv_count written once per rank; counters back to zero; flags
    check_flags(r, c, s.dispatch_flags, n, c.epoch, "dispatch flags")
    for row in range(n):
        cnt = np.frombuffer(s.counters.download(row), dtype=np.uint32)
        if np.any(cnt):
            r.fail(f"counters[rank {row}] not reset: {cnt.tolist()}")
        if not np.all(s.recv_count.writes(row) == 1):
            r.fail(f"recv_count[rank {row}] bytes written {s.recv_count.writes(row).tolist()} times")
        # slot_map: every pair with an expert written once, others untouched
        w = s.slot_map.writes(row).reshape(pairs, 4)
        for p in range(pairs):
            want = 1 if choices[row][p] >= 0 else 0
            if not np.all(w[p] == want):
                r.fail(f"slot_map[rank {row}] pair {p} written {w[p].tolist()} times, want {want}")
                break
    if not r.ok:
        return r
    for row in range(n):
        rank = row
        counts = np.frombuffer(s.recv_count.download(row), dtype=np.uint32)
        recv = bytearray(s.recv.download(row))
        rw = s.recv.writes(row)
        for le in range(lec):
            for src in range(n):
                expert = rank * lec + le
                sent, token_of = [], {}
                for t in range(s.tokens):
                    for k in range(s.topk):
                        if choices[src][t * s.topk + k] == expert:
                            sent.append(tuple(xs[src][t * hid:(t + 1) * hid]))
                            token_of.setdefault(sent[-1], []).append(t)
                count = int(counts[le * n + src])
                if count != len(sent):
                    r.fail(f"rank {rank} expert {expert} from rank {src}: count {count}, want {len(sent)}")
                    return r
                for slot in range(count):
                    off = s.recv_offset(le, src, slot)
                    if not np.all(rw[off:off + s.row_bytes] == 1):
                        r.fail(f"rank {rank} expert {expert} from {src} slot {slot}: row bytes written "
                               f"{sorted(set(rw[off:off + s.row_bytes].tolist()))} times")
                        return r
                    got = tuple(np.frombuffer(bytes(recv[off:off + s.row_bytes]), dtype=np.uint16).tolist())
                    if got not in sent:
                        r.fail(f"rank {rank} expert {expert} slot {slot} from rank {src}: a row that rank never sent")
                        return r
                    sent.remove(got)
                    if s.scale_blocks:  # the token's scales beside its row: recv_scales[sb][recv row]
                        t = token_of[got].pop()
                        index = (le * n + src) * s.capacity + slot
                        want = np.frombuffer(s.x_scales.download(src), dtype=np.float32)[t::s.tokens]
                        got_scales = np.frombuffer(s.recv_scales.download(row), dtype=np.float32)[index::s.recv_rows]
                        if not np.array_equal(want.view(np.uint32), got_scales.view(np.uint32)):
                            r.fail(f"rank {rank} expert {expert} slot {slot} from rank {src}: scales "
                                   f"{got_scales[:4].tolist()}..., want token {t}'s {want[:4].tolist()}...")
                            return r
                    recv[off:off + s.row_bytes] = np.array([expert_apply(v, expert) for v in got],
                                                           dtype=np.uint16).tobytes()
        # nothing written outside the counted slots
        counted = sum(int(counts[le * n + src]) for le in range(lec) for src in range(n))
        if s.scale_blocks and not (np.count_nonzero(s.recv_scales.writes(row)) == counted * s.scale_blocks * 4
                                   and np.all(s.recv_scales.writes(row) <= 1)):
            r.fail(f"rank {rank}: recv_scales has {np.count_nonzero(s.recv_scales.writes(row))} bytes written "
                   f"(some more than once: {bool(np.any(s.recv_scales.writes(row) > 1))}), "
                   f"the counted slots' scales are {counted * s.scale_blocks * 4}")
            return r
        total_once = counted * s.row_bytes
        if int(np.count_nonzero(rw)) != total_once:
            r.fail(f"rank {rank}: recv has {np.count_nonzero(rw)} bytes written, the counted slots hold {total_once}")
            return r
        s.recv.upload(row, bytes(recv))
    s.combine()
    for rank in range(n):
        got = s.out.download(rank)

        def want(i):
            t, j = divmod(i, hid)
            sm = 0.0
            for k in range(s.topk):
                e = choices[rank][t * s.topk + k]
                if e < 0:
                    continue
                sm += moe_weight(seed, rank, t * s.topk + k) * bf16_to_float(expert_apply(xs[rank][t * hid + j], e))
            return sm
        compare(r, "bf16", got, s.tokens * hid, 1.6e-2, f"rank {rank} out", want)
    check_writes(r, c, [(s.out, row, s.tokens * s.row_bytes) for row in range(n)], "combine writes")
    rz_flags(r, c, "combine flags")
    return r
