"""tcgen05 (sm_100a: Blackwell tensor memory and MMA) for the PTX emulator: the subset
gemm_bf16_sm100 emits. hopper.py dispatches every `tcgen05.*` instruction to compile(); Emu runs
tick() after every round and at_end() (through hopper.at_end) when the launch is over. As the
emulator reads the PTX ISA's tcgen05 sections (the same reading the kernel was written from, so a
misreading shared by both passes here):

- Tensor memory (TMEM): per CTA 128 lanes x 512 columns of 32-bit cells, poisoned with 0xffffffff (an
  f32 NaN) at launch and again at dealloc. An address is lane << 16 | column.
  tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [dst], ncols (warp-collective, warp-uniform
  operands; ncols a power of two in [32, 512]) takes a free ncols-aligned range of columns, chosen at
  random among the free ones (so code that assumes column 0 shows), and writes its address to shared
  memory; no free range, an allocation after tcgen05.relinquish_alloc_permit (warp-collective), a
  tcgen05.dealloc (warp-collective) of anything but a whole live allocation or with MMAs or loads in
  flight on it, and a launch ending with TMEM allocated are errors.
- tcgen05.mma.cta_group::1.kind::f16 [d_tmem], a_desc, b_desc, idesc, enable_input_d (one thread):
  the instruction descriptor is decoded field by field (bits 0-1 sparsity selector, 2 sparse, 3
  saturate: 0; 4-5 D type: 1 = f32 (f16 is not modelled); 7-9 / 10-12 A / B type: 0 f16, 1 bf16,
  equal; 13 / 14 negate A / B; 15 / 16 transpose A / B: 0, K-major (MN-major is not modelled); 17-22
  N >> 3; 24-28 M >> 4: M = 128 (M = 64 is not modelled), N a multiple of 16 in [16, 256]; bits 6,
  23, 29 and the max shift 30-31: 0). The shared-memory descriptors in the sm_100 format: start >> 4
  in bits 0-13, LBO >> 4 in 16-29 (unused by the swizzled K-major layouts), SBO >> 4 in 32-45,
  version 1 in 46-47, base offset in 49-51 (must be 0), LBO mode bit 52 (0), layout in 61-63 (2:
  128B, 4: 64B, 6: 32B swizzle; none and 128B-base32B are not modelled), other bits 0; the operand
  is then read as wgmma.py reads the same K-major layout (element (row r, byte k) at start + (r % 8)
  * width + (r / 8) * SBO + k, swizzled; the K extent of 32 bytes inside one swizzle row). M = 128
  with cta_group::1: row r of D is TMEM lane r, column j is column (d_tmem column + j), one f32 per
  cell; d_tmem's lane field must be 0 and its N columns inside one allocation. D = A B^T (negated as
  the descriptor says) (+ D when enable_input_d), summed in float64 and rounded once to f32.
- Asynchrony: a thread's MMAs complete in issue order; tcgen05.commit.cta_group::1.mbarrier::arrive::
  one[.shared::cluster].b64 [mbar] arrives once on the mbarrier when every MMA the thread issued
  before it has completed: the commits of a thread fire in order, each 0..COMMIT_LATENCY rounds after
  the previous one (or its issue). Emu(tcgen05="issue"): an MMA reads shared memory and writes TMEM
  at issue; "wait": only when the first commit after it fires (so a stage released by a commit and
  refilled at once, or an accumulator read before its commit, shows). In both models an MMA is in
  flight from its issue until a commit after it fires.
- tcgen05.ld.sync.aligned.32x32b.xN.b32 {N regs}, [taddr] (warp-collective, warp-uniform taddr):
  lane i of the warp reads TMEM lane (taddr lane + i), columns taddr column .. + N - 1 into its N
  registers; warp w of a warpgroup may access only lanes 32 (w % 4) .. + 31 (anything else is an
  error), and the columns must lie inside one allocation. tcgen05.wait::ld.sync.aligned
  (warp-collective) completes the warp's loads 0..LD_LATENCY rounds after the warp reaches it.
  "issue": TMEM is read at the ld; "wait": the registers hold 0xffffffff (NaN) from the ld and receive
  TMEM as it is at the wait::ld (a register read before the wait shows as NaN). In both models a
  load is in flight from the ld to its wait::ld.
- Races, in both models: a tcgen05.ld whose columns an MMA in flight writes, and an MMA whose D
  columns a load in flight reads, are errors (the accumulator handed over before its commit fired, or
  released before the loads of it completed).
- Fences: a thread that completed a thread sync (a successful mbarrier test_wait / try_wait, a
  bar.sync) must execute tcgen05.fence::after_thread_sync before its next tcgen05.mma, tcgen05.ld or
  tcgen05.dealloc; a thread that issued tcgen05.alloc, tcgen05.mma or tcgen05.ld must execute
  tcgen05.fence::before_thread_sync before its next mbarrier arrive or bar.sync / bar.arrive (the
  ordering the PTX memory model asks of tcgen05 operations around thread syncs; commits need none).

Not modelled (an "unsupported instruction" error): tcgen05.st / cp / shift, other .ld shapes and
.pack, cta_group::2, multicast commits, block scaling, sparsity, disable-output-lane and scale-input-d
operands, A from TMEM, kind::tf32 / f8f6f4 / i8. No timing beyond the random latencies; the hardware's
summation order is not modelled.
"""
import numpy as np

