"""The emulator's register arithmetic (emulator.Kernel compiles through these): integer operations
(16/32/64-bit, signed or unsigned as typed; extended precision with the carry flag), predicate logic,
setp (integer and float, ordered and unordered), f32 and f64 arithmetic, the special-function
instructions (ex2 lg2 sin cos rsqrt rcp sqrt div), cvt and mov (packs, unpacks, special registers).
Each method returns what Kernel.compile returns for one instruction; an operand or qualifier outside
the subset raises EmuError("unsupported instruction"), so nothing is emulated by guess.

Floating point is exact where the PTX ISA makes it exact: add / sub / mul / fma / div / rcp / sqrt
with .rn, .rz, .rm or .rp round the exact result once (fma.rn.f32: the product exactly in a double,
an error-free two-sum and a correction at an f32 midpoint, fma_rn_f32; the directed roundings and
f64 fma: exact integer arithmetic, round_scaled). The .approx instructions (ex2, lg2, sin, cos,
rsqrt, rcp, sqrt; f32, and rcp.approx.ftz.f64) are not exact on a GPU, and the hardware's
approximations (whose errors the PTX ISA only bounds) are not modelled: here they return the correctly
rounded value of the exact function (cr_f32: a libm double, or a decimal evaluation to 60 digits and
more when the double is too close to an f32 rounding boundary; rcp.approx.ftz.f64: the double 1 / x),
with the ISA's special values and .ftz's flushing of subnormal inputs and results to signed zero;
a NaN they produce is the canonical 0x7fffffff (f32). So a kernel whose result depends on the
hardware's last-bit approximation errors computes slightly better results here than on a GPU.
"""
import decimal
import math
import struct
from fractions import Fraction

import numpy as np

import emulator as E


# cvt's integer types -> (bits, signed): the arithmetic's (emulator.INT_TYPES) and the 8-bit ones (cvt.u32.u8
# after an 8-bit load)
CVT_INT_TYPES = {"u8": (8, False), "s8": (8, True), "b16": (16, False), "u16": (16, False), "s16": (16, True),
                 "b32": (32, False), "u32": (32, False), "s32": (32, True), "b64": (64, False), "u64": (64, False),
                 "s64": (64, True)}


# ---- exact floating point: a value S * 2**E (integers) rounded once to f32 / f64 ----
F32 = (24, -149, 128)  # (precision, exponent of the smallest subnormal, 2**emax: the first overflowing power)
F64 = (53, -1074, 1024)
ROUNDINGS = ("rn", "rz", "rm", "rp")
CANON_NAN32 = 0x7FFFFFFF  # the f32 NaN the special-function instructions produce


def round_scaled(S, E, fmt, mode):
    """S * 2**E (S a nonzero integer) rounded once to fmt (F32 / F64) in mode (rn: to nearest even, rz:
    toward zero, rm: toward -inf, rp: toward +inf), subnormals and overflow as IEEE 754: a Python float
    (for F32 one an f32 holds exactly, or an infinity)."""
    prec, qmin, emax = fmt
    neg = S < 0
    m = -S if neg else S
    q = max(E + m.bit_length() - prec, qmin)
    if q > E:
        sh = q - E
        rest = m & ((1 << sh) - 1)
        m >>= sh
        E = q
        if rest:
            if mode == "rn":
                half = 1 << (sh - 1)
                up = rest > half or (rest == half and m & 1)
            else:
                up = mode == ("rm" if neg else "rp")
            if up:
                m += 1
    if m.bit_length() + E > emax:  # overflow: infinity, or the largest finite value toward zero
        if mode == "rn" or mode == ("rm" if neg else "rp"):
            v = math.inf
        else:
            v = math.ldexp(float((1 << prec) - 1), emax - prec)
    else:
        v = math.ldexp(float(m), E)  # exact
    return -v if neg else v


def _split(x):
    """A finite nonzero float as (S, E), x = S * 2**E exactly."""
    m, e = math.frexp(x)
    return int(m * 9007199254740992.0), e - 53


