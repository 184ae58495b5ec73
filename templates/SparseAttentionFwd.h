//===- SparseAttentionFwd.h - row-centric MoBA sparse attention (the baseline) ===//
//
// Each query row attends to the keys of its selected blocks (gate_topk's output),
// the current block only up to the row's position when causal (DESIGN.md 1.6):
// online softmax in f32 over the row's blocks, out in the dtype and lse in f32.
//
// Row-centric: every row gathers its own blocks' keys, so a program's rows need not
// share blocks, and q.k and p.v are elementwise products reduced over D and over the
// keys (no tensor cores). Bundles run the routed tensor-core kernels instead
// (RouteBlocks.h, SparseAttentionBlocks.h, SparseAttentionMerge.h;
// docs/design/sparse-attention.md); this one stays as an independent second
// implementation that the emulator tests compare.
//
// Kernel signature (one program per (query block, query head, sequence);
// grid = [ceil(max Lq / block_m), num_q_heads, B]):
//
//   func.func @sparse_attention_fwd(%q, %k, %v: !tile.ptr<dtype>, %selected: !tile.ptr<i32>,
//       %out: !tile.ptr<dtype>, %lse: !tile.ptr<f32>, %cu_seqlens_q: !tile.ptr<i32>,
//       %cu_seqlens_k: !tile.ptr<i32>, %total_q: i32)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct SparseAttentionTuning {
  int64_t blockM = 16; ///< query rows per program
  int64_t blockN = 16; ///< keys of a block visited per loop iteration
  int64_t numWarps = 4;
};

mlir::FailureOr<mlir::func::FuncOp> buildSparseAttentionFwd(mlir::ModuleOp module,
                                                            moba::ConfigAttr config,
                                                            const SparseAttentionTuning &tuning);

} // namespace mobagen::templates
