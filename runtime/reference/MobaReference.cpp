#include "runtime/reference/MobaReference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

namespace mobagen::reference {
namespace {

/// The largest selection the reference allocates (int32 indices plus float64
/// scores: 12 GiB at the limit), so an absurd top_k is an error, not a bad_alloc.
constexpr int64_t kMaxSelectionEntries = int64_t{1} << 30;

/// A half-open range of key positions within a sequence.
struct KeyRange {
  int64_t begin;
  int64_t end;
};

/// Runs fn(row) for every row in [0, rows) on all hardware threads. Rows are
/// independent and each writes only its own outputs, so the result does not
/// depend on the thread count.
template <typename Fn> void forEachRow(int64_t rows, Fn fn) {
  const int64_t threads =
      std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, std::max<int64_t>(rows, 1));
  if (threads <= 1) {
    for (int64_t r = 0; r < rows; ++r)
      fn(r);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int64_t r = t; r < rows; r += threads)
        fn(r);
    });
  for (auto &thread : pool)
    thread.join();
}

bool mulFits(int64_t a, int64_t b, int64_t c, int64_t &product) {
  int64_t ab;
  return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &product);
}

Status checkOperandSize(const char *name, size_t actual, int64_t rows, int64_t heads,
                        int64_t dim) {
  int64_t needed = 0;
  if (!mulFits(rows, heads, dim, needed))
    return Status::errorf("{}: shape [{}, {}, {}] is too large", name, rows, heads, dim);
  if (static_cast<int64_t>(actual) != needed)
    return Status::errorf("{} holds {} values but its shape [{}, {}, {}] needs {}", name, actual,
                          rows, heads, dim, needed);
  return Status::success();
}

Status checkFinite(const char *name, std::span<const double> values, int64_t heads,
                   int64_t dim) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) {
      const int64_t idx = static_cast<int64_t>(i);
      return Status::errorf("{}[{}, {}, {}] is not finite ({})", name, idx / (heads * dim),
                            (idx / dim) % heads, idx % dim, values[i]);
    }
  return Status::success();
}

Status checkCuSeqlens(const char *name, std::span<const int32_t> cu, int64_t total,
                      const char *operand) {
  if (cu.empty())
    return Status::errorf("{} is empty: it needs B+1 entries starting at 0", name);
  if (cu[0] != 0)
    return Status::errorf("{}[0] is {}: it must start at 0", name, cu[0]);
  for (size_t b = 1; b < cu.size(); ++b)
    if (cu[b] < cu[b - 1])
      return Status::errorf("{} decreases at index {} ({} -> {}): it must be non-decreasing",
                            name, b, cu[b - 1], cu[b]);
  if (cu.back() != total)
    return Status::errorf("{} ends at {} but {} has {} rows", name, cu.back(), operand, total);
  return Status::success();
}

/// Attends one (row, head) to the keys in `ranges` (positions within the row's
/// sequence) and writes out[row, head, :] and lse[head, row].
void attendRow(const AttentionInputs &in, const RowPlace &place, int64_t row, int64_t head,
               std::span<const KeyRange> ranges, double scale, AttentionOutput &result) {
  const AttentionShape &s = in.shape;
  const int64_t d = s.headDim;
  const int64_t kvHead = head / (s.numQHeads / s.numKvHeads);
  const double *q = in.q.data() + (row * s.numQHeads + head) * d;
  auto keyRow = [&](std::span<const double> base, int64_t pos) {
    return base.data() + ((place.keyBegin + pos) * s.numKvHeads + kvHead) * d;
  };

  std::vector<double> logits;
  double maxLogit = -std::numeric_limits<double>::infinity();
  for (const KeyRange &r : ranges)
    for (int64_t pos = r.begin; pos < r.end; ++pos) {
      const double *k = keyRow(in.k, pos);
      double dot = 0.0;
      for (int64_t x = 0; x < d; ++x)
        dot += q[x] * k[x];
      logits.push_back(scale * dot);
      maxLogit = std::max(maxLogit, logits.back());
    }

  double sum = 0.0;
  std::vector<double> acc(static_cast<size_t>(d), 0.0);
  size_t li = 0;
  for (const KeyRange &r : ranges)
    for (int64_t pos = r.begin; pos < r.end; ++pos) {
      const double p = std::exp(logits[li++] - maxLogit);
      sum += p;
      const double *v = keyRow(in.v, pos);
      for (int64_t x = 0; x < d; ++x)
        acc[x] += p * v[x];
    }

  double *out = result.out.data() + (row * s.numQHeads + head) * d;
  for (int64_t x = 0; x < d; ++x)
    out[x] = acc[x] / sum;
  result.lse[head * s.totalQ + row] = maxLogit + std::log(sum);
}

