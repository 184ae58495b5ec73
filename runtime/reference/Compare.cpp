#include "runtime/reference/Compare.h"

#include <algorithm>
#include <cmath>

namespace mobagen::reference {
namespace {

constexpr double kFp32UnitRoundoff = 0x1p-24;

double unitRoundoff(DType dtype) { return dtype == DType::BF16 ? 0x1p-8 : 0x1p-11; }

/// Why `chosen` (a kernel's slots for one row and head) is not a valid selection,
/// or "" when it is valid up to the gate's error bound.
std::string invalidity(const AttentionInputs &in, const MobaParams &p, const PooledKeys &pooled,
                       int64_t row, int64_t head, std::span<const int32_t> slots) {
  const RowPlace f = placeRow(in, row);
  const int64_t n = blockCount(f.seqLenK, p.blockSize);
  std::vector<int64_t> chosen;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] < 0) {
      for (size_t rest = i; rest < slots.size(); ++rest)
        if (slots[rest] >= 0)
          return fmt::format("slot {} holds block {} after an empty slot", rest, slots[rest]);
      break;
    }
    if (slots[i] >= n)
      return fmt::format("block {} does not exist (the sequence has {} blocks)", slots[i], n);
    if (!chosen.empty() && slots[i] <= chosen.back())
      return fmt::format("blocks are not strictly ascending ({} after {})", slots[i], chosen.back());
    chosen.push_back(slots[i]);
  }
  const int64_t current = p.causal ? f.position / p.blockSize : -1;
  const int64_t candidates = p.causal ? current : n;
  const int64_t expected = std::min(p.causal ? p.topK - 1 : p.topK, candidates) + (p.causal ? 1 : 0);
  if (static_cast<int64_t>(chosen.size()) != expected)
    return fmt::format("{} blocks selected, expected {}", chosen.size(), expected);
  if (p.causal) {
    if (std::find(chosen.begin(), chosen.end(), current) == chosen.end())
      return fmt::format("the current block {} is missing", current);
    if (chosen.back() > current)
      return fmt::format("future block {} is selected (current block {})", chosen.back(), current);
  }
  // Every selected candidate must outscore every unselected one, up to the sum of
  // their error bounds: max_b (s_b - e_b) <= min_a (s_a + e_a).
  const std::vector<double> s = gateScores(in, pooled, row, head);
  auto bound = [&](int64_t j) { return gateScoreErrorBound(in, pooled, row, head, j, p.blockSize); };
  int64_t weakest = -1, strongest = -1;
  double weakestValue = HUGE_VAL, strongestValue = -HUGE_VAL;
  for (int64_t j = 0; j < candidates; ++j) {
    const bool isChosen = std::binary_search(chosen.begin(), chosen.end(), j);
    if (isChosen && s[j] + bound(j) < weakestValue) {
      weakestValue = s[j] + bound(j);
      weakest = j;
    }
    if (!isChosen && s[j] - bound(j) > strongestValue) {
      strongestValue = s[j] - bound(j);
      strongest = j;
    }
  }
  if (weakest >= 0 && strongest >= 0 && strongestValue > weakestValue)
    return fmt::format("block {} (score {:.9g}) is not selected but outscores selected block {} "
                       "(score {:.9g}) by {:.3g}, more than the error bound {:.3g}",
                       strongest, s[strongest], weakest, s[weakest], s[strongest] - s[weakest],
                       bound(strongest) + bound(weakest));
  return "";
}

} // namespace

double gateScoreErrorBound(const AttentionInputs &in, const PooledKeys &pooled, int64_t row,
                           int64_t head, int64_t block, int64_t blockSize) {
  // s = sum_i q_i kbar_i with kbar_i = (1/m) sum_r k_ri in fp32 from exact bf16/fp16
  // inputs (m rows in the block, D = head_dim, u = 2^-24). The gate scores on tensor
  // cores from exact bf16 parts (docs/accuracy.md): kbar = hi + mid + lo to u |kbar|,
  // q = q_hi + q_lo exactly (fp16), the dropped q_lo lo product is below u |q kbar|,
  // and up to five D-term dots are summed in fp32; with additions that may truncate
  // (2u each, as tensor cores may) that is at most 2 (D + 6) u sum_i |q_i kbar_i|:
  //   |fl(kbar_i) - kbar_i| <= (m+1) u mean_r |k_ri|       (m-1 additions, a division)
  //   |fl(q.kbar) - q.kbar| <= 2 (D+6) u sum_i |q_i kbar_i|
  // so |fl(s) - s| <= u [ 2 (D+6) sum_i |q_i kbar_i| + (m+1) sum_i |q_i| mean_r |k_ri| ],
  // second-order terms dropped (they are below u^2 of the same sums).
  const AttentionShape &s = in.shape;
  const int64_t kvHead = head / (s.numQHeads / s.numKvHeads);
  const RowPlace f = placeRow(in, row);
  const int64_t first = block * blockSize;
  const int64_t rows = std::min(blockSize, f.seqLenK - first);
  const double *q = in.q.data() + (row * s.numQHeads + head) * s.headDim;
  const double *kbar =
      pooled.kbar.data() + ((pooled.cuBlocks[f.seq] + block) * s.numKvHeads + kvHead) * s.headDim;
  double dotTerm = 0, meanTerm = 0;
  for (int64_t i = 0; i < s.headDim; ++i) {
    dotTerm += std::fabs(q[i] * kbar[i]);
    double sumAbs = 0;
    for (int64_t r = 0; r < rows; ++r)
      sumAbs += std::fabs(
          in.k[((f.keyBegin + first + r) * s.numKvHeads + kvHead) * s.headDim + i]);
    meanTerm += std::fabs(q[i]) * sumAbs / static_cast<double>(rows);
  }
  return kFp32UnitRoundoff * (2.0 * static_cast<double>(s.headDim + 6) * dotTerm +
                              static_cast<double>(rows + 1) * meanTerm);
}

