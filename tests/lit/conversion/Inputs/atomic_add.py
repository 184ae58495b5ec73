"""Inputs and the check of the atomic-add routing kernel (Inputs/atomic-add.mlir)."""
import sys

import numpy as np

N, BLOCKS = 700, 9


def inputs(d):
    rng = np.random.default_rng(3)
    np.save(f"{d}/block.npy", rng.integers(0, BLOCKS, N).astype(np.int32))
    # Small integers: every order of the f32 adds gives the exact sum.
    np.save(f"{d}/weight.npy", rng.integers(-8, 9, N).astype(np.float32))
    np.save(f"{d}/counts0.npy", np.zeros(BLOCKS, np.int32))
    np.save(f"{d}/totals0.npy", np.zeros(BLOCKS, np.float32))


def check(d):
    block, weight = np.load(f"{d}/block.npy"), np.load(f"{d}/weight.npy")
    counts, totals = np.load(f"{d}/counts.npy"), np.load(f"{d}/totals.npy")
    slot = np.load(f"{d}/slot.npy")
    want = np.bincount(block, minlength=BLOCKS)
    if not np.array_equal(counts, want):
        sys.exit(f"atomic-add: counts {counts.tolist()} != {want.tolist()}")
    want_totals = np.bincount(block, weights=weight, minlength=BLOCKS).astype(np.float32)
    if not np.array_equal(totals, want_totals):
        sys.exit(f"atomic-add: totals {totals.tolist()} != {want_totals.tolist()}")
    for j in range(BLOCKS):
        got = np.sort(slot[block == j])
        if not np.array_equal(got, np.arange(want[j])):
            sys.exit(f"atomic-add: block {j} slots {got.tolist()} are not 0..{want[j] - 1}")
    print("atomic-add: counts, totals and distinct slots match NumPy")


if __name__ == "__main__":
    {"inputs": inputs, "check": check}[sys.argv[1]](sys.argv[2])
