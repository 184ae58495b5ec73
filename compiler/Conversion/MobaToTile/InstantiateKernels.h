//===- InstantiateKernels.h - the MoBA kernels of one configuration ----------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"
#include "templates/GateTopK.h"
#include "templates/PoolKeys.h"
#include "templates/RouteBlocks.h"
#include "templates/SparseAttentionBlocks.h"
#include "templates/SparseAttentionMerge.h"

#include "mlir/IR/BuiltinOps.h"

namespace mobagen::compiler {

/// The tuning the kernels use until the autotuner picks per shape. The baseline
/// lowering keeps every tile element in registers and stages cross-thread operands
/// in static shared memory (48 KiB at most), so the tiles stay small; the gate,
/// the two attention kernels take their dots on tensor cores
/// (docs/design/mma-layout.md).
struct MobaTuning {
  templates::PoolKeysTuning pool{.blockRows = 16, .numWarps = 2};
  templates::GateTopKTuning gate{.blockM = 16, .blockN = 32, .numWarps = 2};
  templates::RouteTuning route{.blockRows = 64, .blocks = 64, .numWarps = 4};
  templates::SparseBlocksTuning blocks;
  templates::SparseMergeTuning merge;
};
MobaTuning defaultMobaTuning(moba::ConfigAttr config);

/// sparse_attention_blocks streaming the block's keys: the template's default with
/// a key tile that divides the block (templates::keyTileFor). The default tuning
/// where residentBlocksTuning (TuningSpace.h) has none.
templates::SparseBlocksTuning streamedBlocksTuning(moba::ConfigAttr config);

/// The kernels, as bits of a mask, in launch order.
enum MobaKernel : unsigned {
  kPoolKeys = 1,
  kGateTopK = 2,
  kRouteScatter = 4,
  kSparseBlocks = 8,
  kSparseMerge = 16,
  /// What moba.sparse_attention_fwd needs: the lists (from the counts and ranks
  /// gate_topk leaves), routed blocks, current block + merge.
  kSparseAttention = kRouteScatter | kSparseBlocks | kSparseMerge,
  kAllKernels = 31,
};

/// Builds the kernels in `which` (a MobaKernel mask) for `config` into `module`;
/// `suffix` is appended to their names. Returns their symbols in kernel order.
mlir::FailureOr<llvm::SmallVector<mlir::FlatSymbolRefAttr>>
instantiateMobaKernels(mlir::ModuleOp module, moba::ConfigAttr config, unsigned which,
                       llvm::StringRef suffix = "");

} // namespace mobagen::compiler
