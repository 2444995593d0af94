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
                   globals too), sorted by base, disjoint, each inside [0, size) or inside one of the
                   mappings: every global access must stay inside one (else illegal_address) and be
                   aligned to its size (else misaligned)
    globals        the module's .global variables: {name: device address} (the driver allocates and
                   initializes them; every one the module declares must be there)
    seed           the scheduler's seed (the interleavings; the same seed runs the same way)
    result         where to write the result
    (optional) resident_ctas   at most this many CTAs resident at once (a CTA launches when an earlier
                   one exits, as on a full GPU; default all of them up to 512, else 512)
    (optional) max_rounds      scheduling rounds before the launch is given up (status "error"),
                   default 2,000,000
    (optional) mappings        [[va, bytes, "path", heartbeat_offset], ...]: CUDA virtual memory
                   (cuMemMap) the launch shares with other processes: device addresses [va, va + bytes)
                   are the file `path` (one the launch can open read-write: a memfd as /proc/PID/fd/N)
                   from its offset 0, mapped shared, so its stores show in every process that maps it
                   and theirs here; va and bytes positive multiples of the mmap page (4096), the ranges
                   disjoint and above the arena (va >= size), heartbeat_offset a multiple of 8 and >=
                   bytes, the file at least max(bytes, heartbeat_offset + 8) bytes long. The driver's
                   layout: the memory, a multiple of 2 MiB (B), then a 4096-byte trailer: u64 magic
                   "WEFTVMM1", u64 B, u64 heartbeat (heartbeat_offset = B + 16; the byte after the
                   heartbeat is the file's atomics lock). Each range is in `allocations` too (as
                   "cuMemMap", say): accesses are checked as in any allocation
    (optional) world_grace_s   with mappings: seconds of real time (a positive number, default 30) a
                   launch that cannot progress waits for another process's heartbeat before it lets
                   its virtual clock jump (below)

