#!/usr/bin/env bash
# Runs the programs tools/gpu/build.sh made, from a copy of build-gpu/ in another directory, on the
# emulated device (tools/emudevice, built by tools/test.sh into build/). A device call is minutes of
# a 15-minute budget; this finds, on the CPU machine, what would waste one: a program that cannot
# find its shared libraries once the build directory has moved (the lent machine gets the tree at
# another path), a sample kernel whose registrar did not load, a host path that fails before any
# timing. The benchmarks and apps run their quick cases (WEFT_APP_QUICK=1); their timings mean nothing.
#
#   tools/gpu/emulated_smoke.sh                # build-gpu/, the emulated device from build/
#   tools/gpu/emulated_smoke.sh --long         # also gemm_app (sm_100) and the collectives (~6 min more)
#   WEFT_EMU_BUILD=other tools/gpu/emulated_smoke.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
GPU_BUILD=build-gpu
EMU_BUILD="${WEFT_EMU_BUILD:-build}"
LONG=0
[ "${1:-}" = "--long" ] && LONG=1

EMU_LIB="$ROOT/$EMU_BUILD/tools/emudevice/libcuda.so.1"
[ -f "$EMU_LIB" ] || { echo "emulated_smoke.sh: no emulated device at $EMU_LIB (run tools/test.sh first)" >&2; exit 1; }
[ -d "$GPU_BUILD/lib" ] || { echo "emulated_smoke.sh: no $GPU_BUILD/lib (run tools/gpu/build.sh first)" >&2; exit 1; }
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)

# The copy: the programs must find build-gpu/lib through their $ORIGIN run path, not this tree's path
# (tools/gpu/build.sh refuses any other run path; ldd below shows which copy a program loads).
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -a "$GPU_BUILD" "$WORK/moved"
B="$WORK/moved"

if ldd "$B/bench/gemm_bench" | grep 'libweft_' | grep -qv "=> $B/"; then
  echo "emulated_smoke.sh: the moved programs load weft's libraries from outside the copy:" >&2
  ldd "$B/bench/gemm_bench" | grep 'libweft_' >&2
  exit 1
fi
export WEFT_LIBCUDA="$EMU_LIB" WEFT_EMU_PYTHON="$PYTHON" WEFT_APP_QUICK=1 WEFT_CACHE=off
failed=0
printf '%-28s %-6s %s\n' program result seconds
run() {
  local name=$1; shift
  local log="$WORK/$name.log" t0=$SECONDS rc verdict
  "$@" >"$log" 2>&1
  rc=$?
  verdict=pass
  if [ $rc != 0 ]; then verdict="fail (exit $rc)"
  elif grep -q '^skipped: ' "$log"; then verdict="fail ($(grep -m1 '^skipped: ' "$log" | cut -c1-60))"
  fi
  printf '%-28s %-6s %s\n' "$name" "$verdict" "$((SECONDS - t0))"
  if [ "$verdict" != pass ]; then failed=1; tail -15 "$log" | sed 's/^/    /'; fi
}

for app in vector_add saxpy reduce_sum transpose histogram scan; do
  run "${app}_app" "$B/samples/apps/basics/${app}_app"
done
for t in runtime fault async debug_wait flag_wait; do run "test_gpu_$t" "$B/tests/runtime/test_gpu_$t"; done
run test_runtime_nodriver "$B/tests/runtime/test_runtime_nodriver"
WEFT_EMU_SMS=16 run test_gpu_comm_heap "$B/tests/comm/test_gpu_comm_heap" "-tce=*Nccl*"
run test_gpu_llvm "$B/tests/llvm/test_gpu_llvm"
run gemm_one "$B/bench/gemm_one" --warmup 0 --runs 1 64 256 128 bn=64 a_halves=1
run jit_bench "$B/bench/jit_bench" "$WORK/jit.csv" 2
run copy_bench "$B/bench/copy_bench" "$WORK/copy.csv"
run grouped_bench "$B/bench/grouped_bench" "$WORK/grouped.csv"
WEFT_EMU_SM=120 run comm_app_sm120 "$B/samples/apps/comm/comm_app" 2
if [ $LONG = 1 ]; then
  WEFT_EMU_SM=100 run gemm_app_sm100 "$B/samples/apps/gemm/gemm_app"
  WEFT_EMU_SMS=24 run test_gpu_collectives "$B/tests/comm/test_gpu_collectives" "-tce=*Nccl*"
fi
[ $failed = 0 ] && echo "emulated_smoke.sh: all passed" || echo "emulated_smoke.sh: FAILED" >&2
exit $failed
