//===- Compare.h - Is a kernel's MoBA result right? --------------------------===//
//
// What "matches the reference" means for a kernel computing in bf16/fp16 with fp32
// accumulation, made precise so that tests, `mobagen run --check` and the
// benchmarks all apply the same rule. The bounds are derived in docs/accuracy.md.
//
// Selection: a kernel's selected set is accepted when it is *valid up to ε*: it has
// the right size, holds the current block (causal), no future block, and no
// unselected candidate outscores a selected one by more than the fp32 error bound
// of the two gate scores. Exact ties and near-ties may so resolve differently from
// the reference without being wrong; anything else is a mismatch.
//
// Outputs: relative L2 error of out below 1e-2, and per element
//   |out - ref| <= 2u (|ref| + max |v| over the row's attended keys) + 1e-6
// with u the unit roundoff of the dtype (2^-8 bf16, 2^-11 fp16), and
//   |lse - ref| <= 1e-3 (1 + |ref|).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "runtime/reference/MobaReference.h"
#include "runtime/support/FloatFormats.h"

namespace mobagen::reference {

struct SelectionCheck {
  int64_t entries = 0;    // (row, head) pairs compared
  int64_t exact = 0;      // identical to the reference's selection
  int64_t nearTies = 0;   // different, but valid up to the gate's error bound
  int64_t mismatches = 0; // invalid
  std::string firstMismatch; // "row R head H: ..." for the first invalid entry
  bool ok() const { return mismatches == 0; }
};

/// Checks `blocks` ([totalQ, Hq, topK], ascending, -1 padded, as a kernel writes
/// them) against the rules of section 1. `reference` supplies the expected sets.
/// Fails (as a Status) only when the sizes do not fit the problem.
Expected<SelectionCheck> checkSelection(const AttentionInputs &inputs, const MobaParams &params,
                                        std::span<const int32_t> blocks,
                                        const BlockSelection &reference);

/// The gate-score error bound of `block` for one (row, head): a D-term fp32 dot
/// product of q with an fp32 mean of the block's keys.
double gateScoreErrorBound(const AttentionInputs &inputs, const PooledKeys &pooled, int64_t row,
                           int64_t head, int64_t block, int64_t blockSize);

struct OutputCheck {
  double outRelativeL2 = 0;  // ||out - ref|| / ||ref||
  double outWorstRatio = 0;  // max over elements of |out - ref| / bound (<= 1 passes)
  int64_t outWorstIndex = -1;
  double lseWorstRatio = 0;  // max over rows of |lse - ref| / bound
  int64_t lseWorstIndex = -1;
  bool ok() const { return outRelativeL2 < 1e-2 && outWorstRatio <= 1 && lseWorstRatio <= 1; }
  std::string summary() const;
};

/// Compares a kernel's out ([totalQ, Hq, D]) and lse ([Hq, totalQ]) with the
/// reference's, using the per-element bounds above. `selection` is the reference's
/// (it tells which values each row attends, for the max |v| term).
Expected<OutputCheck> checkOutputs(const AttentionInputs &inputs, const MobaParams &params,
                                   DType dtype, std::span<const double> out,
                                   std::span<const double> lse, const MobaOutput &reference);

} // namespace mobagen::reference
