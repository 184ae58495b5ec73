//===- SparseAttentionMerge.cpp - the current block, then the routed partials ---===//
//
// One program per (query block, query head, sequence). The per-row state is
// FlashAttention's (running maximum m and sum l of exp2 terms, f32 accumulator),
// in the exp2 domain of s' = scale * log2(e) * q.k, which is also the domain of
// sparse_attention_blocks' partial log-sum-exps.
//
// Causal: row i (key position p = Lk - Lq + i) first attends to its current block
// c = floor(p / Bs) up to p. Rows of one tile may sit in different current blocks
// (Bs < block_m, or a tile straddling a block boundary), so the key loop covers
// [c(first row) * Bs, p(last row)] and each row masks the keys outside
// [c(row) * Bs, p(row)]. Both products are tile.dot on the dtype with an f32
// accumulator, so dot=mma lowers them to mma.sync; the loop carries
// tile.num_stages (tuning.numStages), so the lowering copies its K and V tiles
// by cp.async that many - 1 key steps ahead.
//
// Then, causal or not, for each slot whose block is routed (RouteBlocks.h: b >= 0
// and, causal, b < c) the partial (out_s normalized, lse_s = m_s + log2(l_s)) is
// folded in: m' = max(m, lse_s), acc = acc 2^(m - m') + out_s 2^(lse_s - m'),
// l = l 2^(m - m') + 2^(lse_s - m'). Partials of the other slots are never read
// (masked loads): sparse_attention_blocks does not write them.
//
// Until a row has seen a key its m is -inf, and exp2(-inf - -inf) would be NaN:
// the rescaling factors are computed from m clamped to a finite floor (-1e30), as
// in SparseAttentionFwd.cpp. A row that ends with l = 0 (no key at all, which a
// valid selection never gives) stores out = 0 and lse = -inf rather than NaN.
//
//===----------------------------------------------------------------------===//
#include "templates/SparseAttentionMerge.h"

#include "templates/VarlenProgram.h"

#include <limits>
#include <numbers>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;

