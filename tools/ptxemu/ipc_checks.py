"""Ipc-mode checks (ipc.World): every rank's host code and launches in its own stream, ranks drifting
apart, the results checked by each rank's host as soon as its launch has finished.

- run_collectives: back-to-back launches of all_gather, reduce_scatter and all_reduce (one- and
  two-shot, f32 and bf16) reusing one flag buffer, sizes not multiples of the grid; each rank
  uploads its input and poisons its output right before its launch, while faster ranks may already
  be in that launch. Reductions must match the f32 sum in the kernel's order bitwise.
- run_moe: dispatch, the host's stand-in expert on the received rows, combine; several rounds on
  the same buffers.
- run_moe_entry_race: checks.cpp's check_moe order under Ipc, with host speeds that differ: each
  rank poisons its recv / recv_count and writes its inputs, then launches moe_dispatch. Without the
  dispatch's opening rendezvous a faster rank's rows could land before a slower rank's host had
  poisoned recv, and be overwritten by the poison (the race fixed in commit aedc967).
"""
import random

import numpy as np

import emulator as E
import host
from checks import Report, compare, exact_sum, expert_apply, moe_choices, moe_weight, moe_x
from host import Heap, bf16_to_float, decode, elem_bytes, encode, input_value, stored_value, tolerance
from ipc import World


