#!/usr/bin/env bash
# The external example project (samples/external) against an installed weft:
#   1. install this build into a temporary prefix (cmake --install),
#   2. configure and build the example with find_package(weft), run its host program,
#   3. edit nothing but touch a kernel source: the PTX is emitted again,
#   4. a kernel with a DSL error fails the build with the file and line,
#   5. without the package, CMake says it cannot find weft.
# Usage: run.sh <weft build dir> <weft source dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/weft-external-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "external: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" || fail "install: $(tail -5 "$work/install.log")"
cp -r "$src/samples/external" "$work/app"

cmake -S "$work/app" -B "$work/b" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/cfg.log" 2>&1 ||
  fail "configure: $(tail -20 "$work/cfg.log")"
cmake --build "$work/b" > "$work/build.log" 2>&1 || fail "build: $(tail -30 "$work/build.log")"
out=$("$work/b/scale_host")
echo "$out"
grep -q "embedded scale for sm_80" <<<"$out" || fail "the host program did not see the sm_80 PTX"
grep -q "embedded scale for sm_90a" <<<"$out" || fail "the host program did not see the sm_90a PTX"

sleep 1
touch "$work/app/kernels/scale.cpp"
cmake --build "$work/b" > "$work/rebuild.log" 2>&1 || fail "rebuild: $(tail -20 "$work/rebuild.log")"
grep -q "weft: emitting scale" "$work/rebuild.log" || fail "a changed kernel source did not re-emit the PTX"

cmake -S "$work/app" -B "$work/broken" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DWEFT_EXAMPLE_BROKEN=ON > /dev/null 2>&1 ||
  fail "configure (broken)"
if cmake --build "$work/broken" > "$work/broken.log" 2>&1; then fail "a kernel with a DSL error built"; fi
grep -q "kernels/broken.cpp:11: error: elect.sync needs sm_90+ (target sm_80)" "$work/broken.log" ||
  fail "the DSL error was not shown with file and line: $(grep -m3 error "$work/broken.log")"

if cmake -S "$work/app" -B "$work/nopkg" -G Ninja -DCMAKE_PREFIX_PATH=/nonexistent > "$work/nopkg.log" 2>&1; then
  fail "configured without the weft package"
fi
grep -q 'provided by "weft"' "$work/nopkg.log" || fail "CMake did not name the missing weft package"
echo "external: OK (install, find_package, build-time PTX, embedding, re-emission, DSL error, missing package)"
