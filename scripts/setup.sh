#!/usr/bin/env bash
# Installs what mobagen needs to build and test, from Debian's package registry.
# Idempotent: prints nothing and installs nothing when everything is present.
# Exits non-zero, naming each missing piece, when something cannot be had.
set -euo pipefail

# Debian packages: LLVM/MLIR 22 (shared libLLVM/libMLIR, FileCheck, lit, not),
# the build tools, the libraries the runtime, CLI, tests and benchmarks use, and
# NumPy with OpenBLAS for the independent NumPy oracle (tests/independent), and clang
# with its sanitizer and libFuzzer runtimes for scripts/sanitize.sh and scripts/fuzz.sh.
packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  cmake ninja-build ccache g++
  libfmt-dev libcli11-dev libxxhash-dev nlohmann-json3-dev pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy libopenblas0-pthread
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "mobagen setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "mobagen setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! "${sudo_cmd[@]}" apt-get update -qq >"$log" 2>&1; then
    echo "mobagen setup: apt-get update failed:" >&2; cat "$log" >&2; exit 1
  fi
  if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    unavailable=()
    for p in "${missing[@]}"; do
      apt-cache show "$p" >/dev/null 2>&1 || unavailable+=("$p")
    done
    if ((${#unavailable[@]})); then
      echo "mobagen setup: these packages cannot be had from the configured Debian registry: ${unavailable[*]}" >&2
    fi
    echo "mobagen setup: apt-get install failed; its log:" >&2; tail -n 30 "$log" >&2; exit 1
  fi
  rm -f "$log"
fi

# The CUDA 13 toolkit is not a Debian package here: it ships with the machine.
cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
for tool in bin/nvcc bin/ptxas include/cuda.h include/nvJitLink.h; do
  if [[ ! -e "$cuda_root/$tool" ]]; then
    echo "mobagen setup: the CUDA toolkit is incomplete: $cuda_root/$tool is missing (set CUDAToolkit_ROOT to its root)" >&2
    exit 1
  fi
done
