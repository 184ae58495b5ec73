"""Inputs and the check for pool_keys + gate_topk on the emulator.

  gate_topk_case.py inputs DIR --hq H --hkv G --dtype bf16|fp16 --seed S
      q, k, v (uint16 bit patterns) for three sequences: a 300-token prefill
      (19 blocks of 16), a chunk of 20 queries over 53 keys, and a decode row over
      267 keys; cu_seqlens
  gate_topk_case.py check DIR --block-size B --top-k K --causal|--non-causal
      DIR/selected.npy against the independent NumPy MoBA's selection (float64
      scores): every (row, head) must match exactly. The inputs are fixed and have
      no f32 near-ties, so any difference is a bug (runtime/reference/Compare.h has
      the near-tie rule for inputs that do)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import from_bits, moba, to_bits  # noqa: E402

CU_Q = np.array([0, 300, 320, 321], np.int32)
CU_K = np.array([0, 300, 353, 620], np.int32)
D = 64


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--hq", type=int, default=4)
    p.add_argument("--hkv", type=int, default=2)
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--top-k", type=int, default=4)
    p.add_argument("--causal", dest="causal", action="store_true", default=True)
    p.add_argument("--non-causal", dest="causal", action="store_false")
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        for name, rows, heads in (("q", CU_Q[-1], a.hq), ("k", CU_K[-1], a.hkv), ("v", CU_K[-1], a.hkv)):
            np.save(path(name), to_bits(rng.standard_normal((rows, heads, D)), a.dtype))
        np.save(path("cu_q"), CU_Q)
        np.save(path("cu_k"), CU_K)
        return 0
    q, k, v = (from_bits(np.load(path(n)), a.dtype) for n in "qkv")
    _, _, want = moba(q, k, v, CU_Q, CU_K, a.block_size, a.top_k, a.causal, 1.0)
    got = np.load(path("selected"))
    if got.shape != want.shape:
        print(f"selected has shape {got.shape}, expected {want.shape}")
        return 1
    differ = np.argwhere((got != want).any(axis=2))
    print(f"selected {list(got.shape)}: {len(differ)} of {got.shape[0] * got.shape[1]} "
          f"(row, head) pairs differ from NumPy")
    print("gate + top-k on the emulator: " + ("PASS" if len(differ) == 0 else "FAIL"))
    for row, head in differ[:5]:
        print(f"  row {row} head {head}: got {got[row, head].tolist()}, want {want[row, head].tolist()}")
    return 0 if len(differ) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
