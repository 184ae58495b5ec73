"""Checks a bundle (format v3, docs/bundle.md) against what `mobagen generate`
promises and prints the facts the tests match: per kernel its params and, per
variant, its id, threads, rows per program and knobs (and ptxas's resources
with --cubin)."""
import json
import os
import re
import sys

d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["format"] == "mobagen-bundle" and m["format_version"] == 4
assert m["compiler"].startswith("mobagen ") and "NVPTX" in m["compiler"]
assert [w["name"] for w in m["workspace"]] == ["kbar", "selected", "ranks", "block_counts", "block_offsets",
                                              "routed", "partial_out", "partial_lse"]
names = [k["name"] for k in m["kernels"]]
print("kernels:", " ".join(names))
files = {"manifest.json"}
for k in m["kernels"]:
    params = ", ".join(f"{p['name']}: {p['type']}" for p in k["params"])
    print(f"{k['name']}: grid {k['grid']}, params ({params})")
    ids = [v["id"] for v in k["variants"]]
    assert len(set(ids)) == len(ids), f"{k['name']}: duplicate variant ids {ids}"
    for v in k["variants"]:
        assert re.fullmatch(r"[a-z0-9]+", v["id"]), v["id"]
        assert v["entry"] == f"{k['name']}_{v['id']}"
        assert v["ptx"] == f"{k['name']}.{v['id']}.ptx"
        ptx = open(os.path.join(d, v["ptx"])).read()
        entries = re.findall(r"\.entry\s+(\w+)\(", ptx)
        assert entries == [v["entry"]], f"{v['ptx']}: entries {entries}"
        assert v["threads"] == 32 * v["knobs"]["num_warps"]
        files.add(v["ptx"])
        # Dynamic shared memory: the buffers of a kernel past the 48 KB static
        # limit sit in one `.extern .shared` array, sized at launch within the
        # target's limit (99 KB for the sm_8x family, 227 KB on sm_90).
        extern = re.findall(r"\.extern \.shared \.align 16 \.b8 (\w+)\[\];", ptx)
        dynamic = v["dynamic_shared_bytes"]
        assert (dynamic > 0) == bool(extern), (v["id"], dynamic, extern)
        assert dynamic <= (227 if m["config"]["target"].startswith("sm_90") else 99) * 1024
        print(f"  {v['id']}: threads {v['threads']}, rows {v['rows_per_program']}, "
              f"knobs {json.dumps(v['knobs'], sort_keys=True)}")
        if "cubin" in v:
            assert v["cubin"] == f"{k['name']}.{v['id']}.{m['config']['target']}.cubin"
            assert os.path.getsize(os.path.join(d, v["cubin"])) > 0
            files.add(v["cubin"])
            r = v["resources"]
            # Every variant of the tuning space assembles without spilling.
            assert r["spill_store_bytes"] == 0 and r["spill_load_bytes"] == 0, (v["id"], r)
            print(f"  {v['id']}: registers {r['registers']}, spills {r['spill_store_bytes']}, "
                  f"shared {r['shared_bytes']}, dynamic {v['dynamic_shared_bytes']}")
# Nothing in the directory but the manifest, its files and headers.
extra = {f for f in os.listdir(d) if not f.endswith((".h", ".npy"))} - files
assert not extra, f"files the manifest does not name: {sorted(extra)}"
c = m["config"]
print("config:", " ".join(f"{key}={c[key]}" for key in sorted(c)))
