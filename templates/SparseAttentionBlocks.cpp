//===- SparseAttentionBlocks.cpp - MoBA attention over routed blocks ----------===//
//
// Program (j, y, b) works on key block j of sequence b for the set of S query
// heads [h0, h0 + S) holding y (h0 = y - y mod S, S = sharedHeads(G)), which
// share K/V head h0 / G. route_scatter listed each head's (row, slot) entries
// routed to the block in routed[start[g], start[g] + count[g]); the program
// reads the S counts and starts as [S] tiles, prefix-sums the counts, and walks
// the concatenation of the S lists in chunks of block_m positions, chunks
// y mod S, y mod S + S, ... For each position t it finds its list g (the lists
// with cum[g] <= t, less one) and so its head h0 + g and routed[start[g] + t -
// cum[g]]: a [block_m, S] compare and two row sums per chunk, no memory
// access. It gathers those query rows, each from its own head, into a dense
// [block_m, D] tile (positions past the end load zeros and store nothing) and
// runs FlashAttention's online softmax over the block's keys
// [j * Bs, min((j + 1) * Bs, Lk)), block_n keys at a time, loading each K and V
// tile once per chunk for all the heads in it. Both products are tile.dot on the
// dtype with an f32 accumulator, so dot=mma lowers them to mma.sync m16n8k16.
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
// keysResident: the block's keys are one [block_n] tile (block_n the block size
// rounded up to a power of two, keys past the block's end masked), K^T and V are
// loaded once before the chunk loop, so the lowering copies them into shared
// memory once (a resident cp.async copy, AsyncCopy.h) and every chunk's two dots
// read them there; each chunk takes one softmax over the block (max, exp2, sum),
// with no rescaling. A program with no chunk to attend loads nothing.
//
//===----------------------------------------------------------------------===//
#include "templates/SparseAttentionBlocks.h"

#include "templates/VarlenProgram.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>
#include <numbers>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

static_assert(kSharedHeads > 1 && (kSharedHeads & (kSharedHeads - 1)) == 0,
              "a set of heads is a tile extent: a power of two");

int64_t mobagen::templates::sharedHeads(int64_t groupSize) {
  return groupSize % kSharedHeads == 0 ? kSharedHeads : 1;
}

