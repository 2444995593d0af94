"""The emulator's register arithmetic (emulator.Kernel compiles through these): integer operations
(16/32/64-bit, signed or unsigned as typed), predicate logic, setp (integer and float, ordered and
unordered), f32 arithmetic, cvt and mov (packs, unpacks, special registers). Each method returns what
Kernel.compile returns for one instruction; an operand or qualifier outside the subset raises
EmuError("unsupported instruction"), so nothing is emulated by guess.
"""
import math

import numpy as np

import emulator as E


# cvt's integer types -> (bits, signed): the arithmetic's (emulator.INT_TYPES) and the 8-bit ones (cvt.u32.u8
# after an 8-bit load)
CVT_INT_TYPES = {"u8": (8, False), "s8": (8, True), "b16": (16, False), "u16": (16, False), "s16": (16, True),
                 "b32": (32, False), "u32": (32, False), "s32": (32, True), "b64": (64, False), "u64": (64, False),
                 "s64": (64, True)}


class Alu:
    """Mixed into emulator.Kernel: uses its src(), reg_width() and REG_TYPES."""

    def int_op(self, name, o, ops, text):
        """add sub mul.{lo,hi,wide} mad.{lo,hi,wide} div rem min max abs neg and or xor not shl shr bfe
        on 16-, 32- and 64-bit integers, signed where the type says so (div / rem truncate toward zero;
        shifts clamp at the width; a division by zero is an error)."""
        ty = o[-1]
        bits, signed = E.INT_TYPES[ty]
        mods = o[1:-1]
        mask = (1 << bits) - 1
        d = ops[0]
        nsrc = {"abs": 1, "neg": 1, "not": 1, "mad": 3, "bfe": 3}.get(name, 2)
        if len(ops) != nsrc + 1:
            raise E.EmuError(f"unsupported instruction: {text}")
        if name in ("mul", "mad"):
            if mods not in (["lo"], ["hi"], ["wide"]) or (mods == ["wide"] and bits == 64):
                raise E.EmuError(f"unsupported instruction: {text}")
        elif mods:
            raise E.EmuError(f"unsupported instruction: {text}")
        if name in ("and", "or", "xor", "not", "shl") and signed:
            raise E.EmuError(f"unsupported instruction: {text}")
        if name in ("abs", "neg") and not signed:
            raise E.EmuError(f"unsupported instruction: {text}")
        top = 1 << (bits - 1)
        sx = (lambda v: (v & mask) - ((v & top) << 1)) if signed else (lambda v: v & mask)
        # shift amounts (and bfe's position and length) are 32-bit operands
        a = self.src(ops[1], bits)
        b = self.src(ops[2], 32 if name in ("shl", "shr", "bfe") else bits) if nsrc > 1 else None
        if name == "mad" or name == "bfe":
            c = self.src(ops[3], 2 * bits if mods == ["wide"] else 32 if name == "bfe" else bits)
        if name in ("mul", "mad") and mods == ["wide"]:
            m2 = (1 << (2 * bits)) - 1
            if name == "mul":
                f3 = lambda r: (sx(a(r)) * sx(b(r))) & m2
            else:
                f3 = lambda r: (sx(a(r)) * sx(b(r)) + c(r)) & m2
        elif name in ("mul", "mad") and mods == ["hi"]:
            if name == "mul":
                f3 = lambda r: ((sx(a(r)) * sx(b(r))) >> bits) & mask
            else:
                f3 = lambda r: (((sx(a(r)) * sx(b(r))) >> bits) + c(r)) & mask
        elif name == "mad":
            f3 = lambda r: (a(r) * b(r) + c(r)) & mask
        elif name == "bfe":
            def f3(r):
                v, pos, ln = a(r), b(r) & 0xFF, c(r) & 0xFF
                if ln == 0:
                    return 0
                sbit = (v >> min(pos + ln - 1, bits - 1)) & 1 if signed else 0
                if pos >= bits:
                    return mask if sbit else 0
                ln = min(ln, bits - pos)
                out = (v >> pos) & ((1 << ln) - 1)
                return out | (mask ^ ((1 << ln) - 1)) if sbit else out
        elif name in ("abs", "neg", "not"):
            f3 = {"abs": lambda r: abs(sx(a(r))) & mask, "neg": lambda r: (-a(r)) & mask,
                  "not": lambda r: a(r) ^ mask}[name]
        else:
            def div(x, y):
                if y == 0:
                    raise E.EmuError(f"division by zero: {text}")
                q = abs(x) // abs(y)
                return q if (x < 0) == (y < 0) else -q
            f = {
                "add": lambda x, y: (x + y) & mask,
                "sub": lambda x, y: (x - y) & mask,
                "mul": lambda x, y: (x * y) & mask,
                "div": lambda x, y: div(sx(x), sx(y)) & mask,
                "rem": lambda x, y: (sx(x) - div(sx(x), sx(y)) * sx(y)) & mask,
                "min": lambda x, y: x if sx(x) <= sx(y) else y,
                "max": lambda x, y: x if sx(x) >= sx(y) else y,
                "shl": lambda x, y: (x << y) & mask if y < bits else 0,
                "shr": lambda x, y: (sx(x) >> min(y, bits)) & mask,
                "and": lambda x, y: x & y,
                "or": lambda x, y: x | y,
                "xor": lambda x, y: x ^ y,
            }[name]
            return lambda t, d=d, a=a, b=b, f=f: t.r.__setitem__(d, f(a(t.r), b(t.r)))
        return lambda t, d=d, f3=f3: t.r.__setitem__(d, f3(t.r))

    def pred_op(self, name, ops, text):
        """and / or / xor / not .pred (a source may be negated: !%p)."""
        if len(ops) != (2 if name == "not" else 3):
            raise E.EmuError(f"unsupported instruction: {text}")
        d = ops[0]
        srcs = []
        for s in ops[1:]:
            neg = s.startswith("!")
            s = s.lstrip("!")
            if s in ("0", "1"):
                srcs.append(lambda r, v=(s == "1") != neg: v)
            elif s.startswith("%"):
                srcs.append(lambda r, s=s, neg=neg: bool(r[s]) != neg)
            else:
                raise E.EmuError(f"unsupported instruction: {text}")
        if name == "not":
            a, = srcs
            return lambda t, d=d, a=a: t.r.__setitem__(d, not a(t.r))
        a, b = srcs
        f = {"and": lambda x, y: x and y, "or": lambda x, y: x or y, "xor": lambda x, y: x != y}[name]
        return lambda t, d=d, a=a, b=b, f=f: t.r.__setitem__(d, f(a(t.r), b(t.r)))

    # setp comparisons: integer (after the type's conversion) and float (ordered: false with a NaN;
    # unordered: true with a NaN)
    _ICMP = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "lt": lambda x, y: x < y,
             "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y}
    _UCMP = {"lo": "lt", "ls": "le", "hi": "gt", "hs": "ge"}
    _FCMP = {"eq": lambda x, y: x == y, "ne": lambda x, y: x < y or x > y, "lt": lambda x, y: x < y,
             "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y,
             "equ": lambda x, y: not (x < y or x > y), "neu": lambda x, y: not x == y,
             "ltu": lambda x, y: not x >= y, "leu": lambda x, y: not x > y, "gtu": lambda x, y: not x <= y,
             "geu": lambda x, y: not x < y, "num": lambda x, y: x == x and y == y,
             "nan": lambda x, y: x != x or y != y}

    def setp(self, o, ops, text):
        """setp.CmpOp[.BoolOp].type p[|q], a, b[, {!}c]: integer (b: eq / ne only; u: also lo ls hi hs)
        and f32 / f64 comparisons."""
        if len(o) not in (3, 4):
            raise E.EmuError(f"unsupported instruction: {text}")
        cmp, ty = o[1], o[-1]
        boolop = o[2] if len(o) == 4 else None
        if boolop not in (None, "and", "or", "xor") or len(ops) != (4 if boolop else 3):
            raise E.EmuError(f"unsupported instruction: {text}")
        if ty in E.INT_TYPES:
            bits, signed = E.INT_TYPES[ty]
            if ty[0] == "u":
                cmp = self._UCMP.get(cmp, cmp)
            if cmp not in self._ICMP or (ty[0] == "b" and cmp not in ("eq", "ne")):
                raise E.EmuError(f"unsupported instruction: {text}")
            mask, top = (1 << bits) - 1, 1 << (bits - 1)
            conv = (lambda v: (v & mask) - ((v & top) << 1)) if signed else (lambda v: v & mask)
        elif ty in ("f32", "f64") and cmp in self._FCMP:
            bits = int(ty[1:])
            conv = E.b2f if ty == "f32" else E.b2d
        else:
            raise E.EmuError(f"unsupported instruction: {text}")
        c = self._ICMP[cmp] if ty in E.INT_TYPES else self._FCMP[cmp]
        a, b = self.src(ops[1], bits), self.src(ops[2], bits)
        dst = ops[0].split("|")
        if len(dst) > 2:
            raise E.EmuError(f"unsupported instruction: {text}")
        if boolop is None and len(dst) == 1:
            return lambda t, d=dst[0], a=a, b=b, conv=conv, c=c: t.r.__setitem__(d, c(conv(a(t.r)), conv(b(t.r))))
        comb = {"and": lambda x, y: x and y, "or": lambda x, y: x or y, "xor": lambda x, y: x != y}.get(boolop)
        pneg = boolop is not None and ops[3].startswith("!")
        preg = ops[3].lstrip("!") if boolop else None
        if preg is not None and not preg.startswith("%"):
            raise E.EmuError(f"unsupported instruction: {text}")

        def fn(t):
            r = t.r
            v = c(conv(a(r)), conv(b(r)))
            if comb is None:
                r[dst[0]] = v
                r[dst[1]] = not v
            else:
                cv = bool(r[preg]) != pneg
                r[dst[0]] = comb(v, cv)
                if len(dst) == 2:
                    r[dst[1]] = comb(not v, cv)
        return fn

    def f32_op(self, name, o, ops, text):
        """add / sub / mul [.rn] .f32, fma.rn.f32, neg.f32, abs.f32 (round to nearest even; fma rounds
        through a double: rarely one ulp off)."""
        mods = o[1:-1]
        if mods not in {"fma": (["rn"],), "neg": ([],), "abs": ([],)}.get(name, ([], ["rn"])):
            raise E.EmuError(f"unsupported instruction: {text}")
        d = ops[0]
        if name in ("neg", "abs"):
            if len(ops) != 2:
                raise E.EmuError(f"unsupported instruction: {text}")
            a = self.src(ops[1])
            if name == "neg":
                return lambda t, d=d, a=a: t.r.__setitem__(d, a(t.r) ^ 0x80000000)
            return lambda t, d=d, a=a: t.r.__setitem__(d, a(t.r) & 0x7FFFFFFF)
        if len(ops) != (4 if name == "fma" else 3):
            raise E.EmuError(f"unsupported instruction: {text}")
        a, b = self.src(ops[1]), self.src(ops[2])
        if name == "add":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) + np.float32(E.b2f(b(t.r)))))
        if name == "sub":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) - np.float32(E.b2f(b(t.r)))))
        if name == "mul":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) * np.float32(E.b2f(b(t.r)))))
        c = self.src(ops[3])
        # a*b is exact in double; one more rounding to double then to f32 (double rounding: rare 1-ulp)
        return lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
            d, E.f2b(np.float32(E.b2f(a(t.r)) * E.b2f(b(t.r)) + E.b2f(c(t.r)))))

    def cvt(self, o, ops, text):
        """cvt between integers (8- to 64-bit; sign- or zero-extension by the source type, truncation), .rn integer
        to f32 / f64, .rzi / .rni / .rmi / .rpi f32 / f64 to integer (saturating, NaN to 0), f32 <-> f64
        (.rn), .rn f32 to bf16, bf16 to f32, and .rn.bf16x2.f32 (d = {cvt(a), cvt(b)}, a in the high
        half)."""
        d = ops[0]
        if o[1:] == ["rn", "bf16x2", "f32"] and len(ops) == 3:
            a, b = self.src(ops[1]), self.src(ops[2])
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, (E.f_to_bf16_rn(E.b2f(a(t.r))) << 16) | E.f_to_bf16_rn(E.b2f(b(t.r))))
        if len(o) not in (3, 4) or len(ops) != 2:
            raise E.EmuError(f"unsupported instruction: {text}")
        rnd = o[1] if len(o) == 4 else None
        dty, aty = o[-2], o[-1]
        a = self.src(ops[1], self.REG_TYPES.get(aty, 32))
        if dty in CVT_INT_TYPES and aty in CVT_INT_TYPES and rnd is None:
            (dbits, dsigned), (abits, asigned) = CVT_INT_TYPES[dty], CVT_INT_TYPES[aty]
            w = self.reg_width(d)
            if dsigned and w is not None and w > dbits:
                raise E.EmuError(f"unsupported instruction (a signed result narrower than its register): {text}")
            amask, atop, dmask = (1 << abits) - 1, 1 << (abits - 1), (1 << dbits) - 1
            if asigned and dbits > abits:
                return lambda t, d=d, a=a: t.r.__setitem__(d, (((v := a(t.r) & amask) - ((v & atop) << 1)) & dmask))
            m = min(amask, dmask)
            return lambda t, d=d, a=a, m=m: t.r.__setitem__(d, a(t.r) & m)
        if dty in ("f32", "f64") and aty in CVT_INT_TYPES and rnd == "rn":
            abits, asigned = CVT_INT_TYPES[aty]
            amask, atop = (1 << abits) - 1, 1 << (abits - 1)
            to = E.f2b_rn_int if dty == "f32" else (lambda v: E.d2b(float(v)))  # Python's int -> float rounds to even
            if asigned:
                return lambda t, d=d, a=a: t.r.__setitem__(d, to((v := a(t.r) & amask) - ((v & atop) << 1)))
            return lambda t, d=d, a=a: t.r.__setitem__(d, to(a(t.r) & amask))
        if dty in CVT_INT_TYPES and aty in ("f32", "f64") and rnd in ("rni", "rzi", "rmi", "rpi"):
            dbits, dsigned = CVT_INT_TYPES[dty]
            lo, hi = (-(1 << (dbits - 1)), (1 << (dbits - 1)) - 1) if dsigned else (0, (1 << dbits) - 1)
            conv = E.b2f if aty == "f32" else E.b2d
            rfn = {"rni": round, "rzi": math.trunc, "rmi": math.floor, "rpi": math.ceil}[rnd]
            mask = (1 << dbits) - 1

            def f(x):
                if x != x:
                    return 0
                if x in (math.inf, -math.inf):
                    return (hi if x > 0 else lo) & mask
                return min(max(rfn(x), lo), hi) & mask
            return lambda t, d=d, a=a, f=f, conv=conv: t.r.__setitem__(d, f(conv(a(t.r))))
        if dty == "f64" and aty == "f32" and rnd is None:
            return lambda t, d=d, a=a: t.r.__setitem__(d, E.d2b(E.b2f(a(t.r))))
        if dty == "f32" and aty == "f64" and rnd == "rn":
            return lambda t, d=d, a=a: t.r.__setitem__(d, E.f2b(np.float32(E.b2d(a(t.r)))))
        if dty == "bf16" and aty == "f32" and rnd == "rn":
            return lambda t, d=d, a=a: t.r.__setitem__(d, E.f_to_bf16_rn(E.b2f(a(t.r))))
        if dty == "f32" and aty == "bf16" and rnd is None:
            return lambda t, d=d, a=a: t.r.__setitem__(d, (a(t.r) & 0xFFFF) << 16)
        raise E.EmuError(f"unsupported instruction: {text}")

    def mov(self, o, ops, text):
        """mov.type d, a: a register, an immediate, a special register (%globaltimer: the virtual clock), a
        symbol's address (a shared or global variable, a byte-array parameter); with a vector on one
        side, pack / unpack (element 0 in the low bits; `_` drops an element)."""
        if len(o) != 2 or o[1] not in self.REG_TYPES or len(ops) != 2:
            raise E.EmuError(f"unsupported instruction: {text}")
        bits = self.REG_TYPES[o[1]]
        d, s = ops
        if d.startswith("{") or s.startswith("{"):
            parts = E._regs(d if d.startswith("{") else s)
            if d.startswith("{") == s.startswith("{") or len(parts) not in (2, 4) or bits < 16:
                raise E.EmuError(f"unsupported instruction: {text}")
            w = bits // len(parts)
            wm = (1 << w) - 1
            if d.startswith("{"):
                sr = self.src(s, bits)
                outs = [(p, w * i) for i, p in enumerate(parts) if p != "_"]

                def fn(t, sr=sr, outs=outs):
                    v = sr(t.r)
                    for p, sh in outs:
                        t.r[p] = (v >> sh) & wm
                return fn
            srcs = [self.src(p, w) for p in parts]
            return lambda t, d=d, srcs=srcs: t.r.__setitem__(
                d, sum((f(t.r) & wm) << (w * i) for i, f in enumerate(srcs)))
        if s in E.SPECIAL:
            return lambda t, d=d, s=s: t.r.__setitem__(d, t.special[s])
        if s in ("%globaltimer", "%globaltimer_lo", "%globaltimer_hi"):
            # the launch's virtual clock (Emu.clock, nanoseconds); the thread is marked as one that reads
            # it (Emu.run advances the clock past a deadlock only for such threads)
            if bits != (64 if s == "%globaltimer" else 32):
                raise E.EmuError(f"unsupported instruction: {text}")
            sh = 32 if s == "%globaltimer_hi" else 0
            mask = E.M64 if s == "%globaltimer" else E.M32

            def fn(t, d=d, sh=sh, mask=mask):
                t.timed = True
                t.r[d] = (t.emu.clock >> sh) & mask
            return fn
        if s in self.globals:  # a module-scope .global variable's address (a constant register of every thread)
            return lambda t, d=d, s=s: t.r.__setitem__(d, t.r[s])
        if s in self.symbols:  # a shared variable's or a byte-array parameter's address
            return lambda t, d=d, v=self.symbols[s]: t.r.__setitem__(d, v)
        if s.startswith("%") and ("." in s or s[1:] in E.SPECIAL_NAMES):
            raise E.EmuError(f"unsupported special register: {text}")
        sr = self.src(s, bits)
        return lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
