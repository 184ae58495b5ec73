"""Inputs and the check for running sparse_attention_merge on the emulator.

  merge_case.py inputs DIR --cu-q 0,45,65,66 --cu-k 0,45,98,131 --hq 4 --hkv 2
                           --head-dim D --block-size B --top-k K
                           (--causal | --non-causal) --dtype bf16|fp16 --seed S
      q, k, v (uint16 bit patterns of the dtype), cu_q, cu_k; a valid random
      selection [total_q, Hq, K] (causal: the current block and up to K - 1
      distinct past blocks; non-causal: 1 to K distinct blocks; ascending, -1
      padded), and the partials sparse_attention_blocks would write for every
      routed slot (RouteBlocks.h: b >= 0 and, causal, b < the current block),
      computed in float64 and rounded to f32: partial_out [total_q, Hq, K, D] the
      normalized softmax(s') V of the row over the block's keys, partial_lse
      [total_q, Hq, K] the base-2 log-sum-exp of s' = scale log2(e) q.k. Every
      other slot's partials are NaN, so a kernel that reads them fails.
  merge_case.py check DIR (--causal | --non-causal) --dtype bf16|fp16
      DIR/out.npy and DIR/lse.npy against float64 MoBA attention over the same
      selection (the selection's key mask, causal keys <= p), under the bounds of
      docs/accuracy.md: per element |out - ref| <= 2u (|ref| + max|v|) + 1e-6,
      relative L2 < 1e-2, |lse - ref| <= 1e-3 (1 + |ref|)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import check_attention, from_bits, to_bits  # noqa: E402


def int_list(text):
    return np.array([int(x) for x in text.split(",")], np.int32)


def sequences(cu_q, cu_k):
    for b in range(len(cu_q) - 1):
        yield cu_q[b], cu_q[b + 1], cu_k[b], cu_k[b + 1]


def make_selection(rng, cu_q, cu_k, hq, block, top_k, causal):
    selected = np.full((cu_q[-1], hq, top_k), -1, np.int32)
    for q0, q1, k0, k1 in sequences(cu_q, cu_k):
        lq, lk = q1 - q0, k1 - k0
        n = -(-lk // block)
        for i in range(lq):
            c = (lk - lq + i) // block
            for h in range(hq):
                if causal:
                    picks = rng.permutation(c)[: rng.integers(0, min(c, top_k - 1) + 1)]
                    blocks = sorted(list(picks) + [c])
                else:
                    blocks = sorted(rng.permutation(n)[: rng.integers(1, min(n, top_k) + 1)])
                selected[q0 + i, h, : len(blocks)] = blocks
    return selected


def attention(q, k, v, cu_q, cu_k, selected, block, causal, scale):
    """float64 MoBA attention over `selected`: out, lse (natural log, [Hq, total_q])
    and, per (row, head, slot), the block's partial (normalized out, base-2 lse)."""
    total_q, hq, d = q.shape
    group = hq // k.shape[1]
    top_k = selected.shape[2]
    out = np.zeros((total_q, hq, d))
    lse = np.zeros((hq, total_q))
    part_out = np.full((total_q, hq, top_k, d), np.nan)
    part_lse = np.full((total_q, hq, top_k), np.nan)
    for q0, q1, k0, k1 in sequences(cu_q, cu_k):
        lq, lk = q1 - q0, k1 - k0
        block_of_key = np.arange(lk) // block
        for i in range(lq):
            p = lk - lq + i
            c = p // block
            for h in range(hq):
                qs = q[q0 + i, h]
                ks, vs = k[k0:k1, h // group], v[k0:k1, h // group]
                logits = scale * (ks @ qs)                      # [lk]
                blocks = selected[q0 + i, h]
                mask = np.isin(block_of_key, blocks[blocks >= 0])
                if causal:
                    mask &= np.arange(lk) <= p
                z = logits[mask]
                mx = z.max()
                w = np.exp(z - mx)
                out[q0 + i, h] = w @ vs[mask] / w.sum()
                lse[h, q0 + i] = mx + np.log(w.sum())
                for slot, b in enumerate(blocks):
                    if b < 0 or (causal and b >= c):
                        continue                                # not routed
                    keys = block_of_key == b
                    zb = logits[keys] * np.log2(np.e)           # exp2-domain logits
                    mb = zb.max()
                    wb = np.exp2(zb - mb)
                    part_out[q0 + i, h, slot] = wb @ vs[keys] / wb.sum()
                    part_lse[q0 + i, h, slot] = mb + np.log2(wb.sum())
    return out, lse, part_out, part_lse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["inputs", "check"])
    ap.add_argument("dir")
    ap.add_argument("--cu-q", type=int_list, default=int_list("0,45,65,66"))
    ap.add_argument("--cu-k", type=int_list, default=int_list("0,45,98,131"))
    ap.add_argument("--hq", type=int, default=4)
    ap.add_argument("--hkv", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--top-k", type=int, default=3)
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--causal", dest="causal", action="store_true", default=True)
    ap.add_argument("--non-causal", dest="causal", action="store_false")
    a = ap.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        d = a.head_dim
        for name, rows, heads in (("q", a.cu_q[-1], a.hq), ("k", a.cu_k[-1], a.hkv),
                                  ("v", a.cu_k[-1], a.hkv)):
            np.save(path(name), to_bits(rng.standard_normal((rows, heads, d)), a.dtype))
        q, k, v = (from_bits(np.load(path(n)), a.dtype) for n in "qkv")
        selected = make_selection(rng, a.cu_q, a.cu_k, a.hq, a.block_size, a.top_k, a.causal)
        _, _, part_out, part_lse = attention(q, k, v, a.cu_q, a.cu_k, selected, a.block_size,
                                             a.causal, 1 / np.sqrt(d))
        np.save(path("selected"), selected)
        np.save(path("partial_out"), part_out.astype(np.float32))
        np.save(path("partial_lse"), part_lse.astype(np.float32))
        np.save(path("cu_q"), a.cu_q)
        np.save(path("cu_k"), a.cu_k)
        routed = int(np.isfinite(part_lse).sum())
        print(f"selection {list(selected.shape)}: {int((selected >= 0).sum())} slots used, "
              f"{routed} routed")
        return 0
    q, k, v = (from_bits(np.load(path(n)), a.dtype) for n in "qkv")
    cu_q, cu_k, selected = np.load(path("cu_q")), np.load(path("cu_k")), np.load(path("selected"))
    ref, ref_lse, _, _ = attention(q, k, v, cu_q, cu_k, selected, a.block_size, a.causal,
                                   1 / np.sqrt(q.shape[2]))
    out = from_bits(np.load(path("out")), a.dtype)
    lse = np.load(path("lse")).astype(np.float64)
    ok = bool(np.isfinite(out).all() and np.isfinite(lse).all())
    ok = check_attention(out, lse, ref, ref_lse, v, a.dtype) and ok
    print("sparse attention merge on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
