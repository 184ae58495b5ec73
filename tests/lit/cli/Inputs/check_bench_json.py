"""Checks `mobagen bench --json` rows: keys, positive times and rates, and the
useful FLOPs given on the command line per sequence length.
With --dense, every row has a positive dense time and speed-up = dense_time / time;
otherwise both are null.
Usage: check_bench_json.py FILE ROWS [--dense] SEQLEN=FLOPS..."""
import json
import sys

rows = json.load(open(sys.argv[1]))
expected_rows = int(sys.argv[2])
dense = "--dense" in sys.argv[3:]
flops = {int(k): float(v) for k, v in (a.split("=") for a in sys.argv[3:] if a != "--dense")}
assert len(rows) == expected_rows, f"{len(rows)} rows, expected {expected_rows}"
keys = {"batch", "seqlen_q", "seqlen_k", "variants", "time", "unit", "useful_flops", "tflops",
        "tflops_modeled", "dense_time", "speedup_vs_dense"}
for r in rows:
    assert set(r) == keys, f"keys {sorted(r)}"
    assert r["time"] > 0 and r["tflops"] > 0, r
    assert r["unit"] == "model-us" and r["tflops_modeled"] is True, r
    assert set(r["variants"]) == {"pool_keys", "gate_topk", "sparse_attention_fwd"}, r
    assert r["useful_flops"] == flops[r["seqlen_q"]], f"{r['useful_flops']} != {flops[r['seqlen_q']]}"
    # The rate is the FLOPs over the modeled time.
    assert abs(r["tflops"] - r["useful_flops"] / (r["time"] * 1e-6) / 1e12) <= 1e-9 * r["tflops"], r
    if dense:
        assert r["dense_time"] > 0, r
        assert abs(r["speedup_vs_dense"] - r["dense_time"] / r["time"]) <= 1e-9 * r["speedup_vs_dense"], r
    else:
        assert r["dense_time"] is None and r["speedup_vs_dense"] is None, r
print(f"check_bench_json: {len(rows)} rows ok")
