#!/usr/bin/env python3
"""An independent NumPy implementation of MoBA (DESIGN.md section 1), used as an
oracle for `mobagen run`.

It shares no code or structure with the C++ reference: per (sequence, head) it
builds the whole [Lq, n] gate-score matrix, ranks blocks with a stable argsort,
expands the selection into an explicit [Lq, Lk] key mask and runs a masked softmax
as matrix products.

  moba_numpy.py make-inputs --dir D [--seqlens-q 64,33] [--seqlens-k 64,40]
                            [--heads 4] [--kv-heads 2] [--head-dim 32] [--seed 0]
      writes q.npy, k.npy, v.npy (float32 holding bf16-exact values),
      cu_seqlens_q.npy, cu_seqlens_k.npy (int32)
  moba_numpy.py check --inputs D --outputs O --block-size B --top-k K
                      (--causal | --non-causal) [--scale S] [--tolerance T]
      recomputes MoBA in float64 and compares with O/out.npy, O/lse.npy and
      O/selected.npy (written by `mobagen run --out-dtype float64`); exits 1 on
      any mismatch.
"""
import argparse
import os
import sys

import numpy as np


def bf16_exact(x):
    """Rounds float32 values to bf16 (nearest even) and returns them as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def to_bits(x, dtype):
    """uint16 bit patterns of x rounded to dtype ("bf16" or "fp16"), nearest even."""
    if dtype == "fp16":
        return np.asarray(x).astype(np.float16).view(np.uint16)
    return (bf16_exact(x).view(np.uint32) >> 16).astype(np.uint16)


def from_bits(bits, dtype):
    """The float64 values of uint16 bit patterns of dtype."""
    if dtype == "fp16":
        return bits.view(np.float16).astype(np.float64)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def check_attention(out, lse, ref, ref_lse, v, dtype):
    """A kernel's out and lse against float64 under docs/accuracy.md's bounds:
    |out - ref| <= 2u (|ref| + max|v|) + 1e-6 per element (u the dtype's unit
    roundoff), relative L2 < 1e-2, |lse - ref| <= 1e-3 (1 + |ref|). Prints the
    margins and returns whether all hold."""
    u = 2.0**-8 if dtype == "bf16" else 2.0**-11
    worst = np.max(np.abs(out - ref) / (2 * u * (np.abs(ref) + np.abs(v).max()) + 1e-6))
    rel_l2 = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    lse_worst = np.max(np.abs(lse - ref_lse) / (1e-3 * (1 + np.abs(ref_lse))))
    print(f"out: relative L2 {rel_l2:.2e}, worst element at {worst:.2f} of its bound; "
          f"lse: worst at {lse_worst:.2e} of its bound")
    return bool(rel_l2 < 1e-2 and worst <= 1 and lse_worst <= 1)


def moba(q, k, v, cu_q, cu_k, block, top_k, causal, scale):
    total_q, hq, d = q.shape
    hkv = k.shape[1]
    group = hq // hkv
    out = np.zeros((total_q, hq, d))
    lse = np.zeros((hq, total_q))
    slots = top_k
    selected = np.full((total_q, hq, slots), -1, dtype=np.int32)
    for b in range(len(cu_q) - 1):
        q0, q1, k0, k1 = cu_q[b], cu_q[b + 1], cu_k[b], cu_k[b + 1]
        lq, lk = q1 - q0, k1 - k0
        if lq == 0:
            continue
        n = -(-lk // block)
        positions = lk - lq + np.arange(lq)           # bottom-right aligned
        block_of_key = np.arange(lk) // block
        counts = np.bincount(block_of_key, minlength=n)
        for h in range(hq):
            qs = q[q0:q1, h, :].astype(np.float64)
            ks = k[k0:k1, h // group, :].astype(np.float64)
            vs = v[k0:k1, h // group, :].astype(np.float64)
            sums = np.zeros((n, d))
            np.add.at(sums, block_of_key, ks)
            kbar = sums / counts[:, None]
            scores = qs @ kbar.T                         # [lq, n]
            blocks = np.broadcast_to(np.arange(n), (lq, n))
            if causal:
                current = positions // block
                eligible = blocks < current[:, None]
                wanted = top_k - 1
            else:
                eligible = np.ones((lq, n), dtype=bool)
                wanted = top_k
            ranked = np.where(eligible, scores, -np.inf)
            # Stable sort of -score keeps the lower block index first among ties.
            order = np.argsort(-ranked, axis=1, kind="stable")
            # Eligible blocks sort before the -inf ones, so the first `take` of
            # each row's order are its picks.
            take = np.minimum(wanted, eligible.sum(axis=1))
            chosen = np.zeros((lq, n), dtype=bool)
            np.put_along_axis(chosen, order, np.arange(n)[None, :] < take[:, None], axis=1)
            if causal:
                chosen[np.arange(lq), current] = True
            # Chosen block indices in ascending order, -1 padded to top_k slots.
            ascending = np.argsort(~chosen, axis=1, kind="stable")[:, :slots]
            used = np.arange(ascending.shape[1])[None, :] < chosen.sum(axis=1)[:, None]
            selected[q0:q1, h, :ascending.shape[1]] = np.where(used, ascending, -1)
            mask = chosen[:, block_of_key]               # [lq, lk]
            if causal:
                mask &= np.arange(lk)[None, :] <= positions[:, None]
            logits = np.where(mask, scale * (qs @ ks.T), -np.inf)
            m = logits.max(axis=1, keepdims=True)
            p = np.exp(logits - m)
            z = p.sum(axis=1, keepdims=True)
            out[q0:q1, h, :] = (p @ vs) / z
            lse[h, q0:q1] = (m + np.log(z))[:, 0]
    return out, lse, selected


def make_inputs(args):
    rng = np.random.default_rng(args.seed)
    lq = [int(x) for x in args.seqlens_q.split(",")]
    lk = [int(x) for x in args.seqlens_k.split(",")]
    cu_q = np.concatenate([[0], np.cumsum(lq)]).astype(np.int32)
    cu_k = np.concatenate([[0], np.cumsum(lk)]).astype(np.int32)
    os.makedirs(args.dir, exist_ok=True)
    shapes = {"q": (cu_q[-1], args.heads, args.head_dim),
              "k": (cu_k[-1], args.kv_heads, args.head_dim),
              "v": (cu_k[-1], args.kv_heads, args.head_dim)}
    for name, shape in shapes.items():
        np.save(os.path.join(args.dir, name + ".npy"),
                bf16_exact(rng.standard_normal(shape, dtype=np.float32)))
    np.save(os.path.join(args.dir, "cu_seqlens_q.npy"), cu_q)
    np.save(os.path.join(args.dir, "cu_seqlens_k.npy"), cu_k)


def check(args):
    load = lambda d, n: np.load(os.path.join(d, n + ".npy"))
    q, k, v = (load(args.inputs, n).astype(np.float64) for n in ("q", "k", "v"))
    cu_q, cu_k = load(args.inputs, "cu_seqlens_q"), load(args.inputs, "cu_seqlens_k")
    scale = args.scale if args.scale is not None else 1.0 / np.sqrt(q.shape[2])
    out, lse, selected = moba(q, k, v, cu_q, cu_k, args.block_size, args.top_k,
                              args.causal, scale)
    got_out, got_lse, got_sel = (load(args.outputs, n) for n in ("out", "lse", "selected"))
    failures = []
    same_selection = got_sel.shape == selected.shape and np.array_equal(got_sel, selected)
    if got_sel.shape != selected.shape:
        failures.append(f"selected has shape {got_sel.shape}, expected {selected.shape}")
    elif not same_selection:
        bad = np.argwhere(got_sel != selected)
        failures.append(f"selected blocks differ ({len(bad)} entries, first at "
                        f"{list(map(int, bad[0]))})")
    for name, got, want in (("out", got_out, out), ("lse", got_lse, lse)):
        if got.shape != want.shape:
            failures.append(f"{name} has shape {got.shape}, expected {want.shape}")
            continue
        err = np.max(np.abs(got - want)) if want.size else 0.0
        scale_ = max(1.0, np.max(np.abs(want)) if want.size else 1.0)
        print(f"{name}: max |mobagen - numpy| = {err:.3e} (tolerance {args.tolerance:.1e} "
              f"x {scale_:.3g})")
        if not err <= args.tolerance * scale_:
            failures.append(f"{name} differs by {err:.3e}")
    print(f"selected: {selected.size} entries, {'all equal' if same_selection else 'MISMATCH'}")
    if failures:
        print("moba_numpy check FAILED: " + "; ".join(failures))
        return 1
    print("moba_numpy check passed: mobagen agrees with the independent NumPy MoBA")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make-inputs")
    mk.add_argument("--dir", required=True)
    mk.add_argument("--seqlens-q", default="64,33")
    mk.add_argument("--seqlens-k", default="64,40")
    mk.add_argument("--heads", type=int, default=4)
    mk.add_argument("--kv-heads", type=int, default=2)
    mk.add_argument("--head-dim", type=int, default=32)
    mk.add_argument("--seed", type=int, default=0)
    ck = sub.add_parser("check")
    ck.add_argument("--inputs", required=True)
    ck.add_argument("--outputs", required=True)
    ck.add_argument("--block-size", type=int, required=True)
    ck.add_argument("--top-k", type=int, required=True)
    causal = ck.add_mutually_exclusive_group(required=True)
    causal.add_argument("--causal", dest="causal", action="store_true")
    causal.add_argument("--non-causal", dest="causal", action="store_false")
    ck.add_argument("--scale", type=float)
    ck.add_argument("--tolerance", type=float, default=1e-12,
                    help="max abs error allowed, relative to max(1, max |value|)")
    args = parser.parse_args()
    if args.command == "make-inputs":
        make_inputs(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
