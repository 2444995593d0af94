#!/usr/bin/env bash
# The one script run on the lent GPU machine (H100/H200, CUDA 13 toolkit, no internet, no compilers
# needed). It runs the binaries in build-gpu/ (made on a CPU machine by tools/gpu/build.sh and
# carried with the tree): every GPU test, the no-driver test, every host app under samples/apps and,
# unless WEFT_GPU_BENCH=0, every benchmark under bench/; then the Python examples (a .ptx launched
# through ctypes and the driver API, which must launch, and through CuPy where it is installed). It
# prints `nvidia-smi -L` first, then a table (test, result, seconds) and the benchmarks' verdicts on
# the issues' targets last, and exits non-zero if
# anything failed. Tests, then host apps (each
# program gets WEFT_GPU_TIMEOUT seconds, default 90, the GEMM app, copy and overlap benchmarks twice that, the
# GEMM benchmark three times; nothing
# new starts after 200 s); then the benchmarks (nothing new after WEFT_GPU_BENCH_BUDGET s, default
# 240); then the sanitizers while the whole run is under 520 s, and ncu on the decode GEMM
# (bench/gemm_one) while it is under 480 s, its digest printed after the targets. One device call of 600 s covers it;
# each program's output is printed as it ends, so a run cut short still shows what finished (and
# WEFT_GPU_BENCH=0 leaves the benchmarks for a second call).
# tests/llvm/test_gpu_llvm (both backends, libdevice math) reads the PTX build.sh emitted into
# $BUILD/ptx-llvm (found from the binary's path; this machine has no LLVM).
#
#   tools/gpu/check.sh [build-dir]      # default build-gpu
# Logs go to $OUT/gpu-check/ when $OUT is set (the device tool brings that folder back).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD="${1:-build-gpu}"
PER_TIMEOUT="${WEFT_GPU_TIMEOUT:-90}"
BUDGET=200
LOGS="${OUT:-/tmp}/gpu-check"
mkdir -p "$LOGS"

echo "== GPUs"
if command -v nvidia-smi >/dev/null; then nvidia-smi -L; else echo "nvidia-smi not found"; fi
echo "== tree: $(pwd), build: $BUILD"
[ -d "$BUILD" ] || { echo "check.sh: $BUILD is missing; run tools/gpu/build.sh on the CPU machine and carry it" >&2; exit 2; }

# A cold, private cubin cache for this run (the cache tests make their own as well).
export WEFT_CACHE_DIR="$(mktemp -d /tmp/weft-gpu-cache.XXXXXX)"

# ELF executables only (the build tree also holds CMake files, dependency files, scripts). File modes
# may not survive the carry, so the mode is not trusted: the ELF header is.
is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
# The ELF files among `find` results, one per line on stdin.
elf_programs() {
  local f
  while IFS= read -r f; do
    case "$f" in *.o|*.a|*.so|*.so.*) continue;; esac
    if is_elf "$f"; then chmod +x "$f" 2>/dev/null; echo "$f"; fi
  done
}
# The tests first, then the host apps, the GEMM app (the longest: about 20 kernels JIT-compiled and
# several 4096^3 checks) last, so that a slow app never keeps a test from running within the budget.
mapfile -t checks < <(
  { find "$BUILD" -type f \( -name 'test_gpu_*' -o -name 'test_runtime_nodriver' \) -not -path '*/CMakeFiles/*' | sort
    [ -d "$BUILD/samples/apps" ] &&
      find "$BUILD/samples/apps" -maxdepth 2 -type f -not -path '*/CMakeFiles/*' | sort | awk '/gemm_app$/ {last = $0; next} {print} END {if (last) print last}'
  } 2>/dev/null | elf_programs)