import emulator as E
import hopper as H
import wgmma as W

M32 = E.M32
LANES, COLUMNS = 128, 512
POISON = 0xFFFFFFFF
COMMIT_LATENCY = 8  # rounds a commit may take after the previous one of its thread
LD_LATENCY = 8  # rounds a tcgen05.wait::ld may take after its warp reached it


class Mma:
    __slots__ = ("t", "c", "col", "n", "adesc", "bdesc", "decode", "sa", "sb", "acc", "text", "done")

    def __init__(self, t, col, n, adesc, bdesc, decode, sa, sb, acc, text):
        self.t, self.c, self.col, self.n = t, t.c, col, n
        self.adesc, self.bdesc, self.decode, self.sa, self.sb, self.acc, self.text = \
            adesc, bdesc, decode, sa, sb, acc, text
        self.done = False

    def execute(self):
        """Reads A and B from shared memory and writes D into TMEM."""
        if self.done:
            return
        self.done = True
        t, n = self.t, self.n
        a = operand(t, self.adesc, 128, self.decode, self.text)
        b = operand(t, self.bdesc, n, self.decode, self.text)
        d = (a @ b.T) * (self.sa * self.sb)
        cells = tmem(self.c).cells
        if self.acc:
            d = d + cells[:, self.col:self.col + n].view(np.float32).astype(np.float64)
        cells[:, self.col:self.col + n] = d.astype(np.float32).view(np.uint32)
        t.mem.stores += 1  # progress


class Commit:
    __slots__ = ("mbar", "mmas", "left", "text")

    def __init__(self, mbar, mmas, left, text):
        self.mbar, self.mmas, self.left, self.text = mbar, mmas, left, text


class Load:
    __slots__ = ("lanes", "regs", "lane", "col", "n", "text")

    def __init__(self, lanes, regs, lane, col, n, text):
        self.lanes, self.regs, self.lane, self.col, self.n, self.text = lanes, regs, lane, col, n, text

    def read(self):
        c = self.lanes[0].c
        vals = tmem(c).cells[self.lane:self.lane + 32, self.col:self.col + self.n].tolist()
        for t, row in zip(self.lanes, vals):
            r = t.r
            for x, v in zip(self.regs, row):
                r[x] = v


class Tmem:
    """One CTA's tensor memory: the cells, the live allocations (column -> ncols), whether the CTA
    gave up its allocation permit, the MMAs in flight and the loads in flight (by warp)."""

    def __init__(self):
        self.cells = np.full((LANES, COLUMNS), POISON, dtype=np.uint32)
        self.allocs = {}
        self.relinquished = False
        self.inflight = []  # Mma issued, no commit after it fired yet
        self.loads = {}  # warp index -> [Load] not waited for

    def region(self, col, n, what, c):
        for a, size in self.allocs.items():
            if a <= col and col + n <= a + size:
                return
        raise E.EmuError(f"{what}: TMEM columns [{col}, {col + n}) outside every live allocation of CTA {c.ctaid} "
                         f"({', '.join(f'[{a}, {a + s})' for a, s in sorted(self.allocs.items())) or 'none'})")


