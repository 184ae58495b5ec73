"""Inputs and checks for sparse_attention_blocks (templates/SparseAttentionBlocks.h)
run on the emulator, and the independent NumPy form of the routing that
route_scatter computes (templates/RouteBlocks.h).

  blocks_case.py inputs DIR --cu-q 0,100,137,182 --cu-k 0,100,190,235 --hq 4 --hkv 2
                 --head-dim D --block-size B --top-k K (--causal | --non-causal)
                 --dtype bf16|fp16 --seed S
      q, k, v as uint16 bit patterns of the dtype; cu_q.npy, cu_k.npy; a valid
      random selection selected.npy [total_q, Hq, K] (causal: per row up to K-1
      distinct past blocks then the current block, ascending; non-causal: up to K
      distinct blocks, ascending; -1 padded); the routing block_counts.npy
      [total blocks * Hq], block_offsets.npy [total blocks * Hq], routed.npy
      [total_q * Hq * K] (unused entries -1); partial_out_init.npy
      [total_q, Hq, K, D] and partial_lse_init.npy [total_q, Hq, K] filled with NaN,
      to be passed as inout buffers. Prints the grid and the buffer shapes.
  blocks_case.py check DIR (same options but --seed)
      DIR/partial_out.npy and DIR/partial_lse.npy: for every routed (row, head,
      slot), the softmax of the row over its block's keys against float64, under
      docs/accuracy.md's bounds (out |err| <= 2u (|ref| + max|v|) + 1e-6 per
      element, relative L2 < 1e-2; lse (base 2 of the exp2-domain logits) |err| <=
      1e-3 (1 + |ref|)); every entry that is not routed must be left untouched
      (still NaN). Prints the useful FLOPs, 4 D keys per routed entry."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import from_bits, to_bits  # noqa: E402


def int_list(text):
    return np.array([int(x) for x in text.split(",")], np.int32)


def seq_blocks(cu_k, block):
    """Per sequence: its number of key blocks and the blocks before it."""
    n = [-(-int(cu_k[b + 1] - cu_k[b]) // block) for b in range(len(cu_k) - 1)]
    return n, np.concatenate([[0], np.cumsum(n)]).astype(np.int64)


# --head-skew: the chance that a row of head h routes any block, by h % 4: lists of
# one KV head's group differ in length, and head 0's are all empty.
SKEW = (0.0, 1.0, 0.2, 0.6)


def make_selection(rng, cu_q, cu_k, hq, block, top_k, causal, skew=False):
    total_q = int(cu_q[-1])
    selected = np.full((total_q, hq, top_k), -1, np.int32)
    n_blocks, _ = seq_blocks(cu_k, block)
    for b in range(len(cu_q) - 1):
        lq, lk = int(cu_q[b + 1] - cu_q[b]), int(cu_k[b + 1] - cu_k[b])
        for i in range(lq):
            row = int(cu_q[b]) + i
            current = (lk - lq + i) // block
            for h in range(hq):
                if skew and rng.random() >= SKEW[h % 4]:
                    # Nothing routed: causal keeps only the current block (the
                    # merge's diagonal pass), non-causal selects none.
                    if causal:
                        selected[row, h, 0] = current
                    continue
                if causal:
                    past = rng.permutation(current)[:min(top_k - 1, current)]
                    picks = sorted(past.tolist()) + [current]
                else:
                    most = min(top_k, n_blocks[b])
                    # Mostly full selections; sometimes fewer, so -1 slots appear.
                    take = most if rng.random() < 0.8 else int(rng.integers(1, most + 1))
                    picks = sorted(rng.permutation(n_blocks[b])[:take].tolist())
                selected[row, h, :len(picks)] = picks
    return selected


def is_routed(block, current, causal):
    """RouteBlocks.h: a selected block is routed when it is >= 0 and, causally,
    strictly before the row's current block."""
    return block >= 0 and (not causal or block < current)


