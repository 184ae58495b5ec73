//===- SparseAttentionBlocks.h - MoBA attention over routed blocks, on tensor cores
//
// One program per (key block, query head, sequence): it reads the block's list of
// routed (row, slot) entries (route_scatter), gathers block_m of those query rows
// at a time into a dense tile, and runs FlashAttention's online softmax over the
// block's keys with tile.dot on the dtype (mma.sync under dot=mma). Every key of a
// routed block is visible to its rows (a past block, or non-causal), so only the
// block's and the sequence's ends are masked. Per entry it writes the normalized
// partial output and the partial log-sum-exp in base 2 of the exp2-domain logits
// (s' = scale * log2(e) * q.k):
//
//   partial_out[((row * Hq + head) * top_k + slot) * D + d] = sum_k p_k v_k,d / l   (f32)
//   partial_lse[(row * Hq + head) * top_k + slot] = m + log2(l)                      (f32)
//
// sparse_attention_merge folds them into out and lse.
//
//   sparse_attention_blocks(%q, %k, %v: !tile.ptr<dtype>, %block_counts, %block_offsets,
//       %routed: !tile.ptr<i32>, %partial_out, %partial_lse: !tile.ptr<f32>,
//       %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>)
//
// grid = [max_b ceil(Lk_b / block_size), Hq, B].
//
// Default tuning {32, 64, 4} at both head dims: 64-row tiles with 4 warps spill
// (the [64, D] f32 accumulator and the probabilities live in registers), and at
// D 128 a 64 x 64 tile's q.k^T staging (54,272 bytes) exceeds the 48 KiB of static
// shared memory, so its dots would fall back to FMA loops. 32 x 64 keeps both
// dots on mma.sync (39,424 bytes at D 128) and assembles for sm_80 and sm_90
// without spills (docs/perf.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct SparseBlocksTuning {
  int64_t blockM = 32; ///< routed query rows per tile
  int64_t blockN = 64; ///< keys per loop iteration
  int64_t numWarps = 4;
};

mlir::FailureOr<mlir::func::FuncOp> buildSparseAttentionBlocks(mlir::ModuleOp module,
                                                               moba::ConfigAttr config,
                                                               const SparseBlocksTuning &tuning);

} // namespace mobagen::templates