def _zero_sum(x, y, mode):
    """The signed zero x + y gives when its exact value is zero (IEEE 754: -0 only for two negative zeros,
    or under rm)."""
    if x == 0 and y == 0 and math.copysign(1.0, x) == math.copysign(1.0, y):
        return x
    return -0.0 if mode == "rm" else 0.0


def add_exact(a, b, fmt, mode):
    """a + b (floats of fmt), rounded once."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a + b
    if a == 0 or b == 0:
        return _zero_sum(a, b, mode) if a == b == 0 else (b if a == 0 else a)
    (sa, ea), (sb, eb) = _split(a), _split(b)
    e = min(ea, eb)
    s = (sa << (ea - e)) + (sb << (eb - e))
    return round_scaled(s, e, fmt, mode) if s else (-0.0 if mode == "rm" else 0.0)


def mul_exact(a, b, fmt, mode):
    """a * b (floats of fmt), rounded once."""
    if not (math.isfinite(a) and math.isfinite(b)) or a == 0 or b == 0:
        return a * b  # (a zero's sign: the product of the signs, as IEEE 754)
    (sa, ea), (sb, eb) = _split(a), _split(b)
    return round_scaled(sa * sb, ea + eb, fmt, mode)


def fma_exact(a, b, c, fmt, mode):
    """a * b + c (floats of fmt), the exact value rounded once."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c  # infinities and NaNs: as IEEE 754 (inf * 0 and inf - inf are NaN)
    if a == 0 or b == 0:
        p = math.copysign(0.0, a) * math.copysign(1.0, b)
        return _zero_sum(p, c, mode) if c == 0 else c
    (sa, ea), (sb, eb) = _split(a), _split(b)
    s, e = sa * sb, ea + eb
    if c != 0:
        sc, ec = _split(c)
        m = min(e, ec)
        s = (s << (e - m)) + (sc << (ec - m))
        e = m
    return round_scaled(s, e, fmt, mode) if s else (-0.0 if mode == "rm" else 0.0)


def _f32_midpoint(s):
    """True when the double s lies exactly halfway between two adjacent f32 values (or between the largest
    f32 and 2**128)."""
    if abs(s) < 1.1754943508222875e-38:  # f32 subnormal range: the quantum is 2**-149
        t = s * 1427247692705959881058285969449495136382746624.0  # 2**150
    else:
        t = math.frexp(s)[0] * 33554432.0  # 2**25: a midpoint has a 25th significant bit and nothing below
    return t.is_integer() and int(t) & 1 == 1


def fma_rn_f32(a, b, c):
    """fma.rn.f32 of f32 values a, b, c (Python floats): f32 bits of a * b + c rounded once. The product
    is exact in a double; s = fl(p + c) and the two-sum error e make p + c = s + e exactly, and
    rounding s to f32 is right unless s is an f32 midpoint and e is not zero: then e picks the side.
    (struct's f32 packing rounds to nearest even, as np.float32 does, and faster; past the largest f32
    it raises, and fma_exact decides.)"""
    p = a * b
    s = p + c
    try:
        packed = _PACK_F32(s)
    except OverflowError:
        return f32_bits(fma_exact(a, b, c, F32, "rn"))
    bits = _UNPACK_U32(packed)[0]
    if s - s != 0.0:  # an infinity or NaN operand
        return bits
    bb = s - p
    e = (p - (s - bb)) + (c - bb)
    if e != 0.0 and _UNPACK_F32(packed)[0] != s and _f32_midpoint(s):
        up = (e > 0) == (s > 0)  # the exact value's magnitude is above |s|
        if up != (abs(_UNPACK_F32(packed)[0]) > abs(s)):
            bits += 1 if up else -1
    return bits


_PACK_F32 = struct.Struct("<f").pack
_UNPACK_F32 = struct.Struct("<f").unpack
_UNPACK_U32 = struct.Struct("<I").unpack


def f32_bits(v):
    """f32 bits of a float an f32 holds exactly (or an infinity / NaN)."""
    if v != v:
        return CANON_NAN32
    if math.isinf(v):
        return 0x7F800000 if v > 0 else 0xFF800000
    return E.f2b(np.float32(v))