def collectives_program(r, n, ctas, block, bufs, flags, schedule, rep):
    epoch = 0
    for it, (kind, e, shots, count) in enumerate(schedule):
        seed = 1000 + it
        epoch += 1
        inb, out = bufs[(kind, e, shots)]
        if kind == "ag":
            nbytes = count * 4
            inb.upload(r, np.array([input_value(seed, r, i) for i in range(count)], dtype=np.float32).tobytes())
            out.poison(r)
            k = host.kernel("all_gather", [f"block={block}"])
            yield k, block, (r, n, inb, out, flags, nbytes // 16, epoch)
            got = out.download(r)
            compare(rep, "f32", got, count * n, 0.0, f"it {it} ag rank {r}",
                    lambda i: input_value(seed, i // count, i % count))
            continue
        eb = elem_bytes(e)
        total = count * n if kind == "rs" else count
        vals = [[stored_value(e, seed, p, i) for i in range(total)] for p in range(n)]
        inb.upload(r, encode(e, vals[r]))
        out.poison(r)
        if kind == "rs":
            k = host.kernel("reduce_scatter", [f"block={block}", f"bf16={int(e == 'bf16')}"])
            yield k, block, (r, n, inb, out, flags, count * eb // 16, epoch)
            got = out.download(r)
            compare(rep, e, got, count, tolerance(e, n), f"it {it} rs {e} rank {r}",
                    lambda i: sum(vals[p][r * count + i] for p in range(n)))
            for i in range(count):
                x = exact_sum(e, [vals[(r + j) % n][r * count + i] for j in range(n)])
                if decode(e, got, i) != x:
                    rep.fail(f"it {it} rs rank {r} elem {i}: not the kernel-order sum")
                    break
        else:
            k = host.kernel("all_reduce", [f"block={block}", f"bf16={int(e == 'bf16')}", f"shots={shots}"])
            yield k, block, (r, n, inb, out, flags, count * eb // 16 // n, epoch)
            got = out.download(r)
            compare(rep, e, got, count, tolerance(e, n), f"it {it} ar{shots} {e} rank {r}",
                    lambda i: sum(vals[p][i] for p in range(n)))
            seg = count // n
            for i in range(count):
                start = r if shots == 1 else i // seg
                x = exact_sum(e, [vals[(start + j) % n][i] for j in range(n)])
                if decode(e, got, i) != x:
                    rep.fail(f"it {it} ar{shots} rank {r} elem {i}: got {decode(e, got, i)} want {x} (kernel order)")
                    break


def run_world(h, ctas, progs, seed, rep):
    """Runs every rank's program with random host delays; an emulator error fails `rep`."""
    w = World(h.mem, ctas, progs, seed=seed, host_delay=(0, 6))
    try:
        w.run_all()
    except E.EmuError as ex:
        rep.fail("emulator: " + str(ex)[:1500])
    rep.notes.append(f"{w.launches} launches, {w.instructions} instructions")
    return rep


def run_collectives(n, ctas, block, iters, seed):
    h = Heap(n, mem_bytes=1 << 23)
    flags = h.alloc(2 * n * ctas * 4, "flags")
    kinds = [("ag", "f32", 0), ("rs", "f32", 0), ("ar", "bf16", 1), ("ar", "f32", 2), ("rs", "bf16", 0),
             ("ar", "f32", 1), ("ar", "bf16", 2)]
    sizes = {}
    for kind, e, shots in kinds:
        per = 16 // elem_bytes(e) * (n if kind == "ar" else 1)
        sizes[(kind, e, shots)] = per * (ctas * block // (per if kind == "ar" else 1) // 2 + 3) if kind == "ar" \
            else per * (ctas * block + 5) if kind != "ag" else 4 * (ctas * block + 5)
    bufs = {}
    for key, cnt in sizes.items():
        kind, e, shots = key
        eb = 4 if kind == "ag" else elem_bytes(e)
        in_bytes = cnt * eb * (n if kind == "rs" else 1)
        out_bytes = cnt * eb * (n if kind == "ag" else 1)
        bufs[key] = (h.alloc(in_bytes, f"in_{kind}{e}{shots}"), h.alloc(out_bytes, f"out_{kind}{e}{shots}"))
    schedule = [(kinds[i % len(kinds)][0], kinds[i % len(kinds)][1], kinds[i % len(kinds)][2],
                 sizes[kinds[i % len(kinds)]]) for i in range(iters)]
    rep = Report(f"Ipc-mode collectives {n} ranks, ctas {ctas}, block {block}, {iters} back-to-back launches "
                 f"({', '.join(k + str(s or '') + '-' + e for k, e, s in kinds)}), seed {seed}")
    progs = {r: collectives_program(r, n, ctas, block, bufs, flags, schedule, rep) for r in range(n)}
    return run_world(h, ctas, progs, seed, rep)


def moe_program(r, n, m, flags, iters, rep):
    epoch = 0
    hid, pairs, lec = m["hidden"], m["tokens"] * m["topk"], m["experts"] // n
    T, K, X = m["tokens"], m["topk"], m["experts"]
    cap, row_bytes = T, hid * 2
    B = m["bufs"]
    for it in range(iters):
        seed = 77 + it
        choices = [moe_choices(T, K, X, seed, p) for p in range(n)]
        xs = [[moe_x(seed, p, i) for i in range(T * hid)] for p in range(n)]
        B["x"].upload(r, np.array(xs[r], dtype=np.uint16).tobytes())
        B["topk_idx"].upload(r, np.array(choices[r], dtype=np.int32).tobytes())
        B["topk_w"].upload(r, np.array([moe_weight(seed, r, i) for i in range(pairs)], dtype=np.float32).tobytes())
        B["out"].poison(r)
        epoch += 1
        k = host.kernel("moe_dispatch", [f"warps={m['warps']}"])
        yield k, 32 * m["warps"], (r, n, B["x"], B["topk_idx"], B["slot_map"], B["counters"], B["recv"],
                                   B["recv_count"], B["dflags"], flags, T, K, lec, cap, hid * 2 // 16, epoch, X)
        if np.any(np.frombuffer(B["counters"].download(r), dtype=np.uint32)):
            rep.fail(f"it {it} rank {r}: counters not reset")
        counts = np.frombuffer(B["recv_count"].download(r), dtype=np.uint32)
        recv = bytearray(B["recv"].download(r))
        for le in range(lec):
            for src in range(n):
                expert = r * lec + le
                sent = [tuple(xs[src][t * hid:(t + 1) * hid]) for t in range(T) for kk in range(K)
                        if choices[src][t * K + kk] == expert]
                if counts[le * n + src] != len(sent):
                    rep.fail(f"it {it} rank {r} expert {expert} from {src}: count {counts[le * n + src]}, "
                             f"want {len(sent)}")
                    return
                for slot in range(len(sent)):
                    off = ((le * n + src) * cap + slot) * row_bytes
                    got = tuple(np.frombuffer(bytes(recv[off:off + row_bytes]), dtype=np.uint16).tolist())
                    if got not in sent:
                        rep.fail(f"it {it} rank {r} expert {expert} slot {slot} from {src}: row never sent")
                        return
                    sent.remove(got)
                    recv[off:off + row_bytes] = np.array([expert_apply(v, expert) for v in got],
                                                         dtype=np.uint16).tobytes()
        B["recv"].upload(r, bytes(recv))
        epoch += 1
        k = host.kernel("moe_combine", [f"warps={m['warps']}"])
        yield k, 32 * m["warps"], (r, n, B["topk_idx"], B["topk_w"], B["slot_map"], B["recv"], B["out"], flags,
                                   T, K, lec, cap, hid * 2 // 16, epoch)
        got = B["out"].download(r)

        def want(i):
            t, j = divmod(i, hid)
            s = 0.0
            for kk in range(K):
                e = choices[r][t * K + kk]
                if e >= 0:
                    s += moe_weight(seed, r, t * K + kk) * bf16_to_float(expert_apply(xs[r][t * hid + j], e))
            return s
        compare(rep, "bf16", got, T * hid, 1.6e-2, f"it {it} rank {r} out", want)


def run_moe(n, ctas, warps, tokens, hidden, topk, experts, iters, seed):
    h = Heap(n, mem_bytes=1 << 23)
    flags = h.alloc(2 * n * ctas * 4, "flags")
    lec = experts // n
    B = {"x": h.alloc(tokens * hidden * 2, "x"), "topk_idx": h.alloc(tokens * topk * 4, "topk_idx"),
         "topk_w": h.alloc(tokens * topk * 4, "topk_w"), "slot_map": h.alloc(tokens * topk * 4, "slot_map"),
         "counters": h.alloc((experts + 1) * 4, "counters"),
         "recv": h.alloc(lec * n * tokens * hidden * 2, "recv"), "recv_count": h.alloc(lec * n * 4, "recv_count"),
         "out": h.alloc(tokens * hidden * 2, "out"), "dflags": h.alloc(n * 4, "dispatch_flags")}
    for row in range(n):  # poisoned once: later host writes to recv would race with the next dispatch
        B["recv"].poison(row)
        B["recv_count"].poison(row)
    m = dict(tokens=tokens, hidden=hidden, topk=topk, experts=experts, warps=warps, bufs=B)
    rep = Report(f"Ipc-mode moe {n} ranks, ctas {ctas}, warps {warps}, {tokens} tok x {hidden}, top-{topk} of "
                 f"{experts}, {iters} dispatch+combine rounds, seed {seed}")
    progs = {r: moe_program(r, n, m, flags, iters, rep) for r in range(n)}
    return run_world(h, ctas, progs, seed, rep)


def entry_race_program(r, n, bufs, tokens, topk, experts, hidden, warps, skew, rep):
    yield ("sleep", skew)  # host work before the poison (computing choices, x, uploads)
    bufs["recv"].poison(r)
    bufs["recv_count"].poison(r)
    seed = 5
    choices = [moe_choices(tokens, topk, experts, seed, p) for p in range(n)]
    bufs["x"].upload(r, np.array([moe_x(seed, r, i) for i in range(tokens * hidden)], dtype=np.uint16).tobytes())
    bufs["topk_idx"].upload(r, np.array(choices[r], dtype=np.int32).tobytes())
    lec = experts // n
    k = host.kernel("moe_dispatch", [f"warps={warps}"])
    yield k, 32 * warps, (r, n, bufs["x"], bufs["topk_idx"], bufs["slot_map"], bufs["counters"], bufs["recv"],
                          bufs["recv_count"], bufs["dflags"], bufs["rflags"], tokens, topk, lec, tokens,
                          hidden * 2 // 16, 1, experts)
    counts = np.frombuffer(bufs["recv_count"].download(r), dtype=np.uint32)
    want = [sum(1 for e in choices[src] if e == r * lec + le) for le in range(lec) for src in range(n)]
    if list(counts) != want:
        rep.fail(f"rank {r}: recv_count {list(counts)}, want {want}")
        return
    recv = bufs["recv"].download(r)
    row_bytes = hidden * 2
    for le in range(lec):
        for src in range(n):
            for slot in range(int(counts[le * n + src])):
                off = ((le * n + src) * tokens + slot) * row_bytes
                if recv[off:off + row_bytes] == b"\xff" * row_bytes:
                    rep.fail(f"rank {r}: recv row (local expert {le}, source {src}, slot {slot}) is still the "
                             f"poison: a peer's row landed before this rank's host poisoned recv")
                    return


def run_moe_entry_race(trials, n=2, ctas=2, warps=2, tokens=8, topk=2, experts=4, hidden=16):
    """`trials` fresh heaps, host skews drawn per trial; fails if any trial lost a row."""
    rep = Report(f"Ipc-mode moe_dispatch entry race {n} ranks, ctas {ctas}, warps {warps}, {tokens} tok x "
                 f"{hidden}, top-{topk} of {experts}, {trials} trials with host skews")
    for trial in range(trials):
        h = Heap(n)
        lec = experts // n
        bufs = {"x": h.alloc(tokens * hidden * 2, "x"), "topk_idx": h.alloc(tokens * topk * 4, "topk_idx"),
                "slot_map": h.alloc(tokens * topk * 4, "slot_map"), "counters": h.alloc((experts + 1) * 4, "counters"),
                "recv": h.alloc(lec * n * tokens * hidden * 2, "recv"), "recv_count": h.alloc(lec * n * 4, "recv_count"),
                "dflags": h.alloc(n * 4, "dispatch_flags"), "rflags": h.alloc(2 * n * ctas * 4, "flags")}
        rng = random.Random(trial)
        skews = [rng.choice([0, 0, 5, 40, 200]) for _ in range(n)]
        trial_rep = Report(f"trial {trial}")
        progs = {r: entry_race_program(r, n, bufs, tokens, topk, experts, hidden, warps, skews[r], trial_rep)
                 for r in range(n)}
        try:
            World(h.mem, ctas, progs, seed=trial).run_all()
        except E.EmuError as ex:
            trial_rep.fail("emulator: " + str(ex)[:1500])
        if not trial_rep.ok:
            rep.fail(f"trial {trial} (host skews {skews}): {trial_rep.detail}")
            break
    return rep
