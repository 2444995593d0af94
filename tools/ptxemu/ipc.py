"""Ipc mode: one stream per rank, as with one process per rank (rt::comm::Ipc) rather than LocalSim's
single launch.

World is an emulator.Emu whose CTAs come and go: every rank runs a program, a generator yielding
its launches in stream order as (kernel, block, args) with rank_base = that rank and grid.y = 1, or
("sleep", rounds) for host work that takes a while. The host code between two yields (uploads,
poisoning, checks of the results) runs once the rank's previous launch has finished and a random
delay has passed, as stream-ordered copies would, so ranks drift apart: rank A may start launch
E + 1, or write its inputs for it, while rank B is still in launch E. This is what LocalSim cannot
show and what found the moe_dispatch race (ipc_checks.run_moe_entry_race). All ranks share one
Memory, as the peer mappings of Ipc make them; the same limits as emulator.py apply (sequentially
consistent memory).
"""
import random

import emulator as E
from host import Buf, M64


class _LaunchShim:
    def __init__(self, k):
        self.k = k


class World(E.Emu):
    def __init__(self, mem, ctas, programs, seed=0, max_slice=64, host_delay=(0, 3)):
        self.mem = mem
        self.rng = random.Random(seed)
        self.max_slice = max_slice
        self.log = None
        self.instructions = 0
        self.waiting, self.held, self.events = set(), {}, 0  # Emu.run's collectives and events
        self.ctas = []
        self.grid_x = ctas
        self.programs = programs  # rank -> generator
        self.active = {}  # rank -> (ctas list)
        self.delay = {}  # rank -> rounds until its host code runs (so ranks drift apart)
        self.host_delay = host_delay
        self.done = set()
        self.launches = 0
        for r in programs:
            self._advance(r)

    def _advance(self, r):
        try:
            item = next(self.programs[r])
            if item[0] == "sleep":  # host code that takes item[1] rounds before its next call
                self.active[r] = []
                self.delay[r] = item[1]
                self._rebuild()
                return
            k, block, args = item
        except StopIteration:
            self.done.add(r)
            self.active.pop(r, None)
            return
        assert len(args) == len(k.params)
        params = {}
        for (ty, name), a in zip(k.params, args):
            v = a.table if isinstance(a, Buf) else a
            params[name] = v & (M64 if ty == "u64" else 0xFFFFFFFF)
        if k.reqntid is not None and k.reqntid != block:
            raise E.EmuError("block mismatch")
        shim = _LaunchShim(k)
        shim.mem, shim.on_access = self.mem, self.on_access
        group = []
        for x in range(self.grid_x):
            ths = []
            cta = E.Cta(x, (x, r), None)  # no shared memory: the comm kernels use none
            for t in range(block):
                sp = {"%tid.x": t, "%ctaid.x": x, "%ctaid.y": 0, "%nctaid.x": self.grid_x, "%laneid": t % 32,
                      "%ntid.x": block}
                th = E.Thread(shim, (x, r), t, sp, params, cta)
                th.emu = self
                ths.append(th)
            cta.threads = ths
            sp_ = self.rng.choice(E.SPEEDS)
            for th in ths:
                th.speed = sp_
            group.append(ths)
        self.active[r] = group
        self.launches += 1
        self._rebuild()

    def _rebuild(self):
        self.ctas = [c for g in self.active.values() for c in g]

    def after_round(self):
        events = 0
        for r in list(self.active):
            g = self.active[r]
            if all(t.state == "exit" for c in g for t in c):
                d = self.delay.get(r)
                if d is None:
                    self.delay[r] = self.rng.randint(*self.host_delay)
                    events += 1
                    continue
                if d > 0:
                    self.delay[r] = d - 1
                    events += 1
                    continue
                del self.delay[r]
                self.active.pop(r)
                self._rebuild()
                self._advance(r)
                events += 1
        if not self.active:
            self.ctas = []
        return events

    def run_all(self):
        self.run(max_rounds=10 ** 7)
        assert len(self.done) == len(self.programs), (self.done, list(self.active))