Expected<SelectionCheck> checkSelection(const AttentionInputs &in, const MobaParams &p,
                                        std::span<const int32_t> blocks,
                                        const BlockSelection &reference) {
  auto pooled = poolKeys(in, p.blockSize);
  if (!pooled)
    return pooled.status();
  const AttentionShape &s = in.shape;
  const int64_t slots = p.topK;
  const size_t expected = static_cast<size_t>(s.totalQ * s.numQHeads * slots);
  if (blocks.size() != expected || reference.blocks.size() != expected)
    return Status::errorf("selection holds {} entries (reference {}) but [total_q {}, Hq {}, "
                          "top_k {}] needs {}",
                          blocks.size(), reference.blocks.size(), s.totalQ, s.numQHeads, slots,
                          expected);
  SelectionCheck check;
  for (int64_t row = 0; row < s.totalQ; ++row)
    for (int64_t h = 0; h < s.numQHeads; ++h) {
      ++check.entries;
      const size_t base = static_cast<size_t>((row * s.numQHeads + h) * slots);
      const auto got = blocks.subspan(base, static_cast<size_t>(slots));
      if (std::equal(got.begin(), got.end(), reference.blocks.begin() + static_cast<std::ptrdiff_t>(base))) {
        ++check.exact;
        continue;
      }
      const std::string why = invalidity(in, p, *pooled, row, h, got);
      if (why.empty()) {
        ++check.nearTies;
      } else if (check.mismatches++ == 0) {
        check.firstMismatch = fmt::format("row {} head {}: {}", row, h, why);
      }
    }
  return check;
}

Expected<OutputCheck> checkOutputs(const AttentionInputs &in, const MobaParams &p, DType dtype,
                                   std::span<const double> out, std::span<const double> lse,
                                   const MobaOutput &reference) {
  const AttentionShape &s = in.shape;
  const auto &refOut = reference.attention.out;
  const auto &refLse = reference.attention.lse;
  if (out.size() != refOut.size() || lse.size() != refLse.size())
    return Status::errorf("out holds {} values and lse {}, but the reference has {} and {}",
                          out.size(), lse.size(), refOut.size(), refLse.size());
  const double u = unitRoundoff(dtype);
  const int64_t group = s.numQHeads / s.numKvHeads;
  OutputCheck check;
  double errSq = 0, refSq = 0;
  for (int64_t row = 0; row < s.totalQ; ++row) {
    const RowPlace f = placeRow(in, row);
    for (int64_t h = 0; h < s.numQHeads; ++h) {
      // max |v| over the keys of the selected blocks (whole blocks: an upper bound).
      double maxV = 0;
      const int32_t *sel = reference.selection.blocks.data() + (row * s.numQHeads + h) * p.topK;
      for (int64_t slot = 0; slot < p.topK && sel[slot] >= 0; ++slot) {
        const int64_t first = sel[slot] * p.blockSize;
        const int64_t last = std::min(first + p.blockSize, f.seqLenK);
        for (int64_t pos = first; pos < last; ++pos)
          for (int64_t x = 0; x < s.headDim; ++x)
            maxV = std::max(maxV, std::fabs(in.v[((f.keyBegin + pos) * s.numKvHeads +
                                                  h / group) * s.headDim + x]));
      }
      for (int64_t x = 0; x < s.headDim; ++x) {
        const size_t i = static_cast<size_t>((row * s.numQHeads + h) * s.headDim + x);
        const double err = std::fabs(out[i] - refOut[i]);
        errSq += err * err;
        refSq += refOut[i] * refOut[i];
        const double ratio = err / (2 * u * (std::fabs(refOut[i]) + maxV) + 1e-6);
        if (!(ratio <= check.outWorstRatio)) { // also catches NaN
          check.outWorstRatio = std::isnan(ratio) ? HUGE_VAL : ratio;
          check.outWorstIndex = static_cast<int64_t>(i);
        }
      }
      const size_t li = static_cast<size_t>(h * s.totalQ + row);
      const double lseRatio = std::fabs(lse[li] - refLse[li]) / (1e-3 * (1 + std::fabs(refLse[li])));
      if (!(lseRatio <= check.lseWorstRatio)) {
        check.lseWorstRatio = std::isnan(lseRatio) ? HUGE_VAL : lseRatio;
        check.lseWorstIndex = static_cast<int64_t>(li);
      }
    }
  }
  check.outRelativeL2 = refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq);
  return check;
}

std::string OutputCheck::summary() const {
  return fmt::format("out: relative L2 error {:.3g} (limit 1e-2), worst element {} at {:.3g} of "
                     "its bound; lse: worst row {} at {:.3g} of its bound; {}",
                     outRelativeL2, outWorstIndex, outWorstRatio, lseWorstIndex, lseWorstRatio,
                     ok() ? "PASS" : "FAIL");
}

} // namespace mobagen::reference
