#!/usr/bin/env bash
# The main job on the default configuration: block 512, top-k 3, head dim 128,
# causal, bf16, GQA 4:1, scaled down to finish in seconds.
#
# 1. The kernels mobagen generates for that configuration (key pooling, fused
#    gate + top-k, sparse attention) run on the PTX emulator (no GPU here) for two
#    decode steps against 2048 and 1300 keys, checked against the float64
#    reference (`mobagen run --device emulator --check`).
# 2. The float64 reference runs a larger varlen batch (a 4096-token prefill, a
#    1536-token prefill, a decode step against 3000 keys), verified against an
#    independent NumPy implementation of DESIGN.md section 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MOBAGEN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"

work="$build/quickstart"
rm -rf "$work"
python=/usr/bin/python3 # Debian's, with python3-numpy (scripts/setup.sh)
oracle="$root/tests/independent/moba_numpy.py"
config=(--block-size 512 --top-k 3 --causal)
run() { # run INPUTS OUTPUTS [mobagen run flags...]
  local in=$1 out=$2
  shift 2
  "$build/bin/mobagen" run --dtype bf16 "${config[@]}" \
    --q "$in/q.npy" --k "$in/k.npy" --v "$in/v.npy" \
    --cu-seqlens-q "$in/cu_seqlens_q.npy" --cu-seqlens-k "$in/cu_seqlens_k.npy" -o "$out" "$@"
}

echo "== generated kernels on the PTX emulator"
"$python" "$oracle" make-inputs --dir "$work/decode" --seqlens-q 1,1 --seqlens-k 2048,1300 \
  --heads 4 --kv-heads 1 --head-dim 128 --seed 0
run "$work/decode" "$work/emulator" --device emulator --check

echo "== float64 reference, verified by an independent NumPy implementation"
"$python" "$oracle" make-inputs --dir "$work/inputs" --seqlens-q 4096,1536,1 \
  --seqlens-k 4096,1536,3000 --heads 4 --kv-heads 1 --head-dim 128 --seed 0
run "$work/inputs" "$work/reference" --device reference --out-dtype float64
"$python" "$oracle" check --inputs "$work/inputs" --outputs "$work/reference" "${config[@]}"
echo "quickstart: verified; outputs in $work/emulator and $work/reference"
