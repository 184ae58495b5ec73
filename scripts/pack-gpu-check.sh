#!/usr/bin/env bash
# Gathers, on a development machine, what tools/gpu-check/run.sh needs on a GPU machine that
# has no internet, no apt, possibly none of the dev packages and no LLVM/MLIR 22:
#   DIR/include/   header-only fmt (used with FMT_HEADER_ONLY), CLI11, nlohmann/json, xxHash
#                  (XXH_INLINE_ALL), copied from /usr/include (CMake: MOBAGEN_CARRIED_HEADERS);
#   DIR/bundles/   the kernel bundles the check runs, from `mobagen generate --target sm_90`;
#   DIR/PACK.txt   what is inside and what made it.
# Usage: scripts/pack-gpu-check.sh [-o DIR] [--mobagen PATH] [--target sm_90]
#   DIR defaults to .gpu-check-pack in the checkout (git-ignored); PATH to build/bin/mobagen.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.gpu-check-pack"
mobagen="$root/build/bin/mobagen"
target=sm_90
while [[ $# -gt 0 ]]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --mobagen) mobagen=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "pack-gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "pack-gpu-check: error: $*" >&2; exit 1; }
[[ -x "$mobagen" ]] || die "$mobagen is not an executable mobagen; build it first (bash scripts/build.sh)"
"$mobagen" generate --help >/dev/null 2>&1 ||
  die "$mobagen has no 'generate' command: it was built without the compiler (MOBAGEN_BUILD_COMPILER=OFF)"

# The configurations the check runs: name, then `mobagen generate` arguments. The first two are
# small enough for the float64 reference of `mobagen run --check`; `timing` is the default MoBA
# configuration (block 512, top-k 3, D 128, 32 query heads on 8 kv heads) that run.sh times
# from 8K to 128K tokens, and checks at a small size too.
bundles=(
  "check-bf16-causal --block-size 64 --top-k 3 --head-dim 128 --num-q-heads 4 --num-kv-heads 2"
  "check-fp16-noncausal --block-size 128 --top-k 2 --head-dim 64 --num-q-heads 4 --num-kv-heads 1 --non-causal --dtype fp16"
  "timing --block-size 512 --top-k 3 --head-dim 128 --num-q-heads 32 --num-kv-heads 8"
)

rm -rf "$out.tmp"
mkdir -p "$out.tmp/include" "$out.tmp/bundles"
for header in fmt CLI nlohmann xxhash.h xxh3.h; do
  [[ -e "/usr/include/$header" ]] || die "/usr/include/$header is missing (scripts/setup.sh installs it)"
  cp -r "/usr/include/$header" "$out.tmp/include/"
done
[[ -f "$out.tmp/include/fmt/format-inl.h" ]] ||
  die "fmt's format-inl.h is missing: this fmt cannot be used header-only"

{
  echo "mobagen GPU check pack"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) by $("$mobagen" --version)"
  echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "headers: fmt $(dpkg-query -W -f='${Version}' libfmt-dev 2>/dev/null || echo '?'),"\
       "CLI11 $(dpkg-query -W -f='${Version}' libcli11-dev 2>/dev/null || echo '?'),"\
       "nlohmann_json $(dpkg-query -W -f='${Version}' nlohmann-json3-dev 2>/dev/null || echo '?'),"\
       "xxHash $(dpkg-query -W -f='${Version}' libxxhash-dev 2>/dev/null || echo '?')"
  echo "bundles (target $target):"
} >"$out.tmp/PACK.txt"
for entry in "${bundles[@]}"; do
  read -r name args <<<"$entry"
  # shellcheck disable=SC2086 # args is a list of flags
  "$mobagen" generate $args --target "$target" -o "$out.tmp/bundles/$name" >"$out.tmp/generate.log" 2>&1 || {
    cat "$out.tmp/generate.log" >&2; die "mobagen generate failed for bundle '$name' ($args)"; }
  echo "  $name: mobagen generate $args --target $target" >>"$out.tmp/PACK.txt"
  grep -q '"format_version": 4' "$out.tmp/bundles/$name/manifest.json" ||
    echo "pack-gpu-check: warning: bundle '$name' is not format 4; 'mobagen run --bundle' and mobagen-gpu-timing (the GPU check's steps) need format 4" >&2
done
rm -f "$out.tmp/generate.log"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "pack-gpu-check: wrote $out ($(du -sh "$out" | cut -f1)): include/, bundles/{$(ls "$out/bundles" | paste -sd, -)}, PACK.txt"
