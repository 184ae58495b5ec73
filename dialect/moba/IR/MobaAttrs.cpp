//===- MobaAttrs.cpp - the rules a MoBA configuration must satisfy ----------===//
//
// ConfigAttr::verify is where an unsupported configuration is refused. Each
// diagnostic names the field, its value and the rule, e.g.
//   block_size = 100 is invalid: must be a multiple of 16 in [16, 4096]
// The limits are those of the kernels mobagen generates: 16 is the smallest
// MMA tile, 4096 keys per block and 64 selected blocks bound the shared memory
// and registers the gate and attention kernels are sized for.
//
//===----------------------------------------------------------------------===//

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallString.h"

#include <cmath>

using namespace mlir;
using namespace mobagen::moba;

namespace {
constexpr int64_t kBlockGranule = 16;
constexpr int64_t kMaxBlockSize = 4096;
constexpr int64_t kMaxTopK = 64;
constexpr llvm::StringLiteral kTargets[] = {"sm_80", "sm_90", "sm_90a"};
} // namespace

LogicalResult ConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t blockSize, int64_t topK, int64_t headDim,
                                 int64_t numQHeads, int64_t numKvHeads,
                                 bool causal, Type dtype, StringRef target,
                                 FloatAttr scale) {
  if (blockSize < kBlockGranule || blockSize > kMaxBlockSize ||
      blockSize % kBlockGranule != 0)
    return emitError() << "block_size = " << blockSize
                       << " is invalid: must be a multiple of " << kBlockGranule
                       << " in [" << kBlockGranule << ", " << kMaxBlockSize << "]";
  if (topK < 1)
    return emitError() << "top_k = " << topK << " is invalid: must be >= 1";
  if (topK > kMaxTopK)
    return emitError() << "top_k = " << topK
                       << " is not supported: must be <= " << kMaxTopK;
  if (headDim != 64 && headDim != 128)
    return emitError() << "head_dim = " << headDim
                       << " is not supported: must be 64 or 128";
  if (numQHeads < 1)
    return emitError() << "num_q_heads = " << numQHeads
                       << " is invalid: must be >= 1";
  if (numKvHeads < 1)
    return emitError() << "num_kv_heads = " << numKvHeads
                       << " is invalid: must be >= 1";
  if (numQHeads % numKvHeads != 0)
    return emitError() << "num_q_heads = " << numQHeads
                       << " is invalid: must be a multiple of num_kv_heads = "
                       << numKvHeads << " (grouped-query attention)";
  if (!dtype.isBF16() && !dtype.isF16()) {
    // Printed bare, as the config spells it (a streamed Type gets quotes).
    std::string spelled;
    llvm::raw_string_ostream(spelled) << dtype;
    return emitError() << "dtype = " << spelled
                       << " is not supported: must be bf16 or f16";
  }
  if (!llvm::is_contained(kTargets, target))
    return emitError() << "target = " << target
                       << " is not supported: must be one of sm_80, sm_90, sm_90a";
  if (scale && (!std::isfinite(scale.getValueAsDouble()) ||
                scale.getValueAsDouble() <= 0.0)) {
    llvm::SmallString<16> spelled;
    scale.getValue().toString(spelled);
    return emitError() << "scale = " << spelled
                       << " is invalid: must be finite and > 0";
  }
  return success();
}

double ConfigAttr::getSoftmaxScale() const {
  if (FloatAttr scale = getScale())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(static_cast<double>(getHeadDim()));
}
