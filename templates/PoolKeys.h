//===- PoolKeys.h - MoBA key pooling (kernel 1 of 5) ---------------------------===//
//
// kbar[block, kv head, :] = mean of the key rows in the block (DESIGN.md 1.2),
// accumulated in f32, over the rows actually present (the last block of a
// sequence may be partial). The program also zeroes the routing counts of its
// block for the query heads of its kv head, block_counts[g * Hq + h] for
// h in [kv_head * G, (kv_head + 1) * G) (G = Hq / Hkv), which gate_topk then
// increments: the forward needs no separate clearing pass (RouteBlocks.h).
//
// Kernel signature (one program per (block of a sequence, kv head, sequence);
// grid = [max over sequences of ceil(Lk / block_size), num_kv_heads, B]):
//
//   func.func @pool_keys(%k: !tile.ptr<dtype>, %kbar: !tile.ptr<f32>,
//       %block_counts: !tile.ptr<i32>, %cu_seqlens_k: !tile.ptr<i32>)
//
// kbar is [total blocks, Hkv, D]: sequence b's blocks start at the sum of
// ceil(Lk / block_size) over the sequences before it (the reference's PooledKeys
// layout). Programs past the end of a shorter sequence store nothing.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct PoolKeysTuning {
  int64_t blockRows = 32; ///< key rows summed per loop iteration
  int64_t numWarps = 4;
};

/// Appends the kernel to `module`; fails with a diagnostic naming a bad knob.
mlir::FailureOr<mlir::func::FuncOp> buildPoolKeys(mlir::ModuleOp module, moba::ConfigAttr config,
                                                  const PoolKeysTuning &tuning);

} // namespace mobagen::templates
