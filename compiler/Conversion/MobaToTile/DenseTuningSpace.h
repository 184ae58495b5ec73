//===- DenseTuningSpace.h - the tuning space of the dense flash-attention kernel
//
// What `mobagen bench --dense-tune` sweeps for the dense baseline
// (templates/FlashAttentionFwd): every combination of the knob values below. The
// project's speed-ups are against the best tuned tensor-core dense kernel
// (DESIGN.md section 4), so the space must hold what a FlashAttention-2 or Triton
// user would pick on sm_80+; a combination the template or the dot=mma lowering
// refuses leaves the space with the reason (compiler/Pipeline/DenseAttentionKernels.h),
// it is never lowered another way. Where each bound comes from:
//
// - block_m {64, 128}: FlashAttention-2's forward tiles at D 64 to 128 (64 and 128
//   query rows per CTA), and Triton's tutorial kernel's BLOCK_M; below 64 a CTA of 4
//   warps owns fewer than one 16-row mma.sync tile per warp, above 128 the f32
//   output accumulator [block_m, D] passes the registers of one CTA at D 128.
// - block_n {32, 64, 128}: FlashAttention-2 and Triton use 32 to 128 keys per
//   iteration; 16 is the smallest mma.sync k-step but leaves each loop iteration
//   dominated by the online-softmax bookkeeping, and the [block_m, block_n] f32
//   scores of 256 keys pass the registers at block_m 128.
// - num_warps {4, 8}: the two CTA sizes FlashAttention-2 launches; 8 is the space's
//   register bound (kMaxTuningWarps in TuningSpace.h: 256 threads at 255 registers).
// - num_stages {1, 2, 3}: no pipelining, and the cp.async depths Triton's sm_80
//   attention configs use; a fourth stage of [128, 128] bf16 K and V tiles passes
//   the 99 KiB an sm_80 CTA may opt into.
//
// Header-only and MLIR-free: the CLI parses its --dense-space limits against it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mobagen::compiler {

/// One point of the space: the knobs of templates::FlashAttentionTuning.
struct DenseTuning {
  int64_t blockM = 64;
  int64_t blockN = 64;
  int64_t numWarps = 4;
  int64_t numStages = 1;

  /// `m<block_m>n<block_n>w<num_warps>s<num_stages>`, as the attention kernels' ids.
  std::string id() const {
    return "m" + std::to_string(blockM) + "n" + std::to_string(blockN) + "w" + std::to_string(numWarps) + "s" +
           std::to_string(numStages);
  }
};

/// The values each knob takes; the space is their product.
struct DenseTuningSpace {
  std::vector<int64_t> blockM{64, 128};
  std::vector<int64_t> blockN{32, 64, 128};
  std::vector<int64_t> numWarps{4, 8};
  std::vector<int64_t> numStages{1, 2, 3};

  /// Every combination, block_m outermost, num_stages innermost.
  std::vector<DenseTuning> variants() const {
    std::vector<DenseTuning> out;
    for (int64_t m : blockM)
      for (int64_t n : blockN)
        for (int64_t w : numWarps)
          for (int64_t s : numStages)
            out.push_back({m, n, w, s});
    return out;
  }
};

} // namespace mobagen::compiler
