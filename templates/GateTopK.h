//===- GateTopK.h - MoBA fused gate + top-k (kernel 2 of 5) --------------------===//
//
// For every query row and head: gate scores s[j] = q . kbar[j] (f32, no scale)
// against the blocks of the row's sequence, the top (k-1) strictly past blocks
// plus the current block (causal), or the top k of all blocks (non-causal), ties
// to the lower block index (DESIGN.md 1.5). Scores are computed block_n blocks at
// a time and folded into a running top-k kept per row in registers; the
// [rows x blocks] score matrix never reaches global memory. Only the selection is
// written: int32 [total_q, Hq, top_k], ascending, -1 in unused slots.
//
// Routing (RouteBlocks.h): for each routed (row, head, slot) — its block b >= 0
// and, causal, b before the row's current block — the program atomically adds 1
// to block_counts[(blocksBefore + b) * Hq + head] (zeroed by pool_keys) and
// stores the count it saw, the entry's rank in its block's list, in
// ranks[row, head, slot]. Ranks are distinct per (block, head) and their order
// depends on timing; no result depends on it (route_scatter places entries by
// rank, and every entry of a block's list is attended independently).
//
// Kernel signature (one program per (query block, query head, sequence);
// grid = [ceil(max Lq / block_m), num_q_heads, B]):
//
//   func.func @gate_topk(%q: !tile.ptr<dtype>, %kbar: !tile.ptr<f32>,
//       %selected: !tile.ptr<i32>, %block_counts: !tile.ptr<i32>,
//       %ranks: !tile.ptr<i32>, %cu_seqlens_q: !tile.ptr<i32>,
//       %cu_seqlens_k: !tile.ptr<i32>)
//
// kbar is pool_keys' output [total blocks, Hkv, D].
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct GateTopKTuning {
  int64_t blockM = 16; ///< query rows per program
  int64_t blockN = 16; ///< candidate blocks scored per loop iteration
  int64_t numWarps = 4;
};

mlir::FailureOr<mlir::func::FuncOp> buildGateTopK(mlir::ModuleOp module, moba::ConfigAttr config,
                                                  const GateTopKTuning &tuning);

} // namespace mobagen::templates
