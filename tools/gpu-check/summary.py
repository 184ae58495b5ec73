#!/usr/bin/env python3
"""Prints the GPU check's summary: each step's outcome, then one table of the timings.

  summary.py --steps STEPS.tsv [--timings FILE.jsonl ...]

STEPS.tsv: one line per step, "name<TAB>status<TAB>seconds" (run.sh writes it).
FILE.jsonl: JSON lines from mobagen-gpu-timing (impl "mobagen") and torch_baselines.py
(impl "sdpa", "flex-moba"). The table has one row per sequence length: each
implementation's median time and its useful TFLOP/s (4 * D per attended key, per row
and head: MoBA's sparse work for mobagen and flex-moba, the dense causal work for sdpa),
and mobagen's speedup over each baseline.
"""
import argparse
import json
import sys


# The kernels of a forward, in launch order (runtime/bundle/Bundle.h).
KERNELS = ("pool_keys", "gate_topk", "route_scatter", "sparse_attention_blocks",
           "sparse_attention_merge")

def read_rows(paths):
    rows = []
    for path in paths:
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        rows.append(json.loads(line))
        except FileNotFoundError:
            pass
        except json.JSONDecodeError as e:
            print(f"summary: {path}: not JSON lines ({e})")
    return rows


def cell_time(row):
    if row is None:
        return "-"
    if "error" in row:
        return "FAILED" if not row["error"].startswith("skipped") else "skipped"
    ms = row.get("median_ms", row.get("forward_median"))
    unit = row.get("unit", "ms") or "ms"
    return f"{ms:.3f}" if unit == "ms" else f"{ms:.1f} {unit}"


def cell_rate(row):
    if row is None or "error" in row:
        return "-"
    ms = row.get("median_ms", row.get("forward_median"))
    if (row.get("unit", "ms") or "ms") != "ms" or not ms:
        return "-"
    return f"{row['useful_flops'] / (ms * 1e-3) / 1e12:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", required=True)
    parser.add_argument("--timings", nargs="*", default=[])
    parser.add_argument("--variants", help="JSON lines of mobagen-gpu-timing, one per variant")
    a = parser.parse_args()

    print("steps:")
    with open(a.steps) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                print(f"  {parts[0]:<16} {parts[1]:<40} {parts[2]:>5} s")

    # One line per kernel: each variant's median time for that kernel, fastest first.
    per_kernel = {}
    for r in read_rows([a.variants] if a.variants else []):
        if "error" in r:
            continue
        ids = r.get("variants", "").split("/")
        for kernel, vid in zip(KERNELS, ids):
            key = f"{kernel}_median"
            if key in r:
                per_kernel.setdefault((kernel, r["seqlen"], r.get("unit") or "ms"), {})[vid] = r[key]
    for (kernel, n, unit), times in sorted(per_kernel.items()):
        ranked = sorted(times.items(), key=lambda kv: kv[1])
        print(f"  {kernel} variants at {n} tokens ({unit}): " +
              ", ".join(f"{vid} {ms:.3f}" for vid, ms in ranked))

    rows = read_rows(a.timings)
    by_impl = {}
    for r in rows:
        by_impl.setdefault(r.get("impl"), {})[r.get("seqlen")] = r
    for impl, table in by_impl.items():
        for n, r in sorted(table.items()):
            if "error" in r and not r["error"].startswith("skipped"):
                print(f"  {impl} at {n} tokens: {r['error']}")
    seqlens = sorted({r["seqlen"] for r in rows if "seqlen" in r and r.get("impl") == "mobagen"} |
                     {r["seqlen"] for r in rows if "seqlen" in r and r.get("impl") == "sdpa"})
    mob = by_impl.get("mobagen", {})
    first = next(iter(mob.values()), None) or next(iter(by_impl.get("sdpa", {}).values()), None)
    print()
    if not seqlens:
        print("timings: none (see the steps above)")
        return 0
    title = "MoBA forward vs dense attention"
    if first:
        title += (f" on {first.get('device', '?')}: Hq {first.get('heads')}, Hkv {first.get('kv_heads')},"
                  f" D {first.get('head_dim')}")
        if "block_size" in first:
            title += f", block {first['block_size']}, top-k {first['top_k']}, causal prefill"
    print(title)
    header = ["tokens", "mobagen ms", "TFLOP/s", "per-kernel ms", "flex-moba ms", "TFLOP/s",
              "sdpa ms", "TFLOP/s", "vs flex", "vs sdpa"]
    table = []
    for n in seqlens:
        m, fx, sd = mob.get(n), by_impl.get("flex-moba", {}).get(n), by_impl.get("sdpa", {}).get(n)
        parts = "-"
        if m and "error" not in m and "pool_keys_median" in m:
            parts = "/".join(f"{m[k + '_median']:.2f}" for k in KERNELS if k + "_median" in m)

        def speedup(base):
            ok = m and base and "error" not in m and "error" not in base and \
                (m.get("unit") or "ms") == "ms"
            return f"{base['median_ms'] / m['forward_median']:.2f}x" if ok else "-"

        table.append([str(n), cell_time(m), cell_rate(m), parts, cell_time(fx), cell_rate(fx),
                      cell_time(sd), cell_rate(sd), speedup(fx), speedup(sd)])
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in table:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
