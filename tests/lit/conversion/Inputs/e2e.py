"""Inputs and checks for the end-to-end tests: tile IR -> convert-tile-to-nvvm ->
PTX -> mobagen emu, compared with NumPy.

  e2e.py inputs DIR      writes the input arrays
  e2e.py check DIR NAME  checks the outputs of test NAME against NumPy"""
import os
import sys

import numpy as np


def bf16_bits(a):
    return (np.asarray(a, np.float32).view(np.uint32) >> 16).astype(np.uint16)


def from_bf16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def inputs(d):
    rng = np.random.default_rng(7)
    np.save(f"{d}/x.npy", rng.standard_normal(300).astype(np.float32))
    np.save(f"{d}/y.npy", rng.standard_normal(300).astype(np.float32))
    np.save(f"{d}/k.npy", bf16_bits(rng.standard_normal((16, 64))))
    np.save(f"{d}/a.npy", bf16_bits(rng.standard_normal((16, 16))))
    np.save(f"{d}/b.npy", bf16_bits(rng.standard_normal((16, 16))))


def check(d, name):
    load = lambda n: np.load(f"{d}/{n}.npy")
    if name == "vector-add":
        want = load("x") + load("y")
        got = load("sum")
        assert got.shape == (300,) and np.array_equal(got, want), "vector add differs"
    elif name == "column-mean":
        k = from_bf16_bits(load("k")).astype(np.float64)
        want = k.mean(axis=0)
        got = load("mean")
        err = np.max(np.abs(got - want))
        assert err < 1e-5, f"column mean off by {err}"
    elif name == "matmul":
        a = from_bf16_bits(load("a")).astype(np.float64)
        b = from_bf16_bits(load("b")).astype(np.float64)
        want = (a @ b).reshape(-1)
        got = load("c")
        err = np.max(np.abs(got - want))
        assert err < 1e-4, f"matmul off by {err}"
        assert load("where")[0] == int(np.argmax(got)), "argmax index differs"
        assert load("best")[0] == got.max(), "argmax value differs"
    else:
        raise SystemExit(f"unknown test {name}")
    print(f"{name}: matches NumPy")


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