The shared world (with mappings): other processes (the other ranks of an Ipc symmetric heap, each
with its own emulated device) run their launches at the same time, and this launch's kernel may wait
on them (a flag spun on with ld.acquire.sys + nanosleep, bounded by a debug wait's %globaltimer).
Every mapping's file has a u64 heartbeat (at heartbeat_offset) that every process bumps while it
progresses: this launch once when its kernel starts and after each scheduling round in which it
progressed (stores, exits, barriers: emulator.Emu.on_progress; any change counts), the driver at each
launch and each host write into mapped memory. (A kernel that computes for world_grace_s without a
store would look stalled to the others: the collectives store as they go.) When nothing
here can progress (where a lone launch would let its virtual clock jump, or call it a deadlock:
emulator.Emu.jump_clock), the launch naps (2 to 50 ms of real time: about as long as its last look
took, so that waiting does not burn a core) and looks again, without a clock jump, for as long as a
heartbeat it did not write has moved, or it progressed itself, within the last world_grace_s of real
time (or the launch started less than that ago); only then does the clock jump (a debug wait times
out and traps) or the deadlock end the launch, the message then saying for how long the other
processes' heartbeats did not move. A wait on another process that makes progress is never a
deadlock, and a true deadlock across processes still ends, world_grace_s later. An atom / red on
global memory in a mapping runs its read-modify-write under a POSIX record lock (fcntl.lockf) on the
file's byte heartbeat_offset + 8, so atomics are atomic across processes (the driver must take the
same lock for any read-modify-write of its own there); plain loads and stores are single copies.

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
match the entry's, mappings that break the rules above).
"""
import bisect
import ctypes
import fcntl
import importlib.util
import json
import mmap
import os
import struct
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
DEFAULT_WORLD_GRACE_S = 30.0
# real seconds a launch that cannot progress sleeps while the others may, before it looks again: about
# as long as its last look took (its rounds of spinning threads), at least 2 ms, at most 50 ms, so a
# big launch waiting spins about half the time, a small one hardly at all
WORLD_NAP_S, WORLD_NAP_MAX_S = 0.002, 0.05
PAGE = mmap.PAGESIZE  # mappings' addresses and lengths: multiples of it (4096)


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
    g = req.get("world_grace_s", DEFAULT_WORLD_GRACE_S)
    if not isinstance(g, (int, float)) or isinstance(g, bool) or not g > 0 or g == float("inf"):
        raise BadRequest(f"world_grace_s: a positive number of seconds expected, got {g!r}")
    req["world_grace_s"] = float(g)
    req["mappings"] = read_mappings(req)
    return req


def read_mappings(req):
    """The request's mappings, checked (the rules in the docstring; the files' sizes in map_world), as
    tuples (va, bytes, path, heartbeat_offset) sorted by va; and every allocation inside [0, size) or
    one mapping."""
    raw = req.get("mappings", [])
    if not isinstance(raw, list):
        raise BadRequest(f"mappings: a list expected, got {raw!r}")
    out = []
    for m in raw:
        if not (isinstance(m, list) and len(m) == 4 and all(isinstance(x, int) and not isinstance(x, bool)
                                                            for x in (m[0], m[1], m[3])) and isinstance(m[2], str)):
            raise BadRequest(f"mappings: [va, bytes, path, heartbeat_offset] expected, got {m!r}")
        va, n, path, hb = m
        if va <= 0 or n <= 0 or va % PAGE or n % PAGE:
            raise BadRequest(f"mapping {path} at {va:#x}, {n} bytes: va and bytes must be positive multiples of "
                             f"{PAGE} (the mmap page)")
        if va < req["size"]:
            raise BadRequest(f"mapping {path} [{va:#x}, +{n:#x}) overlaps the arena [0, {req['size']:#x}): "
                             f"mappings lie above it")
        if hb < n or hb % 8:
            raise BadRequest(f"mapping {path}: heartbeat_offset {hb} must be a multiple of 8 and at least bytes {n} "
                             f"(it lies in the trailer after the memory)")
        out.append((va, n, path, hb))
    out.sort()
    for (va0, n0, p0, _), (va1, n1, p1, _) in zip(out, out[1:]):
        if va1 < va0 + n0:
            raise BadRequest(f"mappings {p0} [{va0:#x}, +{n0:#x}) and {p1} [{va1:#x}, +{n1:#x}) overlap")
    if out:
        vas = [m[0] for m in out]
        for base, n, name in req["allocations"]:
            if base + n <= req["size"]:
                continue
            i = bisect.bisect_right(vas, base) - 1
            if i < 0 or base + n > out[i][0] + out[i][1]:
                raise BadRequest(f"allocations: {name} [{base:#x}, +{n}) is neither inside the arena [0, "
                                 f"{req['size']:#x}) nor inside one mapping")
    return out


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


# ---------------- the shared world: VMM mappings other processes map too ----------------
# Linux's values (the mmap module has no MAP_FIXED / MAP_NORESERVE)
PROT_NONE, PROT_RW = 0, mmap.PROT_READ | mmap.PROT_WRITE
MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_NORESERVE = 0x01, 0x02, 0x10, 0x20, 0x4000
_U64 = struct.Struct("<Q")
_libc = None


def libc():
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.mmap.restype = ctypes.c_void_p
        lib.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                             ctypes.c_int64]
        lib.munmap.restype = ctypes.c_int
        lib.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.msync.restype = ctypes.c_int
        lib.msync.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _libc = lib
    return _libc


def _mmap(addr, n, prot, flags, fd, what):
    p = libc().mmap(addr, n, prot, flags, fd, 0)
    if p is None or p == ctypes.c_void_p(-1).value or (addr is not None and p != addr):
        err = ctypes.get_errno()
        raise OSError(err, f"mmap of {what}: {os.strerror(err)}")
    return p


class FileLock:
    """An exclusive POSIX record lock on one byte of a file (held by this process; blocks while another
    holds it): Memory.atomic's context for a mapping."""

    def __init__(self, fd, at):
        self.fd, self.at = fd, at

    def __enter__(self):
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, self.at, os.SEEK_SET)

    def __exit__(self, *exc):
        fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, self.at, os.SEEK_SET)
        return False