def _round_frac(q, fmt, mode):
    """A nonzero Fraction rounded once to fmt in mode (a float): through round_scaled, with a sticky bit
    below two more bits than the result can have."""
    n, d = q.numerator, q.denominator
    k = max(fmt[0] + 3 - (abs(n).bit_length() - d.bit_length()), -fmt[1] + 3)
    s, rest = divmod(abs(n) << k, d)
    s = 2 * s + (1 if rest else 0)
    return round_scaled(-s if n < 0 else s, -k - 1, fmt, mode)


def frac_to_f32(q):
    """A Fraction rounded to nearest even f32 (a float)."""
    return 0.0 if q == 0 else _round_frac(q, F32, "rn")


def _sqrt_directed(q, fmt, mode):
    """sqrt of a positive Fraction whose denominator is a power of two (a float's value), rounded once to
    fmt in mode: an integer square root with a sticky bit."""
    n, d = q.numerator, q.denominator
    k = d.bit_length() - 1 + 2 * (fmt[0] + 3)
    k += k & 1
    v = (n << k) // d  # exact: d divides 2**k
    s = math.isqrt(v)
    return round_scaled(2 * s + (1 if s * s != v else 0), -k // 2 - 1, fmt, mode)


_DEC = decimal.Context(prec=60)
_PI_CACHE = {}


def _dec_pi(prec):
    """pi to about prec digits (Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239)), as a Decimal."""
    if prec not in _PI_CACHE:
        ctx = decimal.Context(prec=prec + 10)

        def atan_inv(n):  # atan(1/n) by its series
            total, term, k, n2 = decimal.Decimal(0), ctx.divide(1, n), 1, n * n
            eps = decimal.Decimal(10) ** -(prec + 8)
            while abs(term) > eps:
                # (ctx's operations throughout: a bare unary minus would round to the default 28 digits)
                total = (ctx.add if k % 4 == 1 else ctx.subtract)(total, ctx.divide(term, k))
                term = ctx.divide(term, n2)
                k += 2
            return total
        _PI_CACHE[prec] = ctx.subtract(ctx.multiply(16, atan_inv(5)), ctx.multiply(4, atan_inv(239)))
    return _PI_CACHE[prec]


def _dec_sincos(x, want_sin):
    """sin or cos of a float x to about 80 correct digits (reduced by pi / 2 with a pi long enough for
    any f32 argument), a Decimal."""
    ctx = decimal.Context(prec=130)
    half_pi = ctx.divide(_dec_pi(130), 2)
    dx = decimal.Decimal(x)
    k = int(ctx.divide(dx, half_pi).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    r = ctx.subtract(dx, ctx.multiply(k, half_pi))
    quadrant = (k + (0 if want_sin else 1)) % 4  # cos x = sin(x + pi/2)
    use_cos = quadrant % 2 == 1
    r2 = ctx.multiply(r, r)
    term = decimal.Decimal(1) if use_cos else r
    total, i = term, 1 if use_cos else 2
    eps = decimal.Decimal(10) ** -110
    while abs(term) > eps:
        term = ctx.divide(ctx.multiply(ctx.minus(term), r2),
                          (2 * i - 1) * (2 * i) if use_cos else (2 * i - 2) * (2 * i - 1))
        total = ctx.add(total, term)
        i += 1
    return ctx.minus(total) if quadrant >= 2 else total


def cr_f32(v, exact):
    """f32 bits of a real function value, correctly rounded: v is a libm double of it (relative error far
    below 2**-48); when v and the ends of v (1 +- 2**-48) round to the same f32 that is the answer, else
    exact() (a Decimal or Fraction good to far more than f32's 24 bits, not at a midpoint) decides."""
    if v == 0 or not math.isfinite(v) or abs(v) > 3.4e38 or abs(v) < 1e-45:
        return frac_to_f32_bits(exact()) if math.isfinite(v) and v != 0 else f32_bits(v)
    r = np.float32(v)
    lo, hi = v * (1 - 2.0 ** -48), v * (1 + 2.0 ** -48)
    if np.float32(lo) == r and np.float32(hi) == r:
        return E.f2b(r)
    return frac_to_f32_bits(exact())


def frac_to_f32_bits(q):
    """f32 bits of a Decimal or Fraction rounded to nearest even (a zero keeps the sign of q)."""
    q = Fraction(q)
    v = frac_to_f32(q)
    return 0x80000000 if v == 0 and q < 0 else f32_bits(v)


# the .approx functions (of an f32 value, a float, already flushed by .ftz): f32 bits, correctly rounded
_LN2 = _DEC.ln(2)
_F32_OVER = 3.4028235677973366e+38  # from here on an f32 rounds to infinity


def _ex2(x):
    if x != x:
        return CANON_NAN32
    if x >= 128:
        return 0x7F800000
    if x < -151:  # below half the smallest subnormal (and -inf)
        return 0
    if x.is_integer():  # a power of two: exact (2**-150 is a tie, to even: +0)
        return f32_bits(frac_to_f32(Fraction(2) ** int(x)))
    return cr_f32(math.exp2(x), lambda: _DEC.exp(_DEC.multiply(decimal.Decimal(x), _LN2)))


def _lg2(x):
    if x != x or x < 0:
        return CANON_NAN32
    if x == 0:
        return 0xFF800000
    if math.isinf(x):
        return 0x7F800000
    m, e = math.frexp(x)
    if m == 0.5:  # a power of two: exact
        return f32_bits(float(e - 1))
    return cr_f32(math.log2(x), lambda: _DEC.divide(_DEC.ln(decimal.Decimal(x)), _LN2))


def _sin(x):
    if not math.isfinite(x):
        return CANON_NAN32
    if x == 0:
        return f32_bits(x) if x > 0 or math.copysign(1.0, x) > 0 else 0x80000000
    return cr_f32(math.sin(x), lambda: _dec_sincos(x, True))


def _cos(x):
    if not math.isfinite(x):
        return CANON_NAN32
    if x == 0:
        return 0x3F800000
    return cr_f32(math.cos(x), lambda: _dec_sincos(x, False))


def _rsqrt(x):
    if x != x or x < 0:
        return CANON_NAN32
    if x == 0:
        return 0xFF800000 if math.copysign(1.0, x) < 0 else 0x7F800000
    if math.isinf(x):
        return 0
    return cr_f32(1.0 / math.sqrt(x), lambda: _DEC.divide(1, _DEC.sqrt(decimal.Decimal(x))))


def _rcp32(x):
    if x != x:
        return CANON_NAN32
    if x == 0:
        return 0xFF800000 if math.copysign(1.0, x) < 0 else 0x7F800000
    if math.isinf(x):
        return 0x80000000 if x < 0 else 0
    v = 1.0 / x  # a double, rounded once; rounding it to f32 is then right too (53 >= 2 * 24 + 2)
    if abs(v) >= _F32_OVER:
        return 0xFF800000 if v < 0 else 0x7F800000
    return E.f2b(np.float32(v))


def _sqrt32(x):
    if x != x or x < 0:
        return CANON_NAN32
    return f32_bits(float(np.float32(math.sqrt(x))))  # (-0 stays -0; a double's root, rounded again: right)


def _rcp64(x):
    if x != x:
        return E.d2b(x)
    if x == 0:
        return E.d2b(math.copysign(math.inf, x))
    if math.isinf(x):
        return E.d2b(math.copysign(0.0, x))
    return E.d2b(1.0 / x)


CARRY = "%%cc"  # the carry flag CC.CF: a register of the frame under a name no PTX register has


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

    def _float_form(self, name, o, ops, text, bits):
        """What f32_op and f64_op share: the rounding modifier (none or one of ROUNDINGS; fma needs one,
        neg / abs take none) and the operand count checked; neg / abs themselves, on the sign bit of a
        `bits`-wide register. Returns (mode, None), or (None, the closure) for neg / abs."""
        mods = o[1:-1]
        if mods not in {"fma": [[r] for r in ROUNDINGS], "neg": [[]], "abs": [[]]}.get(
                name, [[]] + [[r] for r in ROUNDINGS]):
            raise E.EmuError(f"unsupported instruction: {text}")
        if name in ("neg", "abs"):
            if len(ops) != 2:
                raise E.EmuError(f"unsupported instruction: {text}")
            d, a, sign = ops[0], self.src(ops[1], bits), 1 << (bits - 1)
            if name == "neg":
                return None, lambda t, d=d, a=a: t.r.__setitem__(d, a(t.r) ^ sign)
            return None, lambda t, d=d, a=a: t.r.__setitem__(d, a(t.r) & (sign - 1))
        if len(ops) != (4 if name == "fma" else 3):
            raise E.EmuError(f"unsupported instruction: {text}")
        return (mods[0] if mods else "rn"), None

    def f32_op(self, name, o, ops, text):
        """add / sub / mul [.rn] .f32 (numpy's IEEE single arithmetic), add / sub / mul .{rz,rm,rp}.f32 and
        fma.{rn,rz,rm,rp}.f32 (the exact result rounded once: fma_rn_f32, fma_exact), neg.f32, abs.f32,
        min.f32 / max.f32 (PTX's: a NaN operand gives the other, two give the canonical NaN; -0 < +0)."""
        if name in ("min", "max"):
            if o[1:-1] or len(ops) != 3:
                raise E.EmuError(f"unsupported instruction: {text}")
            d, a, b = ops[0], self.src(ops[1]), self.src(ops[2])

            def pick(x, y, want_max=name == "max"):
                fx, fy = E.b2f(x), E.b2f(y)
                if fx != fx:
                    return 0x7FFFFFFF if fy != fy else y
                if fy != fy:
                    return x
                kx, ky = (fx, math.copysign(1.0, fx)), (fy, math.copysign(1.0, fy))  # -0 below +0
                return x if (kx >= ky) == want_max else y
            return lambda t, d=d, a=a, b=b, pick=pick: t.r.__setitem__(d, pick(a(t.r), b(t.r)))
        mode, sign_op = self._float_form(name, o, ops, text, 32)
        if sign_op:
            return sign_op
        d = ops[0]
        a, b = self.src(ops[1]), self.src(ops[2])
        if name == "fma":
            c = self.src(ops[3])
            if mode == "rn":
                return lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
                    d, fma_rn_f32(E.b2f(a(t.r)), E.b2f(b(t.r)), E.b2f(c(t.r))))
            return lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
                d, f32_bits(fma_exact(E.b2f(a(t.r)), E.b2f(b(t.r)), E.b2f(c(t.r)), F32, mode)))
        if mode != "rn":  # directed rounding: exact
            if name == "mul":
                return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                    d, f32_bits(mul_exact(E.b2f(a(t.r)), E.b2f(b(t.r)), F32, mode)))
            sg = -1.0 if name == "sub" else 1.0
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, f32_bits(add_exact(E.b2f(a(t.r)), sg * E.b2f(b(t.r)), F32, mode)))
        if name == "add":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) + np.float32(E.b2f(b(t.r)))))
        if name == "sub":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) - np.float32(E.b2f(b(t.r)))))
        return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, E.f2b(np.float32(E.b2f(a(t.r))) * np.float32(E.b2f(b(t.r)))))

    def f64_op(self, name, o, ops, text):
        """add / sub / mul .{rn,rz,rm,rp}.f64 (.rn: Python's IEEE double arithmetic; the others exact),
        fma.{rn,rz,rm,rp}.f64 (the exact a * b + c rounded once: fma_exact), neg.f64, abs.f64."""
        mode, sign_op = self._float_form(name, o, ops, text, 64)
        if sign_op:
            return sign_op
        d = ops[0]
        a, b = self.src(ops[1], 64), self.src(ops[2], 64)
        b2d, d2b = E.b2d, E.d2b
        if name == "fma":
            c = self.src(ops[3], 64)
            return lambda t, d=d, a=a, b=b, c=c: t.r.__setitem__(
                d, d2b(fma_exact(b2d(a(t.r)), b2d(b(t.r)), b2d(c(t.r)), F64, mode)))
        if mode != "rn":
            if name == "mul":
                return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, d2b(mul_exact(b2d(a(t.r)), b2d(b(t.r)), F64, mode)))
            sg = -1.0 if name == "sub" else 1.0
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, d2b(add_exact(b2d(a(t.r)), sg * b2d(b(t.r)), F64, mode)))
        if name == "add":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, d2b(b2d(a(t.r)) + b2d(b(t.r))))
        if name == "sub":
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, d2b(b2d(a(t.r)) - b2d(b(t.r))))
        return lambda t, d=d, a=a, b=b: t.r.__setitem__(d, d2b(b2d(a(t.r)) * b2d(b(t.r))))

    SPECIAL_F32 = ("ex2", "lg2", "sin", "cos", "rsqrt", "rcp", "sqrt", "div")

    def special_op(self, name, o, ops, text):
        """The special-function instructions: ex2 / lg2 / sin / cos / rsqrt / sqrt .approx[.ftz].f32, rcp
        .approx[.ftz].f32, rcp.approx.ftz.f64, and the exact rcp / sqrt / div .{rn,rz,rm,rp}[.ftz].f32
        and .f64 (.ftz: f32 only). The .approx ones are correctly rounded here (cr_f32; the module
        docstring), with the special values of the PTX ISA (ex2: -inf -> +0, +inf -> +inf; lg2: +-0 ->
        -inf, x < 0 -> NaN; rsqrt: +-0 -> +-inf, x < 0 -> NaN, +inf -> +0; rcp: +-0 -> +-inf; sin / cos:
        +-inf -> NaN); .ftz flushes subnormal inputs and results to zero, keeping the sign."""
        ty = o[-1]
        mods = o[1:-1]
        ftz = "ftz" in mods
        mods = [m for m in mods if m != "ftz"]
        nsrc = 2 if name == "div" else 1
        if len(ops) != nsrc + 1 or ty not in ("f32", "f64") or len(mods) != 1:
            raise E.EmuError(f"unsupported instruction: {text}")
        mode = mods[0]
        if mode == "approx":
            ok = (name in ("ex2", "lg2", "sin", "cos", "rsqrt", "rcp", "sqrt") and ty == "f32") or \
                (name == "rcp" and ty == "f64" and ftz)
        else:
            ok = mode in ROUNDINGS and name in ("rcp", "sqrt", "div") and not (ftz and ty == "f64")
        if not ok:
            raise E.EmuError(f"unsupported instruction: {text}")
        d = ops[0]
        bits = 32 if ty == "f32" else 64
        srcs = [self.src(x, bits) for x in ops[1:]]
        tiny = 1.1754943508222875e-38 if ty == "f32" else 2.2250738585072014e-308
        conv, fmt = (E.b2f, F32) if ty == "f32" else (E.b2d, F64)

        def flush(x):  # .ftz: a subnormal to zero of its sign
            return math.copysign(0.0, x) if ftz and x != 0 and abs(x) < tiny else x

        if mode == "approx":
            f = {"ex2": _ex2, "lg2": _lg2, "sin": _sin, "cos": _cos, "rsqrt": _rsqrt, "rcp": _rcp32,
                 "sqrt": _sqrt32}[name] \
                if ty == "f32" else _rcp64
            a, = srcs

            def run(x):
                y = f(flush(conv(x)))  # f32 bits (f64: bits)
                if ftz:
                    mag = y & (0x7FFFFFFF if ty == "f32" else 0x7FFFFFFFFFFFFFFF)
                    if 0 < mag < (0x00800000 if ty == "f32" else 0x0010000000000000):
                        y &= (0x80000000 if ty == "f32" else 0x8000000000000000)
                return y
            return lambda t, d=d, a=a, run=run: t.r.__setitem__(d, run(a(t.r)))

        def exact(*xs):  # rcp / sqrt / div, rounded once in mode
            xs = [flush(conv(x)) for x in xs]
            if name == "div" or name == "rcp":
                num, den = (xs[0], xs[1]) if name == "div" else (1.0, xs[0])
                if num != num or den != den or (math.isinf(num) and math.isinf(den)) or (num == 0 and den == 0):
                    return math.nan
                if math.isinf(num) or den == 0:
                    return math.copysign(math.inf, num) * math.copysign(1.0, den)
                if math.isinf(den) or num == 0:
                    return math.copysign(0.0, num) * math.copysign(1.0, den)
                q = Fraction(num) / Fraction(den)
            else:
                x = xs[0]
                if x != x or x < 0:
                    return math.nan
                if x == 0 or math.isinf(x):
                    return x
                q = Fraction(x)
                if mode == "rn":  # sqrt of a double, rounded once, is right for f64; for f32 through it too
                    v = math.sqrt(x)
                    return v if ty == "f64" else float(np.float32(v))
                # directed: the floor / ceiling square root at fmt's precision, by integers
                return _sqrt_directed(q, fmt, mode)
            return _round_frac(q, fmt, mode)

        out = (lambda v: f32_bits(v) if v == v else CANON_NAN32) if ty == "f32" else E.d2b

        def run2(*xs):
            y = out(exact(*xs))
            if ftz:
                mag = y & 0x7FFFFFFF
                if 0 < mag < 0x00800000:
                    y &= 0x80000000
            return y
        if nsrc == 1:
            a, = srcs
            return lambda t, d=d, a=a, run2=run2: t.r.__setitem__(d, run2(a(t.r)))
        a, b = srcs
        return lambda t, d=d, a=a, b=b, run2=run2: t.r.__setitem__(d, run2(a(t.r), b(t.r)))

    def carry_op(self, name, o, ops, text):
        """Extended-precision integer arithmetic with the carry flag CC.CF (a register of the frame:
        CARRY): add.cc / addc[.cc], sub.cc / subc[.cc] (CF is the borrow), mad{.lo,.hi}.cc /
        madc{.lo,.hi}[.cc] on u32 / s32 / u64 / s64 (the product's half by the type's signedness; the
        addition's carry is unsigned). A carry-in read before any .cc instruction wrote CF is an error."""
        ty = o[-1]
        if ty not in ("u32", "s32", "u64", "s64"):
            raise E.EmuError(f"unsupported instruction: {text}")
        base = name[:-1] if name in ("addc", "subc", "madc") else name
        cin = base != name
        mods = o[1:-1]
        cout = "cc" in mods
        mods = [m for m in mods if m != "cc"]
        if (base == "mad" and mods not in (["lo"], ["hi"])) or (base != "mad" and mods) or \
                len(ops) != (4 if base == "mad" else 3) or not (cin or cout):
            raise E.EmuError(f"unsupported instruction: {text}")
        bits, signed = E.INT_TYPES[ty]
        mask, top = (1 << bits) - 1, 1 << (bits - 1)
        sx = (lambda v: (v & mask) - ((v & top) << 1)) if signed else (lambda v: v & mask)
        d = ops[0]
        a, b = self.src(ops[1], bits), self.src(ops[2], bits)
        c = self.src(ops[3], bits) if base == "mad" else None
        hi = mods == ["hi"]

        def fn(t):
            r = t.r
            ci = r[CARRY] if cin else 0
            if base == "add":
                s = a(r) + b(r) + ci
            elif base == "sub":
                s = a(r) - b(r) - ci
            else:
                p = sx(a(r)) * sx(b(r))
                s = ((p >> bits) if hi else p) & mask
                s += c(r) + ci
            r[d] = s & mask
            if cout:
                r[CARRY] = (1 if s < 0 else 0) if base == "sub" else s >> bits
        return fn

    def cvt_float(self, mods, dty, d, a, text):
        """cvt{.rni,.rzi,.rmi,.rpi}{.ftz}{.sat}.f32.f32 (and .f64.f64 without .ftz): a float rounded to an
        integral value in its own format (sign kept: -0.3 to -0.0), .sat clamping to [+0.0, 1.0] (a NaN to
        +0.0), .ftz flushing a subnormal input to zero of its sign."""
        irnd = [m for m in mods if m in ("rni", "rzi", "rmi", "rpi")]
        rest = [m for m in mods if m not in ("rni", "rzi", "rmi", "rpi")]
        if len(irnd) > 1 or rest not in ([], ["ftz"], ["sat"], ["ftz", "sat"]) or (dty == "f64" and "ftz" in rest) \
                or not mods:
            raise E.EmuError(f"unsupported instruction: {text}")
        f32 = dty == "f32"
        conv, tiny = (E.b2f, 1.1754943508222875e-38) if f32 else (E.b2d, 2.2250738585072014e-308)
        rfn = {"rni": np.rint, "rzi": np.trunc, "rmi": np.floor, "rpi": np.ceil}[irnd[0]] if irnd else None
        ftz, sat = "ftz" in rest, "sat" in rest

        def f(bits):
            x = conv(bits)
            if ftz and x != 0 and abs(x) < tiny:
                x = math.copysign(0.0, x)
            if rfn is not None and math.isfinite(x):
                x = float(rfn(np.float64(x)))  # (exact: an integral value of the same format, sign kept)
            if sat:
                x = 0.0 if not x > 0 else min(x, 1.0)
            if f32:
                return E.f2b(np.float32(x)) if x == x else CANON_NAN32
            return E.d2b(x)
        return lambda t, d=d, a=a, f=f: t.r.__setitem__(d, f(a(t.r)))

    def cvt(self, o, ops, text):
        """cvt between integers (8- to 64-bit; sign- or zero-extension by the source type, truncation), .rn integer
        to f32 / f64, .rzi / .rni / .rmi / .rpi f32 / f64 to integer (saturating, NaN to 0), f32 <-> f64
        (.rn), .rn f32 to bf16, bf16 to f32, .rn.bf16x2.f32 (d = {cvt(a), cvt(b)}, a in the high
        half), .rn.satfinite.e4m3x2.f32 (the same packing in 16 bits), and f32 -> f32 / f64 -> f64 rounding to an integral value or saturating (cvt_float)."""
        d = ops[0]
        if o[1:] == ["rn", "satfinite", "e4m3x2", "f32"] and len(ops) == 3:  # d = {e4m3(a) high, e4m3(b) low}
            a, b = self.src(ops[1]), self.src(ops[2])
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, (E.f_to_e4m3_rn_satfinite(E.b2f(a(t.r))) << 8) | E.f_to_e4m3_rn_satfinite(E.b2f(b(t.r))))
        if o[1:] == ["rn", "bf16x2", "f32"] and len(ops) == 3:
            a, b = self.src(ops[1]), self.src(ops[2])
            return lambda t, d=d, a=a, b=b: t.r.__setitem__(
                d, (E.f_to_bf16_rn(E.b2f(a(t.r))) << 16) | E.f_to_bf16_rn(E.b2f(b(t.r))))
        if len(o) >= 3 and o[-1] == o[-2] and o[-1] in ("f32", "f64") and len(ops) == 2:
            return self.cvt_float(o[1:-2], o[-1], d, self.src(ops[1], 32 if o[-1] == "f32" else 64), text)
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
        if s in self.globals or s in self.frame_syms:
            # a module-scope .global variable's address (a constant register of every thread), a .func's .local
            # variable's (a register of its frame)
            return lambda t, d=d, s=s: t.r.__setitem__(d, t.r[s])
        if s in self.symbols:  # a shared variable's, a byte-array parameter's or the entry's .local variable's address
            return lambda t, d=d, v=self.symbols[s]: t.r.__setitem__(d, v)
        if s.startswith("%") and ("." in s or s[1:] in E.SPECIAL_NAMES):
            raise E.EmuError(f"unsupported special register: {text}")
        sr = self.src(s, bits)
        return lambda t, d=d, sr=sr: t.r.__setitem__(d, sr(t.r))
