"""Writes adversarial .npy files into DIR: a header with a duplicated 'shape',
a 60 KB binary header, a header whose shape claims 2^40 elements on a tiny file,
and valid k, v for the runs. Usage: make_npy.py DIR"""
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def raw(name, header, data=b""):
    header = header.encode("latin-1") if isinstance(header, str) else header
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data)


raw("dup_shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2, 8), 'shape': (1,), }\n",
    bytes(4 * 4 * 2 * 8))
raw("binary_header.npy", b"{'descr': '\x01\n" + bytes(range(256)) * 235 + b"', }")
raw("huge_shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }\n", bytes(16))
rng = np.random.default_rng(0)
np.save(os.path.join(out, "q.npy"), rng.standard_normal((4, 2, 8)).astype(np.float32))
np.save(os.path.join(out, "k.npy"), rng.standard_normal((4, 2, 8)).astype(np.float32))
np.save(os.path.join(out, "v.npy"), rng.standard_normal((4, 2, 8)).astype(np.float32))
os.mkdir(os.path.join(out, "a_directory"))
