#!/usr/bin/env bash
# Times a full build of mobagen with Ninja or Make, with and without ccache (docs/build.md).
set -e
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for variant in "Ninja nocache" "Unix Makefiles nocache" "Ninja ccache-cold" "Ninja ccache-warm"; do
  gen=${variant% *}; mode=${variant##* }
  d=$(mktemp -d)
  launcher=()
  case $mode in
    nocache) launcher=(-DCCACHE_PROGRAM=CCACHE_PROGRAM-NOTFOUND);;
    ccache-cold) export CCACHE_DIR=${TMPDIR:-/tmp}/mobagen-ccache-measure; rm -rf "$CCACHE_DIR";;
    ccache-warm) export CCACHE_DIR=${TMPDIR:-/tmp}/mobagen-ccache-measure;;
  esac
  cmake -S "$src" -B "$d" -G "$gen" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  s=$(date +%s%N); cmake --build "$d" -j2 >/dev/null; e=$(date +%s%N)
  echo "$gen $mode: $(( (e - s) / 1000000 )) ms"
  rm -rf "$d"
done
