//===- FlashAttentionFwd.h - dense flash-attention forward template ---------===//
//
// The worked example of the kernel DSL: FlashAttention-2's forward pass over
// the packed varlen layout, causal or not (the config's `causal`), written in
// the tile dialect. It is the dense attention MoBA reduces to when
// `top_k >= number of blocks` (DESIGN.md section 1), and the skeleton the
// sparse MoBA attention kernel extends with a block-index gather.
//
// Kernel signature (one program per (query block, query head, sequence);
// grid = [ceil(max Lq / block_m), num_q_heads, B]):
//
//   func.func @flash_attention_fwd(%q: !tile.ptr<dtype>, %k, %v, %out,
//       %lse: !tile.ptr<f32>, %cu_seqlens_q: !tile.ptr<i32>,
//       %cu_seqlens_k: !tile.ptr<i32>, %total_q: i32)
//
// Offsets are i32, so each tensor must hold fewer than 2^31 elements.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

/// Tuning knobs: what the autotuner varies for one config.
struct FlashAttentionTuning {
  int64_t blockM = 64; ///< query rows per program
  int64_t blockN = 64; ///< keys per loop iteration
  int64_t numWarps = 4;
  int64_t numStages = 2; ///< software-pipelining depth of the key loop
};

/// Appends the kernel to `module`. Fails (with a diagnostic at the module's
/// location naming the knob, its value and the rule) on invalid tuning.
mlir::FailureOr<mlir::func::FuncOp>
buildFlashAttentionFwd(mlir::ModuleOp module, moba::ConfigAttr config,
                       const FlashAttentionTuning &tuning);

} // namespace mobagen::templates
