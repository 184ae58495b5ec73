"""Checks `mobagen bench --json` rows: keys, positive times and rates, and the
useful FLOPs given on the command line per sequence length.
ROWS is a count, or all-variants:BUNDLE for the rows of --all-variants (the tuned
forward plus, per kernel, each other variant of the bundle's manifest). With --dense,
every row has a positive dense time and speed-up = dense_time / time; otherwise both
are null. With --defaults BUNDLE, every row runs each kernel's first variant. With
--counters, every row has the emulator's counters of each kernel, and the MMA work
efficiency is the useful FLOPs over the attention kernels' tensor-core FLOPs.
Usage: check_bench_json.py FILE ROWS [--dense] [--counters] [--defaults BUNDLE] SEQLEN=FLOPS..."""
import json
import os
import sys


def manifest_variants(bundle):
    manifest = json.load(open(os.path.join(bundle, "manifest.json")))
    return {k["name"]: [v["id"] for v in k["variants"]] for k in manifest["kernels"]}


rows = json.load(open(sys.argv[1]))
if sys.argv[2].startswith("all-variants:"):
    variants = manifest_variants(sys.argv[2][len("all-variants:"):])
    expected_rows = 1 + sum(len(ids) - 1 for ids in variants.values())
else:
    expected_rows = int(sys.argv[2])
args = sys.argv[3:]
dense = "--dense" in args
counters = "--counters" in args
defaults = None
if "--defaults" in args:
    i = args.index("--defaults")
    defaults = {k: ids[0] for k, ids in manifest_variants(args[i + 1]).items()}
    del args[i:i + 2]
flops = {int(k): float(v) for k, v in (a.split("=") for a in args if a not in ("--dense", "--counters"))}
assert len(rows) == expected_rows, f"{len(rows)} rows, expected {expected_rows}"
keys = {"batch", "seqlen_q", "seqlen_k", "variants", "time", "unit", "useful_flops", "tflops",
        "tflops_modeled", "dense_time", "speedup_vs_dense",
        "sampled", "executed_ctas", "grid_ctas", "sample_fraction"}
for r in rows:
    expected = keys | ({"counters"} if counters else set()) | ({"dense_sampling"} if dense else set())
    assert set(r) == expected, f"keys {sorted(r)}"
    # Without --sample-ctas every CTA runs (bench-sampled.test checks the sampled rows).
    assert r["sampled"] is False and r["executed_ctas"] == r["grid_ctas"] > 0 and r["sample_fraction"] == 1, r
    if dense:
        assert r["dense_sampling"]["sampled"] is False, r
    assert r["time"] > 0 and r["tflops"] > 0, r
    assert r["unit"] == "model-us" and r["tflops_modeled"] is True, r
    assert set(r["variants"]) == {"pool_keys", "gate_topk", "route_scatter",
                                  "sparse_attention_blocks", "sparse_attention_merge"}, r
    assert r["useful_flops"] == flops[r["seqlen_q"]], f"{r['useful_flops']} != {flops[r['seqlen_q']]}"
    # The rate is the FLOPs over the modeled time.
    assert abs(r["tflops"] - r["useful_flops"] / (r["time"] * 1e-6) / 1e12) <= 1e-9 * r["tflops"], r
    if defaults is not None:
        assert r["variants"] == defaults, f"{r['variants']} != {defaults}"
    if dense:
        assert r["dense_time"] > 0, r
        assert abs(r["speedup_vs_dense"] - r["dense_time"] / r["time"]) <= 1e-9 * r["speedup_vs_dense"], r
    else:
        assert r["dense_time"] is None and r["speedup_vs_dense"] is None, r
    if counters:
        c = r["counters"]
        assert set(c["kernels"]) == set(r["variants"]), c
        attention = sum(c["kernels"][k]["tensor_core_flops"]
                        for k in ("sparse_attention_blocks", "sparse_attention_merge"))
        assert attention == c["attention_tensor_core_flops"] and attention >= r["useful_flops"], c
        assert abs(c["mma_work_efficiency"] - r["useful_flops"] / attention) <= 1e-12, c
        total = sum(k["global_bytes_read"] + k["global_bytes_written"] for k in c["kernels"].values())
        assert total == c["global_bytes"], c
        for k in c["kernels"].values():  # what the kernels stage through shared memory
            assert isinstance(k["shared_bytes_read"], int) and isinstance(k["shared_bytes_written"], int), k
print(f"check_bench_json: {len(rows)} rows ok")
