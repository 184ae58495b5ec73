"""Inputs and checks for route_scatter (templates/RouteBlocks.h) run on the
emulator.

  route_case.py inputs DIR --cu-q 0,300,320,321 --cu-k 0,300,353,620 --hq H
                           --block-size B --top-k K (--causal | --non-causal) --seed S
      selected.npy: a valid random selection [total_q, Hq, top_k] i32 built here
      directly (not by gate_topk). Causal: per row up to top_k - 1 distinct past
      blocks ascending, then the current block, -1 padded (gate_topk's layout);
      non-causal: up to top_k distinct blocks ascending, -1 padded. Many rows get
      fewer blocks than they could. counts.npy and ranks.npy stand for what
      gate_topk's atomic adds leave: each (block, head)'s count of routed entries,
      and each routed entry's rank in its list, a random permutation of the list
      (the order the adds happened to run in; the sentinel elsewhere). Also
      cu_q.npy, cu_k.npy, and the output buffers pre-filled with a sentinel
      (offsets0, routed0), so that the check sees every element the kernel wrote
      and every one it did not.
  route_case.py check DIR --block-size B --top-k K (--causal | --non-causal)
      DIR/offsets.npy and routed.npy against this file's own loop over the
      selection: both exactly, the routed buffer in full (each entry at its
      block's offset plus its rank, and an entry outside every list still holding
      the sentinel); and every list lies inside its (sequence, head) region, the
      regions partitioning [0, total_q * Hq * top_k)."""
import argparse
import os
import sys

import numpy as np

SENTINEL = -7


def int_list(text):
    return np.array([int(x) for x in text.split(",")], np.int32)


def blocks_of(lk, bs):
    return (lk + bs - 1) // bs


def make_selection(rng, cu_q, cu_k, hq, bs, top_k, causal):
    total_q = int(cu_q[-1])
    sel = np.full((total_q, hq, top_k), -1, np.int32)
    for b in range(len(cu_q) - 1):
        q0, lq = int(cu_q[b]), int(cu_q[b + 1] - cu_q[b])
        lk = int(cu_k[b + 1] - cu_k[b])
        n = blocks_of(lk, bs)
        for i in range(lq):
            c = (lk - lq + i) // bs
            for h in range(hq):
                if causal:
                    most = min(top_k - 1, c)
                    # Most rows take all they may (as gate_topk does); the rest fewer.
                    m = most if rng.random() < 0.6 else int(rng.integers(0, most + 1))
                    past = np.sort(rng.choice(c, size=m, replace=False)) if m else []
                    row = list(past) + [c]
                else:
                    most = min(top_k, n)
                    m = most if rng.random() < 0.5 else int(rng.integers(0, most + 1))
                    row = list(np.sort(rng.choice(n, size=m, replace=False)))
                sel[q0 + i, h, :len(row)] = row
    return sel


