#!/usr/bin/env bash
# Builds build-gpu/ on this (CPU) machine: the binaries tools/gpu/check.sh runs on the lent GPU
# machine, carried there with the tree. That machine has no LLVM, fmt, CLI11 or doctest, so this build
# has no LLVM and no CLI and links fmt header-only; the binaries need only libc and libstdc++.
#
#   tools/gpu/build.sh            # configure + build everything that builds
#   tools/gpu/build.sh --keep-objects   # keep object files (faster rebuilds; bigger carry)
#
# If the full build fails (another part of the tree is mid-change), it falls back to the GPU test
# binaries, host apps and benchmarks alone, and says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=build-gpu
JOBS="${WEFT_JOBS:-2}"
KEEP_OBJECTS=0
[ "${1:-}" = "--keep-objects" ] && KEEP_OBJECTS=1

cmake -S . -B "$BUILD" -G Ninja -DWEFT_WITH_LLVM=OFF -DWEFT_BUILD_CLI=OFF -DWEFT_FMT_HEADER_ONLY=ON \
  -DCMAKE_BUILD_TYPE=Release || { echo "build.sh: configure failed" >&2; exit 1; }

if ! ninja -C "$BUILD" -j"$JOBS"; then
  echo "build.sh: the full build failed; building only the GPU-side executables" >&2
  # Executables named test_gpu_*, test_runtime*, and everything under samples/apps and bench.
  mapfile -t targets < <(ninja -C "$BUILD" -t targets all 2>/dev/null |
    sed -n 's/^\([^:]*\): CXX_EXECUTABLE_LINKER.*/\1/p' |
    grep -E '(^|/)(test_gpu_[^/]*|test_runtime[^/]*)$|^samples/apps/|^bench/')
  [ ${#targets[@]} -gt 0 ] || { echo "build.sh: no GPU targets found" >&2; exit 1; }
  ninja -C "$BUILD" -j"$JOBS" -k 0 "${targets[@]}" || echo "build.sh: some GPU targets failed to build" >&2
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
echo "build.sh: $BUILD is $(du -sh "$BUILD" | cut -f1); GPU test binaries:"
find "$BUILD" -type f -perm -u+x -name 'test_gpu_*' | sort | sed 's/^/  /'
