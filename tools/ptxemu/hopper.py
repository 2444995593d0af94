"""The sm_90 instructions of the PTX emulator (emulator.py compiles through compile() below): mbarriers,
TMA and bulk copies, wgmma, elect.sync, setmaxnreg, proxy fences and thread-block clusters.

- mbarrier (Mbarrier, one per initialized 8-byte shared address, kept beside the bytes): init, inval,
  arrive (with a count; the state token is the phase number), arrive.expect_tx, expect_tx,
  complete_tx, arrive_drop, test_wait / try_wait with a parity or a token, any .sem / .scope /
  .shared{::cta,::cluster} qualifiers. A phase completes when its pending arrivals and its tx-count
  both reach 0; the count then resets and the phase number goes up. Over-arrival, a tx-count below 0
  once every arrival is in (more bytes completed than expected), a barrier used uninitialized or
  re-initialized with bytes in flight, a plain access to a live barrier, and a CTA ending with a
  tx-count other than 0 are errors. A wait that fails returns false (the kernel loops) and parks the
  thread: it is not scheduled again until the barrier completes a phase, so spin loops cost nothing
  and other warps run; a deadlock is Emu.run's (every thread parked, exited or at a barrier), except
  that parked threads that have read %globaltimer (a --debug-waits build's bounded wait) are woken
  once the virtual clock has jumped, to see their bound pass.
- TMA and bulk copies: tma.py.
- wgmma: wgmma.py.
- tcgen05 (sm_100a tensor memory and MMA): tcgen05.py.
- elect.sync (full mask; the leader is a random lane, as code may not assume which), setmaxnreg
  (warpgroup-collective; a multiple of 8 in [24, 256]; otherwise a no-op), fence.proxy.async
  (generic-proxy shared stores must be fenced before an async-proxy read of the same bytes: TMA
  store or wgmma; checked per byte range), fence.mbarrier_init / fence.proxy.* (no-ops; the tensor
  map operand of fence.proxy.tensormap::generic.acquire must be a generic address, as TMA's:
  tma.generic_map_address).
- Clusters along x (Emu from `.reqnctapercluster`): mapa.shared::cluster.u32 gives
  address | (rank + 1) << 24, which every .shared::cluster access (ld / st, mbarrier arrive, TMA
  destination) resolves to that CTA's shared memory; barrier.cluster.arrive / wait over every thread
  of the cluster (an exited thread never arrives: a deadlock).
"""
import emulator as E

M32, M64 = E.M32, E.M64
CLUSTER_SHIFT, CLUSTER_MASK = 24, (1 << 24) - 1


# ---------------- clusters and shared addresses ----------------
def cta_at(t, a, remote, what):
    """(Cta, CTA-local address) of shared address a; a .shared::cluster address from mapa names a
    CTA of the cluster by rank."""
    if remote and a >> CLUSTER_SHIFT:
        rank = (a >> CLUSTER_SHIFT) - 1
        cl = t.c.cluster
        if rank >= len(cl):
            raise E.EmuError(f"{what}: shared::cluster address {a:#x} names CTA rank {rank} of a cluster of "
                             f"{len(cl)}")
        c = cl[rank]
        if c.exited == len(c.threads):
            raise E.EmuError(f"{what}: the shared memory of CTA {c.ctaid}, which has exited")
        return c, a & CLUSTER_MASK
    return t.c, a


def shared_at(t, a, remote, what):
    c, a = cta_at(t, a, remote, what)
    return c.smem, a


def generic_store(t, smem, a, n):
    """Notes a generic-proxy store to shared memory until the storing thread's fence.proxy.async."""
    smem.unfenced.setdefault(t, []).append((a, n))


class ClusterState:
    """barrier.cluster: arrivals of the current phase out of `expected` (every thread of the cluster)."""

    def __init__(self, expected):
        self.expected, self.arrived, self.phase, self.waiters = expected, 0, 0, []


