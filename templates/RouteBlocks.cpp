//===- RouteBlocks.cpp - route_scatter in the DSL ------------------------------===//
//
// Program (x, head, b) (RouteBlocks.h):
//
//   offsets: for each step of `blocks` blocks j of the sequence, their counts c,
//            offset_j = region + carry + (sum of c[j'] over the step's j' < j) as a
//            [blocks, blocks] masked column sum, carry += sum(c); stored.
//   barrier: the stores are visible to every thread of the program.
//   entries: the [block_rows, top_k] selection of the program's rows; each routed
//            entry loads its rank and its block's offset and stores
//            row * top_k + slot at routed[offset + rank].
//
// The offsets cost n_b / blocks steps per program; the entries, block_rows x
// top_k loads and one store each.
//
//===----------------------------------------------------------------------===//
#include "templates/RouteBlocks.h"

#include "templates/VarlenProgram.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

namespace {

/// The knobs: powers of two, block_rows in [16, 64] (so the entries are spread
/// over at least rows / 64 programs per head) and blocks in [16, 64]; the
/// [blocks, blocks] and [block_rows, top_k slots] tiles at most 64 elements per
/// thread (no spills).
LogicalResult checkTuning(ModuleOp module, moba::ConfigAttr config, const RouteTuning &tuning) {
  if (failed(checkTileExtent(module, "block_rows", tuning.blockRows, 16, 64)) ||
      failed(checkTileExtent(module, "blocks", tuning.blocks, 16, 64)) ||
      failed(tile::verifyNumWarps(tuning.numWarps, [&] { return emitError(module.getLoc()); })))
    return failure();
  const int64_t slots = std::max<int64_t>(1, llvm::PowerOf2Ceil(config.getTopK()));
  const int64_t largest = std::max(tuning.blocks * tuning.blocks, tuning.blockRows * slots);
  const int64_t most = 64 * 32 * tuning.numWarps;
  if (largest <= most)
    return success();
  return emitError(module.getLoc())
         << "block_rows = " << tuning.blockRows << ", blocks = " << tuning.blocks
         << ", num_warps = " << tuning.numWarps << " with top_k = " << config.getTopK()
         << " is invalid: max(blocks^2, block_rows * top_k slots) = " << largest
         << " must be at most 2048 * num_warps = " << most;
}

} // namespace

FailureOr<func::FuncOp> mobagen::templates::buildRouteScatter(ModuleOp module,
                                                              moba::ConfigAttr config,
                                                              const RouteTuning &tuning) {
  if (failed(checkTuning(module, config, tuning)))
    return failure();
  MLIRContext *ctx = module.getContext();
  Type i32 = IntegerType::get(ctx, 32), i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "route_scatter",
                   {{"selected", i32Ptr},
                    {"ranks", i32Ptr},
                    {"block_counts", i32Ptr},
                    {"block_offsets", i32Ptr},
                    {"routed", i32Ptr},
                    {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}});
  Tile selected = kb.arg(0), ranks = kb.arg(1), blockCounts = kb.arg(2);
  Tile blockOffsets = kb.arg(3), routedList = kb.arg(4), cuQ = kb.arg(5), cuK = kb.arg(6);
  const int64_t br = tuning.blockRows, blocks = tuning.blocks;
  const int64_t bs = config.getBlockSize(), topK = config.getTopK();
  const int64_t qHeads = config.getNumQHeads();
  const int64_t slots = std::max<int64_t>(1, llvm::PowerOf2Ceil(topK));

  Tile x = kb.programId(ProgramAxis::x);
  Tile head = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile qStart = kb.load(cuQ + seq), qLen = kb.load(cuQ + (seq + 1)) - qStart;
  Tile kLen = kb.load(cuK + (seq + 1)) - kb.load(cuK + seq);
  Tile numBlocks = blockCount(kLen, bs);
  Tile firstBlock = blocksBefore(kb, cuK, seq, bs);
  // Element offsets in block_counts / block_offsets of the sequence's blocks j.
  auto perBlockHead = [&](const Tile &j) { return (firstBlock + j) * qHeads + head; };

  // The offsets of all the sequence's blocks for this head.
  Tile region = (qStart * qHeads + head * qLen) * topK;
  Tile stepIds = kb.arange(0, blocks);
  Tile earlier = stepIds.expandDims(1) < stepIds.expandDims(0); // [j', j]: j' < j
  kb.forLoop(kb.constant(0, i32), numBlocks, kb.constant(blocks, i32), {region},
             [&](Tile j0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
               Tile ids = j0 + stepIds;
               Tile ok = ids < numBlocks;
               Tile counts = kb.load(blockCounts + perBlockHead(ids), ok, 0);
               // Summed down the columns (axis 0): a warp's staging reads fall in
               // distinct banks (docs/lowering.md).
               Tile before = kb.sum(
                   kb.where(earlier, counts.expandDims(1).broadcastTo({blocks, blocks}), 0), 0);
               kb.store(blockOffsets + perBlockHead(ids), carried[0] + before, ok);
               return {carried[0] + kb.sum(counts, 0)};
             });
  kb.barrier();

  // The program's entries: each routed one at its block's offset plus its rank.
  Tile rows = x * br + kb.arange(0, br);
  Tile slotIds = kb.arange(0, slots);
  Tile entryOk = (rows < qLen).expandDims(1) & (slotIds < kb.constant(topK, i32)).expandDims(0);
  Tile entryAt = ((qStart + rows) * (qHeads * topK) + head * topK).expandDims(1) +
                 slotIds.expandDims(0);
  Tile block = kb.load(selected + entryAt, entryOk, -1);
  Tile routed = entryOk & (kb.constant(0, i32) <= block);
  if (config.getCausal()) {
    Tile current = (kLen - qLen + rows) / bs;
    routed = routed & (block < current.expandDims(1));
  }
  Tile rank = kb.load(ranks + entryAt, routed, 0);
  Tile offset = kb.load(blockOffsets + perBlockHead(block), routed, 0);
  Tile entry = ((qStart + rows) * topK).expandDims(1) + slotIds.expandDims(0);
  kb.store(routedList + (offset + rank), entry, routed);
  return finishKernel(kb, config, tuning.numWarps);
}