benches=()
if [ "${WEFT_GPU_BENCH:-1}" != 0 ] && [ -d "$BUILD/bench" ]; then
  # The GEMM benchmark next to last: it is the longest (about 150 rows), so the budget never keeps a
  # shorter one (the overlap benchmark, say) from running; the grouped GEMM's after it, since no
  # issue's target hangs on it (a budget spent leaves it out rather than the GEMM benchmark).
  # (gemm_one takes arguments: it is the profiler's, below.)
  mapfile -t benches < <(find "$BUILD/bench" -maxdepth 2 -type f -not -path '*/CMakeFiles/*' -not -name gemm_one 2>/dev/null |
    sort -u | awk '/gemm_bench$/ {gemm = $0; next} /grouped_bench$/ {grouped = $0; next} {print}
                   END {if (gemm) print gemm; if (grouped) print grouped}' | elf_programs)
fi

names=(); results=(); times=()
failed=0
# run_phase <budget seconds> <program>...: runs each program (WEFT_GPU_TIMEOUT each) until the phase's
# budget is spent; the rest are listed as not run. Tests and host apps form one phase (under 4
# minutes, issue 3), the benchmarks another, so a slow benchmark never hides a test result.
run_phase() {
  local budget="$1"; shift
  local phase_start p name log t0 t1 rc r limit
  phase_start=$(date +%s)
  for p in "$@"; do
    name="${p#"$BUILD"/}"
    if [ $(( $(date +%s) - phase_start )) -ge "$budget" ]; then
      names+=("$name"); results+=("not run (time budget)"); times+=("-"); failed=1; continue
    fi
    log="$LOGS/$(echo "$name" | tr '/' '_').log"
    echo "== $name"
    t0=$(date +%s.%N)
    # The GEMM host app and benchmark JIT about 20 kernel variants each and run 4096^3 / 8192^3
    # products (the benchmark also generates their random inputs), and the copy benchmark checks
    # about 60 copies of 1 GiB: twice the time of one test.
    # The overlap benchmark (about 30 designs at 8192^3, each copy of up to 1 GiB and each D checked)
    # twice too. The GEMM benchmark, with about 140 rows (every variant against cuBLAS), three times.
    limit="$PER_TIMEOUT"
    # The grouped GEMM benchmark generates about 2 GB of random inputs on the host: twice too.
    case "$name" in */gemm_app|*/copy_bench|*/overlap_bench|*/grouped_bench) limit=$(( PER_TIMEOUT * 2 ));; */gemm_bench) limit=$(( PER_TIMEOUT * 3 ));; esac
    timeout "$limit" "$p" >"$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    tail -n 40 "$log"
    if [ $rc -eq 0 ]; then
      if grep -q '^skipped: ' "$log"; then
        r="skipped: $(grep -m1 '^skipped: ' "$log" | cut -c10- | cut -d'(' -f1)"
        # On a machine with a GPU, a GPU test that skips is a failure of the setup, not a pass.
        if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then r="SKIPPED on a GPU machine"; failed=1; fi
      else
        r="pass"
      fi
    elif [ $rc -eq 124 ]; then r="TIMEOUT (${limit}s)"; failed=1
    else r="FAIL (exit $rc)"; failed=1
    fi
    names+=("$name"); results+=("$r"); times+=("$(awk "BEGIN{printf \"%.1f\", $t1-$t0}")")
  done
}
start=$(date +%s)
run_phase "$BUDGET" "${checks[@]}"
run_phase "${WEFT_GPU_BENCH_BUDGET:-240}" "${benches[@]}"

