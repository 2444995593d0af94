"""A PTX emulator for weft's communication kernels: runs the PTX that `weft emit` writes for
all_gather, reduce_scatter, all_reduce, moe_dispatch and moe_combine on the CPU.

Kernel parses and compiles the subset of PTX those kernels use (integer and f32 arithmetic, bf16x2
conversion, predicates and branches, ld/st/atom.add on global memory with any order and scope,
fence, bar.sync 0, shfl.sync.idx, nanosleep, ret); anything else raises EmuError("unsupported
instruction"), so a kernel that starts using a new instruction fails loudly instead of being
emulated wrongly. Emu runs one LocalSim launch: grid.x x grid.y CTAs (grid.y = the virtual ranks),
every thread with its own registers (raw bits), under a randomized scheduler: a thread runs until
it blocks (bar.sync, shfl.sync waiting for its warp, nanosleep in a spin loop, exit) or its random
time slice ends, and each CTA gets a random speed, so CTAs and ranks overtake one another.

Checked while running: every access inside one allocation and aligned to its size (Memory.check),
bar.sync with exited threads, shfl.sync with exited or divergent lanes, and deadlock: three rounds
in which nothing was stored, no collective completed, nothing exited, and every running thread
spun through a full wait with its flag read after the last store. Memory.wcount counts the writes
to every byte, for the write-once checks in checks.py.

Limits: memory is sequentially consistent (one byte array, each access atomic and immediately
visible everywhere), so this checks algorithms, indexing, protocols (rendezvous, epochs, counters)
and write coverage, not memory-model reorderings (a missing fence or a .gpu where .sys is needed
passes here; the verifier's peer-pointer rule covers scopes) and not performance. fma.rn.f32 rounds
twice (through a double), rarely off by one ulp. The lanes of a warp are scheduled independently (as
Volta and later may) and meet only at shfl.sync. Launches are small (a few CTAs of 64 to 128
threads, thousands of packets): Python runs roughly a million PTX instructions a second.
"""
import bisect
import random
import re
import struct

import numpy as np

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


class EmuError(RuntimeError):
    pass


class Memory:
    def __init__(self, size=1 << 22):
        self.mem = bytearray(size)
        self.wcount = np.zeros(size, dtype=np.uint16)
        self.allocs = []  # (base, size, name)
        self.starts = []
        self.top = 0x1000
        self.stores = 0  # progress counter

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
            raise EmuError(f"{what}: address {a:#x} outside every allocation")
        base, size, name = self.allocs[i]
        if a + n > base + size:
            raise EmuError(f"{what}: [{a:#x}, +{n}) outside allocation {name} [{base:#x}, +{size})")
        if a % n:
            raise EmuError(f"{what}: misaligned {a:#x} for {n} bytes")

    def read(self, a, n, what="ld"):
        self.check(a, n, what)
        return self.mem[a:a + n]

    def write(self, a, data, what="st"):
        self.check(a, len(data), what)
        self.mem[a:a + len(data)] = data
        self.wcount[a:a + len(data)] += 1
        self.stores += 1


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
SPECIAL = {"%tid.x", "%ctaid.x", "%ctaid.y", "%nctaid.x", "%laneid", "%ntid.x"}

# control kinds
K_ALU, K_BRA, K_BAR, K_SHFL, K_SLEEP, K_RET = range(6)


