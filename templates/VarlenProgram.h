//===- VarlenProgram.h - what every varlen MoBA kernel program shares --------===//
//
// The templates run one program per (tile of query rows or of blocks, head,
// sequence) over the packed varlen layout. This header holds the pieces they all
// need: where the program's sequence lies (cu_seqlens), its query rows and the q
// tile's offsets, the key-block bookkeeping, the tuning-knob checks, and the
// kernel's closing attributes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"
#include "templates/dsl/KernelBuilder.h"

namespace mobagen::templates {

/// A program over `blockM` query rows of one (query head, sequence):
/// program_id = (query block, head, sequence).
struct QueryBlockProgram {
  Tile mBlock, head, seq;
  Tile qStart, qLen, kStart, kLen; // the sequence's rows in q and in k / v
  Tile kvHead;                     // GQA: head / (Hq / Hkv)
  Tile rows, rowOk;                // [blockM] rows in the sequence, and which exist
  Tile dims;                       // [D] 0 .. D-1
  Tile qOffsets;                   // [blockM, D] element offsets of the q (and out) tile
  Tile position;                   // [blockM] bottom-right aligned key position Lk - Lq + i
};
QueryBlockProgram queryBlockProgram(KernelBuilder &kb, moba::ConfigAttr config, const Tile &cuQ,
                                    const Tile &cuK, int64_t blockM);

/// ceil(len / blockSize) for a non-negative i32 `len`.
Tile blockCount(const Tile &len, int64_t blockSize);

/// The number of key blocks of the sequences before `seq` (sum of ceil(Lk / bs)
/// over cu_seqlens_k[0 .. seq]): where sequence `seq`'s blocks start in the pooled
/// keys [total blocks, Hkv, D]. A scalar loop over B, small next to any kernel's work.
Tile blocksBefore(KernelBuilder &kb, const Tile &cuSeqlensK, const Tile &seq, int64_t blockSize);

/// The key tile of an attention kernel for blocks of `blockSize` keys (a multiple
/// of 16, any multiple: 48, 80, 192 ...): the largest power of two that divides
/// the block size, at most `most` (a power of two >= 16). Tile extents are powers
/// of two (tile.make_range), and a tile that divides the block wastes no masked
/// keys at the block's end: 48 -> 16, 80 -> 16, 192 -> 64 (most 64), 128 -> 64.
int64_t keyTileFor(int64_t blockSize, int64_t most);

/// A tile extent knob must be a power of two in [least, most] (tile.make_range);
/// otherwise a diagnostic at the module naming the knob, its value and the rule.
mlir::LogicalResult checkTileExtent(mlir::ModuleOp module, llvm::StringRef name, int64_t value,
                                    int64_t least, int64_t most);

/// The knobs of a tensor-core attention template (sparse_attention_blocks,
/// sparse_attention_merge): block_m and block_n powers of two in [16, 128] (16: the
/// smallest mma.sync tile), num_warps per the tile dialect; a diagnostic otherwise.
mlir::LogicalResult checkAttentionTiles(mlir::ModuleOp module, int64_t blockM, int64_t blockN,
                                        int64_t numWarps);

/// Asks the lowering to pipeline `loop`'s cp.async dot operands `numStages` deep
/// (the `tile.num_stages` attribute, docs/lowering.md).
void setNumStages(mlir::scf::ForOp loop, int64_t numStages);

/// Ends the kernel: func.return, and the moba.config and tile.num_warps attributes.
mlir::func::FuncOp finishKernel(KernelBuilder &kb, moba::ConfigAttr config, int64_t numWarps);

} // namespace mobagen::templates