def tmem(c):
    tm = getattr(c, "tmem", None)
    if tm is None:
        tm = c.tmem = Tmem()
    return tm


class State:
    """Emu.tc: the launch's tcgen05 state beyond the CTAs' TMEM: per thread its MMAs not yet followed
    by a commit and its commits not yet fired, and the fence bookkeeping."""

    def __init__(self, mode):
        assert mode in ("issue", "wait")
        self.mode = mode
        self.open = {}  # thread -> [Mma] issued since its last commit
        self.commits = {}  # thread -> [Commit], oldest first
        self.synced = set()  # threads with a thread sync since their last fence::after_thread_sync
        self.unfenced = {}  # thread -> the tcgen05 instruction it issued since its last fence::before_thread_sync


# ---------------- hooks (emulator.py, hopper.py) ----------------
def after_sync(threads):
    """Threads that completed a thread sync (an mbarrier wait, a bar.sync)."""
    for t in threads:
        if t.emu.tc is not None:
            t.emu.tc.synced.add(t)


def before_sync(t, what):
    """t arrives on an mbarrier or a named barrier."""
    st = t.emu.tc
    if st is not None and t in st.unfenced:
        raise E.EmuError(f"{what}: thread {t.tid} of CTA {t.c.ctaid} syncs after {st.unfenced[t]!r} with no "
                         f"tcgen05.fence::before_thread_sync in between")


def _needs_after_fence(t, what):
    st = t.emu.tc
    if t in st.synced:
        raise E.EmuError(f"{what}: thread {t.tid} of CTA {t.c.ctaid} issues this after a thread sync with no "
                         f"tcgen05.fence::after_thread_sync in between")


def tick(emu):
    """Fires the commits whose time has come (oldest first per thread); returns a count of events."""
    st = emu.tc
    events = 0
    for t, queue in st.commits.items():
        while queue:
            cm = queue[0]
            if cm.left:
                cm.left -= 1
                events += 1
                break
            queue.pop(0)
            for mma in cm.mmas:
                mma.execute()  # "wait": the MMA runs now; "issue": it ran at issue
                tm = tmem(mma.c)
                tm.inflight.remove(mma)
            cm.mbar.arrive(emu, 1, cm.text)
            events += 1
    return events


def at_end(emu):
    st = emu.tc
    if st is None:
        return
    for t, q in st.open.items():
        if q:
            raise E.EmuError(f"the launch ended with {len(q)} tcgen05.mma of thread {t.tid} of CTA {t.c.ctaid} never "
                             f"committed ({q[0].text!r})")
    for t, q in st.commits.items():
        if q:
            raise E.EmuError(f"the launch ended with {len(q)} tcgen05.commit of thread {t.tid} of CTA {t.c.ctaid} "
                             f"not fired ({q[0].text!r})")
    for c in emu.cta_objs:
        tm = getattr(c, "tmem", None)
        if tm is None:
            continue
        if tm.allocs:
            raise E.EmuError(f"CTA {c.ctaid} exited with TMEM columns allocated: "
                             + ", ".join(f"[{a}, {a + s})" for a, s in sorted(tm.allocs.items())))
        for w, loads in tm.loads.items():
            if loads:
                raise E.EmuError(f"warp {w} of CTA {c.ctaid} exited with a tcgen05.ld not waited for "
                                 f"(tcgen05.wait::ld): {loads[0].text!r}")


# ---------------- operands ----------------
_idescs = {}
AB_TYPES = {0: ("f16", W.WG_TYPES["f16"][1]), 1: ("bf16", W.WG_TYPES["bf16"][1])}
SM100_LAYOUTS = {2: 1, 4: 2, 6: 3}  # sm_100 layout type -> the sm_90 encoding wgmma.operand reads (128B, 64B, 32B)