class World:
    """This launch's mappings (their files open, each heartbeat mapped) and what it has seen of the other
    processes: bump() after a round that progressed; wait_more() where nothing here can progress."""

    def __init__(self, grace_s):
        self.grace = grace_s
        self.fds = []
        self.locks = []  # per mapping (sorted by va), FileLock on its file's heartbeat_offset + 8
        self.beats = []  # [mmap, position, last value seen or written], one per (file, heartbeat)
        self.keys = {}
        self.last = time.monotonic()  # the last sign of progress anywhere (the launch's start, first)
        self.progressed = False  # this launch progressed since wait_more last looked
        self.resumed = None  # when wait_more last returned True (its nap ended)
        self.stale = None  # seconds the heartbeats had not moved when the clock was last let jump

    def open(self, path, nbytes, hb):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError as ex:
            raise BadRequest(f"cannot open the mapping {path}: {ex}") from None
        self.fds.append(fd)
        st = os.fstat(fd)
        if st.st_size < max(nbytes, hb + 8):
            raise BadRequest(f"the mapping file {path} holds {st.st_size} bytes, fewer than max(bytes {nbytes}, "
                             f"heartbeat_offset {hb} + 8)")
        self.locks.append(FileLock(fd, hb + 8))
        key = (st.st_dev, st.st_ino, hb)
        if key not in self.keys:
            at = hb - hb % mmap.ALLOCATIONGRANULARITY
            try:
                m = mmap.mmap(fd, hb + 8 - at, mmap.MAP_SHARED, PROT_RW, offset=at)
            except (OSError, ValueError) as ex:
                raise BadRequest(f"cannot map the heartbeat of {path}: {ex}") from None
            self.keys[key] = len(self.beats)
            self.beats.append([m, hb - at, _U64.unpack_from(m, hb - at)[0]])
        return fd

    def bump(self):
        """This launch progressed: every heartbeat + 1 (a plain read-increment-write: any change counts)."""
        self.progressed = True
        for b in self.beats:
            v = (_U64.unpack_from(b[0], b[1])[0] + 1) & E.M64
            _U64.pack_into(b[0], b[1], v)
            b[2] = v

    def wait_more(self):
        """Nothing here can progress: True (after a nap: WORLD_NAP_S) while some heartbeat this launch
        did not write has moved, or it progressed itself, within world_grace_s of real time (or since
        the launch started); False when the clock may jump (or the deadlock end the launch)."""
        now = time.monotonic()
        moved = False
        for b in self.beats:
            v = _U64.unpack_from(b[0], b[1])[0]
            if v != b[2]:
                b[2] = v
                moved = True
        busy = 0.0 if self.progressed or self.resumed is None else now - self.resumed
        if self.progressed or moved:
            self.last = now
        self.progressed = False
        quiet = now - self.last
        if quiet >= self.grace:
            self.stale, self.resumed = quiet, None
            return False
        self.stale = None
        time.sleep(min(max(WORLD_NAP_S, busy), WORLD_NAP_MAX_S))
        self.resumed = time.monotonic()
        return True

    def note(self):
        return (f" [shared mappings: the other processes' heartbeats did not move for {self.stale:.1f} s of real "
                f"time (world_grace_s {self.grace:g}), so this launch stopped waiting for them]")

    def close(self):
        for b in self.beats:
            b[0].close()
        for fd in self.fds:
            os.close(fd)
        self.beats, self.fds = [], []


class WorldMemory(E.Memory):
    """Memory some of which (the mappings) other processes map too: a load is one copy (bytes), and an
    atom / red in a mapping holds its file's lock."""

    def __init__(self, size, buf, allocs, mappings, world):
        super().__init__(size, buf=buf, allocs=allocs, count_writes=False)
        self.map_vas = [m[0] for m in mappings]
        self.map_ends = [m[0] + m[1] for m in mappings]
        self.world = world

    def read(self, a, n, what="ld"):
        self.check(a, n, what)
        return bytes(self.mem[a:a + n])

    def atomic(self, a):
        i = bisect.bisect_right(self.map_vas, a) - 1
        if i >= 0 and a < self.map_ends[i]:
            return self.world.locks[i]
        return E.NO_LOCK


class WorldEmu(E.Emu):
    """An Emu whose memory other processes share: it bumps their heartbeats as it progresses and waits
    for theirs before its clock jumps (World.wait_more); a trap or deadlock after it stopped waiting
    says so."""

    def __init__(self, *args, world, **kwargs):
        self.world = world
        super().__init__(*args, **kwargs)

    def on_progress(self):
        self.world.bump()

    def jump_clock(self, threads):
        if self.world.wait_more():
            return True  # (no jump: the caller counts stuck rounds afresh)
        return super().jump_clock(threads)

    def run(self, max_rounds=200000):
        self.world.bump()  # this process got as far as running a kernel (starting Python, parsing the PTX)
        try:
            super().run(max_rounds)
        except E.EmuError as ex:
            if self.world.stale is not None and ex.kind in ("trap", "deadlock"):
                ex.args = (str(ex.args[0]) + self.world.note(),) + ex.args[1:]
            raise


