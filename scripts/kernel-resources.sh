#!/usr/bin/env bash
# Prints, as a markdown table, the registers, spills and shared memory ptxas reports
# (through nvJitLink) for every tuning variant of each MoBA kernel that
# `mobagen generate --cubin` puts in a bundle, per head dim and target (block 128,
# top-k 8, Hq 4, Hkv 1, causal, bf16): static shared memory as ptxas reports it (sm_90
# adds 1 KB it reserves), dynamic as the launch passes it. Usage: scripts/kernel-resources.sh [build dir]
set -euo pipefail
build=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| kernel | D | target | variant | knobs | threads | registers | spill stores / loads (bytes) | static shared (bytes) | dynamic shared (bytes) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for d in 64 128; do
  for chip in sm_80 sm_90; do
    "$build/bin/mobagen" generate --block-size 128 --top-k 8 --head-dim "$d" --num-q-heads 4 \
      --num-kv-heads 1 --target "$chip" --cubin -o "$work/$d-$chip" >/dev/null
    python3 - "$work/$d-$chip/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
c = m["config"]
for k in m["kernels"]:
    for v in k["variants"]:
        r = v["resources"]
        knobs = " ".join(f"{n}={x}" for n, x in v["knobs"].items())
        print(f"| {k['name']} | {c['head_dim']} | {c['target']} | {v['id']} | {knobs} | "
              f"{v['threads']} | {r['registers']} | {r['spill_store_bytes']} / "
              f"{r['spill_load_bytes']} | {r['shared_bytes']} | {v['dynamic_shared_bytes']} |")
PY
  done
done
