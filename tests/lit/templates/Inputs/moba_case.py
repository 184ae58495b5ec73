"""Inputs and checks for the MoBA kernels (pool_keys, gate_topk,
sparse_attention_fwd) run on the emulator.

  moba_case.py inputs DIR --cu-q 0,300,320,321 --cu-k 0,300,353,620
                          --hq H --hkv G --dtype bf16|fp16 --seed S
                          [--block-size B --top-k K] [--keys gaussian|trend|ties]
      q, k, v as uint16 bit patterns of the dtype (D = 64), cu_q.npy, cu_k.npy,
      and counts0.npy / ranks0.npy (the routing counts [total blocks * Hq] and
      ranks [total_q, Hq, K], filled with a sentinel) for pool_keys / gate_topk
  moba_case.py check DIR --block-size B --top-k K (--causal | --non-causal)
                         --dtype bf16|fp16 [--forward]
      DIR/selected.npy against the independent NumPy MoBA's selection (float64
      scores): every (row, head) must match exactly; the inputs are fixed and have
      no f32 near-ties (--keys ties: exact ties, which go to the lower block), so
      any difference is a bug (runtime/reference/Compare.h has
      the near-tie rule for inputs that do). With --forward, also DIR/out.npy and
      DIR/lse.npy under the bounds of docs/accuracy.md. With --routing, also
      gate_topk's routing (RouteBlocks.h): DIR/counts.npy must hold, per (block,
      head), the number of routed entries of the NumPy selection, and
      DIR/ranks.npy a permutation of 0 .. count - 1 over each list's entries (any
      order the atomic adds may run in), the sentinel everywhere else."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import check_attention, from_bits, moba, to_bits  # noqa: E402

D = 64
SENTINEL = -7


def int_list(text):
    return np.array([int(x) for x in text.split(",")], np.int32)


def check_routing(path, sel, cu_q, cu_k, bs, causal):
    """gate_topk's counts and ranks against the selection `sel` (module docstring)."""
    counts, ranks = np.load(path("counts")).reshape(-1), np.load(path("ranks"))
    hq, top_k = sel.shape[1], sel.shape[2]
    want_counts = np.zeros_like(counts)
    lists = {}
    g0 = 0
    for b in range(len(cu_q) - 1):
        q0, lq = int(cu_q[b]), int(cu_q[b + 1] - cu_q[b])
        lk = int(cu_k[b + 1] - cu_k[b])
        for i in range(lq):
            c = (lk - lq + i) // bs
            for h in range(hq):
                for slot in range(top_k):
                    j = int(sel[q0 + i, h, slot])
                    if j >= 0 and (not causal or j < c):
                        lists.setdefault((g0 + j) * hq + h, []).append((q0 + i, h, slot))
        g0 += (lk + bs - 1) // bs
    for key, entries in lists.items():
        want_counts[key] = len(entries)
    bad_counts = int((counts != want_counts).sum())
    bad_lists = sum(sorted(int(ranks[e]) for e in entries) != list(range(len(entries)))
                    for entries in lists.values())
    routed = np.zeros(ranks.shape, bool)
    for entries in lists.values():
        for e in entries:
            routed[e] = True
    stray = int((ranks[~routed] != SENTINEL).sum())
    print(f"routing: {bad_counts} of {counts.size} counts differ, {bad_lists} of {len(lists)} "
          f"lists' ranks are not a permutation, {stray} ranks written outside the lists")
    return bad_counts == 0 and bad_lists == 0 and stray == 0 and len(lists) > 0


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
    p.add_argument("--keys", choices=["gaussian", "trend", "ties"], default="gaussian",
                   help="inputs: k i.i.d. N(0,1); plus a drift along a random direction per "
                        "head (a row's scores rise or fall with the block index); or one key "
                        "per head and sequence (every score of a row ties)")
    p.add_argument("--forward", action="store_true")
    p.add_argument("--routing", action="store_true")
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        for name, rows, heads in (("q", a.cu_q[-1], a.hq), ("k", a.cu_k[-1], a.hkv),
                                  ("v", a.cu_k[-1], a.hkv)):
            x = rng.standard_normal((rows, heads, D))
            if name == "k" and a.keys != "gaussian":
                for b in range(len(a.cu_k) - 1):
                    k0, k1 = int(a.cu_k[b]), int(a.cu_k[b + 1])
                    if a.keys == "ties":  # one key per head: every block's kbar equal
                        x[k0:k1] = x[k0]
                    else:  # "trend": a drift along a random direction per head
                        u = rng.standard_normal((heads, D))
                        u /= np.linalg.norm(u, axis=1, keepdims=True)
                        x[k0:k1] += 8 * (np.arange(k1 - k0) / (k1 - k0))[:, None, None] * u
            np.save(path(name), to_bits(x, a.dtype))
        np.save(path("cu_q"), a.cu_q)
        np.save(path("cu_k"), a.cu_k)
        blocks = sum((int(a.cu_k[b + 1] - a.cu_k[b]) + a.block_size - 1) // a.block_size
                     for b in range(len(a.cu_k) - 1))
        np.save(path("counts0"), np.full(blocks * a.hq, SENTINEL, np.int32))
        np.save(path("ranks0"), np.full((int(a.cu_q[-1]), a.hq, a.top_k), SENTINEL, np.int32))
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
    if a.routing:
        ok = check_routing(path, want, cu_q, cu_k, a.block_size, a.causal) and ok
    if a.forward:
        out = from_bits(np.load(path("out")), a.dtype)
        lse = np.load(path("lse")).astype(np.float64)
        ok = check_attention(out, lse, ref, ref_lse, v, a.dtype) and ok
    print("MoBA kernels on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
