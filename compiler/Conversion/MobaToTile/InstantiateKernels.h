//===- InstantiateKernels.h - the MoBA kernels of one configuration ----------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"
#include "templates/GateTopK.h"
#include "templates/PoolKeys.h"
#include "templates/SparseAttentionFwd.h"

#include "mlir/IR/BuiltinOps.h"

namespace mobagen::compiler {

/// The tuning the kernels use until the autotuner picks per shape: small tiles,
/// because the baseline lowering keeps every tile element in registers and stages
/// cross-thread operands in static shared memory (48 KiB at most). The attention
/// kernel's [block_m, block_n, D] f32 tile is 32 KiB at 16 x 8 x 64 and 8 x 8 x 128.
struct MobaTuning {
  templates::PoolKeysTuning pool{.blockRows = 16, .numWarps = 2};
  templates::GateTopKTuning gate{.blockM = 16, .blockN = 16, .numWarps = 2};
  templates::SparseAttentionTuning attention;
};
MobaTuning defaultMobaTuning(moba::ConfigAttr config);

enum MobaKernel : unsigned { kPoolKeys = 1, kGateTopK = 2, kSparseAttention = 4, kAllKernels = 7 };

/// Builds the kernels in `which` (a MobaKernel mask) for `config` into `module`;
/// `suffix` is appended to their names. Returns their symbols in kernel order.
mlir::FailureOr<llvm::SmallVector<mlir::FlatSymbolRefAttr>>
instantiateMobaKernels(mlir::ModuleOp module, moba::ConfigAttr config, unsigned which,
                       llvm::StringRef suffix = "");

} // namespace mobagen::compiler
