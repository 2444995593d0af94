#!/usr/bin/env python3
"""Launch a weft-emitted kernel from Python with nothing but the standard library: ctypes and the CUDA
driver API, the same calls weft::rt makes in C++.

    build/tools/weft emit saxpy --arch sm_90a -o out/
    python3 samples/python/launch_saxpy_driver.py out/saxpy.sm_90a.ptx

It reads the kernel's `//!` signature block and packs each argument to the size the block gives (a
mismatch is an error naming the parameter, before anything is launched), loads the PTX with
cuModuleLoadDataEx (the driver JIT-compiles it for the device), launches with cuLaunchKernelEx and
checks y = a * x + y against Python's own arithmetic, element by element.

The driver is libcuda.so.1, or $WEFT_LIBCUDA (as for weft's runtime: the emulated device,
build/tools/emudevice/libcuda.so.1, runs it without a GPU). Every entry point is resolved through
cuGetProcAddress_v2 with the CUDA version of the ABI used here, as weft::rt does: a plain dlsym of
cuMemAlloc would return the legacy entry point. Exits 0 with a message when there is no driver or no
device; 1 when a call fails or a result is wrong.
"""
import ctypes
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weft_signature import read_signature  # noqa: E402

CUDA_SUCCESS = 0
CUDA_ERROR_NO_DEVICE = 100

# (name, CUDA version of the ABI, argument types): the variants runtime/driver.h uses.
P, U32, I32, U64, SZ = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint64, ctypes.c_size_t
ENTRY_POINTS = [
    ("cuInit", 2000, [U32]),
    ("cuGetErrorString", 6000, [I32, ctypes.POINTER(ctypes.c_char_p)]),
    ("cuDeviceGet", 2000, [ctypes.POINTER(I32), I32]),
    ("cuDevicePrimaryCtxRetain", 7000, [ctypes.POINTER(P), I32]),
    ("cuCtxSetCurrent", 4000, [P]),
    ("cuCtxSynchronize", 2000, []),
    ("cuModuleLoadDataEx", 2010, [ctypes.POINTER(P), ctypes.c_char_p, U32, P, P]),
    ("cuModuleUnload", 2000, [P]),
    ("cuModuleGetFunction", 2000, [ctypes.POINTER(P), P, ctypes.c_char_p]),
    ("cuMemAlloc", 3020, [ctypes.POINTER(U64), SZ]),
    ("cuMemFree", 3020, [U64]),
    ("cuMemcpyHtoD", 3020, [U64, P, SZ]),
    ("cuMemcpyDtoH", 3020, [P, U64, SZ]),
    ("cuLaunchKernelEx", 11060, [P, P, ctypes.POINTER(P), P]),
]


class LaunchConfig(ctypes.Structure):  # CUlaunchConfig
    _fields_ = [("gridDimX", U32), ("gridDimY", U32), ("gridDimZ", U32), ("blockDimX", U32),
                ("blockDimY", U32), ("blockDimZ", U32), ("sharedMemBytes", U32), ("hStream", P),
                ("attrs", P), ("numAttrs", U32)]


