#!/usr/bin/env bash
# Longer fuzzing campaigns than the ctest run (docs/reliability.md).
#   tools/fuzz.sh N [first_seed]     N programs and N mutations from first_seed (default 1)
# Extra options go to weft_fuzz through $WEFT_FUZZ_ARGS (e.g. "--targets sm_90a,sm_100a --strict").
# Builds weft_fuzz in build-fuzz/ (RelWithDebInfo). Exit status 1 when anything failed; each failure
# is printed with its seed and a minimised program.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: tools/fuzz.sh N [first_seed]}
first=${2:-1}
tools/deps.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target weft_fuzz
# shellcheck disable=SC2086
build-fuzz/tests/fuzz/weft_fuzz --mode all --first "$first" --count "$n" --jobs "$(nproc)" ${WEFT_FUZZ_ARGS:-}
