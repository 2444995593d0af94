#!/usr/bin/env python3
"""Checks bench/tables.py on the H200 run's CSVs kept in bench/results/h200-2026-11-28/: the digest
picks the fastest correct row per shape, a wrong row never counts, a quoted label stays one column,
and a CSV it does not know is an error. Run by ctest (test_bench_tables)."""
import contextlib
import csv
import io
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tables  # noqa: E402

RUN = os.path.join(HERE, "results", "h200-2026-11-28")
failures = []


def run(*paths):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = tables.main(list(paths))
    return status, out.getvalue()


def expect(cond, what):
    if not cond:
        failures.append(what)


status, text = run(*(os.path.join(RUN, f"bench_{b}.csv") for b in ("gemm", "copy", "overlap")))
expect(status == 0, "the run's CSVs: exit 0")
# The figures docs/benchmarks.md quotes from this run.
expect("| bf16 | 8192³ | bf16_sm90/bn256 | 786.1 | 793.9 | 0.99 |" in text, "bf16 8192³ best row")
expect("| e4m3 | 4096³ | e4m3_sm90/bn256 | 1311.4 | 1271.8 | 1.03 |" in text, "e4m3 4096³ best row")
# The decode digest: bf16 128 x 128 at M = 64 took 50.7 µs for 7168 x 7168 x 2 bytes of B.
expect("| bf16 | gemm_bf16_sm90 | 50.7 µs, 2029 GB/s |" in text, "decode row (time and B's bandwidth)")
expect("| bf16 | cuBLAS | 35.4 µs, 2901 GB/s |" in text, "decode row of the same run's cuBLAS")
expect("| bulk, 1 warp/SM | 97.3 |" in text and "| 3833.5 |" in text, "copy rows (a quoted method, one column)")
expect("| (b) weft GEMM with a copy warp role | 0 | 132 | 648.9 | 0.91 | 633.7 |" in text, "overlap (b) row")
status, text = run(os.path.join(RUN, "bench_comm.csv"), os.path.join(RUN, "bench_jit.csv"))
expect(status == 0 and "| all_gather | 2 | 1048576 | 20 |" in text, "comm rows")
expect("| vector_add | sm_90 | 1 | 1292 |" in text, "jit rows")

# A faster row whose D was wrong is shown WRONG and never becomes the best.
with open(os.path.join(RUN, "bench_gemm.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
fake = dict(rows[0], kernel="broken", weft_tflops="9999", rel_error="0.5")
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "gemm.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows + [fake])
    status, text = run(path)
    expect(status == 0 and "WRONG" in text and "| broken |" not in text.split("Every")[0],
           "a wrong row is marked WRONG and is not the best")
    other = os.path.join(tmp, "other.csv")
    with open(other, "w") as f:
        f.write("a,b\n1,2\n")
    status, _ = run(other)
    expect(status == 1, "an unknown CSV: exit 1")
    # grouped_bench's CSV shares gemm_bench's columns (weft_tflops, kernel, rel_error) but has no m:
    # it must be read as its own kind, every row shown.
    grouped = os.path.join(tmp, "grouped.csv")
    with open(grouped, "w") as f:
        f.write("card,date,shape,dtype,groups,rows,m_padded,n,k,weft_tflops,cublas_tflops,ratio,weft_ms,cublas_ms,"
                "kernel,rel_error\n"
                "NVIDIA H200,2026-11-29,prefill up-proj,bf16,8,32676,33152,4096,7168,650.5,600.25,1.08,5.9,6.4,"
                "gemm_bf16_sm90 bn=256 grouped,0.0017\n")
    status, text = run(grouped)
    expect(status == 0 and "### grouped: NVIDIA H200" in text and "| prefill up-proj | bf16 | 8 |" in text,
           "grouped_bench's CSV: its own kind, every row")

for f in failures:
    print("FAIL:", f)
print("bench/tables.py:", "FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
