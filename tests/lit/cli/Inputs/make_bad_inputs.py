"""Writes a valid MoBA input set and one broken variant per input error into DIR.

Valid: two sequences (Lq = Lk = 6 and Lq = 3 <= Lk = 5), Hq = 4, Hkv = 2, D = 8."""
import os
import sys

import numpy as np

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(0)


def save(name, array):
    np.save(os.path.join(d, name), array)


save("q.npy", rng.standard_normal((9, 4, 8), dtype=np.float32))
save("k.npy", rng.standard_normal((11, 2, 8), dtype=np.float32))
save("v.npy", rng.standard_normal((11, 2, 8), dtype=np.float32))
save("cu_q.npy", np.array([0, 6, 9], dtype=np.int32))
save("cu_k.npy", np.array([0, 6, 11], dtype=np.int32))

with open(os.path.join(d, "garbage.npy"), "wb") as f:
    f.write(b"this is not numpy")
with open(os.path.join(d, "q.npy"), "rb") as f:
    whole = f.read()
with open(os.path.join(d, "truncated.npy"), "wb") as f:
    f.write(whole[: len(whole) - 10])
save("q_int.npy", np.zeros((9, 4, 8), dtype=np.int32))
save("q_rank2.npy", np.zeros((9, 32), dtype=np.float32))
save("q_d16.npy", np.zeros((9, 4, 16), dtype=np.float32))
save("q_3heads.npy", np.zeros((9, 3, 8), dtype=np.float32))
save("v_short.npy", np.zeros((10, 2, 8), dtype=np.float32))
save("q_huge.npy", np.full((9, 4, 8), 1e5, dtype=np.float32))
save("q_nan.npy", np.full((9, 4, 8), np.nan, dtype=np.float32))
save("cu_q_start1.npy", np.array([1, 6, 9], dtype=np.int32))
save("cu_q_decreasing.npy", np.array([0, 6, 5, 9], dtype=np.int32))
save("cu_k_3.npy", np.array([0, 6, 8, 11], dtype=np.int32))
save("cu_q_ends8.npy", np.array([0, 6, 8], dtype=np.int32))
save("cu_q_float.npy", np.array([0, 6, 9], dtype=np.float32))
save("cu_q_lq_gt_lk.npy", np.array([0, 7, 9], dtype=np.int32))
save("cu_k_empty_seq.npy", np.array([0, 11, 11], dtype=np.int32))
save("cu_q_int64_big.npy", np.array([0, 6, 2**40], dtype=np.int64))
