#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, nvcc and CMake (no internet, no apt, maybe
# no fmt/CLI11/nlohmann-json/xxHash dev packages, no LLVM/MLIR), builds mobagen's runtime and
# CLI, proves the generated kernels correct on the GPU against the float64 reference and the
# independent NumPy MoBA, and times the MoBA forward against PyTorch's dense attention and
# FlexAttention with a MoBA mask from 8K to 128K tokens. Prints one summary table last.
#
# Needs the pack from scripts/pack-gpu-check.sh (headers + pregenerated sm_90 bundles), made
# on a development machine and carried along.
#
# Usage: tools/gpu-check/run.sh [--dry-run] [--pack DIR] [--work DIR] [--out DIR]
#                               [--seqlens "8192 16384 ..."] [--budget SECONDS]
#   --dry-run  no GPU needed: packs (when this checkout has a compiler build), configures and
#              builds the runtime-only tree from the carried headers, generates the inputs and
#              runs the timing program on the emulator at a tiny size; the GPU steps say skipped.
#   --pack     default: .gpu-check-pack in the checkout
#   --work     scratch directory (build tree, inputs, outputs); default ${TMPDIR:-/tmp}/mobagen-gpu-check
#   --out      logs, JSON lines and the summary; default WORK/out
#   --budget   seconds for the whole check (default 480); each step's limit is cut to what is left
# Exit code: 0 when every step passed, 1 when any failed (each failure prints its log's tail),
# 2 for a usage error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tools/gpu-check"
dry_run=0
pack="$root/.gpu-check-pack"
work="${TMPDIR:-/tmp}/mobagen-gpu-check"
out=""
seqlens="8192 16384 32768 65536 131072"
budget=480
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=1; shift ;;
    --pack) pack=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seqlens) seqlens=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "gpu-check: --budget '$budget' is not a number of seconds" >&2; exit 2; }
out=${out:-$work/out}
mkdir -p "$work" "$out/logs"
logs="$out/logs"
steps_file="$out/steps.tsv"
: >"$steps_file"
rm -f "$out/moba.jsonl" "$out/torch.jsonl" "$out/variants.jsonl"
start=$(date +%s)
failed=0

say() { echo "[gpu-check] $*"; }

# Prints the steps and the timing table (last), then exits 1 if any step failed.
finish() {
  echo
  "$python" "$here/summary.py" --steps "$steps_file" --variants "$out/variants.jsonl" \
    --timings "$out/moba.jsonl" "$out/torch.jsonl" |
    tee "$out/summary.txt" || echo "gpu-check: the summary itself failed" >&2
  exit $(( failed ? 1 : 0 ))
}

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$steps_file"; }

# step NAME MAX_SECONDS critical|continue COMMAND...: runs COMMAND under `timeout` with the
# smaller of MAX_SECONDS and the budget left, its output in $logs/NAME.log. A failure prints
# the log's tail; a critical one ends the check there.
step() {
  local name=$1 max=$2 mode=$3
  shift 3
  local left=$(( budget - ($(date +%s) - start) ))
  local limit=$(( max < left ? max : left ))
  if (( limit < 5 )); then
    say "$name: FAILED: the ${budget} s budget is spent"
    record "$name" "FAILED (no time left)" 0
    failed=1
    [[ $mode == critical ]] && finish
    return 0
  fi
  local shown="$*"
  shown=${shown%%$'\n'*}
  say "$name (limit ${limit} s): ${shown:0:200}"
  local t0 rc=0
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$logs/$name.log" 2>&1 || rc=$?
  local took=$(( $(date +%s) - t0 ))
  if (( rc == 0 )); then
    say "$name: ok (${took} s)"
    record "$name" ok "$took"
    return 0
  fi
  local why="exit code $rc"
  (( rc == 124 || rc == 137 )) && why="timed out after ${limit} s"
  if (( rc == 3 )) && [[ $name == timing-torch ]]; then
    say "$name: skipped: $(tail -n 1 "$logs/$name.log")"
    record "$name" "skipped (no torch or no GPU)" "$took"
    return 0
  fi
  {
    echo "[gpu-check] $name: FAILED ($why, ${took} s). Last lines of $logs/$name.log:"
    tail -n 40 "$logs/$name.log" | sed 's/^/    /'
  } >&2
  record "$name" "FAILED ($why)" "$took"
  failed=1
  [[ $mode == critical ]] && finish
  return 0
}

skip() {
  say "$1: skipped: $2"
  record "$1" "skipped ($2)" 0
}

# --- Prerequisites ------------------------------------------------------------------------
python=""
for candidate in "${MOBAGEN_PYTHON:-}" python3 /usr/bin/python3; do
  [[ -n "$candidate" ]] || continue
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import numpy' 2>/dev/null; then
    python=$candidate
    break
  fi
