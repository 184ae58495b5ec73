//===- RouteBlocks.cpp - route_count and route_scatter in the DSL ---------------===//
//
// Both kernels run one program per (chunk of `blocks` key blocks, query head,
// sequence) and read the sequence's selection `block_rows` rows at a time. For a
// row tile, a scalar loop over the top_k slots builds
//
//   via [block_rows, blocks] i32 = the slot through which row r is routed to
//                                  block j, or -1 (a valid selection names a
//                                  block at most once per row)
//
// route_count sums the hits (via >= 0) down the rows. route_scatter first turns
// the counts into the chunk's offsets (the region's start plus the counts of the
// sequence's blocks before each block, summed 16 blocks at a time), then gives
// each hit its place in its block's list: the number of hits above it in its
// column of the tile, plus the hits of the earlier row tiles. The count above is
// an exclusive prefix sum down the rows: one tile.dot of the strictly lower
// triangular [block_rows, block_rows] matrix of ones with the 0/1 hits, both f16
// with an f32 accumulator, so it runs on tensor cores and is exact (every product
// is 0 or 1, every sum an integer <= block_rows). Rows are visited in ascending order, so
// every list is in ascending row order, with no atomics.
//
//===----------------------------------------------------------------------===//
#include "templates/RouteBlocks.h"

#include "templates/VarlenProgram.h"

#include <algorithm>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;
using tile::ProgramAxis;

