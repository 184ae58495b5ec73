#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) in build-fuzz/ (clang, ASan + UBSan, the
# MLIR-free components only) and fuzzes one target, or each in turn, for SECONDS each.
# Usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]
#   TARGET: npy_fuzzer manifest_fuzzer cache_entry_fuzzer ptx_fuzzer ... (build-fuzz/fuzz/)
#   SECONDS: 0 runs each seed of the corpus once and stops (the CI smoke).
# New inputs that reach new code go to build-fuzz/corpus/TARGET/ (the checked-in seeds in
# tests/fuzz/corpus/TARGET/ are only read); crashes, leaks and timeouts are saved under
# build-fuzz/crashes/TARGET/ and the script exits non-zero naming them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_FUZZ_BUILD_DIR:-$root/build-fuzz}
if [[ $# -lt 2 || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]" >&2; exit 2
fi
target=$1 seconds=$2; shift 2

bash "$root/scripts/setup.sh"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DMOBAGEN_BUILD_COMPILER=OFF -DMOBAGEN_BUILD_TESTS=OFF -DMOBAGEN_BUILD_BENCHMARKS=OFF \
    -DMOBAGEN_BUILD_FUZZERS=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
fi
cmake --build "$build" --target mobagen-fuzzers

if [[ $target == all ]]; then
  targets=()
  # The libFuzzer targets tests/fuzz/CMakeLists.txt builds (moba_config_fuzzer needs MLIR
  # and runs in the main build through a standalone driver instead).
  for f in "$build"/fuzz/*_fuzzer; do targets+=("$(basename "$f")"); done
else
  [[ -x "$build/fuzz/$target" ]] || { echo "fuzz.sh: no fuzz target '$target' in $build/fuzz" >&2; exit 2; }
  targets=("$target")
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  crashes=$build/crashes/$t
  mkdir -p "$crashes"
  if [[ $seconds -eq 0 ]]; then
    # Smoke: every seed once (a seed that crashes is a regression).
    args=(-runs=0 "$seeds")
  else
    mkdir -p "$build/corpus/$t"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 "$build/corpus/$t" "$seeds")
  fi
  echo "fuzz.sh: $t ${seconds}s"
  if ! "$build/fuzz/$t" -artifact_prefix="$crashes/" "${args[@]}" "$@" 2>"$build/$t.log"; then
    tail -n 40 "$build/$t.log" >&2
    failed+=("$t")
  else
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|Done [0-9]+ runs)" "$build/$t.log" | tail -n 2 || true
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: failures in ${failed[*]}; reproducers under $build/crashes/" >&2
  exit 1
fi