def make_routing(selected, cu_q, cu_k, hq, block, top_k, causal):
    """block_counts, block_offsets and routed exactly as RouteBlocks.h defines them."""
    n_blocks, before = seq_blocks(cu_k, block)
    total_blocks = int(before[-1])
    total_q = int(cu_q[-1])
    counts = np.zeros(total_blocks * hq, np.int32)
    offsets = np.zeros(total_blocks * hq, np.int32)
    routed = np.full(total_q * hq * top_k, -1, np.int32)
    for b in range(len(cu_q) - 1):
        q0, lq, lk = int(cu_q[b]), int(cu_q[b + 1] - cu_q[b]), int(cu_k[b + 1] - cu_k[b])
        for h in range(hq):
            lists = [[] for _ in range(n_blocks[b])]
            for i in range(lq):  # ascending rows
                current = (lk - lq + i) // block
                for slot in range(top_k):
                    j = int(selected[q0 + i, h, slot])
                    if is_routed(j, current, causal):
                        lists[j].append((q0 + i) * top_k + slot)
            at = (q0 * hq + h * lq) * top_k  # region(b, h)
            for j, entries in enumerate(lists):
                g = (int(before[b]) + j) * hq + h
                counts[g], offsets[g] = len(entries), at
                routed[at:at + len(entries)] = entries
                at += len(entries)
            assert at <= (q0 * hq + (h + 1) * lq) * top_k
    return counts, offsets, routed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--cu-q", type=int_list, required=True)
    p.add_argument("--cu-k", type=int_list, required=True)
    p.add_argument("--hq", type=int, default=4)
    p.add_argument("--hkv", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--block-size", type=int, required=True)
    p.add_argument("--top-k", type=int, required=True)
    p.add_argument("--causal", dest="causal", action="store_true", default=True)
    p.add_argument("--non-causal", dest="causal", action="store_false")
    p.add_argument("--dtype", default="bf16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--head-skew", action="store_true",
                   help="per-head routing chances SKEW (lists of different lengths, some empty)")
    p.add_argument("--tile", default=None,
                   help="check: BLOCK_M,BLOCK_N of the kernel; prints the tensor-core FLOPs its "
                        "tiling executes")
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    cu_q, cu_k, hq, d, bs, top_k = a.cu_q, a.cu_k, a.hq, a.head_dim, a.block_size, a.top_k
    total_q, total_k = int(cu_q[-1]), int(cu_k[-1])
    n_blocks, before = seq_blocks(cu_k, bs)

    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        for name, rows, heads in (("q", total_q, hq), ("k", total_k, a.hkv), ("v", total_k, a.hkv)):
            np.save(path(name), to_bits(rng.standard_normal((rows, heads, d)), a.dtype))
        np.save(path("cu_q"), cu_q)
        np.save(path("cu_k"), cu_k)
        selected = make_selection(rng, cu_q, cu_k, hq, bs, top_k, a.causal, a.head_skew)
        np.save(path("selected"), selected)
        counts, offsets, routed = make_routing(selected, cu_q, cu_k, hq, bs, top_k, a.causal)
        np.save(path("block_counts"), counts)
        np.save(path("block_offsets"), offsets)
        np.save(path("routed"), routed)
        np.save(path("partial_out_init"), np.full((total_q, hq, top_k, d), np.nan, np.float32))
        np.save(path("partial_lse_init"), np.full((total_q, hq, top_k), np.nan, np.float32))
        group = hq // a.hkv
        per_group = counts.reshape(-1, a.hkv, group)
        print(f"grid {max(n_blocks)},{hq},{len(cu_q) - 1}; {int(before[-1])} blocks; "
              f"{int(counts.sum())} routed entries, longest list {int(counts.max())}; "
              f"empty lists {int((counts == 0).sum())}; longest group concatenation "
              f"{int(per_group.sum(axis=2).max())}")
        return 0

    q, k, v = (from_bits(np.load(path(n)), a.dtype) for n in "qkv")
    selected = np.load(path("selected"))
    counts, offsets, routed = make_routing(selected, cu_q, cu_k, hq, bs, top_k, a.causal)
    out = np.load(path("partial_out")).astype(np.float64)
    lse = np.load(path("partial_lse")).astype(np.float64)
    group = hq // a.hkv
    scale = 1 / np.sqrt(d)
    want_written = np.zeros((total_q, hq, top_k), bool)
    refs, gots, lse_ref, lse_got = [], [], [], []
    flops = 0
    for b in range(len(cu_q) - 1):
        q0, lq = int(cu_q[b]), int(cu_q[b + 1] - cu_q[b])
        k0, lk = int(cu_k[b]), int(cu_k[b + 1] - cu_k[b])
        for i in range(lq):
            row = q0 + i
            current = (lk - lq + i) // bs
            for h in range(hq):
                for slot in range(top_k):
                    j = int(selected[row, h, slot])
                    if not is_routed(j, current, a.causal):
                        continue
                    want_written[row, h, slot] = True
                    keys = slice(k0 + j * bs, k0 + min((j + 1) * bs, lk))
                    ks, vs = k[keys, h // group, :], v[keys, h // group, :]
                    logits = scale * (ks @ q[row, h, :])
                    m = logits.max()
                    e = np.exp(logits - m)
                    refs.append(e @ vs / e.sum())
                    lse_ref.append((m + np.log(e.sum())) / np.log(2))
                    gots.append(out[row, h, slot])
                    lse_got.append(lse[row, h, slot])
                    flops += 4 * d * ks.shape[0]
    ref, got = np.array(refs), np.array(gots)
    ref_lse, got_lse = np.array(lse_ref), np.array(lse_got)
    u = 2.0**-8 if a.dtype == "bf16" else 2.0**-11
    ok = True
    print(f"{len(refs)} routed entries, longest list {int(counts.max())}, "
          f"useful FLOPs {flops}")
    if a.tile:
        # Heads share their lists S at a time, S = 4 when 4 divides G, else 1:
        # the S programs of a (block, head set, sequence) split the concatenation of
        # the S lists into chunks of block_m entries; each chunk runs
        # ceil(keys / block_n) key steps of two [block_m, block_n, D] products
        # (2 M N K FLOPs each).
        shared = 4 if group % 4 == 0 else 1
        tm, tn = (int(x) for x in a.tile.split(","))
        tiled = 0
        for b in range(len(cu_q) - 1):
            lk = int(cu_k[b + 1] - cu_k[b])
            for j in range(n_blocks[b]):
                steps = -(-(min((j + 1) * bs, lk) - j * bs) // tn)
                g0 = (int(before[b]) + j) * hq
                for first in range(0, hq, shared):
                    entries = int(counts[g0 + first:g0 + first + shared].sum())
                    tiled += -(-entries // tm) * steps * 4 * tm * tn * d
        print(f"tensor-core FLOPs of the {tm} x {tn} tiling, heads shared {shared} at a time: "
              f"{tiled}")
    # Exactly the routed entries are written: the others still hold the NaN they started with.
    written = ~np.isnan(lse) | ~np.isnan(out).all(axis=3)
    partly = np.isnan(out).any(axis=3) & want_written
    stray = int((written & ~want_written).sum())
    missing = int((~written & want_written).sum()) + int(partly.sum())
    print(f"entries written outside the routed ones: {stray}; routed entries not (fully) "
          f"written: {missing}")
    ok = ok and stray == 0 and missing == 0
    if len(refs):
        finite = np.isfinite(got).all() and np.isfinite(got_lse).all()
        worst = np.max(np.abs(got - ref) / (2 * u * (np.abs(ref) + np.abs(v).max()) + 1e-6))
        rel_l2 = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        lse_worst = np.max(np.abs(got_lse - ref_lse) / (1e-3 * (1 + np.abs(ref_lse))))
        print(f"partial_out: relative L2 {rel_l2:.2e}, worst element at {worst:.2f} of its "
              f"bound; partial_lse: worst at {lse_worst:.2e} of its bound")
        ok = ok and bool(finite and rel_l2 < 1e-2 and worst <= 1 and lse_worst <= 1)
    else:
        ok = False
        print("no routed entry: nothing checked")
    print("sparse_attention_blocks on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
