"""Inputs and checks for the MoBA kernels (pool_keys, gate_topk,
sparse_attention_fwd) run on the emulator.

  moba_case.py inputs DIR --cu-q 0,300,320,321 --cu-k 0,300,353,620
                          --hq H --hkv G --dtype bf16|fp16 --seed S
      q, k, v as uint16 bit patterns of the dtype (D = 64), cu_q.npy, cu_k.npy
  moba_case.py check DIR --block-size B --top-k K (--causal | --non-causal)
                         --dtype bf16|fp16 [--forward]
      DIR/selected.npy against the independent NumPy MoBA's selection (float64
      scores): every (row, head) must match exactly; the inputs are fixed and have
      no f32 near-ties, so any difference is a bug (runtime/reference/Compare.h has
      the near-tie rule for inputs that do). With --forward, also DIR/out.npy and
      DIR/lse.npy under the bounds of docs/accuracy.md."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import check_attention, from_bits, moba, to_bits  # noqa: E402

D = 64


def int_list(text):
    return np.array([int(x) for x in text.split(",")], np.int32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--cu-q", type=int_list, default=int_list("0,300,320,321"))
    p.add_argument("--cu-k", type=int_list, default=int_list("0,300,353,620"))
    p.add_argument("--hq", type=int, default=4)
    p.add_argument("--hkv", type=int, default=2)
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--top-k", type=int, default=4)
    p.add_argument("--causal", dest="causal", action="store_true", default=True)
    p.add_argument("--non-causal", dest="causal", action="store_false")
    p.add_argument("--forward", action="store_true")
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        for name, rows, heads in (("q", a.cu_q[-1], a.hq), ("k", a.cu_k[-1], a.hkv),
                                  ("v", a.cu_k[-1], a.hkv)):
            np.save(path(name), to_bits(rng.standard_normal((rows, heads, D)), a.dtype))
        np.save(path("cu_q"), a.cu_q)
        np.save(path("cu_k"), a.cu_k)
        return 0
    q, k, v = (from_bits(np.load(path(n)), a.dtype) for n in "qkv")
    cu_q, cu_k = np.load(path("cu_q")), np.load(path("cu_k"))
    ref, ref_lse, want = moba(q, k, v, cu_q, cu_k, a.block_size, a.top_k, a.causal,
                              1 / np.sqrt(D))
    got = np.load(path("selected"))
    if got.shape != want.shape:
        print(f"selected has shape {got.shape}, expected {want.shape}")
        return 1
    differ = np.argwhere((got != want).any(axis=2))
    print(f"selected {list(got.shape)}: {len(differ)} of {got.shape[0] * got.shape[1]} "
          f"(row, head) pairs differ from NumPy")
    ok = len(differ) == 0
    for row, head in differ[:5]:
        print(f"  row {row} head {head}: got {got[row, head].tolist()}, want {want[row, head].tolist()}")
    if a.forward:
        out = from_bits(np.load(path("out")), a.dtype)
        lse = np.load(path("lse")).astype(np.float64)
        ok = check_attention(out, lse, ref, ref_lse, v, a.dtype) and ok
    print("MoBA kernels on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