def idesc_fields(v, what):
    """(M, N, decode, sign A, sign B) of a kind::f16 instruction descriptor, or an error."""
    if v in _idescs:
        return _idescs[v]
    f = {"sparsity selector": v & 3, "sparse": (v >> 2) & 1, "saturate": (v >> 3) & 1, "D type": (v >> 4) & 3,
         "bit 6": (v >> 6) & 1, "A type": (v >> 7) & 7, "B type": (v >> 10) & 7, "transpose A": (v >> 15) & 1,
         "transpose B": (v >> 16) & 1, "bit 23": (v >> 23) & 1, "bit 29": (v >> 29) & 1, "max shift": v >> 30}
    m, n = ((v >> 24) & 0x1F) << 4, ((v >> 17) & 0x3F) << 3
    bad = [f"{k} {f[k]} (must be 0)" for k in ("sparsity selector", "sparse", "saturate", "bit 6", "bit 23",
                                               "bit 29", "max shift") if f[k]]
    bad += [f"{k} set (MN-major operands are not modelled)" for k in ("transpose A", "transpose B") if f[k]]
    if f["D type"] != 1:
        bad.append(f"D type {f['D type']} (1 = f32 is modelled)")
    if f["A type"] != f["B type"] or f["A type"] not in AB_TYPES:
        bad.append(f"A / B types {f['A type']} / {f['B type']} (0 f16 or 1 bf16, both the same)")
    if m != 128:
        bad.append(f"M = {m} (the emulator models M = 128 with cta_group::1)")
    if n % 16 or not 16 <= n <= 256:
        bad.append(f"N = {n} (a multiple of 16 in [16, 256] with M = 128)")
    if bad:
        raise E.EmuError(f"{what}: instruction descriptor {v:#010x}: " + "; ".join(bad))
    out = (m, n, AB_TYPES[f["A type"]][1], -1 if (v >> 13) & 1 else 1, -1 if (v >> 14) & 1 else 1)
    _idescs[v] = out
    return out


def smem_desc(desc, what):
    """An sm_100 shared-memory descriptor checked and rewritten in the sm_90 encoding that
    wgmma.operand reads (the fields the two share are at the same bits)."""
    version, lbo_mode, layout = (desc >> 46) & 3, (desc >> 52) & 1, desc >> 61
    reserved = desc & ((3 << 14) | (3 << 30) | (1 << 48) | (0xFF << 53))
    if version != 1 or lbo_mode or reserved or layout not in SM100_LAYOUTS:
        raise E.EmuError(f"{what}: shared-memory descriptor {desc:#018x}: version {version} (must be 1), LBO mode "
                         f"{lbo_mode} (0), reserved bits {reserved:#x} (0), layout {layout} (the emulator models 2 "
                         f"= 128B, 4 = 64B, 6 = 32B swizzle)")
    return (desc & ((1 << 46) - 1)) | (((desc >> 49) & 7) << 49) | (SM100_LAYOUTS[layout] << 62)


def operand(t, desc, rows, decode, what):
    """rows x 16 elements (32 bytes of K) of a K-major operand, as float64."""
    d90 = smem_desc(desc, what)
    try:
        return W.read_operand(t, d90, rows, 32, 2, decode, what)
    except E.EmuError as ex:
        raise E.EmuError(f"sm_100 descriptor {desc:#018x} (read as the sm_90 encoding {d90:#018x}): {ex}") from None


def overlap(a, n, b, m):
    return a < b + m and b < a + n


# ---------------- instructions ----------------
def _uniform(lanes, get, what, text):
    vals = {get(t.r) for t in lanes}
    if len(vals) != 1:
        raise E.EmuError(f"{text}: {what} differs across the warp ({len(vals)} values)")
    return vals.pop()


