"""Checks `mobagen bench --json` rows: keys, positive times and rates, and the
useful FLOPs given on the command line per sequence length.
ROWS is a count, or all-variants:BUNDLE for the rows of --all-variants (the tuned
forward plus, per kernel, each other variant of the bundle's manifest). With --dense,
every row has a positive dense time and speed-up = dense_time / time; otherwise both
are null. With --defaults BUNDLE, every row runs each kernel's first variant. With
--counters, every row has the emulator's counters of each kernel, and the MMA work
efficiency is the useful FLOPs over the attention kernels' tensor-core FLOPs. With
--dense-tune (implies --dense), every row names the chosen dense variant and lists
them all: the chosen one is the fastest of those timed, its time is the first row's
dense time, and a variant is either timed or rejected with a reason. With
--inputs KIND[:RHO], every row says those inputs (default gaussian).
Usage: check_bench_json.py FILE ROWS [--dense] [--dense-tune] [--counters] [--defaults BUNDLE]
       [--inputs KIND[:RHO]] SEQLEN=FLOPS..."""
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
dense_tune = "--dense-tune" in args
dense = "--dense" in args or dense_tune
inputs = {"kind": "gaussian"}
if "--inputs" in args:
    i = args.index("--inputs")
    kind, _, rho = args[i + 1].partition(":")
    inputs = {"kind": kind, "rho": float(rho)} if rho else {"kind": kind}
    del args[i:i + 2]
counters = "--counters" in args
defaults = None
if "--defaults" in args:
    i = args.index("--defaults")
    defaults = {k: ids[0] for k, ids in manifest_variants(args[i + 1]).items()}
    del args[i:i + 2]
flops = {int(k): float(v) for k, v in (a.split("=") for a in args if a not in ("--dense", "--dense-tune", "--counters"))}
assert len(rows) == expected_rows, f"{len(rows)} rows, expected {expected_rows}"
keys = {"batch", "seqlen_q", "seqlen_k", "variants", "time", "unit", "useful_flops", "tflops",
        "tflops_modeled", "dense_time", "speedup_vs_dense",
        "sampled", "executed_ctas", "grid_ctas", "sample_fraction", "inputs"}
for n, r in enumerate(rows):
    expected = keys | ({"counters"} if counters else set()) | ({"dense_sampling"} if dense else set())
    expected |= {"dense_variant", "dense_variants"} if dense_tune else set()
    assert set(r) == expected, f"keys {sorted(r)}"
    assert r["inputs"] == inputs, r["inputs"]
    if dense_tune:
        variants = r["dense_variants"]
        assert variants == rows[0]["dense_variants"], "every row lists the same variants"
        timed = [v for v in variants if "time" in v]
        chosen = [v for v in variants if v["chosen"]]
        assert len(chosen) == 1 and chosen[0]["id"] == r["dense_variant"], (chosen, r["dense_variant"])
        assert chosen[0]["time"] == min(v["time"] for v in timed), chosen
        for v in variants:
            assert v["id"] == f"m{v['block_m']}n{v['block_n']}w{v['num_warps']}s{v['num_stages']}", v
            assert ("time" in v) != ("rejected" in v), v
            if "time" in v:
                assert v["time"] > 0 and v["tflops"] > 0 and v["unit"] == r["unit"], v
        if n == 0:  # timed on the first shape: its dense time is the chosen variant's
            assert r["dense_time"] == chosen[0]["time"], (r["dense_time"], chosen[0])
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
