#!/usr/bin/env python3
"""Runs MoBA configurations of the lowering's grid on the PTX emulator, each checked
against the float64 reference (`mobagen run --device emulator --check`).

The grid: head dim {64, 128} x block {16, 64, 128, 512} x top-k {1, 2, 3, 8} x
causal / non-causal x GQA {1, 4} x {bf16, fp16} = 256 configurations, on a varlen
batch whose lengths are not multiples of the blocks and differ: a 21-token
prefill, a decode row over 300 keys and a 3-query chunk over 1030 keys; GQA 1 with
2 query and 2 kv heads, GQA 4 with 4 query heads on 1 kv head.

  --pairwise  a covering array: every pair of values of any two axes appears in
              some configuration (deterministic greedy choice), 20 configurations
  --full      all 256 (what CI runs; 619 s on 2 cores with another job running)
  --blocks    block sizes that are multiples of 16 but not powers of two, and large
              ones: {48, 80, 192, 768} x causal / non-causal, 8 configurations that
              alternate D, GQA, top-k and dtype (CI runs them too)

Usage: emulator-grid.py MOBAGEN WORK_DIR (--pairwise | --full | --blocks) [--list]
Prints one line per configuration and a summary; exits 1 on the first failure."""
import itertools
import os
import subprocess
import sys
import time

AXES = {
    "head_dim": [64, 128],
    "block": [16, 64, 128, 512],
    "top_k": [1, 2, 3, 8],
    "causal": [True, False],
    "gqa": [1, 4],
    "dtype": ["bf16", "fp16"],
}
NAMES = list(AXES)


def pairs_of(config):
    return {(a, config[a], b, config[b]) for a, b in itertools.combinations(range(len(NAMES)), 2)}


def full_grid():
    return list(itertools.product(*AXES.values()))


def pairwise():
    """Greedy covering array: repeatedly take the configuration (first in grid
    order among equals) that covers the most pairs not yet covered."""
    grid = full_grid()
    uncovered = set().union(*(pairs_of(c) for c in grid))
    chosen = []
    while uncovered:
        best = max(grid, key=lambda c: len(pairs_of(c) & uncovered))
        chosen.append(best)
        uncovered -= pairs_of(best)
    return chosen


def block_sizes():
    """Blocks of 48, 80, 192 and 768 keys, causal and not: the key tiles are the
    largest powers of two dividing the block (16, 16, 64, 64), and the sequences'
    last blocks are partial (1030 keys: 22, 70 and 262 keys in the last block)."""
    configs = []
    for i, (block, causal) in enumerate(itertools.product([48, 80, 192, 768], [True, False])):
        configs.append((64 if i % 4 < 2 else 128, block, 2 + i % 2, causal, 4 if (i // 2 + i) % 2 else 1,
                        "bf16" if i % 4 in (0, 3) else "fp16"))
    return configs


def main():
    modes = {"--pairwise": pairwise, "--full": full_grid, "--blocks": block_sizes}
    if len(sys.argv) < 4 or sys.argv[3] not in modes:
        sys.exit(__doc__)
    mobagen, work, mode = sys.argv[1:4]
    configs = modes[mode]()
    if "--list" in sys.argv[4:]:
        for c in configs:
            print(" ".join(f"{n}={v}" for n, v in zip(NAMES, c)))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    numpy_moba = os.path.join(here, "..", "tests", "independent", "moba_numpy.py")
    inputs = {}
    for d, g in itertools.product(AXES["head_dim"], AXES["gqa"]):
        path = os.path.join(work, f"in-d{d}-g{g}")
        subprocess.run([sys.executable, numpy_moba, "make-inputs", "--dir", path, "--seqlens-q", "21,1,3",
                        "--seqlens-k", "21,300,1030", "--heads", str(2 if g == 1 else 4),
                        "--kv-heads", str(2 if g == 1 else 1),
                        "--head-dim", str(d), "--seed", str(d + g)], check=True)
        inputs[(d, g)] = path
    start = time.monotonic()
    for i, (d, block, top_k, causal, g, dtype) in enumerate(configs):
        src = inputs[(d, g)]
        cmd = [mobagen, "run", "--device", "emulator", "--check", "-o", os.path.join(work, "out"),
               "--block-size", str(block), "--top-k", str(top_k), "--causal" if causal else "--non-causal",
               "--dtype", dtype]
        for name in ("q", "k", "v", "cu-seqlens-q", "cu-seqlens-k"):
            cmd += [f"--{name}", os.path.join(src, name.replace("-", "_") + ".npy")]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        text = proc.stdout.decode(errors="replace")
        ok = proc.returncode == 0 and "verified against the float64 reference" in text
        label = f"D {d} block {block} top-k {top_k} {'causal' if causal else 'non-causal'} GQA {g} {dtype}"
        print(f"{i + 1}/{len(configs)} {label}: {'verified' if ok else 'FAILED'}", flush=True)
        if not ok:
            print(text)
            sys.exit(1)
    print(f"{len(configs)} configurations verified in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
