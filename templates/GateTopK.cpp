//===- GateTopK.cpp - MoBA fused gate + top-k in the DSL -----------------------===//
//
// The running top-k per row is a small unsorted set of K = top_k (- 1 when causal)
// slots, values V (-inf when empty) and block indices I. Each chunk of scores S
// [block_m, block_n] is folded in with K rounds of:
//
//   (c, j)  = argmax over the chunk            (ties: lowest block index)
//   evict   = the slot holding the smallest V; among equal V, the highest block
//   if c > V[evict]: V[evict], I[evict] = c, j     (strict: on a tie the block
//   S[j] = -inf                                     already kept is lower, and wins)
//
// which keeps exactly the K largest scores with ties to the lower index, since
// chunks arrive in ascending block order. A chunk takes only as many rounds as the
// most scores any row of the tile has above its weakest kept value (at most K):
// the later rounds would replace nothing. Instead of clearing S[j], a round takes
// the best score after the last round's pick. The kept blocks are then emitted in
// ascending order, with the current block after the past ones (causal).
//
//===----------------------------------------------------------------------===//
#include "templates/GateTopK.h"

#include "templates/VarlenProgram.h"

#include "llvm/Support/MathExtras.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

FailureOr<func::FuncOp> mobagen::templates::buildGateTopK(ModuleOp module,
                                                          moba::ConfigAttr config,
                                                          const GateTopKTuning &tuning) {
  if (failed(checkTileExtent(module, "block_m", tuning.blockM, 16, 128)) ||
      failed(checkTileExtent(module, "block_n", tuning.blockN, 16, 128)) ||
      failed(tile::verifyNumWarps(tuning.numWarps, [&] { return emitError(module.getLoc()); })))
    return failure();

  MLIRContext *ctx = module.getContext();
  Type dtype = config.getDtype(), f32 = Float32Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  Type i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "gate_topk",
                   {{"q", tile::PointerType::get(dtype)},
                    {"kbar", tile::PointerType::get(f32)},
                    {"selected", i32Ptr},
                    {"block_counts", i32Ptr},
                    {"ranks", i32Ptr},
                    {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}});
  Tile q = kb.arg(0), kbar = kb.arg(1), selected = kb.arg(2), blockCounts = kb.arg(3);
  Tile ranks = kb.arg(4), cuQ = kb.arg(5), cuK = kb.arg(6);

  const bool causal = config.getCausal();
  const int64_t bs = config.getBlockSize(), topK = config.getTopK();
  const int64_t headDim = config.getHeadDim(), kvHeads = config.getNumKvHeads();
  const int64_t qHeads = config.getNumQHeads();
  const int64_t bm = tuning.blockM, bn = tuning.blockN;
  const int64_t kept = causal ? topK - 1 : topK; // K
  const int64_t keptSlots = std::max<int64_t>(1, llvm::PowerOf2Ceil(kept));
  const int64_t outSlots = std::max<int64_t>(1, llvm::PowerOf2Ceil(topK));
  const double inf = std::numeric_limits<double>::infinity();

  const QueryBlockProgram prog = queryBlockProgram(kb, config, cuQ, cuK, bm);
  const Tile &rows = prog.rows, &rowOk = prog.rowOk, &dims = prog.dims;
  Tile firstBlock = blocksBefore(kb, cuK, prog.seq, bs);
  Tile numBlocks = blockCount(prog.kLen, bs);
  // The scores q . kbar run on tensor cores in bf16 yet stay exact to fp32's unit
  // roundoff: q splits exactly into bf16 parts (bf16: itself; fp16's 11-bit
  // significand: a high and a low part), kbar into three bf16 parts whose sum
  // is kbar to 2^-24; every product of two parts is exact in the f32 accumulator.
  Type bf16 = BFloat16Type::get(ctx);
  Tile qLoaded = kb.load(q + prog.qOffsets, rowOk.expandDims(1), 0.0);
  SmallVector<Tile> qParts;
  if (dtype.isBF16()) {
    qParts.push_back(qLoaded);
  } else {
    Tile qWide = qLoaded.to(f32);
    Tile qHigh = qWide.to(bf16);
    qParts.push_back(qHigh);
    qParts.push_back((qWide - qHigh.to(f32)).to(bf16));
  }
  Tile current = prog.position / bs; // each row's current block (causal)

  Tile slotIds = kb.arange(0, keptSlots);
  Tile slotUsed = slotIds < kb.constant(kept, i32);
  // Unused slots hold +inf so that they are never evicted, and never emitted.
  Tile values0 = kb.where(slotUsed.expandDims(0).broadcastTo({bm, keptSlots}),
                          kb.full({bm, keptSlots}, -inf, f32), inf);
  Tile blocks0 = kb.full({bm, keptSlots}, -1, i32);

  SmallVector<Tile> best{values0, blocks0};
  if (kept > 0) {
    Tile chunkIds = kb.arange(0, bn);
    best = kb.forLoop(
        kb.constant(0, i32), numBlocks, kb.constant(bn, i32), best,
        [&](Tile j0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
          Tile values = carried[0], blocks = carried[1];
          Tile cols = j0 + chunkIds;
          Tile colOk = cols < numBlocks;
          // kbar^T chunk [D, block_n] and the scores [block_m, block_n].
          Tile kbarBase = ((firstBlock + cols) * kvHeads + prog.kvHead) * headDim;
          Tile kbarT = kb.load(kbar + (dims.expandDims(1) + kbarBase.expandDims(0)),
                               colOk.expandDims(0), 0.0);
          Tile kHigh = kbarT.to(bf16);
          Tile kRest = kbarT - kHigh.to(f32);
          Tile kMid = kRest.to(bf16);
          Tile kLow = (kRest - kMid.to(f32)).to(bf16);
          // Smallest products first: (q part, kbar part) with part orders summing
          // to at most 2 (the rest are below 2^-24 of the score).
          // Each dot starts from zero (a splat accumulator is never staged) and
          // the partial scores are added in registers.
          std::optional<Tile> sum;
          const Tile kParts[] = {kHigh, kMid, kLow};
          for (int64_t order = 2; order >= 0; --order)
            for (int64_t i = 0; i < static_cast<int64_t>(qParts.size()); ++i)
              if (order - i >= 0 && order - i < 3) {
                Tile part = kb.dot(qParts[i], kParts[order - i], kb.full({bm, bn}, 0.0, f32));
                sum = sum ? *sum + part : part;
              }
          Tile scores = *sum;
          Tile eligible = colOk.expandDims(0).broadcastTo({bm, bn});
          if (causal)
            eligible = eligible & (cols.expandDims(0) < current.expandDims(1));
          scores = kb.where(eligible, scores, -inf);
          // Only scores above the row's weakest kept value can enter, and the
          // rounds take them largest first: min(K, the most any row of the tile
          // has) rounds do what K rounds do. Round r takes the chunk's best score
          // after round r - 1's pick in (score descending, block ascending) order,
          // so the loop carries the last pick, not a copy of the scores.
          Tile weakest0 = kb.min(values, 1);
          Tile above = kb.sum(
              kb.where(weakest0.expandDims(1) < scores, kb.full({bm, bn}, 1, i32), 0), 1);
          Tile rounds = kb.minimum(kb.max(above, 0), kb.constant(kept, i32));
          // Each round is a loop of 0 or 1 trips (a uniform branch): round r runs
          // when r < rounds.
          SmallVector<Tile> kept0{values, blocks, kb.full({bm}, inf, f32), kb.full({bm}, -1, i32)};
          for (int64_t round = 0; round < kept; ++round)
            kept0 = kb.forLoop(
                kb.constant(round, i32), kb.minimum(rounds, kb.constant(round + 1, i32)),
                kb.constant(1, i32), kept0,
                [&](Tile, ArrayRef<Tile> state) -> SmallVector<Tile> {
                  Tile values = state[0], blocks = state[1];
                  Tile lastValue = state[2].expandDims(1), lastAt = state[3].expandDims(1);
                  Tile tiedAfter = (scores == lastValue) & (lastAt < chunkIds.expandDims(0));
                  Tile after =
                      kb.where(scores < lastValue, scores, kb.where(tiedAfter, scores, -inf));
                  auto [top, at] = kb.argmax(after, 1);
                  Tile weakest = kb.min(values, 1);
                  auto [evictBlock, evict] =
                      kb.argmax(kb.where(values == weakest.expandDims(1), blocks, -2), 1);
                  (void)evictBlock;
                  Tile better = weakest < top;
                  Tile replace =
                      (slotIds.expandDims(0) == evict.expandDims(1)) & better.expandDims(1);
                  values = kb.where(replace, top.expandDims(1), values);
                  blocks = kb.where(replace, (j0 + at).expandDims(1), blocks);
                  return {values, blocks, top, at};
                });
          return {kept0[0], kept0[1]};
        });
  }

  // Emit the kept blocks in ascending order: K rounds of "smallest remaining".
  Tile blocks = best[1];
  Tile outIds = kb.arange(0, outSlots);
  Tile out = kb.full({bm, outSlots}, -1, i32);
  Tile count = kb.full({bm}, 0, i32);
  const int64_t sentinel = std::numeric_limits<int32_t>::min();
  for (int64_t r = 0; r < kept; ++r) {
    Tile present = kb.constant(0, i32) <= blocks;
    auto [negSmallest, slot] = kb.argmax(kb.where(present, blocks * -1, sentinel), 1);
    Tile found = kb.full({bm}, sentinel, i32) < negSmallest;
    Tile smallest = kb.where(found, negSmallest * -1, -1);
    out = kb.where(outIds.expandDims(0) == kb.full({bm}, r, i32).expandDims(1),
                   smallest.expandDims(1), out);
    count = count + kb.where(found, kb.full({bm}, 1, i32), 0);
    blocks = kb.where(slotIds.expandDims(0) == slot.expandDims(1), -1, blocks);
  }
  if (causal) // every kept block is strictly past: the current block comes next
    out = kb.where(outIds.expandDims(0) == count.expandDims(1), current.expandDims(1), out);

  Tile outOffsets = ((prog.qStart + rows) * (qHeads * topK) + prog.head * topK).expandDims(1) +
                    outIds.expandDims(0);
  Tile written = rowOk.expandDims(1) & (outIds < kb.constant(topK, i32)).expandDims(0);
  kb.store(selected + outOffsets, out, written);

  // Each routed entry takes the next rank of its block's list (RouteBlocks.h).
  Tile routed = written & (kb.constant(0, i32) <= out);
  if (causal)
    routed = routed & (out < current.expandDims(1));
  Tile countAt = (firstBlock + out) * qHeads + prog.head;
  Tile rank = kb.atomicAdd(blockCounts + countAt, kb.full({bm, outSlots}, 1, i32), routed);
  kb.store(ranks + outOffsets, rank, routed);
  return finishKernel(kb, config, tuning.numWarps);
}
