//===- FlashAttentionFwd.cpp - dense flash-attention forward in the DSL -----===//
//
// Online softmax in the exp2 domain: logits are scaled by scale * log2(e) once,
// so exp(scale * s - m) becomes exp2(s' - m') (one MUFU.EX2 per element, as in
// FlashAttention and Triton's tutorial kernel). Per query row the loop carries
// the running maximum m, the running sum l of exp2(s' - m), and the f32 output
// accumulator; each key block rescales l and acc by exp2(m_old - m_new).
// At the end out = acc / l and lse = ln(2) * (m + log2(l)) (natural log, as the
// reference and FlashAttention return it).
//
// Causality is bottom-right aligned (DESIGN.md 1.3): query row i of a sequence
// sits at key position Lk - Lq + i and sees keys <= that position, so the key
// loop of a query block stops at Lk - Lq + (m_block + 1) * block_m.
//
//===----------------------------------------------------------------------===//

#include "templates/FlashAttentionFwd.h"

#include "templates/VarlenProgram.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

namespace {

/// Tile extents must be powers of two (tile.make_range) and at least 16 (the
/// smallest tile.dot); 256 bounds the registers one program's tiles take.
/// Warps and stages follow the tile dialect's rules for its tuning attributes.
LogicalResult checkTuning(ModuleOp module, const FlashAttentionTuning &t) {
  if (failed(checkTileExtent(module, "block_m", t.blockM, 16, 256)) ||
      failed(checkTileExtent(module, "block_n", t.blockN, 16, 256)))
    return failure();
  auto emitModuleError = [&] { return emitError(module.getLoc()); };
  if (failed(tile::verifyNumWarps(t.numWarps, emitModuleError)) ||
      failed(tile::verifyNumStages(t.numStages, emitModuleError)))
    return failure();
  return success();
}

} // namespace

FailureOr<func::FuncOp>
mobagen::templates::buildFlashAttentionFwd(ModuleOp module, moba::ConfigAttr config,
                                           const FlashAttentionTuning &tuning) {
  if (failed(checkTuning(module, tuning)))
    return failure();
  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  Type dataPtr = tile::PointerType::get(dtype), f32Ptr = tile::PointerType::get(f32);
  Type i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "flash_attention_fwd",
                   {{"q", dataPtr}, {"k", dataPtr}, {"v", dataPtr},
                    {"out", dataPtr}, {"lse", f32Ptr}, {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}, {"total_q", i32}});
  Tile q = kb.arg(0), k = kb.arg(1), v = kb.arg(2), out = kb.arg(3);
  Tile lse = kb.arg(4), cuQ = kb.arg(5), cuK = kb.arg(6), totalQ = kb.arg(7);

  const int64_t headDim = config.getHeadDim(), bm = tuning.blockM,
                bn = tuning.blockN;
  const int64_t kvRowStride = config.getNumKvHeads() * headDim;
  const double qkScale = config.getSoftmaxScale() * std::numbers::log2e;
  const double negInf = -std::numeric_limits<double>::infinity();

  // This program: query rows [mBlock * bm, +bm) of sequence `seq`, head `head`.
  // The grid is sized for the longest sequence; a program past the end of a
  // shorter one computes on masked rows and stores nothing.
  const QueryBlockProgram prog = queryBlockProgram(kb, config, cuQ, cuK, bm);
  const Tile &rows = prog.rows, &rowOk = prog.rowOk, &dims = prog.dims;
  const Tile &qOffsets = prog.qOffsets, &kStart = prog.kStart, &kLen = prog.kLen;
  Tile qTile = kb.load(q + qOffsets, rowOk.expandDims(1), 0.0);

  // Query row i sits at key position Lk - Lq + i (bottom-right aligned); under
  // causality this block's keys end after its last row's position.
  Tile keyEnd = kLen;
  if (config.getCausal())
    keyEnd = kb.minimum(kLen, (kLen - prog.qLen) + (prog.mBlock + 1) * bm);
  Tile kvHeadOffset = prog.kvHead * headDim;

  scf::ForOp keyLoop;
  SmallVector<Tile> state = kb.forLoop(
      kb.constant(0, i32), keyEnd, kb.constant(bn, i32),
      {kb.full({bm, headDim}, 0.0, f32), kb.full({bm}, negInf, f32),
       kb.full({bm}, 0.0, f32)},
      [&](Tile start, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile acc = carried[0], mPrev = carried[1], lPrev = carried[2];
        Tile cols = start + kb.arange(0, bn); // key positions in the sequence
        Tile colOk = cols < kLen;
        Tile kvRowBase = (kStart + cols) * kvRowStride + kvHeadOffset;

        // s' = (q . k) * scale * log2(e), [bm, bn]; K is loaded transposed [D, bn].
        Tile kT = kb.load(k + (kvRowBase.expandDims(0) + dims.expandDims(1)),
                          colOk.expandDims(0), 0.0);
        Tile s = kb.dot(qTile, kT, kb.full({bm, bn}, 0.0, f32)) * qkScale;
        Tile visible = colOk.expandDims(0);
        if (config.getCausal())
          visible = visible & (cols.expandDims(0) <= prog.position.expandDims(1));
        s = kb.where(visible, s, negInf);

        // Online softmax update.
        Tile mNew = kb.maximum(mPrev, kb.max(s, 1));
        Tile p = kb.exp2(s - mNew.expandDims(1));
        Tile alpha = kb.exp2(mPrev - mNew);
        Tile lNew = lPrev * alpha + kb.sum(p, 1);

        Tile vTile = kb.load(v + (kvRowBase.expandDims(1) + dims.expandDims(0)),
                             colOk.expandDims(1), 0.0);
        Tile accNew = kb.dot(p.to(dtype), vTile, acc * alpha.expandDims(1));
        return {accNew, mNew, lNew};
      },
      &keyLoop);
  setNumStages(keyLoop, tuning.numStages);
  Tile acc = state[0], m = state[1], l = state[2];

  // out [bm, D] in dtype; lse [Hq, total_q] in f32.
  Tile outTile = (acc / l.expandDims(1)).to(dtype);
  kb.store(out + qOffsets, outTile, rowOk.expandDims(1));
  Tile lseTile = (m + kb.log2(l)) * std::numbers::ln2;
  kb.store(lse + (prog.head * totalQ + prog.qStart + rows), lseTile, rowOk);
  return finishKernel(kb, config, tuning.numWarps);
}
