"""Inputs and the check for the key-pooling template on the emulator.

  pool_keys_case.py inputs DIR --hkv G --head-dim D --dtype bf16|fp16 --seed S
      k as uint16 bit patterns of the dtype for four sequences of Lk = 100, 0, 17
      and 48 keys, cu_seqlens_k, and counts0.npy: the routing counts
      [total blocks * Hq] (Hq = 2 Hkv) filled with a sentinel
  pool_keys_case.py check DIR --block-size B --dtype bf16|fp16
      kbar [total blocks, Hkv, D] against the float64 mean of each block's rows
      (partial last blocks included); the kernel sums in f32, so the error bound is
      (m + 1) 2^-24 mean|k| per element for a block of m rows (docs/accuracy.md);
      and DIR/counts.npy all zero (pool_keys clears every block's count of every
      query head of its kv head)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import from_bits, to_bits  # noqa: E402

CU_K = np.array([0, 100, 100, 117, 165], np.int32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--hkv", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--block-size", type=int, default=48)
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        k = np.random.default_rng(a.seed).standard_normal((CU_K[-1], a.hkv, a.head_dim))
        np.save(path("k"), to_bits(k, a.dtype))
        np.save(path("cu_k"), CU_K)
        blocks = sum(-(-int(CU_K[b + 1] - CU_K[b]) // a.block_size) for b in range(len(CU_K) - 1))
        print(f"total blocks: {blocks}")
        np.save(path("counts0"), np.full(blocks * 2 * a.hkv, -7, np.int32))
        return 0
    k = from_bits(np.load(path("k")), a.dtype)
    got = np.load(path("kbar"))
    want, bound = [], []
    for b in range(len(CU_K) - 1):
        keys = k[CU_K[b]:CU_K[b + 1]]
        for j in range(-(-len(keys) // a.block_size)):
            rows = keys[j * a.block_size:(j + 1) * a.block_size]
            want.append(rows.mean(axis=0))
            bound.append((len(rows) + 1) * 2.0**-24 * np.abs(rows).mean(axis=0) + 1e-30)
    want, bound = np.array(want), np.array(bound)
    if got.shape != want.shape:
        print(f"kbar has shape {got.shape}, expected {want.shape}")
        return 1
    worst = np.max(np.abs(got - want) / bound)
    counts = np.load(path("counts"))
    nonzero = int(np.count_nonzero(counts))
    ok = worst <= 1 and nonzero == 0 and counts.size == 2 * got.shape[0] * got.shape[1]
    print(f"kbar {list(got.shape)}: worst element at {worst:.3f} of its bound; "
          f"counts: {nonzero} of {counts.size} not zeroed; " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
