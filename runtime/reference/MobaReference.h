//===- MobaReference.h - The float64 CPU reference of MoBA ------------------===//
//
// Computes DESIGN.md section 1 exactly as written, in float64, one query row at a
// time: pooled keys, gate scores, block selection (ties toward the lower block
// index), and attention over the selected keys. Every kernel, the CLI's --check
// and the benchmarks are compared against it, so it favours being obviously right
// over being fast (it is only multi-threaded across rows).
//
// Layouts (the packed varlen layout of FlashAttention):
//   q [totalQ, Hq, D], k and v [totalK, Hkv, D], out [totalQ, Hq, D],
//   lse [Hq, totalQ], selection [totalQ, Hq, topK].
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::reference {

/// The problem's dimensions.
struct AttentionShape {
  int64_t totalQ = 0;
  int64_t totalK = 0;
  int64_t numQHeads = 0;  // Hq
  int64_t numKvHeads = 0; // Hkv; query head h reads kv head h / (Hq / Hkv)
  int64_t headDim = 0;    // D
};

/// A varlen batch, not owned. cuSeqlensQ / cuSeqlensK have B+1 entries.
struct AttentionInputs {
  AttentionShape shape;
  std::span<const double> q, k, v;
  std::span<const int32_t> cuSeqlensQ, cuSeqlensK;
};

/// The MoBA configuration that changes the result.
struct MobaParams {
  int64_t blockSize = 512;
  int64_t topK = 3;
  bool causal = true;
  std::optional<double> scale; // softmax scale; default 1/sqrt(D)
};

struct AttentionOutput {
  std::vector<double> out; // [totalQ, Hq, D]
  std::vector<double> lse; // [Hq, totalQ], natural log of sum(exp(scale * q.k))
};

/// Mean-pooled keys per block: kbar for block j of sequence b is at row
/// cuBlocks[b] + j, i.e. [cuBlocks.back(), Hkv, D].
struct PooledKeys {
  std::vector<int64_t> cuBlocks; // [B+1]
  std::vector<double> kbar;      // [totalBlocks, Hkv, D]
};

/// Selected blocks per (row, head): `slots` entries, block indices within the
/// row's sequence in ascending order, -1 in unused slots (at the end).
/// `scores` holds the gate score s[j] of each selected block (NaN where -1).
struct BlockSelection {
  int64_t slots = 0;
  std::vector<int32_t> blocks; // [totalQ, Hq, slots]
  std::vector<double> scores;  // [totalQ, Hq, slots]
};

struct MobaOutput {
  AttentionOutput attention;
  BlockSelection selection;
};

/// Where global query row `row` sits: its sequence, the sequence's first key row
/// (cu_seqlens_k[seq]), Lk, and its bottom-right aligned key position Lk - Lq + i.
/// `inputs` must be valid (validateInputs) and `row` < totalQ.
struct RowPlace {
  int64_t seq;
  int64_t keyBegin;
  int64_t seqLenK;
  int64_t position;
};
RowPlace placeRow(const AttentionInputs &inputs, int64_t row);

/// ceil(seqLenK / blockSize), computed without overflow.
int64_t blockCount(int64_t seqLenK, int64_t blockSize);

/// Checks shapes, cu_seqlens and finiteness; the message names the operand, the
/// value and the rule. `causal` adds the rule Lq <= Lk per sequence.
Status validateInputs(const AttentionInputs &inputs, bool causal);
/// Checks block size, top-k and scale.
Status validateParams(const MobaParams &params);

/// The softmax scale actually used.
double effectiveScale(const std::optional<double> &scale, int64_t headDim);

Expected<PooledKeys> poolKeys(const AttentionInputs &inputs, int64_t blockSize);

/// Gate scores s[j] = q . kbar[j] of every block of the row's sequence (no scale).
/// `row` is a global query row, `head` a query head.
std::vector<double> gateScores(const AttentionInputs &inputs, const PooledKeys &pooled,
                               int64_t row, int64_t head);

Expected<BlockSelection> selectBlocks(const AttentionInputs &inputs, const MobaParams &params);

/// MoBA forward: selection, then attention over the selected keys.
Expected<MobaOutput> mobaForward(const AttentionInputs &inputs, const MobaParams &params);

/// Dense attention over all keys of each sequence; causal masks key positions
/// greater than the query's bottom-right aligned position Lk - Lq + i.
Expected<AttentionOutput> denseAttention(const AttentionInputs &inputs, bool causal,
                                         std::optional<double> scale = std::nullopt);

} // namespace mobagen::reference
