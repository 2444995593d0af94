#!/usr/bin/env python3
"""Markdown tables for docs/benchmarks.md from the GPU benchmarks' CSVs, so that a GPU run's figures
reach the docs without being copied by hand.

    python3 bench/tables.py $OUT/bench_gemm.csv $OUT/bench_copy.csv $OUT/bench_overlap.csv

Each CSV is recognised by its header (gemm: ...,weft_tflops,cublas_tflops,...,kernel,rel_error;
copy: card,date,sms,method,gbps; overlap: ...,design,budget_sms,...; comm: ...,collective,ranks,...;
jit: ...,module,...,cold_ms,...,hit_ms; grouped: ...,shape,dtype,groups,...,m_padded,...). Printed per
CSV, headed by
its card and date:
  gemm:    per dtype and shape, the fastest correct weft row against cuBLAS(Lt), then per dtype every
           variant's ratio at each shape (a row whose D was wrong shows WRONG and never counts as best);
  copy:    GB/s per method (rows) and SM count (columns), and the driver's memcpy;
  overlap: every design's row as the benchmark printed it;
  comm, jit, grouped: every row (comm_bench's collectives, jit_bench's load times, grouped_bench's
           MoE shapes against one cuBLAS call per group).
Standard library only.
"""
import argparse
import csv
import sys

TOLERANCE = {"bf16": 1e-2, "e4m3": 3e-2, "e4m3b": 3e-2}  # gemm_bench's check of D


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def kind(rows):
    keys = set(rows[0]) if rows else set()
    if {"shape", "groups", "m_padded", "weft_tflops"} <= keys:  # before gemm: it shares gemm's columns
        return "grouped"
    if {"weft_tflops", "cublas_tflops", "kernel", "rel_error"} <= keys:
        return "gemm"
    if {"sms", "method", "gbps"} <= keys:
        return "copy"
    if {"design", "budget_sms", "gemm_tflops"} <= keys:
        return "overlap"
    if {"collective", "ranks", "algbw_gbps"} <= keys:
        return "comm"
    if {"module", "cold_ms", "hit_ms"} <= keys:
        return "jit"
    return None


def plain_table(rows):
    """Every column but the card and date; decimals to one place (three below 1)."""
    cols = [c for c in rows[0] if c not in ("card", "date")]

    def cell(v):
        try:
            x = float(v)
        except ValueError:
            return v
        return v if "." not in v else f"{x:.3f}" if abs(x) < 1 else f"{x:.1f}"
    return table(cols, [[cell(r[c]) for c in cols] for r in rows])


def shape(r):
    m, n, k = (int(r[x]) for x in ("m", "n", "k"))
    return f"{m}³" if m == n == k else f"{m}×{n}×{k}"


def correct(r):
    return float(r["rel_error"]) <= TOLERANCE.get(r["dtype"], 1e-2)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def gemm_tables(rows):
    shapes, kernels, cells, best = [], [], {}, {}
    for r in rows:
        key = (r["dtype"], shape(r))
        if key not in shapes:
            shapes.append(key)
        if r["kernel"] not in kernels:
            kernels.append(r["kernel"])
        ok = correct(r)
        weft, ref = float(r["weft_tflops"]), float(r["cublas_tflops"])
        cells[key, r["kernel"]] = f"{weft / ref:.2f}" if ok else "WRONG"
        if ok and weft > best.get(key, ("", 0.0, ref))[1]:
            best[key] = (r["kernel"], weft, ref)
    digest = []
    for key in shapes:
        if key in best:
            k, w, c = best[key]
            digest.append([key[0], key[1], k, f"{w:.1f}", f"{c:.1f}", f"{w / c:.2f}"])
        else:
            digest.append([key[0], key[1], "no correct row", "", "", ""])
    text = table(["dtype", "shape", "best weft kernel", "weft TFLOP/s", "cuBLAS TFLOP/s", "ratio"], digest)
    # Every variant's ratio, one table per dtype with only the kernels that ran it.
    for dtype in dict.fromkeys(d for d, _ in shapes):
        keys = [key for key in shapes if key[0] == dtype]
        ks = [k for k in kernels if any((key, k) in cells for key in keys)]
        body = [[key[1]] + [cells.get((key, k), "") for k in ks] for key in keys]
        text += f"\n\nEvery {dtype} variant, weft / cuBLAS:\n\n" + table(["shape"] + ks, body)
    return text + decode_table(rows)


def decode_table(rows):
    """The decode shapes (M <= 256) as time and B's bandwidth: what tells an MMA limit (M = 64 as slow
    as M = 128, whose MMAs it then has) from a memory one (every row near one B rate)."""
    decode = [r for r in rows if int(r["m"]) <= 256 and correct(r)]
    if not decode:
        return ""
    ms = sorted({int(r["m"]) for r in decode})
    def cell(r, t):
        b_bytes = int(r["n"]) * int(r["k"]) * (1 if r["dtype"].startswith("e4m3") else 2)
        return f"{t * 1e3:.1f} µs, {b_bytes / t / 1e6:.0f} GB/s"

    body = []
    for dtype in dict.fromkeys(r["dtype"] for r in decode):
        of_dtype = [r for r in decode if r["dtype"] == dtype]
        ref = {int(r["m"]): cell(r, float(r["cublas_ms"])) for r in of_dtype}  # the same run's cuBLAS(Lt)
        body.append([dtype, "cuBLAS"] + [ref.get(m, "") for m in ms])
        for k in dict.fromkeys(r["kernel"] for r in of_dtype):
            cells = {int(r["m"]): cell(r, float(r["weft_ms"])) for r in of_dtype if r["kernel"] == k}
            body.append([dtype, k] + [cells.get(m, "") for m in ms])
    return ("\n\nDecode shapes, time and B's bandwidth (B bytes / time):\n\n" +
            table(["dtype", "kernel"] + [f"M = {m}" for m in ms], body))


def copy_table(rows):
    sms = sorted({int(r["sms"]) for r in rows})
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    value = {(r["method"], int(r["sms"])): float(r["gbps"]) for r in rows}
    body = [[m] + [f"{value[m, s]:.1f}" if (m, s) in value else "" for s in sms] for m in methods]
    return table(["method \\ SMs"] + [str(s) for s in sms], body)


def overlap_table(rows):
    body = []
    for r in rows:
        tf, gb = float(r["gemm_tflops"]), float(r["copy_gbps"])
        body.append([r["design"], r["budget_sms"], r["gemm_sms"], f"{tf:.1f}" if tf else "",
                     f"{float(r['gemm_ratio']):.2f}" if tf else "", f"{gb:.1f}" if gb else ""])
    return table(["design", "copy SMs", "GEMM SMs", "GEMM TFLOP/s", "vs alone", "copy GB/s"], body)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="+")
    args = ap.parse_args(argv)
    status = 0
    for path in args.csv:
        rows = load(path)
        k = kind(rows)
        if k is None:
            print(f"{path}: not a gemm, copy, overlap, comm, jit or grouped benchmark CSV (or empty)", file=sys.stderr)
            status = 1
            continue
        print(f"### {k}: {rows[0]['card']}, {rows[0]['date']} ({path})\n")
        print({"gemm": gemm_tables, "copy": copy_table, "overlap": overlap_table, "comm": plain_table,
               "jit": plain_table, "grouped": plain_table}[k](rows))
        print()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
