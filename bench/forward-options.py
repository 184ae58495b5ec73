#!/usr/bin/env python3
"""Counts what each organization of the MoBA forward would execute, on real selections.

For a causal prefill (batch 1, Lq = Lk = N, Hq query heads on Hkv kv heads, head dim D,
bf16) it computes the MoBA selection of DESIGN.md section 1 in NumPy, on two kinds of
input: i.i.d. Gaussian q/k, and an AR(1) process along the sequence (rho = 0.99 by
default) where neighbouring queries choose similar blocks. From the selection it counts,
for each organization of docs/design/sparse-attention.md, exactly (no sampling):

  - the tensor-core FLOPs the attention would execute (tiles rounded to their MMA
    granularity) against the useful attention FLOPs (4 * D * attended keys per row
    and head): the MMA work efficiency;
  - the global bytes of the whole forward (pooling, gate, routing, attention) against
    the minimum (q, k, v read once, out and lse written once);
  - the workspace per (query row, query head) and the number of launches.

The counts are arithmetic over the selection, not an emulation: they say which
organization can meet which target before any of it is built. The emulator's cost
model measures what is built (`mobagen bench --counters`).

  forward-options.py --self-check     compares its selection with tests/independent's
  forward-options.py [--seqlens 8192,32768] [--configs 128:8,512:3] [--heads 4]
                     [--kv-heads 1] [--head-dim 128] [--rho 0.99] [--seed 0] [--json F]
"""
import argparse
import json
import math
import sys

import numpy as np

BF16 = 2


def make_inputs(n, heads, kv_heads, d, kind, rho, rng):
    """q [heads, n, d] and k [kv_heads, n, d] in float32."""
    def draw(h):
        x = rng.standard_normal((h, n, d), dtype=np.float32)
        if kind == "gauss":
            return x
        # x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t keeps unit variance along the sequence.
        out = np.empty_like(x)
        out[:, 0] = x[:, 0]
        c = np.float32(math.sqrt(1.0 - rho * rho))
        for t in range(1, n):
            out[:, t] = rho * out[:, t - 1] + c * x[:, t]
        return out
    return draw(heads), draw(kv_heads)