AttentionOutput allocateOutput(const AttentionShape &s) {
  AttentionOutput result;
  result.out.assign(static_cast<size_t>(s.totalQ * s.numQHeads * s.headDim), 0.0);
  result.lse.assign(static_cast<size_t>(s.numQHeads * s.totalQ), 0.0);
  return result;
}

/// The selected blocks of one (row, head), ascending (section 1, step 5).
std::vector<int64_t> selectRow(std::span<const double> scores, const RowPlace &place,
                               const MobaParams &params) {
  const int64_t n = static_cast<int64_t>(scores.size());
  // Past blocks only when causal: the current block is added on its own.
  const int64_t current = params.causal ? place.position / params.blockSize : -1;
  const int64_t candidates = params.causal ? current : n;
  const int64_t wanted = params.causal ? params.topK - 1 : params.topK;
  const int64_t take = std::min(wanted, candidates);

  std::vector<int64_t> order(static_cast<size_t>(candidates));
  std::iota(order.begin(), order.end(), int64_t{0});
  // Highest score first, ties toward the lower block index. NaN (only reachable
  // through overflowing inputs) ranks last, so the order stays a strict weak order.
  auto key = [&](int64_t j) { return std::isnan(scores[j]) ? -HUGE_VAL : scores[j]; };
  std::partial_sort(order.begin(), order.begin() + take, order.end(), [&](int64_t a, int64_t b) {
    return key(a) > key(b) || (key(a) == key(b) && a < b);
  });
  order.resize(static_cast<size_t>(take));
  if (params.causal)
    order.push_back(current);
  std::sort(order.begin(), order.end());
  return order;
}

} // namespace

RowPlace placeRow(const AttentionInputs &in, int64_t row) {
  // cu_seqlens_q is non-decreasing: the row's sequence is the last b with
  // cuQ[b] <= row, which skips empty sequences.
  const auto &cuQ = in.cuSeqlensQ;
  const auto it = std::upper_bound(cuQ.begin(), cuQ.end(), static_cast<int32_t>(row));
  const int64_t seq = (it - cuQ.begin()) - 1;
  const int64_t lq = cuQ[seq + 1] - cuQ[seq];
  const int64_t lk = in.cuSeqlensK[seq + 1] - in.cuSeqlensK[seq];
  const int64_t i = row - cuQ[seq];
  return {seq, in.cuSeqlensK[seq], lk, lk - lq + i};
}

int64_t blockCount(int64_t seqLenK, int64_t blockSize) {
  return seqLenK == 0 ? 0 : (seqLenK - 1) / blockSize + 1;
}

double effectiveScale(const std::optional<double> &scale, int64_t headDim) {
  return scale ? *scale : 1.0 / std::sqrt(static_cast<double>(headDim));
}

