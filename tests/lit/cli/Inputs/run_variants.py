"""Runs every tuning variant a bundle lists on the emulator against the reference:
run i uses variant i of each kernel (the last one for kernels with fewer), so
max(variants per kernel) runs cover them all.
Usage: run_variants.py MOBAGEN BUNDLE_DIR INPUT_DIR OUT_DIR [mobagen run options...]"""
import json
import os
import subprocess
import sys

mobagen, bundle, inputs, out = sys.argv[1:5]
extra = sys.argv[5:]
m = json.load(open(os.path.join(bundle, "manifest.json")))
ids = {k["name"]: [v["id"] for v in k["variants"]] for k in m["kernels"]}
runs = max(len(v) for v in ids.values())
for i in range(runs):
    picks = [f"{name}={v[min(i, len(v) - 1)]}" for name, v in ids.items()]
    cmd = [mobagen, "run", "--device", "emulator", "--check", "-o", os.path.join(out, str(i))]
    for name in ("q", "k", "v", "cu-seqlens-q", "cu-seqlens-k"):
        cmd += [f"--{name}", os.path.join(inputs, name.replace("-", "_") + ".npy")]
    for p in picks:
        cmd += ["--variant", p]
    proc = subprocess.run(cmd + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    text = proc.stdout.decode(errors="replace")
    verdict = "verified" if proc.returncode == 0 and "verified against" in text else "FAILED"
    print(" ".join(picks) + ": " + verdict)
    if verdict != "verified":
        print(text)
        sys.exit(1)
