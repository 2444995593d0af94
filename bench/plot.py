#!/usr/bin/env python3
"""Charts from the benchmark CSVs (matplotlib; on Debian: apt-get install python3-matplotlib).

    python3 bench/plot.py bench/results/*.csv -o docs/img

Each CSV is recognised by its header:
  emit:  kernel,target,median_us,min_us,ptx_bytes,runs          -> emission time per kernel and target
  gemm:  card,date,dtype,m,n,k,weft_tflops,cublas_tflops,...     -> TFLOP/s vs size against cuBLAS
  copy:  card,date,sms,method,gbps,...                           -> copy bandwidth vs SM count
Every chart's title names the card and date from the CSV, so a figure never loses where it came from.
"""
import argparse
import csv
import os
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, (rows[0].keys() if rows else [])


def plot_emit(plt, rows, out, name):
    labels = [f"{r['kernel']}\n{r['target']}" for r in rows]
    values = [float(r["median_us"]) for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 0.45), 4))
    ax.bar(range(len(rows)), values, color="#4477aa")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_ylabel("emission time, median µs")
    ax.set_title(f"weft: DSL build + verify + print per module ({name})")
    fig.tight_layout()
    path = os.path.join(out, name + ".png")
    fig.savefig(path, dpi=120)
    return path


def plot_gemm(plt, rows, out, name):
    card, date = rows[0].get("card", "?"), rows[0].get("date", "?")
    paths = []
    # One chart per (kernel, dtype); CSVs from before the kernel column have one kernel per dtype.
    for kernel, dtype in sorted({(r.get("kernel") or "", r["dtype"]) for r in rows}):
        sel = [r for r in rows if r["dtype"] == dtype and (r.get("kernel") or "") == kernel]
        labels = [f"{r['m']}x{r['n']}x{r['k']}" for r in sel]
        fig, ax = plt.subplots(figsize=(max(6, len(sel) * 0.8), 4))
        xs = range(len(sel))
        ax.bar([x - 0.2 for x in xs], [float(r["weft_tflops"]) for r in sel], 0.4, label="weft")
        ax.bar([x + 0.2 for x in xs], [float(r["cublas_tflops"]) for r in sel], 0.4, label="cuBLAS")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, rotation=45, fontsize=8)
        ax.set_ylabel("TFLOP/s")
        ax.set_title(f"{kernel or dtype} GEMM ({dtype}), {card}, {date}")
        ax.legend()
        fig.tight_layout()
        path = os.path.join(out, f"{name}_{kernel + '_' if kernel else ''}{dtype}.png")
        fig.savefig(path, dpi=120)
        paths.append(path)
    return paths


def plot_copy(plt, rows, out, name):
    card, date = rows[0].get("card", "?"), rows[0].get("date", "?")
    fig, ax = plt.subplots(figsize=(6, 4))
    for method in sorted({r["method"] for r in rows}):
        sel = sorted((r for r in rows if r["method"] == method), key=lambda r: int(r["sms"]))
        ax.plot([int(r["sms"]) for r in sel], [float(r["gbps"]) for r in sel], marker="o", label=method)
    ax.set_xlabel("SMs used")
    ax.set_ylabel("GB/s (read + write)")
    ax.set_title(f"device copy, {card}, {date}")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out, name + ".png")
    fig.savefig(path, dpi=120)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("-o", "--out", default="docs/img")
    args = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot.py: matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    status = 0
    for path in args.csv:
        rows, header = load(path)
        name = os.path.splitext(os.path.basename(path))[0]
        if not rows:
            print(f"plot.py: {path}: no rows", file=sys.stderr)
            status = 1
            continue
        if "median_us" in header:
            made = [plot_emit(plt, rows, args.out, name)]
        elif "weft_tflops" in header:
            made = plot_gemm(plt, rows, args.out, name)
        elif "gbps" in header:
            made = [plot_copy(plt, rows, args.out, name)]
        else:
            print(f"plot.py: {path}: unknown columns {list(header)}", file=sys.stderr)
            status = 1
            continue
        for m in made:
            print(m)
    return status


if __name__ == "__main__":
    sys.exit(main())
