#!/usr/bin/env bash
# Installs what weft needs on Debian 12 (run as root, no standard input needed). Packages already
# present are left alone, so a second run costs one dpkg query.
set -euo pipefail
# python3-numpy (it brings python3): the PTX emulator, tools/ptxemu (test_comm_emulated, test_gemm_emulated).
packages=(cmake ninja-build g++ libfmt-dev libcli11-dev doctest-dev llvm-19-dev clang-19 libclang-rt-19-dev python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "weft: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
if [ ! -x "${WEFT_PTXAS:-/usr/local/cuda/bin/ptxas}" ] && ! command -v ptxas >/dev/null; then
  echo "weft: warning: ptxas not found (looked at \$WEFT_PTXAS, PATH, /usr/local/cuda/bin); the ptxas checks will say they were skipped" >&2
fi