FailureOr<func::FuncOp>
mobagen::templates::buildSparseAttentionMerge(ModuleOp module, moba::ConfigAttr config,
                                              const SparseMergeTuning &tuning) {
  if (failed(checkAttentionTiles(module, tuning.blockM, tuning.blockN, tuning.numWarps)) ||
      failed(tile::verifyNumStages(tuning.numStages,
                                   [&] { return emitError(module.getLoc()); })))
    return failure();

  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  Type dataPtr = tile::PointerType::get(dtype), f32Ptr = tile::PointerType::get(f32);
  Type i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "sparse_attention_merge",
                   {{"q", dataPtr}, {"k", dataPtr}, {"v", dataPtr}, {"selected", i32Ptr},
                    {"partial_out", f32Ptr}, {"partial_lse", f32Ptr}, {"out", dataPtr},
                    {"lse", f32Ptr}, {"cu_seqlens_q", i32Ptr}, {"cu_seqlens_k", i32Ptr},
                    {"total_q", i32}});
  Tile q = kb.arg(0), k = kb.arg(1), v = kb.arg(2), selected = kb.arg(3);
  Tile partialOut = kb.arg(4), partialLse = kb.arg(5), out = kb.arg(6), lse = kb.arg(7);
  Tile cuQ = kb.arg(8), cuK = kb.arg(9), totalQ = kb.arg(10);

  const bool causal = config.getCausal();
  const int64_t bs = config.getBlockSize(), topK = config.getTopK();
  const int64_t headDim = config.getHeadDim(), qHeads = config.getNumQHeads();
  const int64_t kvRowStride = config.getNumKvHeads() * headDim;
  const int64_t bm = tuning.blockM, bn = tuning.blockN;
  const double qkScale = config.getSoftmaxScale() * std::numbers::log2e;
  const double inf = std::numeric_limits<double>::infinity();
  const double floorM = -1e30; // finite stand-in for m = -inf in rescaling factors

  const QueryBlockProgram prog = queryBlockProgram(kb, config, cuQ, cuK, bm);
  const Tile &rows = prog.rows, &rowOk = prog.rowOk, &dims = prog.dims;
  const Tile &kLen = prog.kLen, &position = prog.position;
  // Each row's current block c = floor(p / Bs). Rows past the end of the sequence
  // (p >= Lk) compute on masked loads like the others; nothing of them is stored.
  Tile currentBlock = position / bs;

  Tile acc = kb.full({bm, headDim}, 0.0, f32);
  Tile m = kb.full({bm}, -inf, f32);
  Tile l = kb.full({bm}, 0.0, f32);

  if (causal) {
    Tile qTile = kb.load(q + prog.qOffsets, rowOk.expandDims(1), 0.0); // [bm, D] dtype
    Tile currentStart = currentBlock * bs;
    // Keys [c(first row) * Bs, p(last valid row)] of this tile; none for a
    // program past the end of the sequence (first row >= Lq).
    Tile firstRow = prog.mBlock * bm;
    Tile lastRow = kb.minimum(firstRow + bm, prog.qLen) - 1;
    Tile keyBegin = ((kLen - prog.qLen + firstRow) / bs) * bs;
    Tile keyEnd = kb.where(firstRow < prog.qLen, kLen - prog.qLen + lastRow + 1,
                           kb.constant(0, i32)); // <= Lk
    Tile kvHeadOffset = prog.kvHead * headDim;
    scf::ForOp keyLoop;
    SmallVector<Tile> state = kb.forLoop(
        keyBegin, keyEnd, kb.constant(bn, i32), {acc, m, l},
        [&](Tile start, ArrayRef<Tile> carried) -> SmallVector<Tile> {
          Tile accPrev = carried[0], mPrev = carried[1], lPrev = carried[2];
          Tile cols = start + kb.arange(0, bn); // key positions in the sequence
          Tile colOk = cols < keyEnd;
          Tile kvRowBase = (prog.kStart + cols) * kvRowStride + kvHeadOffset;

          // s' = (q . k) * scale * log2(e), [bm, bn]; K is loaded transposed [D, bn].
          Tile kT = kb.load(k + (kvRowBase.expandDims(0) + dims.expandDims(1)),
                            colOk.expandDims(0), 0.0);
          Tile s = kb.dot(qTile, kT, kb.full({bm, bn}, 0.0, f32)) * qkScale;
          Tile c2 = cols.expandDims(0);
          Tile visible = colOk.expandDims(0) & (currentStart.expandDims(1) <= c2) &
                         (c2 <= position.expandDims(1));
          s = kb.where(visible, s, -inf);

          Tile mNew = kb.maximum(mPrev, kb.max(s, 1));
          Tile mSafe = kb.maximum(mNew, kb.full({bm}, floorM, f32));
          Tile p = kb.exp2(s - mSafe.expandDims(1));
          Tile alpha = kb.exp2(kb.maximum(mPrev, kb.full({bm}, floorM, f32)) - mSafe);
          Tile lNew = lPrev * alpha + kb.sum(p, 1);

          Tile vTile = kb.load(v + (kvRowBase.expandDims(1) + dims.expandDims(0)),
                               colOk.expandDims(1), 0.0);
          Tile accNew = kb.dot(p.to(dtype), vTile, accPrev * alpha.expandDims(1));
          return {accNew, mNew, lNew};
        },
        &keyLoop);
    setNumStages(keyLoop, tuning.numStages);
    acc = state[0];
    m = state[1];
    l = state[2];
  }

  // The routed slots' partials, in slot order. Entry (row, head, slot) of the
  // selection and of the partials has the same index (row * Hq + head) * top_k + slot.
  Tile entryBase = (prog.qStart + rows) * (qHeads * topK) + prog.head * topK; // [bm]
  SmallVector<Tile> folded = kb.forLoop(
      kb.constant(0, i32), kb.constant(topK, i32), kb.constant(1, i32), {acc, m, l},
      [&](Tile slot, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile accPrev = carried[0], mPrev = carried[1], lPrev = carried[2];
        Tile entry = entryBase + slot;
        Tile block = kb.load(selected + entry, rowOk, -1);
        Tile routed = rowOk & (kb.constant(0, i32) <= block);
        if (causal)
          routed = routed & (block < currentBlock);
        Tile lseS = kb.load(partialLse + entry, routed, -inf); // [bm], -inf: not routed
        // i64 element offsets, as sparse_attention_blocks writes them.
        Type i64 = kb.opBuilder().getI64Type();
        Tile outS = kb.load(partialOut + (entry.to(i64).expandDims(1) * headDim + dims.to(i64).expandDims(0)),
                            routed.expandDims(1), 0.0); // [bm, D]
        Tile mNew = kb.maximum(mPrev, lseS);
        Tile mSafe = kb.maximum(mNew, kb.full({bm}, floorM, f32));
        Tile alpha = kb.exp2(kb.maximum(mPrev, kb.full({bm}, floorM, f32)) - mSafe);
        Tile beta = kb.exp2(lseS - mSafe); // 0 for a slot that is not routed
        Tile accNew = accPrev * alpha.expandDims(1) + outS * beta.expandDims(1);
        return {accNew, mNew, lPrev * alpha + beta};
      });
  acc = folded[0];
  m = folded[1];
  l = folded[2];

  Tile safeL = kb.where(l == 0.0, 1.0, l);
  kb.store(out + prog.qOffsets, (acc / safeL.expandDims(1)).to(dtype), rowOk.expandDims(1));
  Tile lseTile = (m + kb.log2(safeL)) * std::numbers::ln2;
  kb.store(lse + (prog.head * totalQ + prog.qStart + rows), lseTile, rowOk);
  return finishKernel(kb, config, tuning.numWarps);
}