# ---------------- mbarriers ----------------
class Mbarrier:
    __slots__ = ("count", "pending", "tx", "phase", "waiters", "inflight", "landed_later", "addr", "cta")

    def __init__(self, cta, addr, count):
        self.cta, self.addr, self.count = cta, addr, count
        self.pending, self.tx, self.phase = count, 0, 0
        self.waiters = []  # parked threads
        self.inflight = []  # tma="wait": (Shared, addresses, bytes) completed in the current phase
        self.landed_later = []  # ... and in completed phases not yet seen by a wait

    def name(self):
        return f"mbarrier {self.addr:#x} of CTA {self.cta.ctaid}"

    def arrive(self, emu, n, what):
        if n > self.pending:
            raise E.EmuError(f"{what}: {n} arrivals on {self.name()} with {self.pending} pending in phase "
                             f"{self.phase} (count {self.count}): over-arrival")
        self.pending -= n
        self.settle(emu, what)

    def complete_tx(self, emu, n, what):
        self.tx -= n
        self.settle(emu, what)

    def settle(self, emu, what):
        emu.mem.stores += 1  # progress
        if self.pending:
            return
        if self.tx < 0:
            raise E.EmuError(f"{what}: {self.name()} phase {self.phase}: every arrival is in and the tx-count is "
                             f"{self.tx}: {-self.tx} bytes more completed than expect_tx announced")
        if self.tx == 0:
            self.phase += 1
            self.pending = self.count
            self.landed_later += self.inflight
            self.inflight = []
            for w in self.waiters:
                emu.wake(w)
            self.waiters = []

    def seen(self):
        """A thread saw a completed phase: the bytes of completed phases land (tma="wait")."""
        for smem, idx, data in self.landed_later:
            smem.np[idx] = data
        self.landed_later = []


def mbar(t, a, remote, what):
    c, la = cta_at(t, a, remote, what)
    m = c.smem.mbars.get(la)
    if m is None:
        raise E.EmuError(f"{what}: no initialized mbarrier at shared {la:#x} of CTA {c.ctaid}")
    return m


