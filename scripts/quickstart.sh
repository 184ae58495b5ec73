#!/usr/bin/env bash
# The main job on the default configuration: block 512, top-k 3, head dim 128,
# causal, bf16 (GQA 4:1), on a varlen batch scaled down to finish in seconds: a
# 4096-token prefill, a 1536-token prefill and one decode step against 3000 keys.
#
# Today the float64 reference runs it (`mobagen run --device reference`) and an
# independent NumPy implementation of DESIGN.md section 1 verifies every output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"

work="$build/quickstart"
rm -rf "$work"
python=/usr/bin/python3 # Debian's, with python3-numpy (scripts/setup.sh)
oracle="$root/tests/independent/moba_numpy.py"
config=(--block-size 512 --top-k 3 --causal)

"$python" "$oracle" make-inputs --dir "$work/inputs" --seqlens-q 4096,1536,1 \
  --seqlens-k 4096,1536,3000 --heads 4 --kv-heads 1 --head-dim 128 --seed 0
"$build/bin/mobagen" run --device reference --dtype bf16 "${config[@]}" \
  --q "$work/inputs/q.npy" --k "$work/inputs/k.npy" --v "$work/inputs/v.npy" \
  --cu-seqlens-q "$work/inputs/cu_seqlens_q.npy" --cu-seqlens-k "$work/inputs/cu_seqlens_k.npy" \
  --out-dtype float64 -o "$work/reference"
"$python" "$oracle" check --inputs "$work/inputs" --outputs "$work/reference" "${config[@]}"
echo "quickstart: verified; outputs in $work/reference"