def compile(k, op, o, ops, text):
    """(kind, fn, extra) for a tcgen05 instruction, or an unsupported-instruction error."""
    k.tcgen05 = True
    verb = o[1]
    bad = E.EmuError(f"unsupported instruction: {text}")
    if verb in ("fence::before_thread_sync", "fence::after_thread_sync"):
        if len(o) != 2 or ops:
            raise bad
        if verb == "fence::before_thread_sync":
            def fn(t):
                t.emu.tc.unfenced.pop(t, None)
        else:
            def fn(t):
                t.emu.tc.synced.discard(t)
        return E.K_ALU, fn, None

    if verb == "alloc":
        if o[2:] != ["cta_group::1", "sync", "aligned", "shared::cta", "b32"] or len(ops) != 2:
            raise bad
        dreg, doff = E._addr(ops[0])
        ncols = k.src(ops[1])

        def run(lanes):
            t0 = lanes[0]
            c, emu = t0.c, t0.emu
            dst = _uniform(lanes, lambda r: (r[dreg] + doff) & M32, "the destination", text)
            n = _uniform(lanes, ncols, "the column count", text)
            tm = tmem(c)
            if tm.relinquished:
                raise E.EmuError(f"{text}: CTA {c.ctaid} allocates after tcgen05.relinquish_alloc_permit")
            if n < 32 or n > COLUMNS or n & (n - 1):
                raise E.EmuError(f"{text}: {n} columns (a power of two in [32, {COLUMNS}])")
            free = [a for a in range(0, COLUMNS, n) if not any(overlap(a, n, b, s) for b, s in tm.allocs.items())]
            if not free:
                raise E.EmuError(f"{text}: no {n} free columns in CTA {c.ctaid} (allocated: "
                                 f"{sorted(tm.allocs.items())}): the warp would wait forever")
            col = emu.rng.choice(free)
            tm.allocs[col] = n
            t0.smem.write(dst, col.to_bytes(4, "little"), text)  # lane 0, column col
            emu.mem.stores += 1
            for t in lanes:
                emu.tc.unfenced[t] = text
        return E.K_WARP, None, run

    if verb == "relinquish_alloc_permit":
        if o[2:] != ["cta_group::1", "sync", "aligned"] or ops:
            raise bad

        def run(lanes):
            tmem(lanes[0].c).relinquished = True
        return E.K_WARP, None, run

    if verb == "dealloc":
        if o[2:] != ["cta_group::1", "sync", "aligned", "b32"] or len(ops) != 2:
            raise bad
        areg, ncols = k.src(ops[0]), k.src(ops[1])

        def run(lanes):
            t0 = lanes[0]
            c = t0.c
            for t in lanes:
                _needs_after_fence(t, text)
            a = _uniform(lanes, areg, "the address", text)
            n = _uniform(lanes, ncols, "the column count", text)
            tm = tmem(c)
            col = a & 0xFFFF
            if a >> 16 or tm.allocs.get(col) != n:
                raise E.EmuError(f"{text}: address {a:#x}, {n} columns: not a live allocation of CTA {c.ctaid} "
                                 f"({sorted(tm.allocs.items())})")
            for mma in tm.inflight:
                if overlap(col, n, mma.col, mma.n):
                    raise E.EmuError(f"{text}: frees TMEM columns that {mma.text!r} (not yet complete: no commit "
                                     f"after it fired) writes")
            for w, loads in tm.loads.items():
                for ld in loads:
                    if overlap(col, n, ld.col, ld.n):
                        raise E.EmuError(f"{text}: frees TMEM columns that warp {w}'s {ld.text!r} (not waited for) "
                                         f"reads")
            del tm.allocs[col]
            tm.cells[:, col:col + n] = POISON
            t0.mem.stores += 1
        return E.K_WARP, None, run

    if verb == "mma":
        if o[2:] != ["cta_group::1", "kind::f16"] or len(ops) != 5 or not ops[0].startswith("["):
            raise bad
        dreg, doff = E._addr(ops[0])
        areg, breg, ireg = k.src(ops[1], 64), k.src(ops[2], 64), k.src(ops[3])
        pd = ops[4]
        neg = pd.startswith("!")
        pd = pd.lstrip("!")
        const_pd = None if pd.startswith("%") else bool(int(pd, 0))

        def fn(t):
            st = t.emu.tc
            _needs_after_fence(t, text)
            r = t.r
            m, n, decode, sa, sb = idesc_fields(ireg(r), text)
            d = (r[dreg] + doff) & M32
            lane, col = d >> 16, d & 0xFFFF
            c = t.c
            tm = tmem(c)
            if lane:
                raise E.EmuError(f"{text}: D at TMEM address {d:#x}: lane {lane}, not 0 (M = 128 takes all 128 lanes)")
            tm.region(col, n, text, c)
            for w, loads in tm.loads.items():
                for ld in loads:
                    if overlap(col, n, ld.col, ld.n):
                        raise E.EmuError(f"{text}: writes TMEM columns [{col}, {col + n}) that warp {w} of CTA "
                                         f"{c.ctaid} is still reading ({ld.text!r}, no tcgen05.wait::ld yet): the "
                                         f"accumulator was handed back before its loads completed")
            acc = (bool(r[pd]) if const_pd is None else const_pd) != neg
            adesc, bdesc = areg(r), breg(r)
            smem_desc(adesc, text)  # descriptor errors at issue
            smem_desc(bdesc, text)
            mma = Mma(t, col, n, adesc, bdesc, decode, sa, sb, acc, text)
            if st.mode == "issue":
                mma.execute()
            tm.inflight.append(mma)
            st.open.setdefault(t, []).append(mma)
            st.unfenced[t] = text
        return E.K_ALU, fn, None

    if verb == "commit":
        q = o[2:]
        if q not in (["cta_group::1", "mbarrier::arrive::one", "b64"],
                     ["cta_group::1", "mbarrier::arrive::one", "shared::cluster", "b64"]) or len(ops) != 1:
            raise bad
        remote = "shared::cluster" in q
        breg, boff = E._addr(ops[0])

        def fn(t):
            st = t.emu.tc
            mb = H.mbar(t, (t.r[breg] + boff) & M32, remote, text)
            mmas = st.open.pop(t, [])
            st.commits.setdefault(t, []).append(Commit(mb, mmas, t.emu.rng.randint(0, COMMIT_LATENCY), text))
        return E.K_ALU, fn, None

    if verb == "ld":
        if len(o) != 7 or o[2:5] != ["sync", "aligned", "32x32b"] or o[6] != "b32" or not o[5][1:].isdigit():
            raise bad
        nreg = int(o[5][1:])
        regs = E._regs(ops[0])
        if nreg not in (1, 2, 4, 8, 16, 32, 64, 128) or len(regs) != nreg or len(ops) != 2:
            raise E.EmuError(f"{text}: .x{nreg} with {len(regs)} registers")
        areg, aoff = E._addr(ops[1])
        text = f"{op} {{{nreg} registers}}, {ops[1]}"  # shorter in messages

        def run(lanes):
            t0 = lanes[0]
            c, emu = t0.c, t0.emu
            st = emu.tc
            for t in lanes:
                _needs_after_fence(t, text)
            a = _uniform(lanes, lambda r: (r[areg] + aoff) & M32, "the TMEM address", text)
            lane, col = a >> 16, a & 0xFFFF
            w = t0.tid // 32
            q = w % 4
            if lane != 32 * q:
                raise E.EmuError(f"{text}: warp {w} (warp {q} of its warpgroup) of CTA {c.ctaid} reads TMEM lanes "
                                 f"[{lane}, {lane + 32}): it may access only lanes [{32 * q}, {32 * q + 32})")
            tm = tmem(c)
            tm.region(col, nreg, text, c)
            for mma in tm.inflight:
                if overlap(col, nreg, mma.col, mma.n):
                    raise E.EmuError(f"{text}: warp {w} of CTA {c.ctaid} reads TMEM columns [{col}, {col + nreg}) "
                                     f"that {mma.text!r} writes, and no commit after that MMA has fired: the "
                                     f"accumulator is read before it is complete")
            ld = Load(lanes, regs, lane, col, nreg, text)
            if st.mode == "issue":
                ld.read()
            else:
                for t in lanes:
                    r = t.r
                    for x in regs:
                        r[x] = POISON
            tm.loads.setdefault(w, []).append(ld)
            for t in lanes:
                st.unfenced[t] = text
        return E.K_WARP, None, run

    if verb == "wait::ld":
        if o[2:] != ["sync", "aligned"] or ops:
            raise bad

        def run(lanes):
            t0 = lanes[0]
            tm = tmem(t0.c)
            loads = tm.loads.pop(t0.tid // 32, [])
            if t0.emu.tc.mode == "wait":
                for ld in loads:
                    ld.read()
        run.latency = LD_LATENCY
        return E.K_WARP, None, run
    raise bad