def _mbarrier(k, op, o, ops, text):
    verb = o[1]
    quals = set(o[2:])
    allowed = {"shared", "shared::cta", "shared::cluster", "b64", "release", "relaxed", "acquire", "cta", "cluster",
               "parity", "expect_tx"}
    if quals - allowed or "b64" not in quals:
        raise E.EmuError(f"unsupported instruction: {text}")
    remote = "shared::cluster" in quals
    ro = k.src

    def addr_of(s):
        reg, off = E._addr(s)
        return lambda r: (r[reg] + off) & M32

    if verb == "init":
        a, cnt = addr_of(ops[0]), ro(ops[1])

        def fn(t):
            la = a(t.r)
            smem = t.smem
            old = smem.mbars.pop(la, None)
            if old is not None and (old.inflight or old.landed_later or old.tx):
                raise E.EmuError(f"{text}: re-initialized {old.name()} with bytes in flight")
            smem.check(la, 8, text)
            n = cnt(t.r)
            if not 1 <= n < (1 << 20):
                raise E.EmuError(f"{text}: count {n}")
            smem.mbars[la] = Mbarrier(t.c, la, n)
            t.mem.stores += 1
        return E.K_ALU, fn, None
    if verb == "inval":
        a = addr_of(ops[0])

        def fn(t):
            m = mbar(t, a(t.r), False, text)
            if m.inflight or m.landed_later or m.tx or m.waiters:
                raise E.EmuError(f"{text}: invalidated {m.name()} in use")
            del t.smem.mbars[m.addr]
        return E.K_ALU, fn, None
    if verb in ("arrive", "arrive_drop"):
        expect = "expect_tx" in quals
        dst, a = ops[0], addr_of(ops[1])
        rest = ops[2:]
        tx = ro(rest.pop(0)) if expect else None
        cnt = ro(rest[0]) if rest else (lambda r: 1)
        if remote and dst != "_":
            raise E.EmuError(f"{text}: a .shared::cluster arrive returns no state (use _)")

        def fn(t):
            m = mbar(t, a(t.r), remote, text)
            if t.emu.tc is not None:  # tcgen05: fence::before_thread_sync after tcgen05 work
                tcgen05.before_sync(t, text)
            state = m.phase
            if tx is not None:
                m.tx += tx(t.r)
            if verb == "arrive_drop":
                m.count -= cnt(t.r)
            m.arrive(t.emu, cnt(t.r), text)
            if dst != "_":
                t.r[dst] = state & M64
        return E.K_ALU, fn, None
    if verb in ("expect_tx", "complete_tx"):
        a, tx = addr_of(ops[0]), ro(ops[1])

        def fn(t):
            m = mbar(t, a(t.r), remote, text)
            if verb == "expect_tx":
                m.tx += tx(t.r)
                m.settle(t.emu, text)
            else:
                m.complete_tx(t.emu, tx(t.r), text)
        return E.K_ALU, fn, None
    if verb in ("test_wait", "try_wait"):
        if remote:
            raise E.EmuError(f"unsupported instruction: {text}")
        p, a, st = ops[0], addr_of(ops[1]), ro(ops[2], 64)
        parity = "parity" in quals

        def fn(t):
            m = mbar(t, a(t.r), False, text)
            v = st(t.r)
            done = (m.phase & 1) != (v & 1) if parity else m.phase > v
            t.r[p] = done
            if done:
                if m.landed_later:
                    m.seen()
                if t.emu.tc is not None:  # tcgen05: fence::after_thread_sync before more tcgen05 work
                    tcgen05.after_sync((t,))
                return None
            m.waiters.append(t)
            return E.PARK_AFTER
        return E.K_PARK, fn, None
    raise E.EmuError(f"unsupported instruction: {text}")