class Kernel:
    def __init__(self, text):
        body = text[text.index(".entry"):]
        self.name = re.match(r"\.entry (\w+)", body).group(1)
        self.params = re.findall(r"\.param \.(\w+) (\w+)", body[: body.index(")")])
        m = re.search(r"\.reqntid (\d+)", body)
        self.reqntid = int(m.group(1)) if m else None
        lines = body[body.index("{") + 1:].split("\n")
        raw_ins, labels = [], {}
        for raw in lines:
            s = raw.strip()
            if not s or s.startswith(".") or s.startswith("//") or s == "}":
                continue
            if s.endswith(":"):
                labels[s[:-1]] = len(raw_ins)
                continue
            s = s.rstrip(";")
            guard = None
            if s.startswith("@"):
                g, s = s.split(None, 1)
                guard = (g[1:].startswith("!"), g.lstrip("@!"))
            parts = s.split(None, 1)
            raw_ins.append((guard, parts[0], split_ops(parts[1]) if len(parts) > 1 else [], s))
        self.labels = labels
        self.prog = [self.compile(g, op, ops, s) for g, op, ops, s in raw_ins]

    # ---- operand helpers: return closures reading raw bits from a register dict ----
    @staticmethod
    def src(s, bits=32):
        s = s.strip()
        if s.startswith("%"):
            return lambda r, s=s: r[s]
        if s.startswith("0f") or s.startswith("0F"):
            v = int(s[2:], 16)
            return lambda r, v=v: v
        v = int(s, 0) & (M64 if bits == 64 else M32)
        return lambda r, v=v: v

    def compile(self, guard, op, ops, text):
        o = op.split(".")
        name = o[0]
        d = ops[0] if ops else None
        kind, fn, extra = K_ALU, None, None
        if name == "bra":
            kind, extra = K_BRA, self.labels[ops[0]]
        elif name == "bar":
            assert op == "bar.sync" and ops == ["0"], text
            kind = K_BAR
        elif name == "ret":
            kind = K_RET
        elif name == "nanosleep":
            kind = K_SLEEP
        elif name == "shfl":
            assert op == "shfl.sync.idx.b32", text
            assert ops[3] == "31" and ops[4] == "4294967295", text
            kind, extra = K_SHFL, (d, self.src(ops[1]), self.src(ops[2]))
        elif name == "fence":
            assert op == "fence.acq_rel.sys", text
            fn = lambda t: None
        elif name == "ld" and o[1] == "param":
            p = ops[1][1:-1]
            fn = lambda t, d=d, p=p: t.r.__setitem__(d, t.params[p])
        elif name == "cvta":
            sr = self.src(ops[1], 64)
            fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
        elif name == "mov":
            s = ops[1]
            if s in SPECIAL:
                fn = lambda t, d=d, s=s: t.r.__setitem__(d, t.special[s])
            else:
                sr = self.src(s, 64 if o[1] in ("u64", "b64") else 32)
                fn = lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
        elif name in ("add", "sub", "mul", "mad", "div", "rem", "min", "shl", "shr", "and", "or", "xor") and o[-1] in (
                "u32", "u64", "b32", "s32"):
            wide = len(o) > 1 and o[1] == "wide"
            bits = 64 if o[-1] == "u64" else 32
            a = self.src(ops[1], bits)
            b = self.src(ops[2], bits)
            mask = M64 if (bits == 64 or wide) else M32
            if name == "mad":
                c = self.src(ops[3], 64 if wide else bits)
                fn = lambda t, d=d, a=a, b=b, c=c, m=mask: t.r.__setitem__(d, (a(t.r) * b(t.r) + c(t.r)) & m)
            else:
                f = {
                    "add": lambda x, y: x + y,
                    "sub": lambda x, y: x - y,
                    "mul": lambda x, y: x * y,
                    "div": lambda x, y: x // y if y else (_ for _ in ()).throw(EmuError("div by 0")),
                    "rem": lambda x, y: x % y if y else (_ for _ in ()).throw(EmuError("rem by 0")),
                    "min": min,
                    "shl": lambda x, y: x << y if y < bits else 0,
                    "shr": lambda x, y: x >> y,
                    "and": lambda x, y: x & y,
                    "or": lambda x, y: x | y,
                    "xor": lambda x, y: x ^ y,
                }[name]
                assert o[-1] != "s32" or name in ("add", "sub", "and"), text
                if name == "mul":
                    assert o[1] in ("lo", "wide"), text
                fn = lambda t, d=d, a=a, b=b, f=f, m=mask: t.r.__setitem__(d, f(a(t.r), b(t.r)) & m)
        elif name == "and" and o[1] == "pred":
            fn = lambda t, d=d, a=ops[1], b=ops[2]: t.r.__setitem__(d, bool(t.r[a]) and bool(t.r[b]))
        elif name == "setp":
            cmp, ty = o[1], o[2]
            a, b = self.src(ops[1]), self.src(ops[2])
            conv = {"u32": lambda x: x, "s32": lambda x: x - (1 << 32) if x & 0x80000000 else x, "f32": b2f}[ty]
            c = {"lt": lambda x, y: x < y, "le": lambda x, y: x <= y, "gt": lambda x, y: x > y,
                 "ge": lambda x, y: x >= y, "eq": lambda x, y: x == y, "ne": lambda x, y: x != y}[cmp]
            fn = lambda t, d=d, a=a, b=b, conv=conv, c=c: t.r.__setitem__(d, c(conv(a(t.r)), conv(b(t.r))))
        elif name == "selp":
            bits = 64 if o[1] in ("u64", "b64") else 32
            a, b = self.src(ops[1], bits), self.src(ops[2], bits)
            fn = lambda t, d=d, a=a, b=b, p=ops[3]: t.r.__setitem__(d, a(t.r) if t.r[p] else b(t.r))
        elif name in ("add", "mul", "fma") and o[-1] == "f32":
            a, b = self.src(ops[1]), self.src(ops[2])
            if name == "add":
                fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(d, f2b(np.float32(b2f(a(t.r))) + np.float32(b2f(b(t.r)))))
            elif name == "mul":
                fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(d, f2b(np.float32(b2f(a(t.r))) * np.float32(b2f(b(t.r)))))
            else:
                assert op == "fma.rn.f32", text
                c = self.src(ops[3])
                # a*b is exact in double; one more rounding to double then to f32 (double rounding: rare 1-ulp)
                fn = lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
                    d, f2b(np.float32(b2f(a(t.r)) * b2f(b(t.r)) + b2f(c(t.r)))))
        elif op == "cvt.rn.bf16x2.f32":
            a, b = self.src(ops[1]), self.src(ops[2])
            fn = lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, (f_to_bf16_rn(b2f(a(t.r))) << 16) | f_to_bf16_rn(b2f(b(t.r))))
        elif name in ("ld", "st", "atom"):
            assert "global" in o, text
            quals = [q for q in o[1:] if q not in ("global",)]
            ty = quals[-1]
            vec = 4 if "v4" in quals else 1
            size = {"u32": 4, "s32": 4, "f32": 4, "b32": 4, "u64": 8, "b64": 8}[ty]
            sem = [q for q in quals if q in ("relaxed", "acquire", "release", "acq_rel", "volatile")]
            scope = [q for q in quals if q in ("sys", "gpu", "cta")]
            nc = "nc" in quals
            info = {"op": name, "sem": sem[0] if sem else "weak", "scope": scope[0] if scope else None, "nc": nc,
                    "text": text}
            addr_s = ops[1] if name in ("ld", "atom") else ops[0]
            inner = addr_s[1:-1]
            off = 0
            if "+" in inner:
                inner, o2 = inner.split("+")
                off = int(o2, 0)
            areg = inner.strip()
            if name == "ld":
                dregs = [x.strip() for x in d.strip("{}").split(",")] if vec > 1 else [d]
                def fn(t, dregs=dregs, areg=areg, off=off, size=size, vec=vec, info=info):
                    a = (t.r[areg] + off) & M64
                    data = t.mem.read(a, size * vec, info["text"])
                    t.emu.on_access(t, "ld", a, size * vec, info)
                    for i, dr in enumerate(dregs):
                        t.r[dr] = int.from_bytes(data[i * size:(i + 1) * size], "little")
            elif name == "st":
                vs = [self.src(x, size * 8) for x in (ops[1].strip("{}").split(",") if vec > 1 else [ops[1]])]
                def fn(t, vs=vs, areg=areg, off=off, size=size, vec=vec, info=info):
                    a = (t.r[areg] + off) & M64
                    data = b"".join((v(t.r) & ((1 << (8 * size)) - 1)).to_bytes(size, "little") for v in vs)
                    t.emu.on_access(t, "st", a, size * vec, info)
                    t.mem.write(a, data, info["text"])
            else:
                assert "add" in quals and ty == "u32", text
                b = self.src(ops[2])
                def fn(t, d=d, areg=areg, off=off, b=b, info=info):
                    a = (t.r[areg] + off) & M64
                    old = int.from_bytes(t.mem.read(a, 4, info["text"]), "little")
                    t.emu.on_access(t, "atom", a, 4, info)
                    t.mem.write(a, ((old + b(t.r)) & M32).to_bytes(4, "little"), info["text"])
                    t.r[d] = old
        else:
            raise EmuError(f"unsupported instruction: {text}")
        return (guard, kind, fn, extra, text)