# Python: a weft .ptx (emitted on the CPU machine by tools/gpu/build.sh into $BUILD/ptx) launched
# through ctypes and the driver API alone (it must launch: a GPU machine has a driver), and through
# CuPy where the machine has it.
# run_extra name command...: "not launching" in the log is "not run" (with MUST_LAUNCH=1 a failure);
# with OPTIONAL=1 (the profiler) an exit with ncu's ==ERROR== lines, or no kernel profiled, is "not run".
run_extra() {
  local name="$1"; shift
  local log="$LOGS/$(echo "$name" | tr '/ ' '__').log"
  echo "== $name"
  local t0=$(date +%s.%N)
  timeout "$PER_TIMEOUT" "$@" >"$log" 2>&1
  local rc=$? t1=$(date +%s.%N)
  tail -n 20 "$log"
  local r="pass"
  if [ $rc -ne 0 ] && [ "${OPTIONAL:-0}" = 1 ] && grep -q '^==ERROR==' "$log"; then
    r="not run: the tool failed (see its log)"  # the profiler, not the program it profiles
  elif [ $rc -eq 0 ] && [ "${OPTIONAL:-0}" = 1 ] && grep -q 'No kernels were profiled' "$log"; then
    r="not run: no kernel matched"
  elif [ $rc -eq 124 ]; then r="TIMEOUT (${PER_TIMEOUT}s)"; failed=1
  elif [ $rc -ne 0 ]; then r="FAIL (exit $rc)"; failed=1
  elif grep -q '^not launching' "$log"; then
    r="not run: $(grep -m1 '^not launching' "$log" | cut -c15-60)"
    [ "${MUST_LAUNCH:-0}" = 1 ] && { r="FAIL (${r})"; failed=1; }
  fi
  names+=("$name"); results+=("$r"); times+=("$(awk "BEGIN{printf \"%.1f\", $t1-$t0}")")
}
if [ -f "$BUILD/ptx/saxpy.sm_90a.ptx" ] && command -v python3 >/dev/null; then
  MUST_LAUNCH=1 run_extra "python: samples/python/launch_saxpy_driver.py" python3 samples/python/launch_saxpy_driver.py \
    "$BUILD/ptx/saxpy.sm_90a.ptx"
  run_extra "python: samples/python/launch_saxpy.py" python3 samples/python/launch_saxpy.py "$BUILD/ptx/saxpy.sm_90a.ptx"
fi

# compute-sanitizer over the sample kernels (memcheck, racecheck, synccheck, initcheck): any report
# fails the run. WEFT_GPU_SANITIZE=0 skips it.
SANITIZER="${WEFT_SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}"
if [ "${WEFT_GPU_SANITIZE:-1}" != 0 ] && [ -x "$SANITIZER" ] && [ -x "$BUILD/tests/runtime/test_gpu_async" ]; then
  for tool in memcheck racecheck synccheck initcheck; do
    if [ $(( $(date +%s) - start )) -ge 520 ]; then
      names+=("compute-sanitizer $tool"); results+=("not run (time budget)"); times+=("-"); continue
    fi
    run_extra "compute-sanitizer $tool test_gpu_async" "$SANITIZER" --tool "$tool" --error-exitcode 3 \
      "$BUILD/tests/runtime/test_gpu_async"
  done
fi
# ncu on the decode GEMM: why M = 64..128 x 7168 x 7168 runs below cuBLAS (docs/decisions.md gives
# three readings; DRAM and SM throughput and the L2 hit rate tell them apart), and 8192^3 beside
# cuBLAS. A few configurations of bench/gemm_one, one launch each after 3 warm-ups, SpeedOfLight and MemoryWorkloadAnalysis sections
# as CSV in $LOGS; the digest is printed last. Only while the run is under 480 s; WEFT_GPU_PROFILE=0
# skips it. ncu leaves the clocks alone (--clock-control none), as the device notes ask.
NCU="${WEFT_NCU:-$(command -v ncu || echo /usr/local/cuda/bin/ncu)}"
profiled=()
if [ "${WEFT_GPU_PROFILE:-1}" != 0 ] && { [ ! -x "$NCU" ] || ! is_elf "$BUILD/bench/gemm_one"; }; then
  names+=("ncu profile"); results+=("not run: no $NCU or no $BUILD/bench/gemm_one"); times+=("-")
elif [ "${WEFT_GPU_PROFILE:-1}" != 0 ]; then
  chmod +x "$BUILD/bench/gemm_one" 2>/dev/null  # file modes may not survive the carry (is_elf above)
  # Decode first (weft's default, cuBLAS, M = 128, a_halves, stream-K), then 8192^3 (weft's 128 x 256
  # tiles against cuBLAS: the tensor pipes' share tells what the last percent of #5 is made of).
  for cfg in "64 7168 7168 bn=128" "64 7168 7168 --cublas" "128 7168 7168 bn=128" "64 7168 7168 bn=128 a_halves=1" \
             "64 7168 7168 bn=128 stream_k=1" "8192 8192 8192 bn=256" "8192 8192 8192 --cublas"; do
    name="ncu gemm_one $cfg"
    if [ $(( $(date +%s) - start )) -ge 480 ]; then
      names+=("$name"); results+=("not run (time budget)"); times+=("-"); continue
    fi
    # shellcheck disable=SC2086  # the configuration is words
    # OPTIONAL: ncu cannot read counters on some machines (the device notes: gVisor); that is not a failure of weft.
    # cuBLAS names its Hopper kernels nvjet_* or *xmma_gemm*; weft's are gemm_*. One launch a minute at most, so
    # the last profile ends within the device call's 600 s.
    OPTIONAL=1 PER_TIMEOUT=60 run_extra "$name" "$NCU" --clock-control none --section SpeedOfLight \
      --section MemoryWorkloadAnalysis --csv --page details --launch-skip 3 --launch-count 1 -k 'regex:gemm|nvjet|xmma' \
      "$BUILD/bench/gemm_one" --runs 1 $cfg
    [ "${results[-1]}" = pass ] && profiled+=("$name")
  done
fi
rm -rf "$WEFT_CACHE_DIR"

echo
echo "== summary ($(nvidia-smi -L 2>/dev/null | head -1 || echo 'no nvidia-smi'))"
printf '%-48s %-40s %8s\n' "test" "result" "seconds"
for i in "${!names[@]}"; do printf '%-48s %-40s %8s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"; done
[ ${#names[@]} -gt 0 ] || { echo "check.sh: no programs found in $BUILD" >&2; exit 2; }

# The issues' targets as the benchmarks judged them (each from its best correct row), last, so that
# the tail of a run's output answers them.
echo
echo "== targets"
for b in gemm_bench copy_bench overlap_bench; do
  log="$LOGS/bench_$b.log"
  [ -f "$log" ] || { echo "$b: no log (not run)"; continue; }
  case "$b" in
    gemm_bench) sed -n '/^== targets/,/^$/p' "$log" | grep -v '^== targets' | grep . ;;
    copy_bench) grep -h '^best bulk shape' "$log" ;;
    overlap_bench) grep -h '^(b) best' "$log" ;;
  esac || echo "$b: no target line (see its log)"