namespace {

/// What both kernels know about their program (x, head, b).
struct RouteProgram {
  Tile head;
  Tile qStart, qLen, kLen; // the sequence's query rows and key length
  Tile firstBlock;         // blocksBefore(b): the sequence's first global block
  Tile numBlocks;          // n_b
  Tile chunkStart;         // x * blocks
  Tile blockIds;           // [blocks] j = x * blocks + 0 .. blocks - 1
  Tile blockOk;            // [blocks] j < n_b
  Tile active;             // 1 when the program has blocks (x * blocks < n_b), else 0
  Tile rowBegin, rowEnd;   // the query rows that can route to the chunk
};

RouteProgram routeProgram(KernelBuilder &kb, moba::ConfigAttr config, const Tile &cuQ,
                          const Tile &cuK, int64_t blocks) {
  Type i32 = kb.i32();
  const int64_t bs = config.getBlockSize();
  Tile x = kb.programId(ProgramAxis::x);
  Tile head = kb.programId(ProgramAxis::y);
  Tile seq = kb.programId(ProgramAxis::z);
  Tile qStart = kb.load(cuQ + seq), qLen = kb.load(cuQ + (seq + 1)) - qStart;
  Tile kLen = kb.load(cuK + (seq + 1)) - kb.load(cuK + seq);
  Tile numBlocks = blockCount(kLen, bs);
  Tile chunkStart = x * blocks;
  Tile blockIds = chunkStart + kb.arange(0, blocks);
  Tile zero = kb.constant(0, i32);
  // 1 when the program has blocks, else 0: a program past the sequence's blocks
  // visits no rows (and, in route_scatter, no earlier chunks) and stores nothing.
  Tile active = kb.where(chunkStart < numBlocks, kb.constant(1, i32), zero);
  Tile rowBegin = zero;
  if (config.getCausal()) {
    // A row routes only to blocks strictly before its current block
    // floor((Lk - Lq + i) / Bs), so no row before the first one whose position
    // Lk - Lq + i reaches (x * blocks + 1) * Bs can route to the chunk's lowest
    // block, x * blocks: the row loop starts there (clamped to [0, Lq]).
    rowBegin = kb.minimum(kb.maximum((chunkStart + 1) * bs - (kLen - qLen), zero), qLen);
  }
  Tile firstBlock = blocksBefore(kb, cuK, seq, bs);
  return {head,     qStart,   qLen,     kLen,         firstBlock, numBlocks, chunkStart,
          blockIds, blockIds < numBlocks, active, rowBegin, active * qLen};
}

/// [block_rows, blocks] i32: the slot through which each row of `rows` is routed
/// to each of the program's blocks, or -1. Routed (RouteBlocks.h): the slot's block
/// is >= 0 and, causal, before the row's current block.
Tile routedSlots(KernelBuilder &kb, moba::ConfigAttr config, const RouteProgram &prog,
                 const Tile &selected, const Tile &rows, int64_t blockRows, int64_t blocks) {
  Type i32 = kb.i32();
  const int64_t topK = config.getTopK(), qHeads = config.getNumQHeads();
  Tile rowOk = rows < prog.qLen;
  Tile selectedRow = (prog.qStart + rows) * (qHeads * topK) + prog.head * topK;
  std::optional<Tile> current; // [block_rows] floor((Lk - Lq + i) / Bs)
  if (config.getCausal())
    current = (prog.kLen - prog.qLen + rows) / config.getBlockSize();
  return kb.forLoop(
      kb.constant(0, i32), kb.constant(topK, i32), kb.constant(1, i32),
      {kb.full({blockRows, blocks}, -1, i32)},
      [&](Tile slot, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile block = kb.load(selected + (selectedRow + slot), rowOk, -1); // [block_rows]
        Tile routed = kb.constant(0, i32) <= block;
        if (current)
          routed = routed & (block < *current);
        Tile match = (block.expandDims(1) == prog.blockIds.expandDims(0)) &
                     routed.expandDims(1);
        return {kb.where(match, slot, carried[0])};
      })[0];
}

/// The knobs: powers of two, block_rows in [16, 64] and blocks in [16, 128], and
/// the [block_rows, block_rows] and [block_rows, blocks] tiles at most 4096
/// elements (route_scatter's dot then stages within 48 KiB of shared memory and
/// runs on tensor cores) and at most 64 elements per thread (no spills).
LogicalResult checkTuning(ModuleOp module, const RouteTuning &tuning) {
  if (failed(checkTileExtent(module, "block_rows", tuning.blockRows, 16, 64)) ||
      failed(checkTileExtent(module, "blocks", tuning.blocks, 16, 128)) ||
      failed(tile::verifyNumWarps(tuning.numWarps, [&] { return emitError(module.getLoc()); })))
    return failure();
  const int64_t largest = tuning.blockRows * std::max(tuning.blockRows, tuning.blocks);
  const int64_t most = std::min<int64_t>(4096, 64 * 32 * tuning.numWarps);
  if (largest <= most)
    return success();
  return emitError(module.getLoc())
         << "block_rows = " << tuning.blockRows << ", blocks = " << tuning.blocks
         << ", num_warps = " << tuning.numWarps
         << " is invalid: block_rows * max(block_rows, blocks) = " << largest
         << " must be at most min(4096, 2048 * num_warps) = " << most;
}

/// Element offsets in block_counts / block_offsets of the sequence's blocks
/// `localBlocks` (global block blocksBefore(b) + j) for the program's head.
Tile perBlockHead(moba::ConfigAttr config, const RouteProgram &prog, const Tile &localBlocks) {
  return (prog.firstBlock + localBlocks) * config.getNumQHeads() + prog.head;
}

} // namespace

FailureOr<func::FuncOp> mobagen::templates::buildRouteCount(ModuleOp module,
                                                            moba::ConfigAttr config,
                                                            const RouteTuning &tuning) {
  if (failed(checkTuning(module, tuning)))
    return failure();
  MLIRContext *ctx = module.getContext();
  Type i32 = IntegerType::get(ctx, 32), i32Ptr = tile::PointerType::get(i32);
  KernelBuilder kb(module, "route_count",
                   {{"selected", i32Ptr},
                    {"block_counts", i32Ptr},
                    {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}});
  Tile selected = kb.arg(0), blockCounts = kb.arg(1), cuQ = kb.arg(2), cuK = kb.arg(3);
  const int64_t br = tuning.blockRows, blocks = tuning.blocks;

  const RouteProgram prog = routeProgram(kb, config, cuQ, cuK, blocks);
  Tile rowIds = kb.arange(0, br);
  Tile counts = kb.forLoop(
      prog.rowBegin, prog.rowEnd, kb.constant(br, i32), {kb.full({blocks}, 0, i32)},
      [&](Tile r0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile via = routedSlots(kb, config, prog, selected, r0 + rowIds, br, blocks);
        Tile hits = kb.where(kb.constant(0, i32) <= via, kb.full({br, blocks}, 1, i32), 0);
        return {carried[0] + kb.sum(hits, 0)};
      })[0];
  kb.store(blockCounts + perBlockHead(config, prog, prog.blockIds), counts, prog.blockOk);
  return finishKernel(kb, config, tuning.numWarps);
}

