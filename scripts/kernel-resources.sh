#!/usr/bin/env bash
# Prints, as a markdown table, the registers, spills and shared memory ptxas reports
# (through nvJitLink) for each MoBA kernel at the tuning compiler/Pipeline uses, per
# head dim and target. Usage: scripts/kernel-resources.sh [build dir]
set -euo pipefail
build=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
bin="$build/bin"

echo "| kernel | D | target | knobs | registers | spill stores / loads (bytes) | shared memory (bytes) |"
echo "|---|---|---|---|---|---|---|"
for d in 64 128; do
  config="#moba.config<block_size = 128, top_k = 8, head_dim = $d, num_q_heads = 4, num_kv_heads = 1, causal = true, dtype = bf16, target = sm_80>"
  attention_m=$([ "$d" -gt 64 ] && echo 8 || echo 16)
  for spec in "pool-keys|--block-rows=16 --num-warps=2" \
              "gate-topk|--block-m=16 --block-n=16 --num-warps=2" \
              "sparse-attention-fwd|--block-m=$attention_m --block-n=8 --num-warps=4"; do
    name=${spec%%|*}
    knobs=${spec#*|}
    for chip in sm_80 sm_90; do
      # shellcheck disable=SC2086
      "$bin/mobagen-template" "$name" --config="$config" $knobs |
        "$bin/mobagen-opt" --mobagen-tile-to-llvm |
        "$bin/mobagen-translate" --mlir-to-cubin-resources --ptx-chip="$chip" | tr -d ',' |
        # kernel NAME: registers R stack S spill stores T spill loads U smem M
        awk -v d="$d" -v chip="$chip" -v knobs="$knobs" '/^kernel/ {
          name = $2; sub(":", "", name)
          printf "| %s | %s | %s | %s | %s | %s / %s | %s |\n", name, d, chip, knobs, $4, $9, $12, $14 }'
    done
  done
done