Status validateInputs(const AttentionInputs &in, bool causal) {
  const AttentionShape &s = in.shape;
  if (s.numQHeads < 1)
    return Status::errorf("num_q_heads must be >= 1 (got {})", s.numQHeads);
  if (s.numKvHeads < 1)
    return Status::errorf("num_kv_heads must be >= 1 (got {})", s.numKvHeads);
  if (s.headDim < 1)
    return Status::errorf("head_dim must be >= 1 (got {})", s.headDim);
  if (s.totalQ < 0 || s.totalK < 0)
    return Status::errorf("total_q ({}) and total_k ({}) must be >= 0", s.totalQ, s.totalK);
  if (s.numQHeads % s.numKvHeads != 0)
    return Status::errorf("num_q_heads ({}) is not a multiple of num_kv_heads ({})", s.numQHeads,
                          s.numKvHeads);
  MOBAGEN_RETURN_IF_ERROR(checkOperandSize("q", in.q.size(), s.totalQ, s.numQHeads, s.headDim));
  MOBAGEN_RETURN_IF_ERROR(checkOperandSize("k", in.k.size(), s.totalK, s.numKvHeads, s.headDim));
  MOBAGEN_RETURN_IF_ERROR(checkOperandSize("v", in.v.size(), s.totalK, s.numKvHeads, s.headDim));
  if (in.cuSeqlensQ.size() != in.cuSeqlensK.size())
    return Status::errorf("cu_seqlens_q and cu_seqlens_k have different lengths ({} and {}): "
                          "both need B+1 entries",
                          in.cuSeqlensQ.size(), in.cuSeqlensK.size());
  MOBAGEN_RETURN_IF_ERROR(checkCuSeqlens("cu_seqlens_q", in.cuSeqlensQ, s.totalQ, "q"));
  MOBAGEN_RETURN_IF_ERROR(checkCuSeqlens("cu_seqlens_k", in.cuSeqlensK, s.totalK, "k"));
  for (size_t b = 0; b + 1 < in.cuSeqlensQ.size(); ++b) {
    const int64_t lq = in.cuSeqlensQ[b + 1] - in.cuSeqlensQ[b];
    const int64_t lk = in.cuSeqlensK[b + 1] - in.cuSeqlensK[b];
    if (lq > 0 && lk == 0)
      return Status::errorf("sequence {}: Lk = 0 with Lq = {}: its queries have no keys", b, lq);
    if (causal && lq > lk)
      return Status::errorf("sequence {}: Lq = {} > Lk = {}, but causal attention needs "
                            "Lq <= Lk (queries are bottom-right aligned)",
                            b, lq, lk);
  }
  MOBAGEN_RETURN_IF_ERROR(checkFinite("q", in.q, s.numQHeads, s.headDim));
  MOBAGEN_RETURN_IF_ERROR(checkFinite("k", in.k, s.numKvHeads, s.headDim));
  MOBAGEN_RETURN_IF_ERROR(checkFinite("v", in.v, s.numKvHeads, s.headDim));
  return Status::success();
}

Status validateParams(const MobaParams &params) {
  if (params.blockSize < 1)
    return Status::errorf("block_size must be >= 1 (got {})", params.blockSize);
  if (params.topK < 1)
    return Status::errorf("top_k must be >= 1 (got {})", params.topK);
  if (params.scale && !std::isfinite(*params.scale))
    return Status::errorf("scale must be finite (got {})", *params.scale);
  return Status::success();
}

Expected<PooledKeys> poolKeys(const AttentionInputs &in, int64_t blockSize) {
  MOBAGEN_RETURN_IF_ERROR(validateInputs(in, /*causal=*/false));
  if (blockSize < 1)
    return Status::errorf("block_size must be >= 1 (got {})", blockSize);
  const AttentionShape &s = in.shape;
  const int64_t batch = static_cast<int64_t>(in.cuSeqlensK.size()) - 1;
  PooledKeys pooled;
  pooled.cuBlocks.assign(static_cast<size_t>(batch + 1), 0);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t lk = in.cuSeqlensK[b + 1] - in.cuSeqlensK[b];
    pooled.cuBlocks[b + 1] = pooled.cuBlocks[b] + blockCount(lk, blockSize);
  }
  const int64_t rowSize = s.numKvHeads * s.headDim;
  pooled.kbar.assign(static_cast<size_t>(pooled.cuBlocks.back() * rowSize), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t keyBegin = in.cuSeqlensK[b];
    const int64_t lk = in.cuSeqlensK[b + 1] - keyBegin;
    for (int64_t j = 0; j < pooled.cuBlocks[b + 1] - pooled.cuBlocks[b]; ++j) {
      const int64_t first = j * blockSize, last = std::min((j + 1) * blockSize, lk);
      double *dst = pooled.kbar.data() + (pooled.cuBlocks[b] + j) * rowSize;
      for (int64_t pos = first; pos < last; ++pos) {
        const double *src = in.k.data() + (keyBegin + pos) * rowSize;
        for (int64_t x = 0; x < rowSize; ++x)
          dst[x] += src[x];
      }
      for (int64_t x = 0; x < rowSize; ++x)
        dst[x] /= static_cast<double>(last - first);
    }
  }
  return pooled;
}

std::vector<double> gateScores(const AttentionInputs &in, const PooledKeys &pooled, int64_t row,
                               int64_t head) {
  const AttentionShape &s = in.shape;
  const RowPlace place = placeRow(in, row);
  const int64_t kvHead = head / (s.numQHeads / s.numKvHeads);
  const int64_t first = pooled.cuBlocks[place.seq];
  const int64_t n = pooled.cuBlocks[place.seq + 1] - first;
  const double *q = in.q.data() + (row * s.numQHeads + head) * s.headDim;
  std::vector<double> scores(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const double *kbar = pooled.kbar.data() + ((first + j) * s.numKvHeads + kvHead) * s.headDim;
    double dot = 0.0;
    for (int64_t x = 0; x < s.headDim; ++x)
      dot += q[x] * kbar[x];
    scores[j] = dot;
  }
  return scores;
}

