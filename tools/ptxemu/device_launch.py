#!/usr/bin/env python3
"""One kernel launch of a fake CUDA driver, run in the PTX emulator: the bridge between a driver that
stands in for libcuda.so.1 on a machine without a GPU and emulator.py. One launch per process.

    python3 tools/ptxemu/device_launch.py REQUEST.json

The request (a JSON object the driver writes):

    ptx            path of the module's PTX text (it may hold several .entry)
    entry          the .entry to run
    grid, block    [x, y, z] each; cluster [x, y, z] ([1, 1, 1] when the launch set none): the PTX's
                   .reqnctapercluster when it has one (a launch cluster other than [1, 1, 1] must then
                   be the same), else the launch's; clusters along x only
    dynamic_smem   bytes of dynamic shared memory each CTA has (an access past them faults)
    params         the raw little-endian bytes of each .entry parameter, hex, in declaration order: a
                   scalar exactly its type's size (u32 / s32 / f32 / b32: 4, u64 / s64 / f64 / b64: 8,
                   u16: 2, u8: 1; an f32 is its IEEE bits, decoded here as the emulator keeps registers:
                   raw bits), a byte array (`.param .align 64 .b8 tmap[128]`: a tensor map) exactly its
                   length; a tensor map must be in the emulator's own 128-byte encoding (tma.py's
                   TMAP_FORMAT, as host.tensor_map writes it), not a real driver's
    memory, size   the device memory: a file whose offset is the device address; bytes [0, size) are
                   live (the file must hold them); the launch reads and writes it in place (mmap), so it
                   holds the final contents afterwards
    allocations    [[base, bytes, "name"], ...], every live allocation (host-mapped ones and module
                   globals too), sorted by base, disjoint, inside [0, size): every global access must
                   stay inside one (else illegal_address) and be aligned to its size (else misaligned)
    globals        the module's .global variables: {name: device address} (the driver allocates and
                   initializes them; every one the module declares must be there)
    seed           the scheduler's seed (the interleavings; the same seed runs the same way)
    result         where to write the result
    (optional) resident_ctas   at most this many CTAs resident at once (a CTA launches when an earlier
                   one exits, as on a full GPU; default all of them up to 512, else 512)
    (optional) max_rounds      scheduling rounds before the launch is given up (status "error"),
                   default 2,000,000

The result (a JSON object): {"status", "message", "instructions", "rounds", "seconds"}, status one of
ok, trap (the kernel's trap instruction; a debug-wait build's report is in memory by then),
illegal_address, misaligned (global or shared memory, TMA included), deadlock (nothing can progress;
with %globaltimer readers, only after 10 s of virtual time: emulator.Emu), unsupported (an
instruction, operand or launch shape the emulator does not model: a warp collective in a partial
warp, clusters not along x, ...), error (anything else: a broken mbarrier protocol, a bad tensor
map, an emulator failure);
message: one paragraph (the emulator's error: what, the thread, its CTA and the instruction).

Exits 0 whenever it wrote a result, whatever the status; 2, with the reason on stderr, when the
request itself is bad (missing or malformed fields, files that cannot be read, parameters that do not
match the entry's).
"""
import importlib.util
import json
import mmap
import os
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if importlib.util.find_spec("numpy") is None:  # the emulator's modules need it
    sys.exit("device_launch.py: numpy is missing for " + sys.executable +
             ": install python3-numpy (tools/deps.sh does) or run with a python3 that has numpy")

import emulator as E  # noqa: E402

STATUSES = ("ok", "trap", "illegal_address", "misaligned", "deadlock", "unsupported", "error")
DEFAULT_RESIDENT = 512
DEFAULT_MAX_ROUNDS = 2_000_000


class BadRequest(Exception):
    pass


def _dim3(req, key):
    v = req.get(key)
    if not isinstance(v, list) or len(v) != 3 or not all(isinstance(x, int) and x >= 1 for x in v):
        raise BadRequest(f"{key}: [x, y, z] of positive integers expected, got {v!r}")
    return tuple(v)


def read_request(path):
    try:
        with open(path) as f:
            req = json.load(f)
    except (OSError, ValueError) as ex:
        raise BadRequest(f"cannot read the request {path}: {ex}") from None
    if not isinstance(req, dict):
        raise BadRequest("the request is not a JSON object")
    for key, ty in (("ptx", str), ("entry", str), ("dynamic_smem", int), ("params", list), ("memory", str),
                    ("size", int), ("allocations", list), ("globals", dict), ("seed", int), ("result", str)):
        if not isinstance(req.get(key), ty) or isinstance(req.get(key), bool):
            what = {str: "a string", int: "an integer", list: "a list", dict: "an object"}[ty]
            raise BadRequest(f"{key}: {what} expected, got {req.get(key)!r}")
    for key in ("grid", "block", "cluster"):
        req[key] = _dim3(req, key)
    if req["size"] <= 0 or req["dynamic_smem"] < 0:
        raise BadRequest(f"size {req['size']} / dynamic_smem {req['dynamic_smem']}")
    allocs = []
    for a in req["allocations"]:
        if not (isinstance(a, list) and len(a) == 3 and isinstance(a[0], int) and isinstance(a[1], int) and
                isinstance(a[2], str) and a[0] >= 0 and a[1] >= 0):
            raise BadRequest(f"allocations: [base, bytes, name] expected, got {a!r}")
        allocs.append(tuple(a))
    req["allocations"] = allocs
    for name, a in req["globals"].items():
        if not isinstance(a, int) or a < 0:
            raise BadRequest(f"globals: {name}: an address expected, got {a!r}")
    for key in ("resident_ctas", "max_rounds"):
        if key in req and (not isinstance(req[key], int) or req[key] < 1):
            raise BadRequest(f"{key}: a positive integer expected, got {req[key]!r}")
    return req