def map_world(req, world):
    """One contiguous range of address space for the device addresses [0, total): the arena file over
    [0, size), each mapping's file over its range (both shared, read-write), PROT_NONE holes between
    (the allocation checks keep every access out of them). Returns (address, total, memoryview)."""
    size, mappings = req["size"], req["mappings"]
    total = max(size, max(va + n for va, n, _, _ in mappings))
    fds = [world.open(path, n, hb) for _, n, path, hb in mappings]
    try:
        afd = os.open(req["memory"], os.O_RDWR)
    except OSError as ex:
        raise BadRequest(f"cannot open the memory {req['memory']}: {ex}") from None
    base = None
    try:
        if os.fstat(afd).st_size < size:
            raise BadRequest(f"the memory file {req['memory']} holds {os.fstat(afd).st_size} bytes, fewer than "
                             f"size {size}")
        base = _mmap(None, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                     f"a {total}-byte reservation")
        _mmap(base, size, PROT_RW, MAP_SHARED | MAP_FIXED, afd, f"the memory {req['memory']}")
        for (va, n, path, _), fd in zip(mappings, fds):
            _mmap(base + va, n, PROT_RW, MAP_SHARED | MAP_FIXED, fd, f"the mapping {path}")
    except BaseException as ex:
        if base is not None:
            libc().munmap(base, total)
        if isinstance(ex, OSError):
            raise BadRequest(str(ex)) from None
        raise
    finally:
        os.close(afd)
    return base, total, memoryview((ctypes.c_ubyte * total).from_address(base)).cast("B")


def unmap_world(base, total, size, view):
    try:
        view.release()
    except BufferError:  # numpy views of it (tma.py) still alive: nothing touches them any more
        pass
    libc().msync(base, size, 4)  # MS_SYNC, as mmap.flush() for the plain arena
    libc().munmap(base, total)


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
    world = World(req["world_grace_s"]) if req["mappings"] else None
    mapped = None  # (address, total, memoryview) with mappings
    try:
        try:
            kernel = E.Kernel(text, entry=req["entry"])
        except E.EmuError as ex:
            if str(ex).startswith("no .entry") or str(ex).startswith("the module has no .entry"):
                raise BadRequest(str(ex)) from None
            raise
        params = bind_params(kernel, req["params"])
        size = req["size"]
        if world is None:
            try:
                fd = os.open(req["memory"], os.O_RDWR)
            except OSError as ex:
                raise BadRequest(f"cannot open the memory {req['memory']}: {ex}") from None
            try:
                if os.fstat(fd).st_size < size:
                    raise BadRequest(f"the memory file {req['memory']} holds {os.fstat(fd).st_size} bytes, fewer "
                                     f"than size {size}")
                mm = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE)
            finally:
                os.close(fd)
        else:
            mapped = map_world(req, world)
        try:
            if world is None:
                mem = E.Memory(size, buf=mm, allocs=req["allocations"], count_writes=False)
            else:
                mem = WorldMemory(mapped[1], mapped[2], req["allocations"], req["mappings"], world)
        except E.EmuError as ex:
            raise BadRequest(f"allocations: {ex}") from None
        grid, block = req["grid"], req["block"]
        total = grid[0] * grid[1] * grid[2]
        resident = req.get("resident_ctas", DEFAULT_RESIDENT)
        kw = dict(seed=req["seed"], max_slice=128, warp_speeds=True, dynamic_smem=req["dynamic_smem"],
                  global_addrs=req["globals"], cluster=req["cluster"],
                  max_resident=None if total <= resident else resident)
        emu = E.Emu(mem, kernel, grid, block, params, **kw) if world is None else \
            WorldEmu(mem, kernel, grid, block, params, world=world, **kw)
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
        if mapped is not None:
            unmap_world(mapped[0], mapped[1], req["size"], mapped[2])
        if world is not None:
            world.close()
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