Expected<BlockSelection> selectBlocks(const AttentionInputs &in, const MobaParams &params) {
  MOBAGEN_RETURN_IF_ERROR(validateParams(params));
  MOBAGEN_RETURN_IF_ERROR(validateInputs(in, params.causal));
  auto pooled = poolKeys(in, params.blockSize);
  if (!pooled)
    return pooled.status();
  const AttentionShape &s = in.shape;
  int64_t entries = 0;
  if (!mulFits(s.totalQ, s.numQHeads, params.topK, entries) || entries > kMaxSelectionEntries) {
    int64_t maxBlocks = 0;
    for (size_t b = 0; b + 1 < pooled->cuBlocks.size(); ++b)
      maxBlocks = std::max(maxBlocks, pooled->cuBlocks[b + 1] - pooled->cuBlocks[b]);
    return Status::errorf("the selection [total_q {}, Hq {}, top_k {}] would exceed {} entries; "
                          "top_k above the largest block count ({}) selects every block anyway",
                          s.totalQ, s.numQHeads, params.topK, kMaxSelectionEntries, maxBlocks);
  }
  BlockSelection selection;
  selection.slots = params.topK;
  const size_t size = static_cast<size_t>(entries);
  selection.blocks.assign(size, -1);
  selection.scores.assign(size, std::numeric_limits<double>::quiet_NaN());
  forEachRow(s.totalQ, [&](int64_t row) {
    const RowPlace place = placeRow(in, row);
    for (int64_t h = 0; h < s.numQHeads; ++h) {
      const std::vector<double> scores = gateScores(in, *pooled, row, h);
      const std::vector<int64_t> chosen = selectRow(scores, place, params);
      const size_t base = static_cast<size_t>((row * s.numQHeads + h) * params.topK);
      for (size_t slot = 0; slot < chosen.size(); ++slot) {
        selection.blocks[base + slot] = static_cast<int32_t>(chosen[slot]);
        selection.scores[base + slot] = scores[chosen[slot]];
      }
    }
  });
  return selection;
}

Expected<MobaOutput> mobaForward(const AttentionInputs &in, const MobaParams &params) {
  auto selection = selectBlocks(in, params);
  if (!selection)
    return selection.status();
  const AttentionShape &s = in.shape;
  const double scale = effectiveScale(params.scale, s.headDim);
  MobaOutput result{allocateOutput(s), std::move(*selection)};
  forEachRow(s.totalQ, [&](int64_t row) {
    const RowPlace place = placeRow(in, row);
    std::vector<KeyRange> ranges;
    for (int64_t h = 0; h < s.numQHeads; ++h) {
      ranges.clear();
      const int32_t *blocks =
          result.selection.blocks.data() + (row * s.numQHeads + h) * params.topK;
      for (int64_t slot = 0; slot < params.topK && blocks[slot] >= 0; ++slot) {
        const int64_t begin = blocks[slot] * params.blockSize;
        int64_t end = std::min(begin + params.blockSize, place.seqLenK);
        if (params.causal)
          end = std::min(end, place.position + 1); // only the current block is cut
        ranges.push_back({begin, end});
      }
      attendRow(in, place, row, h, ranges, scale, result.attention);
    }
  });
  return result;
}

Expected<AttentionOutput> denseAttention(const AttentionInputs &in, bool causal,
                                         std::optional<double> scale) {
  MOBAGEN_RETURN_IF_ERROR(validateParams({.blockSize = 1, .topK = 1, .causal = causal, .scale = scale}));
  MOBAGEN_RETURN_IF_ERROR(validateInputs(in, causal));
  const AttentionShape &s = in.shape;
  const double effective = effectiveScale(scale, s.headDim);
  AttentionOutput result = allocateOutput(s);
  forEachRow(s.totalQ, [&](int64_t row) {
    const RowPlace place = placeRow(in, row);
    const KeyRange range{0, causal ? place.position + 1 : place.seqLenK};
    for (int64_t h = 0; h < s.numQHeads; ++h)
      attendRow(in, place, row, h, std::span<const KeyRange>(&range, 1), effective, result);
  });
  return result;
}

} // namespace mobagen::reference
