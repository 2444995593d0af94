#!/usr/bin/env bash
# Builds build-gpu/ on this (CPU) machine: the binaries tools/gpu/check.sh runs on the lent GPU
# machine, carried there with the tree. That machine has no LLVM, fmt, CLI11 or doctest, so this build
# has no LLVM and no CLI and links fmt header-only; the binaries need only libc, libstdc++ and weft's
# own shared libraries in build-gpu/lib (BUILD_SHARED_LIBS: one copy of the DSL and the kernels for
# all the programs, found through an $ORIGIN-relative run path, keeps the carry small). The
# PTX test_gpu_llvm needs from the LLVM backend is emitted here, into build-gpu/ptx-llvm/.
#
#   tools/gpu/build.sh            # configure + build the GPU-side executables
#   tools/gpu/build.sh --keep-objects   # keep object files (faster rebuilds; bigger carry)
#   WEFT_LLVM_BUILD=build-llvm tools/gpu/build.sh   # take weft_gpu_ptx from another LLVM build
#
# It builds only the GPU-side executables (what check.sh runs), strips them, and removes stale ones.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=build-gpu
JOBS="${WEFT_JOBS:-2}"
KEEP_OBJECTS=0
[ "${1:-}" = "--keep-objects" ] && KEEP_OBJECTS=1

cmake -S . -B "$BUILD" -G Ninja -DWEFT_WITH_LLVM=OFF -DWEFT_BUILD_CLI=OFF -DWEFT_BUILD_EMULATED_DEVICE=OFF -DWEFT_FMT_HEADER_ONLY=ON \
  -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_TYPE=Release || { echo "build.sh: configure failed" >&2; exit 1; }

# Only what tools/gpu/check.sh runs: test_gpu_*, test_runtime_nodriver, the host apps under
# samples/apps and the GPU benchmarks (the emission benchmark is a CPU one). The CPU test suites stay
# on the CPU machine, which keeps the carry under the device tool's 64 MiB.
mapfile -t targets < <(ninja -C "$BUILD" -t targets all 2>/dev/null |
  sed -n 's/^\([^:]*\): CXX_EXECUTABLE_LINKER.*/\1/p' |
  grep -E '(^|/)(test_gpu_[^/]*|test_runtime_nodriver)$|^samples/apps/|^bench/' | grep -v 'weft_emit_bench$')
