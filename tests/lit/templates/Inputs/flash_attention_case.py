"""Inputs and the check for running the flash-attention template on the emulator.

  flash_attention_case.py inputs DIR --hq H --hkv G --dtype bf16|fp16 --seed S
      writes q, k, v (uint16 bit patterns of the dtype, and float64 copies), and
      cu_seqlens for three sequences: Lq = Lk = 40, Lq = 20 < Lk = 33, Lq = Lk = 1
  flash_attention_case.py check DIR --causal|--non-causal --dtype bf16|fp16
      compares DIR/out.npy and DIR/lse.npy with dense attention in float64 (the
      independent NumPy MoBA with one block covering every key), under the bounds
      of docs/accuracy.md: per element |out - ref| <= 2u (|ref| + max|v|) + 1e-6,
      relative L2 < 1e-2, |lse - ref| <= 1e-3 (1 + |ref|)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import check_attention, from_bits, moba, to_bits  # noqa: E402

CU_Q = np.array([0, 40, 60, 61], np.int32)
CU_K = np.array([0, 40, 73, 74], np.int32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--hq", type=int, default=2)
    p.add_argument("--hkv", type=int, default=1)
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--causal", dest="causal", action="store_true", default=True)
    p.add_argument("--non-causal", dest="causal", action="store_false")
    a = p.parse_args()
    D = a.head_dim
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        shapes = {"q": (CU_Q[-1], a.hq, D), "k": (CU_K[-1], a.hkv, D), "v": (CU_K[-1], a.hkv, D)}
        for name, shape in shapes.items():
            bits = to_bits(rng.standard_normal(shape), a.dtype)
            np.save(path(name), bits)
            np.save(path(name + "64"), from_bits(bits, a.dtype))
        np.save(path("cu_q"), CU_Q)
        np.save(path("cu_k"), CU_K)
        return 0
    q, k, v = (np.load(path(n + "64")) for n in "qkv")
    ref, ref_lse, _ = moba(q, k, v, CU_Q, CU_K, block=1 << 30, top_k=1, causal=a.causal,
                           scale=1 / np.sqrt(D))
    out = from_bits(np.load(path("out")), a.dtype)
    lse = np.load(path("lse")).astype(np.float64)
    ok = check_attention(out, lse, ref, ref_lse, v, a.dtype)
    print("flash attention on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
