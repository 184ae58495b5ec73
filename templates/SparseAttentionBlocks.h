//===- SparseAttentionBlocks.h - MoBA attention over routed blocks, on tensor cores
//
// Runs over route_scatter's per-(key block, query head) lists of routed (row,
// slot) entries. Under GQA the S query heads of a set (S = sharedHeads(Hq / Hkv):
// 4 when 4 divides the group, else 1) read the same K/V, so their S programs
// (key block, head, sequence), head in one set, share the set's S lists: they walk
// the lists' concatenation in chunks of block_m entries, every S-th chunk each,
// so one chunk may mix rows of several heads. A chunk gathers each entry's q row
// from the entry's own head into a dense tile, loads the block's K/V tiles once
// for all of them, and runs FlashAttention's online softmax over the block's keys
// with tile.dot on the dtype (mma.sync under dot=mma). Every key of a routed
// block is visible to its rows (a past block, or non-causal), so only the block's
// and the sequence's ends are masked. Per entry it writes, at the entry's own
// (row, head, slot), the normalized partial output and the partial log-sum-exp
// in base 2 of the exp2-domain logits (s' = scale * log2(e) * q.k):
//
//   partial_out[((row * Hq + head) * top_k + slot) * D + d] = sum_k p_k v_k,d / l   (f32)
//   partial_lse[(row * Hq + head) * top_k + slot] = m + log2(l)                      (f32)
//
// sparse_attention_merge folds them into out and lse.
//
//   sparse_attention_blocks(%q, %k, %v: !tile.ptr<dtype>, %block_counts, %block_offsets,
//       %routed: !tile.ptr<i32>, %partial_out, %partial_lse: !tile.ptr<f32>,
//       %cu_seqlens_q, %cu_seqlens_k: !tile.ptr<i32>)
//
// grid = [max_b ceil(Lk_b / block_size), Hq, B]: program y takes slice y mod S of
// the set of heads [y - y mod S, y - y mod S + S). With S = 1 (MHA, or a group
// size that 4 does not divide) a program walks its own head's list alone.
//
// Default tuning {32, 64, 4, 2} at both head dims: 64-row tiles with 4 warps spill
// (the [64, D] f32 accumulator and the probabilities live in registers: 64 x 32 by
// 12 to 36 bytes on sm_90, 64 x 64 by 604 at D 128 on sm_80). 32 x 64 keeps both dots on
// mma.sync and assembles for sm_80 and sm_90 without spills (docs/perf.md). With 2
// stages the key loop copies K and V one key step ahead (docs/lowering.md): 95,744
// bytes of dynamic shared memory and 208 registers at D 128 on sm_80.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mobagen::templates {

struct SparseBlocksTuning {
  int64_t blockM = 32; ///< routed query rows per tile
  int64_t blockN = 64; ///< keys per loop iteration
  int64_t numWarps = 4;
  /// Software-pipelining depth of the key loop (`tile.num_stages`): K and V
  /// tiles are copied this many - 1 key steps ahead (docs/lowering.md).
  int64_t numStages = 2;
  /// The block's keys as one tile, loaded once per program: K^T and V are copied
  /// into shared memory before the list's first chunk and stay there for all of
  /// them (block_n = the block size rounded up to a power of two, at most 128;
  /// num_stages 1: there is no key loop). Each chunk then takes one softmax over
  /// the whole block. Otherwise every chunk streams the block's keys block_n at a
  /// time with an online softmax.
  bool keysResident = false;
};

/// How many query heads of a GQA group share their lists in one set: the per-chunk
/// head lookup works on [block_m, S] tiles and the count prefix sum on [S, S], next
/// to an attention that already holds up to 255 registers. At D 128 on sm_80 the
/// default variant (m32n64w4) assembles without spills with sets of 4 at G = 4, 8
/// and 12, but spilled 8 to 12 bytes with sets of 2, 3, 6 or 8 (padded to a
/// power of two or not), so only sets of 4 are built (docs/perf.md).
constexpr int64_t kSharedHeads = 4;

/// S for a GQA group of `groupSize` = Hq / Hkv query heads: kSharedHeads when it
/// divides the group, else 1 (each head's list alone, as without GQA).
int64_t sharedHeads(int64_t groupSize);

mlir::FailureOr<mlir::func::FuncOp> buildSparseAttentionBlocks(mlir::ModuleOp module,
                                                               moba::ConfigAttr config,
                                                               const SparseBlocksTuning &tuning);

} // namespace mobagen::templates
