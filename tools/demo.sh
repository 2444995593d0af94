#!/usr/bin/env bash
# The main job: installs what is missing, builds the weft CLI, emits every registered sample kernel
# for each of the architectures weft is written for (sm_80, sm_89, sm_90, sm_90a, sm_100a, sm_120a;
# a kernel goes to those of them it claims) into out/, assembles each file with ptxas and prints the
# table (kernel, target, registers, spills, shared memory, status).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$(nproc)" --target weft
build/tools/weft check --all --arch "${WEFT_DEMO_ARCHS:-sm_80,sm_89,sm_90,sm_90a,sm_100a,sm_120a}" -o out
