#!/usr/bin/env bash
# Builds mobagen (installing what is missing) and runs the whole test suite with ctest:
# GoogleTest unit tests, the lit + FileCheck suite and the dialect-docs check. Before that it
# runs scripts/sanitize.sh all: the ASan + UBSan and ThreadSanitizer builds of the MLIR-free
# components and a short run of every fuzzer (MOBAGEN_SKIP_SANITIZERS=1 skips them). The last
# line is ctest's summary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_BUILD_DIR:-$root/build}

if [[ ${MOBAGEN_SKIP_SANITIZERS:-0} != 1 ]]; then
  bash "$root/scripts/sanitize.sh" all
fi
bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
