//===- RouteBlocks.h - per-block lists of the query rows routed to each block ---===//
//
// The tensor-core attention (docs/design/sparse-attention.md) runs over the
// query rows that selected each (key block, query head), the lists of GQA heads
// that share a K/V head together (SparseAttentionBlocks.h). These two kernels turn gate_topk's per-row selection into those lists,
// deterministically (rows in ascending order) and without atomics.
//
// A (row, head, slot) is *routed* when its block b = selected[row, head, slot] is
// >= 0 and, under causality, b < the row's current block c = floor(p / Bs)
// (p = Lk - Lq + i, DESIGN.md 1.3); the current block itself is left to
// sparse_attention_merge's diagonal pass. Non-causal: every b >= 0 is routed.
//
// Global block index: g = blocksBefore(b) + j, the index of pooled keys.
//
//   route_count(%selected: !tile.ptr<i32>, %block_counts: !tile.ptr<i32>,
//               %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>)
//     block_counts[g * Hq + head] = number of rows of the sequence routed to
//     block j for head `head`.
//
//   route_scatter(%selected, %block_counts, %block_offsets, %routed: !tile.ptr<i32>,
//                 %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>)
//     block_offsets[g * Hq + head] = region(b, head) + sum over j' < j of
//     block_counts[(blocksBefore(b) + j') * Hq + head], with
//     region(b, head) = (cu_q[b] * Hq + head * Lq_b) * top_k (the regions of all
//     (sequence, head) pairs partition [0, total_q * Hq * top_k));
//     routed[block_offsets[g * Hq + head] + t], t < count, = row * top_k + slot for
//     the routed rows of block j in ascending row order (row: global query row).
//
// Both: grid = [ceil(max_b n_b / blocks), Hq, B], n_b = ceil(Lk_b / block_size);
// program (x, head, b) handles blocks [x * blocks, (x + 1) * blocks) of sequence b.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct RouteTuning {
  int64_t blockRows = 32; ///< query rows read per loop iteration
  int64_t blocks = 32;    ///< key blocks per program
  int64_t numWarps = 4;
};

mlir::FailureOr<mlir::func::FuncOp> buildRouteCount(mlir::ModuleOp module, moba::ConfigAttr config,
                                                    const RouteTuning &tuning);
mlir::FailureOr<mlir::func::FuncOp> buildRouteScatter(mlir::ModuleOp module, moba::ConfigAttr config,
                                                      const RouteTuning &tuning);

} // namespace mobagen::templates