class Thread:
    __slots__ = ("speed", "last_slept", "slept_at", "confirmed", "prog", "r", "pc", "state", "special", "params", "mem", "emu", "cta", "tid", "warp", "spins", "sleeps")

    def __init__(self, emu, cta, tid, special, params):
        self.r = {}
        self.speed = 1.0
        self.last_slept = False
        self.slept_at = -1
        self.confirmed = -1
        self.prog = emu.k.prog
        self.pc = 0
        self.state = "run"  # run, bar, shfl, exit
        self.special = special
        self.params = params
        self.mem = emu.mem
        self.emu = emu
        self.cta = cta
        self.tid = tid
        self.spins = 0
        self.sleeps = 0


class Emu:
    """One launch: Emu(mem, kernel, (grid.x, grid.y), block, params by name, seed).run(). `log`, when a
    list, receives (kind, rank, cta, tid, address, bytes, order, scope, nc) for every global access."""

    def __init__(self, mem, kernel, grid, block, params, seed=0, max_slice=64, log=None):
        self.mem, self.k, self.grid, self.block, self.params = mem, kernel, grid, block, params
        self.rng = random.Random(seed)
        self.max_slice = max_slice
        self.log = log
        if kernel.reqntid is not None and kernel.reqntid != block:
            raise EmuError(f"block {block} != .reqntid {kernel.reqntid}")
        assert block % 32 == 0
        names = [n for _, n in kernel.params]
        assert set(params) == set(names), (sorted(params), names)
        self.ctas = []
        for y in range(grid[1]):
            for x in range(grid[0]):
                ths = []
                for t in range(block):
                    sp = {"%tid.x": t, "%ctaid.x": x, "%ctaid.y": y, "%nctaid.x": grid[0], "%laneid": t % 32,
                          "%ntid.x": block}
                    ths.append(Thread(self, (x, y), t, sp, params))
                sp_ = self.rng.choice(SPEEDS)
                for th in ths:
                    th.speed = sp_
                self.ctas.append(ths)
        self.instructions = 0

    def on_access(self, t, kind, a, n, info):
        if self.log is not None:
            self.log.append((kind, t.cta[1], t.cta[0], t.tid, a, n, info["sem"], info["scope"], info["nc"]))

    def run_thread(self, t, budget):
        """Runs t until it blocks or the budget ends. Returns True if it yielded on a nanosleep."""
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
            elif kind == K_BAR:
                t.state = "bar"
                return False
            elif kind == K_SHFL:
                t.state = "shfl"
                return False
            elif kind == K_SLEEP:
                t.pc += 1
                t.sleeps += 1
                return True
            elif kind == K_RET:
                t.state = "exit"
                return False
        return False

    def run(self, max_rounds=200000):
        rounds = 0
        stuck = 0
        while True:
            threads = [t for c in self.ctas for t in c]
            rounds += 1
            if rounds > max_rounds:
                raise EmuError("too many rounds")
            before = self.mem.stores
            events = 0
            all_slept = True
            order = [t for t in threads if t.state == "run"]
            self.rng.shuffle(order)
            rnd = self.rng.random
            for t in order:
                if t.state != "run":
                    continue
                if t.speed < 1.0 and rnd() > t.speed:
                    if not t.last_slept:
                        all_slept = False
                    continue
                slept = self.run_thread(t, self.rng.randint(1, self.max_slice))
                t.last_slept = slept
                if slept:
                    # two sleeps with no store anywhere in between: a full spin iteration (with its
                    # flag read) saw the current memory
                    if t.slept_at == self.mem.stores:
                        t.confirmed = self.mem.stores
                    t.slept_at = self.mem.stores
                if not slept:
                    all_slept = False
                if t.state == "exit":
                    events += 1
            # collectives
            for cta in self.ctas:
                live = [t for t in cta if t.state != "exit"]
                if not live:
                    continue
                if all(t.state == "bar" for t in live):
                    if len(live) != len(cta):
                        raise EmuError(f"bar.sync in CTA {cta[0].cta} with {len(cta) - len(live)} exited threads")
                    for t in live:
                        t.state = "run"
                        t.pc += 1
                    events += 1
                for w in range(len(cta) // 32):
                    lanes = cta[32 * w:32 * w + 32]
                    if any(t.state == "shfl" for t in lanes) and all(t.state in ("shfl", "exit") for t in lanes):
                        if any(t.state == "exit" for t in lanes):
                            raise EmuError(f"shfl.sync with exited lanes in CTA {cta[0].cta} warp {w}")
                    if all(t.state == "shfl" for t in lanes):
                        pcs = {t.pc for t in lanes}
                        if len(pcs) != 1:
                            raise EmuError(f"divergent shfl.sync in CTA {cta[0].cta} warp {w}: pcs {pcs}")
                        _, _, _, (d, a, b), text = lanes[0].prog[lanes[0].pc]
                        vals = [a(t.r) for t in lanes]
                        for l, t in enumerate(lanes):
                            j = b(t.r)
                            if j > 31:
                                j = l
                            t.r[d] = vals[j]
                            t.state = "run"
                            t.pc += 1
                        events += 1
            events += self.after_round()
            threads = [t for c in self.ctas for t in c]
            if all(t.state == "exit" for t in threads) and not getattr(self, "active", None):
                self.rounds = rounds
                return
            st_now = self.mem.stores
            all_slept = all(t.state != "run" or (t.last_slept and t.confirmed == st_now) for t in threads)
            if events == 0 and st_now == before and all_slept:
                stuck += 1
                if stuck >= 3:
                    raise EmuError("deadlock: " + self.describe())
            else:
                stuck = 0

    def after_round(self):
        return 0

    def describe(self):
        out = []
        for cta in self.ctas:
            states = {}
            for t in cta:
                key = (t.state, t.prog[t.pc][4] if t.state != "exit" else "")
                states.setdefault(key, []).append(t.tid)
            out.append(f"CTA {cta[0].cta}: " + "; ".join(f"{s} @ {txt!r}: tids {v[:6]}{'...' if len(v) > 6 else ''}"
                                                        for (s, txt), v in states.items()))
        return "\n".join(out)