done
# The grouped GEMM and the MoE layer (no issue target): the grouped GEMM's table against one cuBLAS
# call per group, and the layer's times from the communication benchmark.
if [ -f "$LOGS/bench_grouped_bench.log" ]; then
  echo
  sed -n '/^== grouped GEMM/,/^csv:/p' "$LOGS/bench_grouped_bench.log" | grep -v '^csv:'
fi
if [ -f "$LOGS/bench_comm_bench.log" ] && grep -q '^== MoE layer' "$LOGS/bench_comm_bench.log"; then
  echo
  sed -n '/^== MoE layer/,/^checks against/p' "$LOGS/bench_comm_bench.log" | grep -v '^checks against'
fi
# The profiles' key figures. ncu's CSV has a header line naming its columns ("Metric Name", "Metric
# Unit", "Metric Value", and in newer versions rule columns after them): the columns are found by name.
if [ ${#profiled[@]} -gt 0 ]; then
  echo
  echo "== profile (ncu, one launch each)"
  for name in "${profiled[@]}"; do
    log="$LOGS/$(echo "$name" | tr '/ ' '__').log"
    [ -f "$log" ] || continue
    printf '%s:' "${name#ncu gemm_one }"
    for metric in "Duration" "DRAM Throughput" "Memory Throughput" "Compute (SM) Throughput" "L2 Hit Rate"; do
      v=$(awk -F'","' -v want="$metric" '
        /"Metric Name"/ { for (i = 1; i <= NF; i++) { f = $i; gsub(/"/, "", f); col[f] = i }; next }
        col["Metric Name"] { f = $col["Metric Name"]; gsub(/"/, "", f)
          if (f == want) { v = $col["Metric Value"]; u = $col["Metric Unit"]; gsub(/"/, "", v); gsub(/"/, "", u); print v " " u; exit } }' "$log")
      [ -n "$v" ] && printf '  %s %s' "$metric" "$v"
    done
    echo
  done
fi
exit $failed