done
prereq_errors=()
[[ -n "$python" ]] || prereq_errors+=("no python3 with numpy (set MOBAGEN_PYTHON to one)")
python=${python:-python3}
command -v cmake >/dev/null || prereq_errors+=("cmake is not on the PATH")
command -v c++ >/dev/null || command -v g++ >/dev/null || prereq_errors+=("no C++ compiler (c++ or g++)")
command -v timeout >/dev/null || prereq_errors+=("coreutils' timeout is missing")
generator="Unix Makefiles"
command -v ninja >/dev/null && generator=Ninja
cuda_root=${CUDA_HOME:-/usr/local/cuda}
if [[ ! -f "$cuda_root/include/cuda.h" ]] && command -v nvcc >/dev/null; then
  cuda_root=$(cd "$(dirname "$(command -v nvcc)")/.." && pwd)
fi
[[ -f "$cuda_root/include/cuda.h" ]] ||
  prereq_errors+=("no CUDA toolkit: $cuda_root/include/cuda.h is missing (set CUDA_HOME)")
if (( ! dry_run )); then
  command -v nvidia-smi >/dev/null || prereq_errors+=("nvidia-smi is missing: is this a GPU machine? (--dry-run runs without one)")
fi

# The pack: made here on a development machine when it can be, else it must have been carried.
if (( dry_run )) && [[ -x "$root/build/bin/mobagen" ]] && "$root/build/bin/mobagen" generate --help >/dev/null 2>&1; then
  step pack 120 critical bash "$root/scripts/pack-gpu-check.sh" -o "$pack"
fi
for need in include/fmt/format-inl.h include/CLI/CLI.hpp include/nlohmann/json.hpp include/xxhash.h \
            bundles/check-bf16-causal/manifest.json bundles/check-fp16-noncausal/manifest.json \
            bundles/timing/manifest.json; do
  [[ -e "$pack/$need" ]] || {
    prereq_errors+=("the pack lacks $pack/$need: run scripts/pack-gpu-check.sh -o $pack on a development machine and copy that directory here")
    break
  }
