#!/usr/bin/env bash
# Builds mobagen (installing what is missing) and runs the whole test suite with ctest:
# GoogleTest unit tests, the lit + FileCheck suite and the dialect-docs check. The last
# line is ctest's summary.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