def bind_params(kernel, hexes):
    """{name: value} for Emu: a scalar's raw bits as an int (little-endian), a byte array as bytes."""
    if len(hexes) != len(kernel.params):
        raise BadRequest(f"{len(hexes)} parameters for .entry {kernel.name}, which has {len(kernel.params)}: "
                         + ", ".join(f".{ty} {n}" for ty, n in kernel.params))
    out = {}
    for (ty, name), h in zip(kernel.params, hexes):
        try:
            raw = bytes.fromhex(h)
        except (TypeError, ValueError):
            raise BadRequest(f"parameter {name}: not a hex string: {h!r}") from None
        want = kernel.param_bytes.get(name, E.MEM_TYPES.get(ty))
        if want is None:
            raise BadRequest(f"parameter {name}: type .{ty} is not one the emulator binds")
        if len(raw) != want:
            raise BadRequest(f"parameter {name} (.{ty}{f'[{want}]' if name in kernel.param_bytes else ''}): "
                             f"{len(raw)} bytes given, {want} expected")
        out[name] = raw if name in kernel.param_bytes else int.from_bytes(raw, "little")
    return out


def one_paragraph(text, limit=4000):
    text = " ".join(str(text).split("\n"))
    return text if len(text) <= limit else text[:limit] + " ..."


def launch(req):
    """Runs the launch; returns the result (a dict). Raises BadRequest for a bad request."""
    t0 = time.time()
    try:
        with open(req["ptx"]) as f:
            text = f.read()
    except OSError as ex:
        raise BadRequest(f"cannot read the PTX {req['ptx']}: {ex}") from None
    result = {"status": "ok", "message": "", "instructions": 0, "rounds": 0, "seconds": 0.0}
    emu = None
    mm = None
    try:
        try:
            kernel = E.Kernel(text, entry=req["entry"])
        except E.EmuError as ex:
            if str(ex).startswith("no .entry") or str(ex).startswith("the module has no .entry"):
                raise BadRequest(str(ex)) from None
            raise
        params = bind_params(kernel, req["params"])
        size = req["size"]
        try:
            fd = os.open(req["memory"], os.O_RDWR)
        except OSError as ex:
            raise BadRequest(f"cannot open the memory {req['memory']}: {ex}") from None
        try:
            if os.fstat(fd).st_size < size:
                raise BadRequest(f"the memory file {req['memory']} holds {os.fstat(fd).st_size} bytes, fewer than "
                                 f"size {size}")
            mm = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
        finally:
            os.close(fd)
        try:
            mem = E.Memory(size, buf=mm, allocs=req["allocations"], count_writes=False)
        except E.EmuError as ex:
            raise BadRequest(f"allocations: {ex}") from None
        grid, block = req["grid"], req["block"]
        total = grid[0] * grid[1] * grid[2]
        resident = req.get("resident_ctas", DEFAULT_RESIDENT)
        emu = E.Emu(mem, kernel, grid, block, params, seed=req["seed"], max_slice=128, warp_speeds=True,
                    dynamic_smem=req["dynamic_smem"], global_addrs=req["globals"], cluster=req["cluster"],
                    max_resident=None if total <= resident else resident)
        emu.run(max_rounds=req.get("max_rounds", DEFAULT_MAX_ROUNDS))
    except BadRequest:
        raise
    except E.EmuError as ex:
        result["status"] = ex.kind if ex.kind in STATUSES else "error"
        result["message"] = one_paragraph(ex)
    except Exception as ex:  # an emulator failure: reported, not a crash of the bridge
        result["status"] = "error"
        result["message"] = one_paragraph(f"emulator failure: {type(ex).__name__}: {ex} | "
                                          + " | ".join(traceback.format_exc().strip().split("\n")[-6:]))
    finally:
        if mm is not None:
            mm.flush()
    if emu is not None:
        result["instructions"] = emu.instructions
        result["rounds"] = getattr(emu, "rounds", 0)
    result["seconds"] = round(time.time() - t0, 3)
    return result


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: device_launch.py REQUEST.json (tools/ptxemu/device_launch.py's docstring has the format)",
              file=sys.stderr)
        return 2
    try:
        req = read_request(argv[1])
        result = launch(req)
    except BadRequest as ex:
        print(f"device_launch.py: bad request {argv[1]}: {ex}", file=sys.stderr)
        return 2
    try:
        tmp = req["result"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f)
            f.write("\n")
        os.replace(tmp, req["result"])
    except OSError as ex:
        print(f"device_launch.py: cannot write the result {req['result']}: {ex}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