done
if (( ${#prereq_errors[@]} )); then
  for e in "${prereq_errors[@]}"; do echo "gpu-check: prerequisite missing: $e" >&2; done
  record prerequisites "FAILED (${#prereq_errors[@]} missing)" 0
  failed=1
  [[ -n "$python" ]] && "$python" -c 'import numpy' 2>/dev/null && finish
  exit 1
fi
record prerequisites ok 0
say "python: $python; CUDA toolkit: $cuda_root; generator: $generator; pack: $pack; output: $out"
if (( ! dry_run )); then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/gpu.txt" ||
    say "nvidia-smi could not query the GPU (the info step will say whether the driver sees it)"
fi

# --- Build: runtime and CLI only, with the carried headers where the system lacks them -----
build="$work/build"
configure=(cmake -S "$root" -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release
  -DMOBAGEN_BUILD_COMPILER=OFF -DMOBAGEN_BUILD_TESTS=OFF -DMOBAGEN_BUILD_BENCHMARKS=OFF
  "-DMOBAGEN_CARRIED_HEADERS=$pack/include" "-DCUDAToolkit_ROOT=$cuda_root")
# The dry run takes every header from the pack, proving the pack complete.
(( dry_run )) && configure+=(-DMOBAGEN_PREFER_CARRIED_HEADERS=ON)
step configure 120 critical "${configure[@]}"
jobs=$(nproc 2>/dev/null || echo 2)
(( dry_run && jobs > 2 )) && jobs=2
step build 300 critical cmake --build "$build" -j "$jobs" --target mobagen mobagen-gpu-timing
mobagen="$build/bin/mobagen"
timing="$build/bin/mobagen-gpu-timing"

if (( dry_run )); then
  step info 30 critical "$mobagen" info
else
  # The GPU must be listed as usable.
  step info 60 critical bash -c "text=\$('$mobagen' info) && echo \"\$text\" && grep -q '^  cuda:0 .*SMs' <<<\"\$text\""
fi

# --- Inputs: fresh random values each run (the seed is in the log) --------------------------
seed=${MOBAGEN_CHECK_SEED:-$(( $(date +%s) % 100000 ))}
say "input seed: $seed"
oracle="$root/tests/independent/moba_numpy.py"
# name | bundle | make-inputs arguments | run arguments
cases=(
  "bf16-causal|check-bf16-causal|--seqlens-q 300,1,77 --seqlens-k 300,513,200 --heads 4 --kv-heads 2 --head-dim 128|--block-size 64 --top-k 3 --causal --dtype bf16"
  "fp16-noncausal|check-fp16-noncausal|--seqlens-q 130,40 --seqlens-k 400,90 --heads 4 --kv-heads 1 --head-dim 64|--block-size 128 --top-k 2 --non-causal --dtype fp16"
  "timing-config|timing|--seqlens-q 1024,1 --seqlens-k 1024,3000 --heads 32 --kv-heads 8 --head-dim 128|--block-size 512 --top-k 3 --causal --dtype bf16"
)
# shellcheck disable=SC2317 # run through bash -c by `step`
make_inputs() {
  local c name bundle inputs
  for c in "${cases[@]}"; do
    IFS='|' read -r name bundle inputs _ <<<"$c"
    # shellcheck disable=SC2086 # inputs is a list of flags
    "$python" "$oracle" make-inputs --dir "$work/inputs/$name" $inputs --seed "$seed" || return 1
    echo "inputs/$name: $inputs (seed $seed)"
  done
}
export python oracle work seed
step inputs 60 critical bash -c "$(declare -p cases); $(declare -f make_inputs); make_inputs"

# --- Correctness on the GPU ---------------------------------------------------------------
# shellcheck disable=SC2317 # run through bash -c by `step`
check_case() { # name bundle run-arguments
  local name=$1 bundle=$2 args=$3 o="$work/outputs/$1" i="$work/inputs/$1"
  # shellcheck disable=SC2086 # args is a list of flags
  "$mobagen" run --device cuda --bundle "$pack/bundles/$bundle" --check \
    --q "$i/q.npy" --k "$i/k.npy" --v "$i/v.npy" \
    --cu-seqlens-q "$i/cu_seqlens_q.npy" --cu-seqlens-k "$i/cu_seqlens_k.npy" \
    $args --out-dtype float32 -o "$o"
  # shellcheck disable=SC2086
  "$python" "$here/check_outputs.py" --inputs "$i" --outputs "$o" $args
}
if (( dry_run )); then
  # The run command's surface the GPU steps rely on.
  if "$mobagen" run --help 2>&1 | grep -q -- '--bundle'; then
    skip check "dry run, no GPU; 'mobagen run --device cuda --bundle' is available"
  else
    say "check: FAILED: this mobagen's run command has no --bundle option; the GPU check needs 'mobagen run --device cuda --bundle DIR'"
    record check "FAILED (mobagen run has no --bundle)" 0
    failed=1
  fi
else
  for c in "${cases[@]}"; do
    IFS='|' read -r name bundle _ args <<<"$c"
    step "check-$name" 120 continue bash -c "$(declare -f check_case); mobagen='$mobagen' pack='$pack' work='$work' python='$python' here='$here'; check_case '$name' '$bundle' '$args'"
  done
fi

# --- Timing ---------------------------------------------------------------------------------
# shellcheck disable=SC2206 # a list of numbers
sizes=($seqlens)
if (( dry_run )); then
  # Launch geometry and arguments proven on the emulator (every access checked), tiny size.
  step timing-mobagen 180 continue "$timing" --device emulator --bundle "$pack/bundles/check-bf16-causal" \
    --seqlen 64 --warmup 0 --repetitions 1 --slow-forward 600 --json "$out/moba.jsonl"
  skip timing-variants "dry run, no GPU"
  skip timing-torch "dry run, no GPU"
else
  step timing-mobagen 180 continue "$timing" --device cuda --bundle "$pack/bundles/timing" \
    --seqlen "${sizes[@]}" --warmup 1 --repetitions 5 --seed "$seed" --budget 140 --json "$out/moba.jsonl"
  # Every variant of the tuned kernels at one size: what the autotuner will choose between.
  step timing-variants 90 continue bash -c "
    set -euo pipefail
    for kernel in gate_topk sparse_attention_blocks sparse_attention_merge; do
      for id in \$('$python' -c 'import json, sys; m = json.load(open(sys.argv[1])); print(*[v[\"id\"] for k in m[\"kernels\"] if k[\"name\"] == sys.argv[2] for v in k.get(\"variants\", [])])' '$pack/bundles/timing/manifest.json' \$kernel); do
        '$timing' --device cuda --bundle '$pack/bundles/timing' --variant \$kernel=\$id --seqlen 32768 \
          --warmup 1 --repetitions 3 --slow-forward 60 --seed '$seed' --json '$out/variants.jsonl'
      done
    done"
  step timing-torch 200 continue "$python" "$here/torch_baselines.py" --seqlen "${sizes[@]}" \
    --heads 32 --kv-heads 8 --head-dim 128 --block-size 512 --top-k 3 --dtype bf16 \
    --budget 120 --json "$out/torch.jsonl"
fi
finish
