//===- MobaKernels.h - a MoBA configuration to the PTX of its three kernels ---===//
//
// The compiler's entry point for a host: builds pool_keys, gate_topk and
// sparse_attention_fwd from their templates for one configuration, lowers them
// (baseline lowering, docs/lowering.md) and emits one PTX module holding all three,
// with what a launcher needs to size their grids. The configuration is checked by
// the #moba.config verifier; its diagnostic is the error message.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
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

/// One kernel of the module: its entry name, launch shape and signature.
struct KernelInfo {
  std::string name;
  uint32_t threads = 0;       ///< threads per program (32 x num_warps)
  uint32_t rowsPerProgram = 0; ///< query rows per program (0 for pool_keys)
  std::vector<std::pair<std::string, int64_t>> knobs;
  std::vector<std::pair<std::string, std::string>> params; ///< name, tile-dialect type
};

/// One PTX module with the entries pool_keys, gate_topk and sparse_attention_fwd.
/// Grids: pool_keys [max blocks per sequence, Hkv, B]; gate_topk and
/// sparse_attention_fwd [ceil(max Lq / rowsPerProgram), Hq, B].
struct MobaKernels {
  std::string ptx;
  std::vector<KernelInfo> kernels; ///< in launch order

  /// The kernel named `name`; it must be one of the three.
  const KernelInfo &kernel(std::string_view name) const;
};

/// Where generation spends its time, in milliseconds, summed over the modules made.
struct GenerationTimes {
  double contextMs = 0; ///< MLIRContext, dialect loading and registration, config parsing
  double buildMs = 0;   ///< the templates build the tile kernels (and verification)
  double passesMs = 0;  ///< tile -> LLVM + NVVM dialect pass pipeline
  PtxStageTimes ptx;    ///< LLVM IR translation, TargetMachine, -O pipeline, NVPTX codegen
};

Expected<MobaKernels> generateMobaKernels(const MobaKernelConfig &config,
                                          GenerationTimes *times = nullptr);

} // namespace mobagen::compiler
