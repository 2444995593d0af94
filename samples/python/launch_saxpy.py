#!/usr/bin/env python3
"""Launch a weft-emitted kernel from Python with CuPy, reading its signature block.

    build/tools/weft emit saxpy --arch sm_90a -o out/
    python3 samples/python/launch_saxpy.py out/saxpy.sm_90a.ptx

The `//!` signature block at the top of every weft .ptx lists the kernel's parameters (name, kind,
type, size); this script reads it to check the arguments it passes, then loads the PTX with
cupy.RawModule and launches on CuPy arrays (PyTorch tensors work the same through cupy.asarray or
their data_ptr()). Exits 0 with a message when CuPy or a GPU is missing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weft_signature import read_signature  # noqa: E402


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "out/saxpy.sm_90a.ptx"
    text = open(path).read()
    kernels = read_signature(text)
    saxpy = kernels["saxpy"]
    print("saxpy parameters:", [(p[0], p[2]) for p in saxpy["params"]])
    assert [p[0] for p in saxpy["params"]] == ["n", "a", "x", "y"], "unexpected signature"
    try:
        import cupy
        import numpy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no CuPy, or no GPU
        print(f"not launching: {e}")
        return 0
    module = cupy.RawModule(path=path)  # CuPy loads PTX through the driver (cuModuleLoad)
    fn = module.get_function("saxpy")
    n = 1 << 20
    block = saxpy["reqntid"][0] or 256
    x = cupy.random.rand(n, dtype=cupy.float32)
    y = cupy.random.rand(n, dtype=cupy.float32)
    want = 2.0 * x + y
    fn(((n + block - 1) // block,), (block,), (numpy.uint32(n), numpy.float32(2.0), x, y))
    cupy.cuda.Device().synchronize()
    err = float(cupy.max(cupy.abs(y - want)))
    print(f"saxpy from Python: max error {err}")
    return 0 if err < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
