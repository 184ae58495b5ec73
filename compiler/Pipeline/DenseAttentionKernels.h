//===- DenseAttentionKernels.h - the dense baseline's variants as PTX --------===//
//
// The compiler's dense flash-attention kernel (templates/FlashAttentionFwd) for one
// MoBA configuration, in each variant of a DenseTuningSpace, built, lowered with
// dot=mma (the lowering of the bundles' kernels, docs/lowering.md) and emitted as
// PTX, one module per variant whose only entry is `flash_attention_fwd`. It is the
// baseline `mobagen bench --dense-tune` tunes (DESIGN.md section 4). A variant the
// template refuses, whose lowering fails, or whose PTX has no mma.sync leaves the
// space with the reason: a baseline is never lowered another way.
//
// Kernel signature and grid: templates/FlashAttentionFwd.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

#include "compiler/Conversion/MobaToTile/DenseTuningSpace.h"
#include "compiler/Pipeline/MobaKernels.h"

namespace mobagen::compiler {

struct DenseAttentionVariant {
  DenseTuning tuning;
  std::string ptx;      ///< empty when rejected
  std::string rejected; ///< why the variant left the space; empty when it has PTX
  /// Dynamic shared memory it launches with (its buffers past 48 KB), else 0.
  uint32_t dynamicSharedBytes = 0;
};

struct DenseGenerateOptions {
  unsigned threads = 0;   ///< worker threads; 0: one per hardware thread
  unsigned optLevel = 3;  ///< LLVM -O level before NVPTX code generation
};

/// Every variant of `space` for `config`, in space order, each with PTX or the reason
/// it was rejected. Fails only when the configuration itself is refused or the NVPTX
/// target cannot be created.
Expected<std::vector<DenseAttentionVariant>> generateDenseAttentionVariants(const MobaKernelConfig &config,
                                                                           const DenseTuningSpace &space,
                                                                           const DenseGenerateOptions &options = {});

} // namespace mobagen::compiler