FailureOr<func::FuncOp> mobagen::templates::buildRouteScatter(ModuleOp module,
                                                              moba::ConfigAttr config,
                                                              const RouteTuning &tuning) {
  if (failed(checkTuning(module, tuning)))
    return failure();
  MLIRContext *ctx = module.getContext();
  Type i32 = IntegerType::get(ctx, 32), i32Ptr = tile::PointerType::get(i32);
  Type f16 = Float16Type::get(ctx), f32 = Float32Type::get(ctx);
  KernelBuilder kb(module, "route_scatter",
                   {{"selected", i32Ptr},
                    {"block_counts", i32Ptr},
                    {"block_offsets", i32Ptr},
                    {"routed", i32Ptr},
                    {"cu_seqlens_q", i32Ptr},
                    {"cu_seqlens_k", i32Ptr}});
  Tile selected = kb.arg(0), blockCounts = kb.arg(1), blockOffsets = kb.arg(2);
  Tile routedList = kb.arg(3), cuQ = kb.arg(4), cuK = kb.arg(5);
  const int64_t br = tuning.blockRows, blocks = tuning.blocks;
  const int64_t topK = config.getTopK(), qHeads = config.getNumQHeads();

  const RouteProgram prog = routeProgram(kb, config, cuQ, cuK, blocks);
  constexpr int64_t kPiece = 16; // earlier blocks summed per step of the offsets loop

  // offset_j = region + the counts of the sequence's blocks j' < j: a loop over
  // the blocks before the chunk's end, 16 at a time, adding the counts of the
  // blocks before each j (a [16, blocks] tile, whatever the chunk's width).
  Tile region = (prog.qStart * qHeads + prog.head * prog.qLen) * topK;
  Tile piece = kb.arange(0, kPiece);
  Tile offsets = kb.forLoop(
      kb.constant(0, i32), prog.active * (prog.chunkStart + blocks),
      kb.constant(kPiece, i32), {region + kb.full({blocks}, 0, i32)},
      [&](Tile p0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile earlier = p0 + piece; // [16] j'
        Tile counts = kb.load(blockCounts + perBlockHead(config, prog, earlier),
                              earlier < prog.numBlocks, 0);
        Tile before = earlier.expandDims(1) < prog.blockIds.expandDims(0); // [j', j]
        return {carried[0] +
                kb.sum(kb.where(before, counts.expandDims(1).broadcastTo({kPiece, blocks}), 0),
                       0)};
      })[0];
  kb.store(blockOffsets + perBlockHead(config, prog, prog.blockIds), offsets, prog.blockOk);

  Tile rowIds = kb.arange(0, br);
  kb.forLoop(
      prog.rowBegin, prog.rowEnd, kb.constant(br, i32), {offsets},
      [&](Tile r0, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        Tile next = carried[0]; // [blocks] where each block's next entry goes
        Tile rows = r0 + rowIds;
        Tile via = routedSlots(kb, config, prog, selected, rows, br, blocks);
        Tile hit = kb.constant(0, i32) <= via;
        // [r, r']: 1 where r' < r, so lower . hits counts the hits above each row.
        // Built here rather than before the loop, so that it is not live across it.
        Tile lower = kb.where(rowIds.expandDims(0) < rowIds.expandDims(1),
                              kb.full({br, br}, 1.0, f16), 0.0);
        Tile above = kb.dot(lower, kb.where(hit, kb.full({br, blocks}, 1.0, f16), 0.0),
                            kb.full({br, blocks}, 0.0, f32))
                         .to(i32);
        Tile entry = ((prog.qStart + rows) * topK).expandDims(1) + via;
        kb.store(routedList + (next.expandDims(0) + above), entry,
                 hit & prog.blockOk.expandDims(0));
        Tile hits = kb.where(hit, kb.full({br, blocks}, 1, i32), 0);
        return {next + kb.sum(hits, 0)};
      });
  return finishKernel(kb, config, tuning.numWarps);
}
