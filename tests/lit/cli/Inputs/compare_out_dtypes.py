"""Checks that the three --out-dtype forms of one run hold the same result."""
import os
import sys

import numpy as np

f32_dir, bits_dir, f64_dir = sys.argv[1:4]
load = lambda d, n: np.load(os.path.join(d, n + ".npy"))
o32, obits, o64 = load(f32_dir, "out"), load(bits_dir, "out"), load(f64_dir, "out")
assert o32.dtype == np.float32 and obits.dtype == np.uint16 and o64.dtype == np.float64
# bf16 bit patterns widened to float32 equal the float32 output exactly.
from_bits = (obits.astype(np.uint32) << 16).view(np.float32)
assert np.array_equal(from_bits, o32), "bits and float32 outputs differ"
# The float32 output is the float64 one rounded to bf16: within half a bf16 ulp.
assert np.all(np.abs(o32 - o64) <= np.abs(o64) * 2.0**-8 + 1e-30), "rounding off by more than 1/2 ulp"
assert np.any(o32 != o64), "float32 output is not rounded at all"
print(f"out float32 {list(o32.shape)}, bits uint16 {list(obits.shape)}, "
      f"float64 {list(o64.shape)}: consistent")
l32, l64 = load(f32_dir, "lse"), load(f64_dir, "lse")
assert l32.dtype == np.float32 and l64.dtype == np.float64
assert np.allclose(l32, l64, rtol=1e-6, atol=0), "lse float32 is not float64 rounded"
print(f"lse float32 {list(l32.shape)} and float64 {list(l64.shape)}: consistent")
s = [load(d, "selected") for d in (f32_dir, bits_dir, f64_dir)]
assert all(x.dtype == np.int32 for x in s) and np.array_equal(s[0], s[1]) and np.array_equal(s[0], s[2])
print(f"selected int32 {list(s[0].shape)}: identical")
