"""Checks a bundle's manifest.json against what `mobagen generate` promises
(docs/bundle.md) and prints the facts the test matches."""
import json
import os
import sys

d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["format"] == "mobagen-bundle" and m["format_version"] == 1
assert os.path.getsize(os.path.join(d, m["ptx"])) > 0
ptx = open(os.path.join(d, m["ptx"])).read()
names = [k["name"] for k in m["kernels"]]
print("kernels:", " ".join(names))
for k in m["kernels"]:
    assert f".entry {k['name']}(" in ptx, f"{k['name']} is not an entry of the PTX"
    params = ", ".join(f"{p['name']}: {p['type']}" for p in k["params"])
    print(f"{k['name']}: block {k['block'][0]}, knobs {json.dumps(k['knobs'], sort_keys=True)}, params ({params})")
    if "cubin" in m:
        r = k["resources"]
        print(f"{k['name']}: registers {r['registers']}, spills {r['spill_store_bytes']}, shared {r['shared_bytes']}")
c = m["config"]
print("config:", " ".join(f"{key}={c[key]}" for key in sorted(c)))
