"""The `//!` signature block at the top of every weft .ptx, read from Python: the kernels, their
parameters (name, kind, detail, size in bytes) and their .reqntid, so a launcher can check and pack
its arguments the way weft::rt does in C++ (docs/cli.md describes the block)."""


def read_signature(ptx_text):
    """The kernels of a weft signature block: {name: {"params": [(name, kind, detail, size)], "reqntid": (x, y, z)}}."""
    kernels, current = {}, None
    lines = iter(ptx_text.splitlines())
    if not next(lines, "").startswith("//! weft-signature 1"):
        raise ValueError("not a weft .ptx file (no '//! weft-signature 1' block)")
    for line in lines:
        if not line.startswith("//!"):
            raise ValueError("signature block ends without '//! end'")
        words = line[3:].split()
        if words[0] == "end":
            return kernels
        if words[0] == "kernel":
            current = kernels.setdefault(words[1], {"params": [], "reqntid": (0, 0, 0)})
        elif words[0] == "param":
            current["params"].append((words[1], words[2], words[3], int(words[4])))
        elif words[0] == "reqntid":
            current["reqntid"] = tuple(int(w) for w in words[1:4])
    raise ValueError("signature block ends without '//! end'")