class Driver:
    """The entry points above, each a Python callable that raises RuntimeError naming the call and the
    driver's own message when it does not return CUDA_SUCCESS."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)  # OSError when missing
        get = lib.cuGetProcAddress_v2  # AttributeError on a driver older than CUDA 12.0
        get.argtypes = [ctypes.c_char_p, ctypes.POINTER(P), I32, U64, ctypes.POINTER(I32)]
        get.restype = I32
        self.raw = {}
        for name, version, args in ENTRY_POINTS:
            fn = P()
            status = I32()
            if get(name.encode(), ctypes.byref(fn), version, 0, ctypes.byref(status)) != CUDA_SUCCESS or not fn:
                raise RuntimeError(f"{path} has no {name} (version {version})")
            self.raw[name] = ctypes.CFUNCTYPE(I32, *args)(fn.value)

    def __getattr__(self, name):
        raw = self.raw[name]

        def call(*args):
            r = raw(*args)
            if r != CUDA_SUCCESS:
                text = ctypes.c_char_p()
                self.raw["cuGetErrorString"](r, ctypes.byref(text))
                raise DriverError(name, r, (text.value or b"unknown error").decode())
        return call


class DriverError(RuntimeError):
    def __init__(self, call, code, text):
        super().__init__(f"{call} failed: {text} (CUresult {code})")
        self.code = code


def pack(params, values):
    """The kernel's argument buffers, one per signature parameter, each exactly the size the signature
    gives; ValueError naming the parameter when a value does not fit it."""
    if len(values) != len(params):
        raise ValueError(f"{len(values)} arguments for {len(params)} parameters: {[p[0] for p in params]}")
    out = []
    for (name, kind, detail, size), v in zip(params, values):
        if kind == "pointer":
            if size != 8 or not isinstance(v, int):
                raise ValueError(f"parameter {name}: a device address (8 bytes) expected")
            out.append(ctypes.c_uint64(v))
        elif kind == "scalar" and detail in ("u32", "s32") and size == 4:
            out.append(ctypes.c_uint32(v) if detail == "u32" else ctypes.c_int32(v))
        elif kind == "scalar" and detail == "f32" and size == 4:
            out.append(ctypes.c_float(v))
        else:
            raise ValueError(f"parameter {name}: {kind} {detail} of {size} bytes is not packed by this example")
    return out


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "out/saxpy.sm_90a.ptx"
    text = open(path).read()
    saxpy = read_signature(text)["saxpy"]
    print("saxpy parameters:", [(p[0], p[2]) for p in saxpy["params"]])
    try:
        cu = Driver(os.environ.get("WEFT_LIBCUDA") or "libcuda.so.1")
        cu.cuInit(0)
        dev = I32()
        cu.cuDeviceGet(ctypes.byref(dev), 0)
    except (OSError, AttributeError, DriverError) as e:  # no driver, a driver too old, no device
        print(f"not launching: {e}")
        return 0
    ctx = P()
    cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev)
    cu.cuCtxSetCurrent(ctx)
    module, fn = P(), P()
    cu.cuModuleLoadDataEx(ctypes.byref(module), text.encode() + b"\0", 0, None, None)
    cu.cuModuleGetFunction(ctypes.byref(fn), module, b"saxpy")

    n = 1 << 16 if os.environ.get("WEFT_APP_QUICK") != "1" else 1000  # quick: the emulated device
    rng = random.Random(1)
    x = (ctypes.c_float * n)(*[rng.uniform(-1, 1) for _ in range(n)])
    y = (ctypes.c_float * n)(*[rng.uniform(-1, 1) for _ in range(n)])
    a = 1.5
    want = [f32(f32(a) * x[i] + y[i]) for i in range(n)]  # the kernel's fma may differ in the last bit
    dx, dy = U64(), U64()
    cu.cuMemAlloc(ctypes.byref(dx), 4 * n)
    cu.cuMemAlloc(ctypes.byref(dy), 4 * n)
    try:
        cu.cuMemcpyHtoD(dx, x, 4 * n)
        cu.cuMemcpyHtoD(dy, y, 4 * n)
        args = pack(saxpy["params"], [n, a, dx.value, dy.value])
        arg_ptrs = (P * len(args))(*[ctypes.addressof(v) for v in args])
        block = saxpy["reqntid"][0] or 256
        cfg = LaunchConfig((n + block - 1) // block, 1, 1, block, 1, 1, 0, None, None, 0)
        cu.cuLaunchKernelEx(ctypes.byref(cfg), fn, arg_ptrs, None)
        cu.cuCtxSynchronize()  # a kernel fault is reported here
        cu.cuMemcpyDtoH(y, dy, 4 * n)
    finally:
        cu.cuMemFree(dx)
        cu.cuMemFree(dy)
        cu.cuModuleUnload(module)
    # fma(a, x, y) rounds once, a * x + y twice: they agree to within an ulp of the larger terms.
    bad = [i for i in range(n) if abs(y[i] - want[i]) > 2 ** -22 * (abs(a * x[i]) + abs(want[i]) + 1e-30)]
    print(f"saxpy from Python (ctypes, driver API): {n} elements, {len(bad)} wrong")
    if bad:
        i = bad[0]
        print(f"first wrong: y[{i}] = {y[i]!r}, want {want[i]!r}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (DriverError, ValueError) as e:
        print(f"launch_saxpy_driver.py: {e}", file=sys.stderr)
        sys.exit(1)
