#!/usr/bin/env python3
"""Checks a GPU run's outputs against the independent NumPy MoBA (tests/independent).

  check_outputs.py --inputs D --outputs O --block-size B --top-k K (--causal | --non-causal)
                   --dtype bf16|fp16

O holds out.npy, lse.npy and selected.npy from `mobagen run ... --out-dtype float32` (the
kernel's values of --dtype, stored as float32).
out and lse must meet docs/accuracy.md's bounds (moba_numpy.check_attention); the
selection is compared entry by entry and reported, since a near-tie in the fp32 gate
may legitimately rank differently from float64 (`mobagen run --check` applies the
exact tie rule). Exits 1 when out or lse is outside its bounds.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "independent"))
from moba_numpy import check_attention, moba  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--outputs", required=True)
    parser.add_argument("--block-size", type=int, required=True)
    parser.add_argument("--top-k", type=int, required=True)
    causal = parser.add_mutually_exclusive_group(required=True)
    causal.add_argument("--causal", dest="causal", action="store_true")
    causal.add_argument("--non-causal", dest="causal", action="store_false")
    parser.add_argument("--dtype", choices=("bf16", "fp16"), required=True)
    a = parser.parse_args()

    load = lambda d, n: np.load(os.path.join(d, n + ".npy"))
    q, k, v = (load(a.inputs, n).astype(np.float64) for n in ("q", "k", "v"))
    cu_q, cu_k = load(a.inputs, "cu_seqlens_q"), load(a.inputs, "cu_seqlens_k")
    ref, ref_lse, ref_sel = moba(q, k, v, cu_q, cu_k, a.block_size, a.top_k, a.causal,
                                 1.0 / np.sqrt(q.shape[2]))
    out, lse, sel = (load(a.outputs, n) for n in ("out", "lse", "selected"))
    for name, got, want in (("out", out, ref), ("lse", lse, ref_lse), ("selected", sel, ref_sel)):
        if got.shape != want.shape:
            print(f"check_outputs: {name}.npy has shape {got.shape}, expected {want.shape}")
            return 1
    differing = int(np.count_nonzero(sel != ref_sel))
    print(f"selected: {differing} of {sel.size} entries differ from float64 NumPy")
    if not check_attention(out.astype(np.float64), lse.astype(np.float64), ref, ref_lse, v, a.dtype):
        print("check_outputs: FAILED: out or lse outside docs/accuracy.md's bounds")
        return 1
    print("check_outputs: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
