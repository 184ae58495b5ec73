"""Writes the inputs of the `mobagen emu` lit tests into DIR."""
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
np.save(f"{out}/x.npy", rng.uniform(-1, 1, 1000).astype(np.float32))
np.save(f"{out}/y.npy", rng.uniform(-1, 1, 1000).astype(np.float32))
np.save(f"{out}/y_short.npy", rng.uniform(-1, 1, 999).astype(np.float32))


def to_bf16_bits(a):
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


np.save(f"{out}/a.npy", to_bf16_bits(rng.uniform(-1, 1, (128, 64))))
np.save(f"{out}/b.npy", to_bf16_bits(rng.uniform(-1, 1, (64, 64))))