def reference(sel, ranks, cu_q, cu_k, hq, bs, top_k, causal):
    """Counts, offsets and routed lists by a plain loop, per the header's rule;
    each list in rank order (`ranks` None: ascending row order, and the ranks
    that order gives are returned)."""
    out_ranks = np.full(sel.shape, SENTINEL, np.int32)
    nb = [blocks_of(int(cu_k[b + 1] - cu_k[b]), bs) for b in range(len(cu_q) - 1)]
    total_blocks = sum(nb)
    counts = np.zeros(total_blocks * hq, np.int32)
    offsets = np.zeros(total_blocks * hq, np.int32)
    routed = np.full(int(cu_q[-1]) * hq * top_k, SENTINEL, np.int32)
    regions = []  # (first, end, [(g * hq + h) of its lists])
    g0 = 0
    for b in range(len(cu_q) - 1):
        q0, lq = int(cu_q[b]), int(cu_q[b + 1] - cu_q[b])
        lk = int(cu_k[b + 1] - cu_k[b])
        for h in range(hq):
            lists = [[] for _ in range(nb[b])]
            for i in range(lq):
                c = (lk - lq + i) // bs
                for s in range(top_k):
                    blk = int(sel[q0 + i, h, s])
                    if blk >= 0 and (not causal or blk < c):
                        lists[blk].append((q0 + i, h, s))
            region = (q0 * hq + h * lq) * top_k
            at = region
            for j, entries in enumerate(lists):
                counts[(g0 + j) * hq + h] = len(entries)
                offsets[(g0 + j) * hq + h] = at
                for t, (row, hh, s) in enumerate(entries):
                    rank = t if ranks is None else int(ranks[row, hh, s])
                    out_ranks[row, hh, s] = rank
                    routed[at + rank] = row * top_k + s
                at += len(entries)
            regions.append((region, region + lq * top_k, [(g0 + j) * hq + h for j in range(nb[b])]))
        g0 += nb[b]
    return counts, offsets, routed, regions, out_ranks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["inputs", "check"])
    p.add_argument("dir")
    p.add_argument("--cu-q", type=int_list, default=int_list("0,300,320,321"))
    p.add_argument("--cu-k", type=int_list, default=int_list("0,300,353,620"))
    p.add_argument("--hq", type=int, default=4)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--top-k", type=int, default=4)
    p.add_argument("--causal", dest="causal", action="store_true", default=True)
    p.add_argument("--non-causal", dest="causal", action="store_false")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    path = lambda n: os.path.join(a.dir, n + ".npy")
    if a.mode == "inputs":
        rng = np.random.default_rng(a.seed)
        sel = make_selection(rng, a.cu_q, a.cu_k, a.hq, a.block_size, a.top_k, a.causal)
        counts, _, _, _, ranks = reference(sel, None, a.cu_q, a.cu_k, a.hq, a.block_size,
                                           a.top_k, a.causal)
        # Permute each list's ranks: a list is the entries of one (block, head), so
        # group the routed entries by their block and head and deal them new ranks.
        lists = {}
        for (row, h, s), r in np.ndenumerate(ranks):
            if r != SENTINEL:
                lists.setdefault((h, int(sel[row, h, s]), int(np.searchsorted(a.cu_q, row, "right"))),
                                 []).append((row, h, s))
        for entries in lists.values():
            for (row, h, s), r in zip(entries, rng.permutation(len(entries))):
                ranks[row, h, s] = r
        np.save(path("selected"), sel)
        np.save(path("counts"), counts)
        np.save(path("ranks"), ranks)
        np.save(path("cu_q"), a.cu_q)
        np.save(path("cu_k"), a.cu_k)
        total_blocks = sum(blocks_of(int(a.cu_k[b + 1] - a.cu_k[b]), a.block_size)
                           for b in range(len(a.cu_q) - 1))
        np.save(path("offsets0"), np.full(total_blocks * a.hq, SENTINEL, np.int32))
        np.save(path("routed0"), np.full(int(a.cu_q[-1]) * a.hq * a.top_k, SENTINEL, np.int32))
        return 0

    sel, cu_q, cu_k = np.load(path("selected")), np.load(path("cu_q")), np.load(path("cu_k"))
    ranks = np.load(path("ranks"))
    hq = sel.shape[1]
    want_counts, want_offsets, want_routed, regions, _ = reference(
        sel, ranks, cu_q, cu_k, hq, a.block_size, a.top_k, a.causal)
    ok = True
    for name, want in (("block_offsets", want_offsets), ("routed", want_routed)):
        got = np.load(path({"block_offsets": "offsets", "routed": "routed"}[name])).reshape(-1)
        if got.shape != want.shape:
            print(f"{name} has shape {got.shape}, expected {want.shape}")
            ok = False
            continue
        differ = np.flatnonzero(got != want)
        print(f"{name}: {len(differ)} of {want.size} differ from NumPy")
        for at in differ[:5]:
            print(f"  [{at}]: got {got[at]}, want {want[at]}")
        ok = ok and len(differ) == 0
    # The regions: every (sequence, head) region follows the previous one, and
    # every list of the region lies inside it (computed from the kernel's offsets
    # and counts, so that this holds for what the kernels wrote).
    got_counts = np.load(path("counts")).reshape(-1)
    got_offsets = np.load(path("offsets")).reshape(-1)
    expect_first, outside, lists = 0, 0, 0
    for first, end, keys in regions:
        if first != expect_first:
            print(f"region starts at {first}, expected {expect_first}")
            ok = False
        expect_first = end
        for key in keys:
            lists += 1
            lo, hi = int(got_offsets[key]), int(got_offsets[key]) + int(got_counts[key])
            if not (first <= lo <= hi <= end):
                outside += 1
    if expect_first != want_routed.size:
        print(f"regions end at {expect_first}, expected {want_routed.size}")
        ok = False
    print(f"regions: {outside} of {lists} lists outside their (sequence, head) region")
    ok = ok and outside == 0
    routed_entries = int(want_counts.sum())
    print(f"{routed_entries} routed entries in {len(regions)} regions")
    ok = ok and routed_entries > 0
    print("route_scatter on the emulator: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