FailureOr<func::FuncOp>
mobagen::templates::buildSparseAttentionBlocks(ModuleOp module, moba::ConfigAttr config,
                                               const SparseBlocksTuning &tuning) {
  if (failed(checkAttentionTiles(module, tuning.blockM, tuning.blockN, tuning.numWarps)) ||
      failed(tile::verifyNumStages(tuning.numStages,
                                   [&] { return emitError(module.getLoc()); })))
    return failure();
  if (tuning.keysResident) {
    const int64_t wholeBlock =
        std::max<int64_t>(16, static_cast<int64_t>(llvm::PowerOf2Ceil(config.getBlockSize())));
    if (tuning.blockN != wholeBlock || tuning.numStages != 1)
      return emitError(module.getLoc())
             << "keys_resident with block_n = " << tuning.blockN << ", num_stages = "
             << tuning.numStages << " is invalid: a resident key tile is the whole block, block_n = "
             << wholeBlock << " (block_size = " << config.getBlockSize()
             << " rounded up to a power of two), with num_stages = 1";
  }

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
  Tile programHead = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile kStart = kb.load(cuK + seq), kLen = kb.load(cuK + (seq + 1)) - kStart;
  // GQA: S consecutive query heads of a KV head's group (S = sharedHeads(G)) share
  // their lists, and their S programs y = firstHead + slice split the work.
  const int64_t group = config.getGroupSize(), shared = sharedHeads(group);
  Tile firstHead = programHead / shared * shared;
  Tile slice = programHead - firstHead;
  Tile kvHead = programHead / group;

  // The S lists of the block, as [S] tiles (S is 1 or kSharedHeads, a power of
  // two as a tile extent must be). A program past its sequence's last block has
  // none and reads nothing. cum[g] = count[0] + ... + count[g - 1]: list g holds
  // positions [cum[g], cum[g] + count[g]) of their concatenation, whose length is
  // `total`.
  Tile numBlocks = blockCount(kLen, bs);
  Tile inSequence = block < numBlocks;
  Tile listBase = (blocksBefore(kb, cuK, seq, bs) + block) * qHeads + firstHead;
  Tile total = kb.constant(0, i32), starts = total, cum = total, delta = total;
  std::optional<Tile> listIds;
  if (shared == 1) {
    total = kb.load(blockCounts + listBase, inSequence, 0);
    starts = kb.load(blockOffsets + listBase, inSequence, 0);
  } else {
    listIds = kb.arange(0, shared);
    Tile listOk = inSequence.broadcastTo({shared});
    Tile counts = kb.load(blockCounts + (listBase + *listIds), listOk, 0);
    starts = kb.load(blockOffsets + (listBase + *listIds), listOk, 0);
    // [g', g] tiles reduced over axis 0 (down the columns: the staging reads of a
    // warp fall in distinct banks, docs/lowering.md).
    Tile earlier = listIds->expandDims(1) < listIds->expandDims(0); // g' < g
    cum = kb.sum(
        kb.where(earlier, counts.expandDims(1).broadcastTo({shared, shared}), 0), 0);
    total = kb.sum(counts, 0);
    // Position t of list g is routed[start[g] + t - cum[g]]. The lists with
    // cum[g] <= t are g = 0 .. g* (cum is non-decreasing; an empty list shares cum
    // with the next), so with delta[g] = x[g] - x[g - 1], x = start - cum, the sum
    // of delta over them is x[g*].
    Tile x = starts - cum;
    Tile follows = listIds->expandDims(1) + 1 == listIds->expandDims(0); // g' = g - 1
    delta = x - kb.sum(kb.where(follows, x.expandDims(1).broadcastTo({shared, shared}), 0), 0);
  }

  // The block's keys [keyBegin, keyEnd) in the sequence.
  Tile keyBegin = block * bs;
  Tile keyEnd = kb.minimum(kLen, keyBegin + bs);

  Tile dims = kb.arange(0, headDim), entryIds = kb.arange(0, bm), keyIds = kb.arange(0, bn);
  Tile kvHeadOffset = kvHead * headDim;

  // Resident keys: the whole block's K^T [D, bn] and V [bn, D], loaded once (none
  // when the program has no chunk of the block's lists).
  std::optional<Tile> residentKT, residentV, residentOk;
  if (tuning.keysResident) {
    Tile cols = keyBegin + keyIds;
    residentOk = cols < keyEnd;
    Tile used = *residentOk & (slice * bm < total).broadcastTo({bn});
    Tile kvRowBase = (kStart + cols) * kvRowStride + kvHeadOffset;
    residentKT = kb.load(k + (kvRowBase.expandDims(0) + dims.expandDims(1)), used.expandDims(0), 0.0);
    residentV = kb.load(v + (kvRowBase.expandDims(1) + dims.expandDims(0)), used.expandDims(1), 0.0);
  }

  // The concatenation in chunks of block_m entries; the S programs take every
  // S-th chunk, starting at their slice (S = 1: all of them).
  kb.forLoop(
      slice * bm, total, kb.constant(shared * bm, i32), {},
      [&](Tile c0, ArrayRef<Tile>) -> SmallVector<Tile> {
        Tile listed = c0 + entryIds; // positions in the concatenation
        Tile ok = listed < total;
        // Each position's list g* (so query head firstHead + g*): the number of
        // lists with cum[g] <= t, less one; and its place in routed, t + x[g*].
        Tile head = firstHead;
        Tile at = listed;
        if (!listIds) {
          at = listed + starts;
        } else {
          Tile reached = cum.expandDims(0) <= listed.expandDims(1); // [bm, S]
          head = firstHead - 1 + kb.sum(kb.where(reached, kb.full({bm, shared}, 1, i32), 0), 1);
          at = listed + kb.sum(kb.where(reached, delta.expandDims(0), 0), 1);
        }
        Tile entry = kb.load(routed + at, ok, 0); // row * top_k + slot
        Tile row = entry / topK;
        Tile qOffsets = (row * (qHeads * headDim) + head * headDim).expandDims(1) +
                        dims.expandDims(0);
        Tile qTile = kb.load(q + qOffsets, ok.expandDims(1), 0.0); // [bm, D] dtype

        SmallVector<Tile> state;
        if (tuning.keysResident) {
          // One softmax over the block: every row has a visible key (the block's
          // first), so m is finite and l >= 1.
          Tile s = kb.dot(qTile, *residentKT, kb.full({bm, bn}, 0.0, f32)) * qkScale;
          s = kb.where(residentOk->expandDims(0), s, negInf);
          Tile m = kb.max(s, 1);
          Tile p = kb.exp2(s - m.expandDims(1));
          Tile l = kb.sum(p, 1);
          Tile acc = kb.dot(p.to(dtype), *residentV, kb.full({bm, headDim}, 0.0, f32));
          state = {acc, m, l};
        } else {
          scf::ForOp keyLoop;
          state = kb.forLoop(
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
              },
              &keyLoop);
          setNumStages(keyLoop, tuning.numStages);
        }
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
  func::FuncOp kernel = finishKernel(kb, config, tuning.numWarps);
  // The resident K^T and V pass 48 KB at block 128 / D 128: dynamic shared memory.
  if (tuning.keysResident)
    kernel->setAttr("tile.dynamic_shared", UnitAttr::get(ctx));
  return kernel;
}
