#!/usr/bin/env bash
# The MoBA forward's work on the PTX emulator at 16K tokens, one head, D 128, causal bf16,
# for block 128 / top-k 8 and block 512 / top-k 3: per kernel the executed tensor-core
# FLOPs, global bytes and shared-memory bank conflicts, then the MMA work efficiency
# (useful attention FLOPs over the attention kernels' tensor-core FLOPs) and the global
# bytes over the minimum (`mobagen bench --counters`). Results: docs/perf.md.
# Usage: bench/moba-counters.sh [build dir] [seqlen] [sample-ctas]   (about 10 minutes on 2 cores
# at 16K in full; a third argument N samples about N CTAs of each attention launch, the
# figures marked sampled: docs/emulator.md, "Sampled mode")
set -euo pipefail
build=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
seqlen=${2:-16384}
sample=()
[[ -n ${3:-} ]] && sample=(--sample-ctas "$3")
for config in "128 8" "512 3"; do
  set -- $config
  echo "== block $1, top-k $2, seqlen $seqlen"
  "$build/bin/mobagen" bench --device emulator --block-size "$1" --top-k "$2" --head-dim 128 \
    --num-q-heads 1 --num-kv-heads 1 --seqlen "$seqlen" --warmup 0 --repetitions 1 --counters "${sample[@]}"
done
