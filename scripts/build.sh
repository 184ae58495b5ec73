#!/usr/bin/env bash
# Installs missing dependencies, configures (once) and builds mobagen incrementally.
# Usage: scripts/build.sh [extra cmake args...]   Build folder: $MOBAGEN_BUILD_DIR (default ./build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"

# ccache keys on paths relative to the checkout, so a fresh clone (as CI makes) hits
# the cache that an earlier build of another clone filled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2; exit 1; }
  rm -f "$build.configure.log"
fi
cmake --build "$build"