[ ${#targets[@]} -gt 0 ] || { echo "build.sh: no GPU targets found" >&2; exit 1; }
ninja -C "$BUILD" -j"$JOBS" -k 0 "${targets[@]}" || echo "build.sh: some GPU targets failed to build" >&2
# Executables left from earlier builds that are not GPU targets any more: not carried.
# The shared libraries in $BUILD/lib are what the programs load: kept.
for f in $(find "$BUILD" -type f -perm -u+x -not -path '*/CMakeFiles/*' -not -path "$BUILD/lib/*" -not -name '*.sh'); do
  rel="${f#"$BUILD"/}"
  head -c4 "$f" 2>/dev/null | grep -q ELF || continue
  printf '%s\n' "${targets[@]}" | grep -qx "$rel" || rm -f "$f"
done

# PTX from both backends for test_gpu_llvm, which this build (no LLVM) compiles without the LLVM
# backend: weft_gpu_ptx from an LLVM-enabled build ($WEFT_LLVM_BUILD, default build/, tools/test.sh's;
# brought up to date here) writes every kernel the test runs into $BUILD/ptx-llvm, the directory the
# test looks in. Without them the test prints "skipped: ..." (a failure on the GPU machine).
LLVM_BUILD="${WEFT_LLVM_BUILD:-build}"
if [ -f "$LLVM_BUILD/build.ninja" ] && ninja -C "$LLVM_BUILD" -j"$JOBS" weft_gpu_ptx >/dev/null &&
   [ -x "$LLVM_BUILD/tests/llvm/weft_gpu_ptx" ]; then
  rm -rf "$BUILD/ptx-llvm" "$BUILD/ptx-llvm.tmp"
  if "$LLVM_BUILD/tests/llvm/weft_gpu_ptx" "$BUILD/ptx-llvm.tmp" >/dev/null; then
    mv "$BUILD/ptx-llvm.tmp" "$BUILD/ptx-llvm"
    echo "build.sh: PTX for test_gpu_llvm: $(ls "$BUILD/ptx-llvm" | wc -l) files in $BUILD/ptx-llvm (from $LLVM_BUILD/tests/llvm/weft_gpu_ptx)"
  else
    rm -rf "$BUILD/ptx-llvm.tmp"
    echo "build.sh: weft_gpu_ptx failed: no PTX for test_gpu_llvm (it will skip)" >&2
  fi
else
  echo "build.sh: could not build weft_gpu_ptx in $LLVM_BUILD (an LLVM-enabled build: run tools/test.sh, or set WEFT_LLVM_BUILD):" \
    "no PTX for test_gpu_llvm (it will skip)" >&2
fi

# PTX for the Python example, emitted by this machine's CLI (the GPU build has no CLI).
if [ -x build/tools/weft ]; then
  build/tools/weft emit saxpy --arch sm_80,sm_90a -o "$BUILD/ptx" >/dev/null || echo "build.sh: could not emit the Python example's PTX" >&2
else
  echo "build.sh: build/tools/weft is missing (run tools/test.sh first): no PTX for the Python example" >&2
fi

# The device tool carries at most 64 MiB: linked executables do not need their objects.
if [ "$KEEP_OBJECTS" = 0 ]; then
  find "$BUILD" \( -name '*.o' -o -name '*.a' \) -delete
fi
# Symbols are not needed to run there: strip the programs and the libraries (--strip-unneeded keeps
# the libraries' dynamic symbols).
if command -v strip >/dev/null; then
  find "$BUILD" -type f -perm -u+x -not -path '*/CMakeFiles/*' -exec sh -c \
    'head -c4 "$1" | grep -q ELF && strip --strip-unneeded "$1"' _ {} \; 2>/dev/null
fi
# Every program must find its libraries (weft's in $BUILD/lib through the run path, the system's) and
# every symbol they name (ldd -r; the shared libraries link without --no-undefined), and every run
# path must be $ORIGIN-relative: an absolute one would load this machine's build, not the carried one.
unresolved=0
for t in "${targets[@]}"; do
  [ -x "$BUILD/$t" ] || { echo "build.sh: $BUILD/$t was not built" >&2; unresolved=1; continue; }
  report=$(ldd -r "$BUILD/$t" 2>&1)
  if grep -q -e 'not found' -e 'undefined symbol' <<<"$report"; then
    echo "build.sh: $BUILD/$t cannot load:" >&2
    grep -e 'not found' -e 'undefined symbol' <<<"$report" | sed 's/^/  /' >&2
    unresolved=1
  fi
done
for f in "${targets[@]/#/$BUILD/}" "$BUILD"/lib/*.so; do
  [ -f "$f" ] || continue
  runpath=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
  IFS=: read -ra entries <<<"$runpath"
  for e in "${entries[@]}"; do
    case "$e" in '$ORIGIN'*|'') ;; *) echo "build.sh: $f has run path entry '$e', not \$ORIGIN-relative" >&2; unresolved=1;; esac
  done
done
size_kb=$(du -sk "$BUILD" | cut -f1)
if [ "$size_kb" -gt $((64 * 1024)) ]; then
  echo "build.sh: $BUILD is ${size_kb} KiB, over the device tool's 64 MiB carry" >&2
fi
echo "build.sh: $BUILD is $(du -sh "$BUILD" | cut -f1); GPU test binaries:"
find "$BUILD" -type f -perm -u+x -name 'test_gpu_*' | sort | sed 's/^/  /'
if [ "$unresolved" != 0 ]; then
  echo "build.sh: some programs are missing or cannot load (above)" >&2
  exit 1
fi
echo "build.sh: every program finds its libraries; tools/gpu/emulated_smoke.sh runs them, moved, on the emulated device"
