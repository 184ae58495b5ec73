//===- MobaKernels.h - a MoBA configuration to the PTX of its kernels' variants ===//
//
// The compiler's entry point for a host: builds the five kernels of a MoBA forward
// (pool_keys, gate_topk, route_scatter, sparse_attention_blocks,
// sparse_attention_merge) from their templates for one configuration, in every tuning
// variant of the tuning space (compiler/Conversion/MobaToTile/TuningSpace.h) or in
// the default one, lowers each variant (baseline lowering, docs/lowering.md) and
// emits one PTX module per variant whose single entry is `<kernel>_<variant id>`,
// with what a launcher needs to size its grid. The configuration is checked by the
// #moba.config verifier; its diagnostic is the error message.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/Target/PtxEmitter.h"
#include "runtime/support/FloatFormats.h"
#include "runtime/support/Status.h"

namespace mobagen::compiler {

struct MobaKernelConfig {
  int64_t blockSize = 512;
  int64_t topK = 3;
  int64_t headDim = 128;
  int64_t numQHeads = 1;
  int64_t numKvHeads = 1;
  bool causal = true;
  DType dtype = DType::BF16;
  std::string target = "sm_80";
  std::optional<double> scale;
};

/// One tuning variant of a kernel.
struct KernelVariant {
  std::string id;              ///< made of the knobs, e.g. m8n8w4; [a-z0-9] only
  std::string entry;           ///< the PTX entry: <kernel>_<id>
  uint32_t threads = 0;        ///< threads per program (32 x num_warps)
  uint32_t rowsPerProgram = 0; ///< query rows per program (gate_topk, route_scatter, sparse_attention_merge)
  int64_t sharedBytes = 0;     ///< staging the tuning space plans for (its 48 KB check)
  /// Dynamic shared memory the kernel launches with: its buffers when they pass
  /// the 48 KB static limit (pipelined loops), else 0.
  uint32_t dynamicSharedBytes = 0;
  std::vector<std::pair<std::string, int64_t>> knobs;
  std::string ptx; ///< a module whose only entry is `entry` (empty from mobaTuningSpace)
};

/// One kernel: its signature and variants. Grids: pool_keys [max blocks per
/// sequence, Hkv, B]; gate_topk, route_scatter and sparse_attention_merge
/// [ceil(max Lq / rowsPerProgram), Hq, B]; sparse_attention_blocks [max blocks per sequence, Hq, B].
struct KernelInfo {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params; ///< name, tile-dialect type
  std::vector<KernelVariant> variants;                     ///< the default first

  const KernelVariant &defaultVariant() const { return variants.front(); }
};

struct MobaKernels {
  std::vector<KernelInfo> kernels; ///< in launch order

  /// The kernel named `name`; it must be one of the five.
  const KernelInfo &kernel(std::string_view name) const;
};

/// Where generation spends its time, in milliseconds, summed over the variants
/// (so over threads: CPU time, not wall time).
struct GenerationTimes {
  double contextMs = 0; ///< MLIRContext, dialect loading and registration, config parsing
  double buildMs = 0;   ///< the templates build the tile kernels (and verification)
  double passesMs = 0;  ///< tile -> LLVM + NVVM dialect pass pipeline
  PtxStageTimes ptx;    ///< LLVM IR translation, TargetMachine, -O pipeline, NVPTX codegen
};

struct GenerateOptions {
  /// Every variant of the tuning space, or only each kernel's default.
  bool allVariants = false;
  /// kernel name -> variant ids: only those variants of that kernel, in that order
  /// (the first becomes its default); kernels not named follow `allVariants`.
  std::map<std::string, std::vector<std::string>> select;
  /// Worker threads generating variants; 0: one per hardware thread.
  unsigned threads = 0;
  /// LLVM -O level before NVPTX code generation (PtxTarget::optLevel).
  unsigned optLevel = 3;
  /// Verify the IR after each lowering pass (the templates' output is always verified).
  bool verifyLowering = false;
  /// Added to when set.
  GenerationTimes *times = nullptr;
};

/// The LLVM release whose NVPTX backend emits the PTX, e.g. "22.1.0".
std::string llvmVersion();

/// The tuning space of `config`: every kernel with its variants (no PTX, no params).
Expected<MobaKernels> mobaTuningSpace(const MobaKernelConfig &config);

/// The kernels of `config` in the variants `options` asks for, with their PTX.
Expected<MobaKernels> generateMobaKernels(const MobaKernelConfig &config,
                                          const GenerateOptions &options = {});

} // namespace mobagen::compiler
