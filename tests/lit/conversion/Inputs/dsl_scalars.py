"""Inputs and NumPy check of dsl-scalars-emulated.test: the DSL's scalar masked
load, scalar where and forLoop without carried values (Inputs/dsl-scalars.mlir).

  dsl_scalars.py inputs DIR   writes src.npy (N values)
  dsl_scalars.py check DIR    checks dst.npy against NumPy"""
import sys

import numpy as np

N = 5  # --arg i32:5
PROGRAMS = 7  # --grid 7: programs 5 and 6 are masked off
TRIPS = 4


def inputs(d):
    rng = np.random.default_rng(11)
    np.save(f"{d}/src.npy", rng.standard_normal(N).astype(np.float32))


def check(d):
    src = np.load(f"{d}/src.npy")
    got = np.load(f"{d}/dst.npy").reshape(PROGRAMS, TRIPS)
    want = np.empty((PROGRAMS, TRIPS), np.float32)
    for p in range(PROGRAMS):
        # masked-off load -> other (-1.0); where(ok, v * 2, v + 8)
        v = src[p] if p < N else np.float32(-1.0)
        w = v * np.float32(2.0) if p < N else v + np.float32(8.0)
        want[p] = w + np.arange(TRIPS, dtype=np.float32)
    assert np.array_equal(got, want), f"dst differs:\n{got}\nwant\n{want}"
    print("dsl-scalars: matches NumPy")


if __name__ == "__main__":
    (inputs if sys.argv[1] == "inputs" else check)(sys.argv[2])
