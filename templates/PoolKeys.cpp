//===- PoolKeys.cpp - MoBA key pooling in the DSL ------------------------------===//
#include "templates/PoolKeys.h"

#include "templates/VarlenProgram.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

FailureOr<func::FuncOp> mobagen::templates::buildPoolKeys(ModuleOp module,
                                                          moba::ConfigAttr config,
                                                          const PoolKeysTuning &tuning) {
  if (failed(checkTileExtent(module, "block_rows", tuning.blockRows, 16, 256)) ||
      failed(tile::verifyNumWarps(tuning.numWarps, [&] { return emitError(module.getLoc()); })))
    return failure();

  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  KernelBuilder kb(module, "pool_keys",
                   {{"k", tile::PointerType::get(dtype)},
                    {"kbar", tile::PointerType::get(f32)},
                    {"block_counts", tile::PointerType::get(i32)},
                    {"cu_seqlens_k", tile::PointerType::get(i32)}});
  Tile k = kb.arg(0), kbar = kb.arg(1), blockCounts = kb.arg(2), cuK = kb.arg(3);

  const int64_t bs = config.getBlockSize(), rowsPerStep = tuning.blockRows;
  const int64_t headDim = config.getHeadDim(), kvHeads = config.getNumKvHeads();
  const int64_t rowStride = kvHeads * headDim;

  Tile block = kb.programId(ProgramAxis::x);
  Tile kvHead = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile kStart = kb.load(cuK + seq), kLen = kb.load(cuK + (seq + 1)) - kStart;

  // Where this sequence's blocks start in kbar.
  Tile firstBlock = blocksBefore(kb, cuK, seq, bs);

  // Rows of this block present in the sequence: bs, fewer for the last block,
  // none (and nothing stored) for a program past the sequence's end.
  Tile first = block * bs;
  Tile present = kb.maximum(kb.minimum(kLen - first, kb.constant(bs, i32)), kb.constant(0, i32));
  Tile dims = kb.arange(0, headDim);
  Tile steps = kb.arange(0, rowsPerStep);
  Tile sum = kb.forLoop(
      kb.constant(0, i32), present, kb.constant(rowsPerStep, i32),
      {kb.full({headDim}, 0.0, f32)},
      [&](Tile r0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile inBlock = r0 + steps; // row within the block
        Tile ok = inBlock < present;
        Tile rowBase = (kStart + first + inBlock) * rowStride + kvHead * headDim;
        Tile rows = kb.load(k + (rowBase.expandDims(1) + dims.expandDims(0)), ok.expandDims(1),
                            0.0);
        return {carried[0] + kb.sum(rows.to(f32), 0)};
      })[0];

  Tile mean = sum / kb.maximum(present, kb.constant(1, i32)).to(f32);
  Tile out = ((firstBlock + block) * kvHeads + kvHead) * headDim + dims;
  kb.store(kbar + out, mean, (kb.constant(0, i32) < present).broadcastTo({headDim}));

  // The block's routing counts, one per query head of the group, start at zero.
  const int64_t group = config.getGroupSize();
  Tile groupHeads = kb.arange(0, static_cast<int32_t>(llvm::PowerOf2Ceil(group)));
  Tile countAt = (firstBlock + block) * config.getNumQHeads() + kvHead * group + groupHeads;
  kb.store(blockCounts + countAt, kb.full({groupHeads.shape()[0]}, 0, i32),
           (groupHeads < kb.constant(group, i32)) &
               (kb.constant(0, i32) < present).broadcastTo(groupHeads.shape()));
  return finishKernel(kb, config, tuning.numWarps);
}
