#!/usr/bin/env bash
# The sanitizer and fuzz smoke suites of CI (docs/reliability.md), MLIR-free components only:
#   asan  build-asan/ (clang, ASan + UBSan): the unit tests and the emulator tests
#   tsan  build-tsan/ (clang, ThreadSanitizer): threads on one emulator device and one cache
#   fuzz  build-fuzz/: each libFuzzer target for $MOBAGEN_FUZZ_SMOKE_SECONDS (default 5) from its seeds
#   all   the three in that order (what scripts/test.sh runs before ctest)
# Any sanitizer report stops the process (halt_on_error) and fails the suite; the script
# exits non-zero naming the suite.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
what=${1:-all}

configure() { # build-dir sanitizers
  local build=$1
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    mkdir -p "$build"
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMOBAGEN_SANITIZE="$2" \
      -DMOBAGEN_BUILD_COMPILER=OFF -DMOBAGEN_BUILD_BENCHMARKS=OFF >"$build/configure.log" 2>&1 || {
      cat "$build/configure.log" >&2; return 1; }
  fi
}

run_asan() {
  local build=$root/build-asan
  configure "$build" address,undefined
  cmake --build "$build" --target mobagen-unittests mobagen-emulator-tests
  export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  "$build/tests/unit/mobagen-unittests" --gtest_brief=1
  "$build/tests/emulator/mobagen-emulator-tests" --gtest_brief=1
}

run_tsan() {
  local build=$root/build-tsan
  configure "$build" thread
  cmake --build "$build" --target mobagen-thread-tests
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$build/tests/unit/mobagen-thread-tests" --gtest_brief=1
}

run_fuzz() { bash "$root/scripts/fuzz.sh" all "${MOBAGEN_FUZZ_SMOKE_SECONDS:-5}"; }

bash "$root/scripts/setup.sh"
case $what in
  asan|tsan|fuzz) suites=("$what") ;;
  all) suites=(asan tsan fuzz) ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan|fuzz|all" >&2; exit 2 ;;
esac
for s in "${suites[@]}"; do
  start=$SECONDS
  echo "sanitize.sh: $s"
  if ! "run_$s"; then
    echo "sanitize.sh: the $s suite failed (output above)" >&2
    exit 1
  fi
  echo "sanitize.sh: $s passed in $((SECONDS - start)) s"
done