# ---------------- TMA and bulk copies ----------------
def on_exit(t):
    if t.bulk_groups or t.bulk_open:
        raise E.EmuError(f"thread {t.tid} of CTA {t.c.ctaid} exited with bulk async copies it never waited for "
                         f"(cp.async.bulk.wait_group)")
    wg = t.c.wg.get(t.tid // 128)
    if wg is not None and (wg.open or wg.groups):
        raise E.EmuError(f"thread {t.tid} of CTA {t.c.ctaid} exited with wgmma groups pending (wgmma.wait_group)")


def at_end(emu):
    tcgen05.at_end(emu)
    for c in getattr(emu, "cta_objs", ()):
        for m in c.smem.mbars.values():
            if m.tx:
                raise E.EmuError(f"the launch ended with {m.name()} at tx-count {m.tx} in phase {m.phase} (bytes "
                                 f"announced by expect_tx never completed, or completed and never announced)")


# ---------------- the rest ----------------
def _misc(k, op, o, ops, text):
    name = o[0]
    if name == "elect":
        if op != "elect.sync" or len(ops) != 2 or "|" not in ops[0]:
            raise E.EmuError(f"unsupported instruction: {text}")
        d, p = ops[0].split("|")
        mask = k.src(ops[1])

        def run(lanes):
            if mask(lanes[0].r) != M32:
                raise E.EmuError(f"{text}: membermask other than 0xffffffff is not modelled", "unsupported")
            leader = lanes[0].emu.rng.randrange(32)
            for i, t in enumerate(lanes):
                if d != "_":
                    t.r[d] = leader
                t.r[p] = i == leader
        return E.K_WARP, None, run
    if name == "setmaxnreg":
        if o[1] not in ("inc", "dec") or o[2:] != ["sync", "aligned", "u32"]:
            raise E.EmuError(f"unsupported instruction: {text}")
        v = int(ops[0], 0)

        def run(lanes):
            if v % 8 or not 24 <= v <= 256:
                raise E.EmuError(f"{text}: the register count must be a multiple of 8 in [24, 256]")
        return E.K_WG, None, run
    if name == "fence":
        if o[1] == "proxy" and o[2] == "async":
            if o[3:] not in ([], ["shared::cta"], ["shared::cluster"], ["global"]):
                raise E.EmuError(f"unsupported instruction: {text}")

            def fn(t):
                for c in t.c.cluster:
                    if c.smem is not None and c.smem.unfenced:
                        c.smem.unfenced.pop(t, None)
            return E.K_ALU, fn, None
        if o[1] == "proxy" and o[2] == "tensormap::generic" and ops:
            # fence.proxy.tensormap::generic.acquire.scope [addr], 128: the tensor map by its generic address
            reg, off = E._addr(ops[0])
            return E.K_ALU, (lambda t: tma.generic_map_address((t.r[reg] + off) & M64, text)), None
        if o[1] in ("mbarrier_init", "proxy"):  # fence.mbarrier_init.release.cluster, fence.proxy.tensormap...
            return E.K_ALU, (lambda t: None), None
        return None
    if name == "mapa":
        if o[1:] != ["shared::cluster", "u32"]:
            raise E.EmuError(f"unsupported instruction: {text}")
        d, a, rank = ops[0], k.src(ops[1]), k.src(ops[2])

        def fn(t):
            rk = rank(t.r)
            if rk >= len(t.c.cluster):
                raise E.EmuError(f"{text}: rank {rk} in a cluster of {len(t.c.cluster)}")
            t.r[d] = (a(t.r) & CLUSTER_MASK) | ((rk + 1) << CLUSTER_SHIFT)
        return E.K_ALU, fn, None
    if name == "barrier" and o[1] == "cluster":
        if o[2] not in ("arrive", "wait") or set(o[3:]) - {"release", "relaxed", "acquire", "aligned"} or ops:
            raise E.EmuError(f"unsupported instruction: {text}")
        if o[2] == "arrive":
            def fn(t):
                cs = t.c.cluster_state
                if t.cluster_arrived is not None:
                    raise E.EmuError(f"{text}: thread {t.tid} of CTA {t.c.ctaid} arrives twice without a wait")
                t.cluster_arrived = cs.phase
                cs.arrived += 1
                t.mem.stores += 1
                if cs.arrived == cs.expected:
                    cs.phase += 1
                    cs.arrived = 0
                    for w in cs.waiters:
                        t.emu.wake(w)
                    cs.waiters = []
                return None
        else:
            def fn(t):
                cs = t.c.cluster_state
                if t.cluster_arrived is None:
                    raise E.EmuError(f"{text}: thread {t.tid} of CTA {t.c.ctaid} waits without arriving")
                if cs.phase > t.cluster_arrived:
                    t.cluster_arrived = None
                    return None
                cs.waiters.append(t)
                return E.PARK_AT
        return E.K_PARK, fn, None
    return None


def compile(k, op, ops, text):
    """(kind, fn, extra) for an sm_90 or sm_100 instruction, or None for one that emulator.py compiles."""
    o = op.split(".")
    if o[0] == "mbarrier":
        return _mbarrier(k, op, o, ops, text)
    if o[0] == "wgmma":
        return wgmma.compile_wgmma(k, op, o, ops, text)
    if o[0] == "tcgen05":
        return tcgen05.compile(k, op, o, ops, text)
    if o[0] == "cp" and len(o) > 3 and o[1] == "async" and o[2] == "bulk":
        return tma.compile_bulk(k, op, o, ops, text)
    if op == "prefetch.tensormap":
        return tma.compile_prefetch_tensormap(k, ops, text)
    if o[0] in ("elect", "setmaxnreg", "fence", "mapa", "barrier"):
        return _misc(k, op, o, ops, text)
    return None


import tma  # noqa: E402  (they import this module)
import wgmma  # noqa: E402
import tcgen05  # noqa: E402
