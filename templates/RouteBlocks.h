//===- RouteBlocks.h - per-block lists of the query rows routed to each block ---===//
//
// The tensor-core attention (docs/design/sparse-attention.md) runs over the
// query rows that selected each (key block, query head), the lists of GQA heads
// that share a K/V head together (SparseAttentionBlocks.h). Building those lists
// takes O(rows x top_k) work spread over the query rows, in three steps of the
// forward's first three kernels:
//
// 1. pool_keys zeroes block_counts;
// 2. gate_topk, for each routed (row, head, slot), takes a rank in its block's
//    list with an atomic add on the block's count (GateTopK.h);
// 3. route_scatter (this kernel) places each routed entry at its block's offset
//    plus its rank.
//
// A (row, head, slot) is *routed* when its block b = selected[row, head, slot] is
// >= 0 and, under causality, b < the row's current block c = floor(p / Bs)
// (p = Lk - Lq + i, DESIGN.md 1.3); the current block itself is left to
// sparse_attention_merge's diagonal pass. Non-causal: every b >= 0 is routed.
//
// Global block index: g = blocksBefore(b) + j, the index of pooled keys.
//
//   route_scatter(%selected, %ranks, %block_counts, %block_offsets,
//                 %routed: !tile.ptr<i32>, %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>)
//     block_offsets[g * Hq + head] = region(b, head) + sum over j' < j of
//     block_counts[(blocksBefore(b) + j') * Hq + head], with
//     region(b, head) = (cu_q[b] * Hq + head * Lq_b) * top_k (the regions of all
//     (sequence, head) pairs partition [0, total_q * Hq * top_k));
//     routed[block_offsets[g * Hq + head] + ranks[row, head, slot]] = row * top_k + slot
//     for every routed entry (row: global query row). A list's order is its
//     entries' ranks, which depend on the order gate_topk's atomic adds ran in.
//
// Grid = [ceil(max_b Lq_b / block_rows), Hq, B]; program (x, head, b) places the
// entries of rows [x * block_rows, (x + 1) * block_rows) of sequence b. Each
// program first computes the offsets of all n_b blocks of its (sequence, head)
// from the counts (n_b = ceil(Lk_b / Bs) loads and a prefix sum, `blocks` at a
// time), stores them, and reads back those its entries need after a
// tile.barrier. Every program of a (sequence, head) stores the same offsets, so
// the concurrent stores agree; one of them is what sparse_attention_blocks reads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct RouteTuning {
  int64_t blockRows = 64; ///< query rows per program
  int64_t blocks = 64;    ///< block counts summed per step of the offsets' prefix sum
  int64_t numWarps = 4;
};

mlir::FailureOr<mlir::func::FuncOp> buildRouteScatter(mlir::ModuleOp module, moba::ConfigAttr config,
                                                      const RouteTuning &tuning);

} // namespace mobagen::templates
