#!/usr/bin/env python3
"""Times PyTorch's attention on one GPU as the baselines for mobagen's MoBA forward.

  torch_baselines.py --seqlen 8192 16384 ... [--heads 32 --kv-heads 8 --head-dim 128
                     --block-size 512 --top-k 3 --dtype bf16] [--json FILE] [--budget S]

For each sequence length (one causal prefill sequence):
  sdpa       torch.nn.functional.scaled_dot_product_attention, dense causal (GQA);
  flex-moba  FlexAttention with a MoBA mask: the selection of DESIGN.md section 1 computed
             in torch (mean-pooled keys, gate, current block + top k-1 past blocks), as a
             BlockMask at 128x128 tiles plus a per-row mask_mod. Its output is first checked
             against SDPA with the same mask as a dense boolean mask at 2048 tokens.
Each prints one JSON line: impl, seqlen, median_ms, min_ms, useful_flops (4 * D per attended
key, per row and head), or error. Timing: CUDA events, warm-up, median of repetitions.
Exits 3 when torch or a GPU is missing (the caller reports "skipped"), 1 on any failure.
"""
import argparse
import json
import math
import sys
import time


def emit(row, path):
    line = json.dumps(row)
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def time_ms(torch, fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop))
    samples.sort()
    return samples[len(samples) // 2], samples[0]


def moba_selection(torch, q, k, block, top_k, chunk=4096):
    """[Hq, N, n] bool: the blocks each row attends to (causal MoBA, prefill)."""
    _, hq, n, d = q.shape
    hkv = k.shape[1]
    nb = -(-n // block)
    kp = torch.nn.functional.pad(k[0].float(), (0, 0, 0, nb * block - n))
    counts = torch.full((nb,), float(block), device=q.device)
    counts[-1] = n - (nb - 1) * block
    kbar = kp.view(hkv, nb, block, d).sum(2) / counts[None, :, None]
    kbar = kbar.repeat_interleave(hq // hkv, dim=0)  # [Hq, nb, D]
    selected = torch.zeros(hq, n, nb, dtype=torch.bool, device=q.device)
    blocks = torch.arange(nb, device=q.device)
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        scores = q[0, :, r0:r1].float() @ kbar.transpose(1, 2)  # [Hq, R, n]
        current = torch.arange(r0, r1, device=q.device) // block
        past = blocks[None, :] < current[:, None]  # [R, n]
        scores = scores.masked_fill(~past[None], float("-inf"))
        rows = selected[:, r0:r1]
        if top_k > 1:
            top = scores.topk(min(top_k - 1, nb), dim=-1).indices
            rows.scatter_(-1, top, True)
            rows &= past[None]  # fewer past blocks than k-1: the -inf picks are not selected
        rows.scatter_(-1, current[None, :, None].expand(hq, -1, 1), True)
    return selected


def moba_block_mask(torch, flex, selected, n, block, tile=128):
    """A BlockMask whose partial tiles run the per-row mask and whose full tiles skip it."""
    hq, _, nb = selected.shape
    assert block % tile == 0 and n % tile == 0, "sizes must be multiples of the 128-token tile"
    nt = n // tile
    per_tile = selected.view(hq, nt, tile, nb)
    any_row = per_tile.any(2).repeat_interleave(block // tile, dim=-1)[..., :nt]
    all_rows = per_tile.all(2).repeat_interleave(block // tile, dim=-1)[..., :nt]
    t = torch.arange(nt, device=selected.device)
    below = t[None, :] < t[:, None]  # kv tile strictly before the query tile
    visible = t[None, :] <= t[:, None]
    full = all_rows & below[None]
    partial = any_row & visible[None] & ~full

    def blocks(m):
        count = m.sum(-1, dtype=torch.int32)[None]
        order = torch.argsort(m.to(torch.int32), dim=-1, descending=True, stable=True)
        return count, order.to(torch.int32)[None]

    def mask_mod(b, h, q_idx, kv_idx):
        return selected[h, q_idx, kv_idx // block] & (kv_idx <= q_idx)

    pn, pi = blocks(partial)
    fn, fi = blocks(full)
    return flex.BlockMask.from_kv_blocks(pn, pi, fn, fi, BLOCK_SIZE=tile, mask_mod=mask_mod)


def moba_useful_flops(n, d, hq, block, top_k):
    keys = 0
    for p in range(n):
        c = p // block
        keys += p - c * block + 1 + block * min(top_k - 1, c)
    return 4.0 * d * keys * hq


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seqlen", type=int, nargs="+",
                        default=[8192, 16384, 32768, 65536, 131072])
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kv-heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--block-size", type=int, default=512)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--dtype", choices=("bf16", "fp16"), default="bf16")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds; sizes not started by then are reported as skipped")
    a = parser.parse_args()
    began = time.monotonic()

    try:
        import torch
    except ImportError as e:
        print(f"torch_baselines: torch is not importable ({e}): no dense baselines")
        return 3
    if not torch.cuda.is_available():
        print("torch_baselines: torch sees no CUDA GPU: no dense baselines")
        return 3
    try:
        from torch.nn.attention import flex_attention as flex
        flex_fn = torch.compile(flex.flex_attention)
    except Exception as e:  # noqa: BLE001 - an old torch has no FlexAttention
        flex, flex_fn = None, None
        print(f"torch_baselines: FlexAttention unavailable ({e})")

    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(dev)
    common = {"device": name, "heads": a.heads, "kv_heads": a.kv_heads, "head_dim": a.head_dim,
              "torch": torch.__version__}
    sdpa = torch.nn.functional.scaled_dot_product_attention
    failed = False

    def inputs(n, seed):
        g = torch.Generator(device=dev).manual_seed(seed)
        shape_q, shape_kv = (1, a.heads, n, a.head_dim), (1, a.kv_heads, n, a.head_dim)
        return (torch.randn(shape_q, generator=g, device=dev, dtype=dtype),
                torch.randn(shape_kv, generator=g, device=dev, dtype=dtype),
                torch.randn(shape_kv, generator=g, device=dev, dtype=dtype))

    # FlexAttention's MoBA mask must compute MoBA: compare with SDPA under the same dense mask.
    if flex is not None:
        try:
            n = 2048
            q, k, v = inputs(n, 1)
            sel = moba_selection(torch, q, k, a.block_size, a.top_k)
            bm = moba_block_mask(torch, flex, sel, n, a.block_size)
            got = flex_fn(q, k, v, block_mask=bm, enable_gqa=True)
            pos = torch.arange(n, device=dev)
            dense = sel[:, :, pos // a.block_size] & (pos[None, :] <= pos[:, None])[None]
            want = sdpa(q, k, v, attn_mask=dense[None], enable_gqa=True)
            err = (got.float() - want.float()).abs().max().item()
            print(f"torch_baselines: flex-moba vs masked SDPA at {n} tokens: max |diff| {err:.2e}")
            if not err < 2e-2:
                raise RuntimeError(f"FlexAttention MoBA differs from masked SDPA by {err:.2e}")
        except Exception as e:  # noqa: BLE001
            emit({"impl": "flex-moba", "seqlen": 2048, "error": f"self-check: {e}", **common}, a.json)
            flex = None
            failed = True

    for n in a.seqlen:
        if time.monotonic() - began > a.budget:
            for impl in ("sdpa", "flex-moba"):
                emit({"impl": impl, "seqlen": n, "error": "skipped: time budget spent", **common}, a.json)
            continue
        q, k, v = inputs(n, n)
        dense_flops = 4.0 * a.head_dim * (n * (n + 1) / 2) * a.heads
        try:
            med, low = time_ms(torch, lambda: sdpa(q, k, v, is_causal=True, enable_gqa=True),
                               a.warmup, a.repetitions)
            emit({"impl": "sdpa", "seqlen": n, "median_ms": med, "min_ms": low,
                  "useful_flops": dense_flops, **common}, a.json)
        except Exception as e:  # noqa: BLE001
            emit({"impl": "sdpa", "seqlen": n, "error": str(e).splitlines()[0], **common}, a.json)
            failed = True
        if flex is None:
            continue
        try:
            sel = moba_selection(torch, q, k, a.block_size, a.top_k)
            bm = moba_block_mask(torch, flex, sel, n, a.block_size)
            med, low = time_ms(torch, lambda: flex_fn(q, k, v, block_mask=bm, enable_gqa=True),
                               a.warmup, a.repetitions)
            emit({"impl": "flex-moba", "seqlen": n, "median_ms": med, "min_ms": low,
                  "useful_flops": moba_useful_flops(n, a.head_dim, a.heads, a.block_size, a.top_k),
                  **common}, a.json)
            del sel, bm
        except Exception as e:  # noqa: BLE001
            emit({"impl": "flex-moba", "seqlen": n, "error": str(e).splitlines()[0], **common},
                 a.json)
            failed = True
        del q, k, v
        torch.cuda.empty_cache()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
