"""Inputs and checks for the end-to-end tests: tile IR -> convert-tile-to-nvvm ->
PTX -> mobagen emu, compared with NumPy.

  e2e.py inputs DIR      writes the input arrays
  e2e.py check DIR NAME  checks the outputs of test NAME against NumPy"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "independent"))
from moba_numpy import from_bits, to_bits  # noqa: E402


def inputs(d):
    rng = np.random.default_rng(7)
    np.save(f"{d}/x.npy", rng.standard_normal(300).astype(np.float32))
    np.save(f"{d}/y.npy", rng.standard_normal(300).astype(np.float32))
    np.save(f"{d}/k.npy", to_bits(rng.standard_normal((16, 64)), "bf16"))
    np.save(f"{d}/a.npy", to_bits(rng.standard_normal((16, 16)), "bf16"))
    np.save(f"{d}/b.npy", to_bits(rng.standard_normal((16, 16)), "bf16"))
    np.save(f"{d}/a16.npy", to_bits(rng.standard_normal((32, 32)), "fp16"))
    np.save(f"{d}/b16.npy", to_bits(rng.standard_normal((32, 16)), "fp16"))
    np.save(f"{d}/c32.npy", rng.standard_normal((32, 16)).astype(np.float32))
    np.save(f"{d}/c16.npy", rng.standard_normal((16, 16)).astype(np.float32))
    np.save(f"{d}/a64.npy", to_bits(rng.standard_normal((64, 64)), "bf16"))
    np.save(f"{d}/b64.npy", to_bits(rng.standard_normal((64, 64)), "bf16"))
    for kernel, (m, n) in enumerate(ROW_SHAPES):
        x, y = row_inputs(rng, m, n, kernel)
        np.save(f"{d}/rows-{m}x{n}-x.npy", x)
        np.save(f"{d}/rows-{m}x{n}-y.npy", y)
    # async-dot.mlir (cp.async operands, m = 27 query rows, nk = 21 keys): what a
    # masked-off or misplaced copy would read is NaN (rows past m / nk, the row
    # padding of q, k, p and v, q's row 39 that masked-off rows point at).
    nan = np.nan
    q = rng.standard_normal((40, 80))
    q[:, 64:] = nan
    q[39] = nan
    idx = rng.integers(0, 39, 32).astype(np.int32)
    idx[27:] = 39
    kk = rng.standard_normal((32, 72))
    kk[:, 64:] = nan
    kk[21:] = nan
    p = rng.standard_normal((32, 40))
    p[:, 32:] = nan
    p[27:] = nan
    v = rng.standard_normal((32, 72))
    v[:, 64:] = nan
    v[21:] = nan
    for name, x in [("aq", q), ("ak", kk), ("ap", p), ("av", v)]:
        np.save(f"{d}/{name}.npy", to_bits(x, "bf16"))
    np.save(f"{d}/aidx.npy", idx)
    idx2 = rng.integers(0, 39, 64).astype(np.int32)
    idx2[27:32] = 39
    idx2[59:] = 39
    np.save(f"{d}/aidx2.npy", idx2)
    k2 = rng.standard_normal((64, 72))
    k2[:, 64:] = nan
    k2[53:] = nan
    np.save(f"{d}/ak2.npy", to_bits(k2, "bf16"))
    np.save(f"{d}/ao.npy", rng.standard_normal((32, 64)).astype(np.float32))



# The row-reduction kernels of row-reductions.mlir: [M, N] on 4 warps.
ROW_SHAPES = [(2, 16), (32, 16), (2, 64), (8, 64), (64, 32), (2, 128), (1, 256), (2, 512)]


def row_inputs(rng, m, n, first_kind):
    """x (f32) and y (i32) [m, n]; row r is of kind (first_kind + r) % 5:
    0 normal values (sum accuracy), 1 small integers (ties of the maximum
    across lanes and warps), 2 ties with NaNs, 3 only -inf and NaN, 4 +-0
    among negative values. y: small integers with ties; rows of kind 3 all
    INT_MIN, kind 4 INT_MAX at two columns."""
    x = np.empty((m, n), np.float32)
    y = rng.integers(-2, 3, (m, n)).astype(np.int32)
    for r in range(m):
        kind = (first_kind + r) % 5
        if kind == 0:
            x[r] = rng.standard_normal(n)
        elif kind in (1, 2):
            x[r] = rng.integers(-3, 4, n)
            x[r, n - 1] = 3  # a tie in the last lane / warp / slot
            if kind == 2:
                x[r, rng.choice(n, 3, replace=False)] = np.nan
        elif kind == 3:
            x[r] = -np.inf
            x[r, rng.choice(n, 2, replace=False)] = np.nan
            y[r] = np.iinfo(np.int32).min
        else:
            x[r] = -rng.integers(1, 4, n)
            zeros = rng.choice(n, 4, replace=False)
            x[r, zeros] = [0.0, -0.0, 0.0, -0.0]
            y[r, zeros[:2]] = np.iinfo(np.int32).max
    return x, y


def scan_argmax(row, init):
    """The baseline's argmax: a serial scan from (init, 0) that takes strictly greater."""
    best, where = init, 0
    for i, v in enumerate(row):
        if v > best:
            best, where = v, i
    return best, where


