//===- SparseAttentionMerge.h - the current block, then the routed partials ----===//
//
// One program per (query block, query head, sequence), like flash_attention_fwd.
// Causal: each row first attends to its current block up to its position
// (FlashAttention's online softmax with tile.dot on the dtype over the keys
// [c_first * Bs, p_last], each row masked to [c(row) * Bs, p(row)]). Then, causal
// or not, it folds in the partial (out, lse) that sparse_attention_blocks wrote for
// each of the row's routed slots (RouteBlocks.h's rule) with the log-sum-exp rule,
// and writes out in the dtype and lse (natural log, [Hq, total_q]).
//
//   sparse_attention_merge(%q, %k, %v: !tile.ptr<dtype>, %selected: !tile.ptr<i32>,
//       %partial_out, %partial_lse: !tile.ptr<f32>, %out: !tile.ptr<dtype>,
//       %lse: !tile.ptr<f32>, %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>, %total_q: i32)
//
// grid = [ceil(max Lq / block_m), Hq, B].
//
// Default tuning {block_m 64, block_n 32, 8 warps, 2 stages}, the same for every
// head dim: under dot=mma it assembles with zero spills at D 64 and D 128 on sm_80
// and sm_90. With 2 stages the causal key loop copies K and V one key step ahead
// (docs/lowering.md), q resident: 87,040 bytes of dynamic shared memory and 251
// registers at D 128 on sm_80 (46,080 bytes of static, 152 registers at D 64);
// without the pipeline (1 stage) it fits 48 KiB of static shared memory (34,816
// bytes, 252 registers at D 128; docs/perf.md, with the accumulator layouts). {64, 64, 4} spills at D 64 and, at D 128, its
// dots' A + B + C bound exceeds the tuning space's 48 KiB; {64, 64, 8} is a
// spill-free alternative at D <= 64 only.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct SparseMergeTuning {
  int64_t blockM = 64; ///< query rows per program
  int64_t blockN = 32; ///< keys of the current block per loop iteration
  int64_t numWarps = 8;
  /// Software-pipelining depth of the causal key loop (`tile.num_stages`): K and
  /// V tiles are copied this many - 1 key steps ahead (docs/lowering.md).
  /// Non-causal programs have no key loop, and the knob changes nothing there.
  int64_t numStages = 2;
};

mlir::FailureOr<mlir::func::FuncOp> buildSparseAttentionMerge(mlir::ModuleOp module,
                                                              moba::ConfigAttr config,
                                                              const SparseMergeTuning &tuning);

} // namespace mobagen::templates
