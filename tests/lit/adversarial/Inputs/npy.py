"""Tiny .npy helper for the adversarial tests (NumPy):
  npy.py write FILE DTYPE V,V,...   write a 1-D array
  npy.py print FILE                 print its values as a list"""
import sys

import numpy as np

if sys.argv[1] == "write":
    dtype = {"f32": np.float32, "i32": np.int32}[sys.argv[3]]
    np.save(sys.argv[2], np.array([float(v) for v in sys.argv[4].split(",")], dtype=dtype))
else:
    print([float(v) for v in np.load(sys.argv[2]).ravel()])
