//===- SparseAttentionBlocks.cpp - MoBA attention over routed blocks ----------===//
//
// Program (j, head, b) owns key block j of sequence b for query head `head`.
// route_scatter listed the (row, slot) entries routed to that block in
// routed[start, start + count); the program walks the list block_m entries at
// a time, gathers those query rows into a dense [block_m, D] tile (entries
// past the list's end load zeros and store nothing) and runs FlashAttention's
// online softmax over the block's keys [j * Bs, min((j + 1) * Bs, Lk)),
// block_n keys at a time. Both products are tile.dot on the dtype with an f32
// accumulator, so dot=mma lowers them to mma.sync m16n8k16.
//
// Every row of a tile sees every key of the block (a routed block is strictly
// past, or the attention is non-causal): only keys past the block's or the
// sequence's end are masked. Each key step starts below the block's end, so it
// has a visible key for every row: m is finite after the first step (where
// alpha = exp2(-inf) = 0), and l >= 1 at the end. Rows of a partial tile hold
// q = 0 and get finite, unused values.
//
// Logits are scaled in f32 after the product (s' = scale * log2(e) * q.k), so q
// stays exactly the input's values on the tensor cores.
//
//===----------------------------------------------------------------------===//
#include "templates/SparseAttentionBlocks.h"

#include "templates/VarlenProgram.h"

#include <limits>
#include <numbers>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

FailureOr<func::FuncOp>
mobagen::templates::buildSparseAttentionBlocks(ModuleOp module, moba::ConfigAttr config,
                                               const SparseBlocksTuning &tuning) {
  if (failed(checkAttentionTiles(module, tuning.blockM, tuning.blockN, tuning.numWarps)))
    return failure();

  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  Type dataPtr = tile::PointerType::get(dtype), f32Ptr = tile::PointerType::get(f32);
  Type i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "sparse_attention_blocks",
                   {{"q", dataPtr},
                    {"k", dataPtr},
                    {"v", dataPtr},
                    {"block_counts", i32Ptr},
                    {"block_offsets", i32Ptr},
                    {"routed", i32Ptr},
                    {"partial_out", f32Ptr},
                    {"partial_lse", f32Ptr},
                    {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}});
  Tile q = kb.arg(0), k = kb.arg(1), v = kb.arg(2), blockCounts = kb.arg(3);
  Tile blockOffsets = kb.arg(4), routed = kb.arg(5), partialOut = kb.arg(6);
  Tile partialLse = kb.arg(7), cuK = kb.arg(9); // rows are global: cu_seqlens_q unused

  const int64_t bs = config.getBlockSize(), topK = config.getTopK();
  const int64_t headDim = config.getHeadDim(), qHeads = config.getNumQHeads();
  const int64_t kvRowStride = config.getNumKvHeads() * headDim;
  const int64_t bm = tuning.blockM, bn = tuning.blockN;
  const double qkScale = config.getSoftmaxScale() * std::numbers::log2e;
  const double negInf = -std::numeric_limits<double>::infinity();

  Tile block = kb.programId(ProgramAxis::x);
  Tile head = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile kStart = kb.load(cuK + seq), kLen = kb.load(cuK + (seq + 1)) - kStart;
  Tile kvHead = head / config.getGroupSize();

  // The block's list; a program past its sequence's last block has none and
  // reads nothing.
  Tile numBlocks = blockCount(kLen, bs);
  Tile inSequence = block < numBlocks;
  Tile listAt = (blocksBefore(kb, cuK, seq, bs) + block) * qHeads + head;
  Tile count = kb.load(blockCounts + listAt, inSequence, 0);
  Tile start = kb.load(blockOffsets + listAt, inSequence, 0);

  // The block's keys [keyBegin, keyEnd) in the sequence.
  Tile keyBegin = block * bs;
  Tile keyEnd = kb.minimum(kLen, keyBegin + bs);

  Tile dims = kb.arange(0, headDim), entryIds = kb.arange(0, bm), keyIds = kb.arange(0, bn);
  Tile kvHeadOffset = kvHead * headDim;

  kb.forLoop(
      kb.constant(0, i32), count, kb.constant(bm, i32), {},
      [&](Tile c0, ArrayRef<Tile>) -> SmallVector<Tile> {
        Tile listed = c0 + entryIds;
        Tile ok = listed < count;
        Tile entry = kb.load(routed + (start + listed), ok, 0); // row * top_k + slot
        Tile row = entry / topK;
        Tile qOffsets = (row * (qHeads * headDim) + head * headDim).expandDims(1) +
                        dims.expandDims(0);
        Tile qTile = kb.load(q + qOffsets, ok.expandDims(1), 0.0); // [bm, D] dtype

        SmallVector<Tile> state = kb.forLoop(
            keyBegin, keyEnd, kb.constant(bn, i32),
            {kb.full({bm, headDim}, 0.0, f32), kb.full({bm}, negInf, f32),
             kb.full({bm}, 0.0, f32)},
            [&](Tile n0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
              Tile acc = carried[0], mPrev = carried[1], lPrev = carried[2];
              Tile cols = n0 + keyIds; // key positions in the sequence
              Tile colOk = cols < keyEnd;
              Tile kvRowBase = (kStart + cols) * kvRowStride + kvHeadOffset;

              // s' = (q . k) * scale * log2(e), [bm, bn]; K loaded transposed [D, bn].
              Tile kT = kb.load(k + (kvRowBase.expandDims(0) + dims.expandDims(1)),
                                colOk.expandDims(0), 0.0);
              Tile s = kb.dot(qTile, kT, kb.full({bm, bn}, 0.0, f32)) * qkScale;
              s = kb.where(colOk.expandDims(0), s, negInf);

              Tile mNew = kb.maximum(mPrev, kb.max(s, 1));
              Tile p = kb.exp2(s - mNew.expandDims(1));
              Tile alpha = kb.exp2(mPrev - mNew);
              Tile lNew = lPrev * alpha + kb.sum(p, 1);

              Tile vTile = kb.load(v + (kvRowBase.expandDims(1) + dims.expandDims(0)),
                                   colOk.expandDims(1), 0.0);
              Tile accNew = kb.dot(p.to(dtype), vTile, acc * alpha.expandDims(1));
              return {accNew, mNew, lNew};
            });
        Tile acc = state[0], m = state[1], l = state[2];

        // (row * Hq + head) * top_k + slot = entry + (row * (Hq - 1) + head) * top_k.
        Tile partial = entry + (row * (qHeads - 1) + head) * topK;
        Tile outTile = acc / l.expandDims(1);
        // partial_out's element offsets in i64: top_k D floats per (row, head) pass 2^31
        // long before q's offsets do (64K rows x 32 heads x top-k 8 x D 128).
        Type i64 = kb.opBuilder().getI64Type();
        Tile outOffsets = (partial.to(i64) * headDim).expandDims(1) + dims.to(i64).expandDims(0);
        kb.store(partialOut + outOffsets, outTile, ok.expandDims(1));
        kb.store(partialLse + partial, m + kb.log2(l), ok);
        return {};
      });
  return finishKernel(kb, config, tuning.numWarps);
}
