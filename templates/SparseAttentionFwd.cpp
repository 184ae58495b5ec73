//===- SparseAttentionFwd.cpp - MoBA sparse attention in the DSL --------------===//
//
// Per row the loop state is FlashAttention's: running max m and sum l of
// exp2(s' - m) (s' = scale * log2(e) * q.k) and the f32 accumulator. Slots whose
// block is -1, keys past the block or the sequence, and (causal) keys after the
// row's position are masked to -inf before the update, so a fully masked chunk
// leaves the state unchanged (its exp2 terms are 0). Until a row has seen a
// visible key its m is -inf, and exp2(-inf - -inf) would be NaN: the rescaling
// factors are computed from m clamped to a finite floor (-1e30) instead.
//
//===----------------------------------------------------------------------===//
#include "templates/SparseAttentionFwd.h"

#include "templates/VarlenProgram.h"

#include <limits>
#include <numbers>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

FailureOr<func::FuncOp>
mobagen::templates::buildSparseAttentionFwd(ModuleOp module, moba::ConfigAttr config,
                                           const SparseAttentionTuning &tuning) {
  // Tiles of [block_m, block_n, D] are live at once: both may go down to 8.
  if (failed(checkTileExtent(module, "block_m", tuning.blockM, 8, 128)) ||
      failed(checkTileExtent(module, "block_n", tuning.blockN, 8, 64)) ||
      failed(tile::verifyNumWarps(tuning.numWarps, [&] { return emitError(module.getLoc()); })))
    return failure();

  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  Type dataPtr = tile::PointerType::get(dtype), i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "sparse_attention_fwd",
                   {{"q", dataPtr}, {"k", dataPtr}, {"v", dataPtr}, {"selected", i32Ptr},
                    {"out", dataPtr}, {"lse", tile::PointerType::get(f32)},
                    {"cu_seqlens_q", i32Ptr}, {"cu_seqlens_k", i32Ptr}, {"total_q", i32}});
  Tile q = kb.arg(0), k = kb.arg(1), v = kb.arg(2), selected = kb.arg(3), out = kb.arg(4);
  Tile lse = kb.arg(5), cuQ = kb.arg(6), cuK = kb.arg(7), totalQ = kb.arg(8);

  const bool causal = config.getCausal();
  const int64_t bs = config.getBlockSize(), topK = config.getTopK();
  const int64_t headDim = config.getHeadDim(), qHeads = config.getNumQHeads();
  const int64_t kvRowStride = config.getNumKvHeads() * headDim;
  const int64_t bm = tuning.blockM, bn = tuning.blockN;
  const double qkScale = config.getSoftmaxScale() * std::numbers::log2e;
  const double inf = std::numeric_limits<double>::infinity();

  const QueryBlockProgram prog = queryBlockProgram(kb, config, cuQ, cuK, bm);
  const Tile &rows = prog.rows, &rowOk = prog.rowOk;
  const Tile &kStart = prog.kStart, &kLen = prog.kLen, &position = prog.position;
  Tile qTile = kb.load(q + prog.qOffsets, rowOk.expandDims(1), 0.0).to(f32) * qkScale; // [bm, D]
  Tile selectedRow = (prog.qStart + rows) * (qHeads * topK) + prog.head * topK;
  Tile keyIds = kb.arange(0, bn);
  Tile d3 = prog.dims.expandDims(0).expandDims(0); // [1, 1, D]

  auto slotLoop = [&](Tile slot, ArrayRef<Tile> carried) -> SmallVector<Tile> {
    Tile block = kb.load(selected + (selectedRow + slot), rowOk, -1); // [bm]
    return kb.forLoop(
        kb.constant(0, i32), kb.constant(bs, i32), kb.constant(bn, i32), carried,
        [&](Tile c0, ArrayRef<Tile> state) -> SmallVector<Tile> {
          Tile acc = state[0], m = state[1], l = state[2];
          // Key positions [bm, bn] of each row's block chunk, and which are visible.
          Tile keys = (block * bs + c0).expandDims(1) + keyIds.expandDims(0);
          Tile visible = (kb.constant(0, i32) <= block).expandDims(1) &
                         (c0 + keyIds < kb.constant(bs, i32)).expandDims(0) & (keys < kLen);
          if (causal)
            visible = visible & (keys <= position.expandDims(1));
          visible = visible & rowOk.expandDims(1);
          Tile kvOffsets =
              ((kStart + keys) * kvRowStride + prog.kvHead * headDim).expandDims(2) + d3;
          Tile visible3 = visible.expandDims(2);
          Tile kTile = kb.load(k + kvOffsets, visible3, 0.0).to(f32); // [bm, bn, D]
          Tile s = kb.sum(qTile.expandDims(1) * kTile, 2);             // [bm, bn]
          s = kb.where(visible, s, -inf);
          Tile mNew = kb.maximum(m, kb.max(s, 1));
          // A row that has seen no visible key yet keeps m = -inf; rescale from a
          // finite floor so that exp2(-inf - -inf) never appears.
          Tile mSafe = kb.maximum(mNew, kb.full({bm}, -1e30, f32));
          Tile p = kb.exp2(s - mSafe.expandDims(1));
          Tile alpha = kb.exp2(kb.maximum(m, kb.full({bm}, -1e30, f32)) - mSafe);
          Tile vTile = kb.load(v + kvOffsets, visible3, 0.0).to(f32);
          Tile accNew = acc * alpha.expandDims(1) + kb.sum(p.expandDims(2) * vTile, 1);
          return {accNew, mNew, l * alpha + kb.sum(p, 1)};
        });
  };
  SmallVector<Tile> state =
      kb.forLoop(kb.constant(0, i32), kb.constant(topK, i32), kb.constant(1, i32),
                 {kb.full({bm, headDim}, 0.0, f32), kb.full({bm}, -inf, f32),
                  kb.full({bm}, 0.0, f32)},
                 slotLoop);
  Tile acc = state[0], m = state[1], l = state[2];

  Tile safeL = kb.where(rowOk, l, 1.0);
  kb.store(out + prog.qOffsets, (acc / safeL.expandDims(1)).to(dtype), rowOk.expandDims(1));
  Tile lseTile = (m + kb.log2(safeL)) * std::numbers::ln2;
  kb.store(lse + (prog.head * totalQ + prog.qStart + rows), lseTile, rowOk);
  return finishKernel(kb, config, tuning.numWarps);
}