def check_rows(d, shape):
    m, n = (int(v) for v in shape.split("x"))
    load = lambda what: np.load(f"{d}/rows-{shape}-{what}.npy")
    x, y = load("x"), load("y")
    assert np.array_equal(load("max"), x.max(axis=1), equal_nan=True), "row max differs"
    want = x.astype(np.float64).sum(axis=1)
    bound = n * 2.0**-24 * np.abs(x.astype(np.float64)).sum(axis=1)  # any summation order
    got = load("sum").astype(np.float64)
    finite = np.isfinite(want)
    assert np.array_equal(np.isnan(got), np.isnan(want)), "row sum: NaN rows differ"
    assert np.array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)]), "row sum: inf rows"
    assert np.all(np.abs(got - want)[finite] <= bound[finite]), f"row sum off by {np.abs(got - want)[finite]}"
    best, where = load("best"), load("where")
    for r in range(m):
        v, i = scan_argmax(x[r], np.float32(-np.inf))
        assert where[r] == i, f"row {r}: argmax column {where[r]}, want {i}"
        assert np.float32(v).tobytes() == best[r].tobytes(), f"row {r}: argmax value {best[r]}, want {v}"
        assert load("iwhere")[r] == scan_argmax(y[r], np.iinfo(np.int32).min)[1], f"row {r}: i32 argmax"
    assert np.array_equal(load("imin"), y.min(axis=1)), "i32 row min differs"


def check_close(got, want, what):
    # f16/bf16 products are exact in f32; only the f32 sums round.
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    err = np.max(np.abs(got - want))
    assert err < 1e-5 * max(1.0, np.max(np.abs(want))) * 8, f"{what} off by {err}"


def check(d, name):
    load = lambda n: np.load(f"{d}/{n}.npy")
    if name == "vector-add":
        want = load("x") + load("y")
        got = load("sum")
        assert got.shape == (300,) and np.array_equal(got, want), "vector add differs"
    elif name == "column-mean":
        k = from_bits(load("k"), "bf16")
        want = k.mean(axis=0)
        got = load("mean")
        err = np.max(np.abs(got - want))
        assert err < 1e-5, f"column mean off by {err}"
    elif name == "matmul":
        a = from_bits(load("a"), "bf16")
        b = from_bits(load("b"), "bf16")
        want = (a @ b).reshape(-1)
        got = load("c")
        err = np.max(np.abs(got - want))
        assert err < 1e-4, f"matmul off by {err}"
        assert load("where")[0] == int(np.argmax(got)), "argmax index differs"
        assert load("best")[0] == got.max(), "argmax value differs"
    elif name == "dot-acc-f16":
        a = from_bits(load("a16"), "fp16")
        b = from_bits(load("b16"), "fp16")
        want = (load("c32").astype(np.float64) + a @ b).reshape(-1)
        check_close(load("d32").reshape(-1), want, "C + A B (f16)")
    elif name == "dot-acc-one-slot":
        a = from_bits(load("a"), "bf16")
        want = (load("c16").astype(np.float64) + a @ a).reshape(-1)
        check_close(load("d16").reshape(-1), want, "C + A A (one accumulator element per thread)")
    elif name == "dot-bf16-64":
        a = from_bits(load("a64"), "bf16")
        b = from_bits(load("b64"), "bf16")
        check_close(load("c64"), (a @ b).reshape(-1), "A B (bf16, 64 x 64 x 64)")
    elif name.startswith("rows-"):
        check_rows(d, name[len("rows-"):])
    elif name == "async-qk":
        m, nk = 27, 21
        q = from_bits(load("aq"), "bf16")[load("aidx")[:m], :64]
        k = from_bits(load("ak"), "bf16")[:nk, :64]
        want = np.zeros((32, 32))
        want[:m, :nk] = q @ k.T
        got = load("as").reshape(32, 32)
        assert not np.isnan(got).any(), "a masked-off element was read"
        check_close(got, want, "Q K^T with masked rows and keys (cp.async)")
    elif name == "async-qk-loop":
        m, nk = 27, 53
        q = from_bits(load("aq"), "bf16")[:, :64]
        k = from_bits(load("ak2"), "bf16")[:nk, :64]
        idx = load("aidx2")
        got = load("as2").reshape(2, 32, 32)
        assert not np.isnan(got).any(), "a masked-off element was read"
        for t in range(2):
            want = np.zeros((32, 32))
            for j in range(2):  # key tiles of 32, summed
                keys = k[32 * j : min(32 * j + 32, nk)]
                want[:m, : len(keys)] += q[idx[32 * t : 32 * t + m]] @ keys.T
            check_close(got[t], want, f"sum_j Q_{t} K_j^T with a resident Q (cp.async)")
    elif name == "async-qk-loop-empty":
        assert np.array_equal(load("as3"), np.zeros(2048, np.float32)), "S is not 0 without keys"
    elif name == "async-pv":
        m, nk = 27, 21
        p = from_bits(load("ap"), "bf16")[:, :32]
        p[m:] = 0
        v = from_bits(load("av"), "bf16")[:, :64]
        v[nk:] = 0
        want = load("ao").astype(np.float64) + p @ v
        got = load("ao_out")
        assert not np.isnan(got).any(), "a masked-off element was read"
        check_close(got, want, "C + P V with masked rows and keys (cp.async)")
    else:
        raise SystemExit(f"unknown test {name}")
    print(f"{name}: matches NumPy")


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