def past_picks(q, kbar, bs, top_k, row0, rows):
    """Boolean [rows, nblocks]: the past blocks each row of the chunk selected."""
    n_blocks = kbar.shape[0]
    s = q[row0:row0 + rows] @ kbar.T                       # [rows, nblocks], fp32
    cur = (np.arange(row0, row0 + rows) // bs)[:, None]
    j = np.arange(n_blocks)[None, :]
    past = j < cur
    want = top_k - 1
    if want <= 0:
        return np.zeros_like(past)
    s = np.where(past, s, -np.inf)
    if want >= n_blocks:
        return past
    # The want-th largest past score per row; rows with fewer past blocks take them all.
    kth = -np.partition(-s, want - 1, axis=1)[:, want - 1:want]
    return past & ((s >= kth) | (cur <= want))


def tile_counts(q, k, bs, top_k, group, tile_rows):
    """counts[h][t, j]: how many rows of row tile t (tile_rows rows) of query head h
    selected past block j."""
    heads, n, _ = q.shape
    n_blocks = math.ceil(n / bs)
    out = []
    for h in range(heads):
        kk = k[h // group]
        pad = n_blocks * bs - n
        kp = np.concatenate([kk, np.zeros((pad, kk.shape[1]), np.float32)]) if pad else kk
        sizes = np.minimum(bs, n - np.arange(n_blocks) * bs).astype(np.float32)
        kbar = kp.reshape(n_blocks, bs, -1).sum(axis=1) / sizes[:, None]
        n_tiles = math.ceil(n / tile_rows)
        c = np.zeros((n_tiles, n_blocks), np.int32)
        chunk = max(tile_rows, (1 << 22) // max(n_blocks, 1) // tile_rows * tile_rows)
        for r0 in range(0, n, chunk):
            rows = min(chunk, n - r0)
            picks = past_picks(q[h], kbar, bs, top_k, r0, rows)
            t0 = r0 // tile_rows
            for t in range(math.ceil(rows / tile_rows)):
                c[t0 + t] = picks[t * tile_rows:(t + 1) * tile_rows].sum(axis=0)
        out.append(c)
    return out


def ceil_to(x, m):
    return -(-x // m) * m


def current_block(n, bs, d, tile_rows, key_tile):
    """Useful and executed FLOPs of every row's current block (causal diagonal) for one
    head, with query tiles of tile_rows rows and key tiles of key_tile keys."""
    useful = executed = 0
    for r0 in range(0, n, tile_rows):
        rows = np.arange(r0, min(r0 + tile_rows, n))
        start = (rows // bs) * bs
        useful += int((rows - start + 1).sum())
        # A tile spans one block when tile_rows divides bs; each row's tile sees the keys
        # from its block's start to the tile's last row, in key tiles.
        for b in np.unique(start):
            sel = rows[start == b]
            executed += len(range(r0, r0 + tile_rows)) * ceil_to(int(sel[-1] - b + 1), key_tile) \
                if len(sel) else 0
    return 4 * d * useful, 4 * d * executed


def evaluate(args, n, bs, top_k, kind, rng):
    heads, kv, d = args.heads, args.kv_heads, args.head_dim
    group = heads // kv
    q, k = make_inputs(n, heads, kv, d, kind, args.rho, rng)
    n_blocks = math.ceil(n / bs)
    minimum = (2 * heads * n * d + 2 * kv * n * d) * BF16 + 4 * heads * n
    # Shared by every organization: pooling reads k once and writes kbar (f32); the
    # gate reads q and kbar and writes the selection (int32 per row, head, slot). kbar is
    # re-read by every 64-row tile; a tile holds all query heads of a kv head (GQA), so it
    # reads its kv head's kbar once (today's gate reads it once per query head: Hq / Hkv
    # times more).
    pool_bytes = kv * n * d * BF16 + kv * n_blocks * d * 4
    gate_tile = 64
    gate_bytes = heads * n * d * BF16 + math.ceil(n / gate_tile) * kv * n_blocks * d * 4 \
        + heads * n * top_k * 4
    rows = {}

    c64 = tile_counts(q, k, bs, top_k, group, 64)
    useful_past = sum(int(c.sum()) for c in c64) * bs * 4 * d
    cur_useful, cur_exec = current_block(n, bs, d, 64, 64)
    cur_keys = cur_exec // (4 * d * 64)   # keys each 64-row tile loads for its diagonal
    useful = useful_past + heads * cur_useful

    # A: a 64-row query tile per head visits the union of its rows' blocks, masked.
    a_exec = sum(int((c > 0).sum()) for c in c64) * 64 * bs * 4 * d + heads * cur_exec
    a_bytes = pool_bytes + gate_bytes + heads * n * (2 * d * BF16 + 4) + heads * n * top_k * 4 \
        + sum(int((c > 0).sum()) for c in c64) * bs * 2 * d * BF16 \
        + heads * cur_keys * 2 * d * BF16
    rows["A union per query tile"] = dict(executed=a_exec, bytes=a_bytes, workspace=0, launches=2)

    # E: a query tile of 64 rows x all `group` heads of a kv head (one CTA), routing on
    # chip: per past block of the tile's union, the (row, head) pairs that chose it are
    # compacted into 16-row MMA tiles (m16n8k16) sharing the block's K/V load; the
    # accumulators stay on chip. Gate fused: the tile reads kbar once for its heads.
    e_exec, e_kv_blocks = 0, 0
    for g in range(kv):
        m = sum(c64[h] for h in range(g * group, (g + 1) * group))       # [tiles, blocks]
        e_exec += int(ceil_to(m, 16).sum()) * bs * 4 * d
        e_kv_blocks += int((m > 0).sum())
    e_exec += heads * cur_exec
    e_n_tiles = math.ceil(n / 64)
    e_bytes = pool_bytes + heads * n * d * BF16 + kv * e_n_tiles * n_blocks * d * 4 \
        + heads * n * (d * BF16 + 4) + heads * n * top_k * 4 \
        + e_kv_blocks * bs * 2 * d * BF16 + kv * cur_keys * 2 * d * BF16
    rows["E fused, on-chip compaction (m16)"] = dict(
        executed=e_exec, bytes=e_bytes, workspace=0, launches=2)
    # E8: the same with the block's keys as the MMA's M and the compacted rows as N
    # (S^T = K q^T, O^T = V^T P^T): rows in n8 granules.
    e8_exec = heads * cur_exec
    for g in range(kv):
        m = sum(c64[h] for h in range(g * group, (g + 1) * group))
        e8_exec += int(ceil_to(m, 8).sum()) * bs * 4 * d
    rows["E8 fused, on-chip compaction (n8)"] = dict(
        executed=e8_exec, bytes=e_bytes, workspace=0, launches=2)

    # B': one program per (past block, kv head) walks the block's whole list of routed
    # (row, head) pairs in 64-row chunks with the block's K/V loaded once (streamed per
    # chunk when it does not fit on chip: 2 * Bs * D * 2 bytes > 96 KB), gathers each
    # chunk's q rows, and writes a bf16 partial (out, lse) per (row, head, past slot)
    # that the query-centric current-block tile folds in (no merge kernel).
    b_exec, b_kv = heads * cur_exec, 0
    kv_fits = 2 * bs * d * BF16 <= 96 * 1024
    for g in range(kv):
        m = sum(c64[h].sum(axis=0) for h in range(g * group, (g + 1) * group))   # [blocks]
        b_exec += int(ceil_to(m, 64).sum()) * bs * 4 * d
        b_kv += int((m > 0).sum()) if kv_fits else int((ceil_to(m, 64) // 64).sum())
    past_picks_total = sum(int(c.sum()) for c in c64)
    b_bytes = pool_bytes + gate_bytes + heads * n * top_k * 4 * 3 \
        + past_picks_total * (d * BF16 + 2 * (d * BF16 + 4)) + heads * n * (2 * d * BF16 + 4) \
        + b_kv * bs * 2 * d * BF16 + heads * cur_keys * 2 * d * BF16
    rows["B' per block, bf16 partials, fused merge"] = dict(
        executed=b_exec, bytes=b_bytes, workspace=(top_k - 1) * (d * BF16 + 4) + 8 * top_k,
        launches=4)

    # C: a logical query block of R rows per head walks the kv blocks, gathers the rows
    # that chose each into 64-row tiles, accumulates O in f32 in HBM (read-modify-write
    # per (row, block)), row max / sum on chip; K/V reloaded per head. R from sparsity:
    # enough rows that a block gets ~64 of them on average.
    r_rows = int(min(1024, max(128, 2 ** round(math.log2(max(1, 64 * n_blocks / 2 / max(1, top_k - 1)))))))
    c_exec, c_kv, picks = heads * cur_exec, 0, 0
    for h in range(heads):
        c = c64[h]
        t = r_rows // 64
        pad = (-c.shape[0]) % t
        cb = np.concatenate([c, np.zeros((pad, c.shape[1]), c.dtype)]) if pad else c
        m = cb.reshape(-1, t, cb.shape[1]).sum(axis=1)
        c_exec += int(ceil_to(m, 64).sum()) * bs * 4 * d
        c_kv += int((m > 0).sum())
        picks += int(m.sum())
    c_bytes = pool_bytes + gate_bytes + heads * n * top_k * 16 \
        + picks * (d * BF16 + 2 * d * 4) + heads * n * (d * BF16 + 4) \
        + c_kv * bs * 2 * d * BF16 + heads * cur_keys * 2 * d * BF16
    rows[f"C logical block R={r_rows}, O in HBM"] = dict(
        executed=c_exec, bytes=c_bytes, workspace=4 * d + 16 * top_k, launches=4)

    out = []
    for name, r in rows.items():
        out.append(dict(seqlen=n, block=bs, top_k=top_k, input=kind, option=name,
                        mma_efficiency=useful / r["executed"],
                        bytes_over_minimum=r["bytes"] / minimum,
                        workspace_bytes_per_row_head=r["workspace"], launches=r["launches"],
                        useful_gflop=useful / 1e9, executed_gflop=r["executed"] / 1e9))
    return out


def self_check():
    """The selection this script counts equals the independent NumPy MoBA's, on a causal
    prefill with a partial last block and GQA. Exits 1 on a mismatch."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "tests", "independent"))
    import moba_numpy
    n, heads, kv, d, bs, top_k = 1000, 4, 2, 32, 64, 4
    for kind in ("gauss", "ar1"):
        rng = np.random.default_rng(1)
        q, k = make_inputs(n, heads, kv, d, kind, 0.99, rng)
        qq = np.ascontiguousarray(q.transpose(1, 0, 2))
        kk = np.ascontiguousarray(k.transpose(1, 0, 2))
        cu = np.array([0, n], np.int32)
        _, _, selected = moba_numpy.moba(qq, kk, kk, cu, cu, bs, top_k, True, 1.0)
        counts = tile_counts(q, k, bs, top_k, heads // kv, 1)   # one row per tile
        for h in range(heads):
            mine = counts[h].astype(bool)
            ref = np.zeros_like(mine)
            rows = np.repeat(np.arange(n), top_k)
            blocks = selected[:, h, :].reshape(-1)
            keep = (blocks >= 0) & (blocks < rows // bs)
            ref[rows[keep], blocks[keep]] = True
            if not np.array_equal(mine, ref):
                bad = np.argwhere(mine != ref)[0]
                print(f"forward-options.py: self-check failed ({kind}, head {h}): row "
                      f"{bad[0]} block {bad[1]} differs from moba_numpy's selection")
                return 1
    print("forward-options.py: self-check passed (selection equals moba_numpy's)")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seqlens", default="8192,32768")
    p.add_argument("--configs", default="128:8,512:3")
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=1)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--rho", type=float, default=0.99)
    p.add_argument("--inputs", default="gauss,ar1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    p.add_argument("--self-check", action="store_true")
    a = p.parse_args()
    if a.self_check:
        sys.exit(self_check())
    if a.heads % a.kv_heads:
        sys.exit(f"forward-options.py: error: --heads {a.heads} is not a multiple of "
                 f"--kv-heads {a.kv_heads}")
    results = []
    print(f"{'seqlen':>7} {'blk/k':>6} {'input':>5}  {'option':<38} {'mma eff':>7} "
          f"{'bytes/min':>9} {'ws B/row-head':>13} {'launches':>8}")
    for n in [int(s) for s in a.seqlens.split(",")]:
        for cfg in a.configs.split(","):
            bs, top_k = (int(x) for x in cfg.split(":"))
            for kind in a.inputs.split(","):
                rng = np.random.default_rng(a.seed)
                for r in evaluate(a, n, bs, top_k, kind, rng):
                    results.append(r)
                    print(f"{n:>7} {bs:>3}/{top_k:<2} {kind:>5}  {r['option']:<38} "
                          f"{r['mma_efficiency']:>6.1%} {r['bytes_over_minimum']:>8.2f}x "
                          f"{r['workspace_bytes_per_row_head']:>13} {r['launches']:>8}",
                          flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
