"""Corrupts every entry of a tuning-cache directory: flips a payload byte
(checksum mismatch), then replaces the first entry (by name) with a directory.

Usage: corrupt_cache.py CACHE_DIR EXPECTED_ENTRIES
"""
import os
import sys

directory, expected = sys.argv[1], int(sys.argv[2])
names = sorted(n for n in os.listdir(directory) if n.endswith(".entry"))
if len(names) != expected:
    sys.exit(f"corrupt_cache.py: {directory} holds {len(names)} entries, expected {expected}: {names}")
for name in names:
    path = os.path.join(directory, name)
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0x20  # inside the JSON payload
    open(path, "wb").write(data)
first = os.path.join(directory, names[0])
os.remove(first)
os.mkdir(first)
