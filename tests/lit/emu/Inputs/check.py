"""Checks the outputs of the `mobagen emu` lit tests against NumPy. Usage:
check.py saxpy DIR A | check.py gemm DIR"""
import sys

import numpy as np

kind, d = sys.argv[1], sys.argv[2]
if kind == "saxpy":
    a = np.float32(sys.argv[3])
    x, y, out = (np.load(f"{d}/{n}.npy") for n in ("x", "y", "out"))
    want = a * x + y
    assert out.dtype == np.float32 and out.shape == (1000,), (out.dtype, out.shape)
    err = np.max(np.abs(out - want))
    assert err <= 1e-6, err
    print(f"saxpy matches numpy (max error {err:.1e})")
else:
    def bf16(bits):
        return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    a, b = bf16(np.load(f"{d}/a.npy")), bf16(np.load(f"{d}/b.npy"))
    c = np.load(f"{d}/c.npy")
    want = a @ b
    err = np.max(np.abs(c - want))
    assert err <= 1e-4, err
    print(f"gemm matches numpy (max error {err:.1e})")
