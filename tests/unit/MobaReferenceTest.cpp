// The float64 MoBA reference against DESIGN.md section 1: the equivalences it
// names, hand-computed cases, partial blocks, Lq < Lk, empty sequences, ties, GQA,
// and an independent brute-force implementation (explicit key masks) on random
// varlen batches. Every input error path is covered at the end.
#include "runtime/reference/MobaReference.h"
#include "tests/unit/RandomBatch.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

namespace mobagen::reference {
namespace {

/// Which keys (positions within the sequence) a (row, head) may attend.
using KeyMask = std::function<bool(int64_t seq, int64_t i, int64_t head, int64_t pos)>;

/// Brute-force attention with an explicit mask, written independently of the
/// library: plain softmax over the allowed keys.
AttentionOutput maskedAttention(const Batch &b, double scale, const KeyMask &allowed) {
  const auto &s = b.shape;
  AttentionOutput r;
  r.out.assign(static_cast<size_t>(s.totalQ * s.numQHeads * s.headDim), 0.0);
  r.lse.assign(static_cast<size_t>(s.numQHeads * s.totalQ), 0.0);
  const int64_t group = s.numQHeads / s.numKvHeads;
  for (size_t seq = 0; seq + 1 < b.cuQ.size(); ++seq)
    for (int64_t i = 0; i < b.cuQ[seq + 1] - b.cuQ[seq]; ++i)
      for (int64_t h = 0; h < s.numQHeads; ++h) {
        const int64_t row = b.cuQ[seq] + i;
        std::vector<double> w;
        std::vector<int64_t> keys;
        for (int64_t pos = 0; pos < b.cuK[seq + 1] - b.cuK[seq]; ++pos) {
          if (!allowed(seq, i, h, pos))
            continue;
          double dot = 0;
          for (int64_t x = 0; x < s.headDim; ++x)
            dot += b.q[(row * s.numQHeads + h) * s.headDim + x] *
                   b.k[((b.cuK[seq] + pos) * s.numKvHeads + h / group) * s.headDim + x];
          w.push_back(scale * dot);
          keys.push_back(pos);
        }
        const double m = *std::max_element(w.begin(), w.end());
        double z = 0;
        for (double &e : w)
          z += (e = std::exp(e - m));
        for (size_t t = 0; t < keys.size(); ++t)
          for (int64_t x = 0; x < s.headDim; ++x)
            r.out[(row * s.numQHeads + h) * s.headDim + x] +=
                w[t] / z *
                b.v[((b.cuK[seq] + keys[t]) * s.numKvHeads + h / group) * s.headDim + x];
        r.lse[h * s.totalQ + row] = m + std::log(z);
      }
  return r;
}

/// Brute-force MoBA selection: block means, scores, a stable sort by score.
std::vector<std::vector<bool>> bruteForceSelection(const Batch &b, int64_t seq, int64_t i,
                                                   int64_t h, int64_t bs, int64_t topK,
                                                   bool causal) {
  const auto &s = b.shape;
  const int64_t lq = b.cuQ[seq + 1] - b.cuQ[seq], lk = b.cuK[seq + 1] - b.cuK[seq];
  const int64_t n = (lk + bs - 1) / bs, group = s.numQHeads / s.numKvHeads;
  std::vector<double> score(static_cast<size_t>(n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t cnt = std::min(bs, lk - j * bs);
    for (int64_t x = 0; x < s.headDim; ++x) {
      double mean = 0;
      for (int64_t pos = j * bs; pos < j * bs + cnt; ++pos)
        mean += b.k[((b.cuK[seq] + pos) * s.numKvHeads + h / group) * s.headDim + x];
      score[j] += b.q[((b.cuQ[seq] + i) * s.numQHeads + h) * s.headDim + x] * (mean / cnt);
    }
  }
  const int64_t p = lk - lq + i, c = p / bs;
  std::vector<int64_t> cand;
  for (int64_t j = 0; j < (causal ? c : n); ++j)
    cand.push_back(j);
  std::stable_sort(cand.begin(), cand.end(),
                   [&](int64_t a, int64_t bb) { return score[a] > score[bb]; });
  cand.resize(std::min<size_t>(cand.size(), static_cast<size_t>(causal ? topK - 1 : topK)));
  std::vector<std::vector<bool>> sel(1, std::vector<bool>(static_cast<size_t>(n), false));
  for (int64_t j : cand)
    sel[0][j] = true;
  if (causal)
    sel[0][c] = true;
  return sel;
}

AttentionOutput bruteForceMoba(const Batch &b, int64_t bs, int64_t topK, bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(b.shape.headDim));
  return maskedAttention(b, scale, [&](int64_t seq, int64_t i, int64_t h, int64_t pos) {
    const int64_t lq = b.cuQ[seq + 1] - b.cuQ[seq], lk = b.cuK[seq + 1] - b.cuK[seq];
    if (causal && pos > lk - lq + i)
      return false;
    return bool(bruteForceSelection(b, seq, i, h, bs, topK, causal)[0][pos / bs]);
  });
}

void expectClose(const AttentionOutput &got, const AttentionOutput &want, double tol = 1e-12) {
  ASSERT_EQ(got.out.size(), want.out.size());
  ASSERT_EQ(got.lse.size(), want.lse.size());
  for (size_t i = 0; i < got.out.size(); ++i)
    ASSERT_NEAR(got.out[i], want.out[i], tol) << "out element " << i;
  for (size_t i = 0; i < got.lse.size(); ++i)
    ASSERT_NEAR(got.lse[i], want.lse[i], tol) << "lse element " << i;
}

AttentionOutput moba(const Batch &b, int64_t bs, int64_t topK, bool causal) {
  auto r = mobaForward(b.view(), {.blockSize = bs, .topK = topK, .causal = causal});
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->attention : AttentionOutput{};
}

AttentionOutput dense(const Batch &b, bool causal) {
  auto r = denseAttention(b.view(), causal);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : AttentionOutput{};
}

// --- The equivalences of section 1 ------------------------------------------

TEST(MobaReference, TopKCoveringAllBlocksEqualsDense) {
  // Lengths not multiples of the block, Lq < Lk, and unequal sequences.
  const Batch b = randomBatch({37, 1, 20}, {37, 45, 64}, 4, 2, 16, 1);
  for (bool causal : {true, false}) {
    SCOPED_TRACE(causal ? "causal" : "non-causal");
    expectClose(moba(b, 8, 8, causal), dense(b, causal));   // n = ceil(64/8) = 8 = k
    expectClose(moba(b, 8, 100, causal), dense(b, causal)); // k > n
  }
}

TEST(MobaReference, CausalTopOneEqualsBlockDiagonalCausal) {
  const Batch b = randomBatch({50, 13}, {50, 29}, 2, 2, 8, 2);
  const int64_t bs = 16;
  const auto want = maskedAttention(b, 1.0 / std::sqrt(8.0), [&](int64_t seq, int64_t i, int64_t,
                                                                 int64_t pos) {
    const int64_t p = (b.cuK[seq + 1] - b.cuK[seq]) - (b.cuQ[seq + 1] - b.cuQ[seq]) + i;
    return pos <= p && pos / bs == p / bs;
  });
  expectClose(moba(b, bs, 1, true), want);
}

TEST(MobaReference, BlockCoveringAllKeysEqualsDense) {
  const Batch b = randomBatch({30, 7}, {30, 41}, 2, 1, 8, 3);
  for (bool causal : {true, false})
    for (int64_t topK : {1, 3}) {
      expectClose(moba(b, 41, topK, causal), dense(b, causal));
      expectClose(moba(b, 4096, topK, causal), dense(b, causal));
      // The largest block size must not overflow the block count or key ranges.
      expectClose(moba(b, std::numeric_limits<int64_t>::max(), topK, causal), dense(b, causal));
    }
}

// --- Hand-computed cases -------------------------------------------------------

TEST(MobaReference, ZeroQueryTiesPickLowestBlocksAndAverageValues) {
  // q = 0: every gate score is 0 (a tie among all past blocks) and every logit is
  // 0, so out is the plain mean of the attended values and lse = log(count).
  Batch b;
  b.shape = {8, 8, 1, 1, 1};
  b.q.assign(8, 0.0);
  b.k = {1, 2, 3, 4, 5, 6, 7, 8};
  b.v = {10, 20, 30, 40, 50, 60, 70, 80};
  b.cuQ = {0, 8};
  b.cuK = {0, 8};
  auto r = mobaForward(b.view(), {.blockSize = 2, .topK = 2, .causal = true});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // Row 7 (p = 7, current block 3): past blocks 0, 1, 2 tie; block 0 wins.
  EXPECT_EQ(r->selection.blocks[7 * 2 + 0], 0);
  EXPECT_EQ(r->selection.blocks[7 * 2 + 1], 3);
  EXPECT_DOUBLE_EQ(r->attention.out[7], (10 + 20 + 70 + 80) / 4.0);
  EXPECT_DOUBLE_EQ(r->attention.lse[7], std::log(4.0));
  // Row 4 (p = 4, block 2): keys {0, 1} and {4}.
  EXPECT_DOUBLE_EQ(r->attention.out[4], (10 + 20 + 50) / 3.0);
  EXPECT_DOUBLE_EQ(r->attention.lse[4], std::log(3.0));
  // Row 1 (block 0, no past block): keys {0, 1}; the second slot is empty.
  EXPECT_EQ(r->selection.blocks[1 * 2 + 0], 0);
  EXPECT_EQ(r->selection.blocks[1 * 2 + 1], -1);
  EXPECT_TRUE(std::isnan(r->selection.scores[1 * 2 + 1]));
  EXPECT_DOUBLE_EQ(r->attention.out[1], 15.0);
  EXPECT_DOUBLE_EQ(r->attention.out[0], 10.0);
  EXPECT_DOUBLE_EQ(r->attention.lse[0], 0.0);
}

TEST(MobaReference, HandComputedSelectionAndSoftmax) {
  // D = 1, q = 1: the gate score of a block is its mean key.
  // Blocks of 2: means 0.5, 5.5, -1, 2 -> for row 7 (block 3), top-2 past = {1, 0}.
  Batch b;
  b.shape = {8, 8, 1, 1, 1};
  b.q.assign(8, 1.0);
  b.k = {0, 1, 5, 6, -1, -1, 2, 2};
  b.v = {1, 2, 3, 4, 5, 6, 7, 8};
  b.cuQ = {0, 8};
  b.cuK = {0, 8};
  auto r = mobaForward(b.view(), {.blockSize = 2, .topK = 3, .causal = true, .scale = 1.0});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(std::vector<int32_t>(r->selection.blocks.begin() + 21, r->selection.blocks.end()),
            (std::vector<int32_t>{0, 1, 3}));
  EXPECT_DOUBLE_EQ(r->selection.scores[21], 0.5);
  EXPECT_DOUBLE_EQ(r->selection.scores[22], 5.5);
  EXPECT_DOUBLE_EQ(r->selection.scores[23], 2.0);
  // Row 7 attends keys 0, 1, 2, 3, 6, 7 with logits 0, 1, 5, 6, 2, 2.
  const double w[] = {std::exp(0), std::exp(1), std::exp(5), std::exp(6), std::exp(2), std::exp(2)};
  const double vals[] = {1, 2, 3, 4, 7, 8};
  double z = 0, num = 0;
  for (int t = 0; t < 6; ++t) {
    z += w[t];
    num += w[t] * vals[t];
  }
  EXPECT_NEAR(r->attention.out[7], num / z, 1e-14);
  EXPECT_NEAR(r->attention.lse[7], std::log(z), 1e-14);
  // Row 5 (block 2, past blocks 0 and 1 both selected): keys 0..5.
  EXPECT_EQ(std::vector<int32_t>(r->selection.blocks.begin() + 15, r->selection.blocks.begin() + 18),
            (std::vector<int32_t>{0, 1, 2}));
}

TEST(MobaReference, PartialLastBlockIsMeanOfPresentRows) {
  Batch b = randomBatch({10}, {10}, 1, 1, 2, 4);
  auto pooled = poolKeys(b.view(), 4);
  ASSERT_TRUE(pooled.ok());
  ASSERT_EQ(pooled->cuBlocks, (std::vector<int64_t>{0, 3}));
  for (int x = 0; x < 2; ++x) {
    EXPECT_DOUBLE_EQ(pooled->kbar[2 * 2 + x], (b.k[8 * 2 + x] + b.k[9 * 2 + x]) / 2);
    EXPECT_NEAR(pooled->kbar[0 * 2 + x],
                (b.k[0 * 2 + x] + b.k[1 * 2 + x] + b.k[2 * 2 + x] + b.k[3 * 2 + x]) / 4, 1e-15);
  }
  expectClose(moba(b, 4, 2, true), bruteForceMoba(b, 4, 2, true));
  expectClose(moba(b, 4, 2, false), bruteForceMoba(b, 4, 2, false));
}

TEST(MobaReference, TiesBreakTowardLowerBlockIndex) {
  // Blocks 1 and 3 hold identical keys, so they score the same for every query;
  // with room for one of them, block 1 must win, causal or not.
  Batch b = randomBatch({1}, {20}, 1, 1, 4, 5);
  for (int pos = 0; pos < 4; ++pos)
    for (int x = 0; x < 4; ++x) {
      b.k[(12 + pos) * 4 + x] = b.k[(4 + pos) * 4 + x] = 5.0 + pos + x; // dominant score
      b.k[(0 + pos) * 4 + x] = b.k[(8 + pos) * 4 + x] = -5.0;           // low score
    }
  for (int x = 0; x < 4; ++x)
    b.q[x] = 1.0;
  auto causal = mobaForward(b.view(), {.blockSize = 4, .topK = 2, .causal = true});
  ASSERT_TRUE(causal.ok());
  EXPECT_EQ(causal->selection.blocks, (std::vector<int32_t>{1, 4}));
  auto nonCausal = mobaForward(b.view(), {.blockSize = 4, .topK = 1, .causal = false});
  ASSERT_TRUE(nonCausal.ok());
  EXPECT_EQ(nonCausal->selection.blocks, (std::vector<int32_t>{1}));
}

// --- Query positions, empty sequences, GQA --------------------------------------

TEST(MobaReference, DecodeAndChunkedPrefillMatchBruteForce) {
  // Lq = 1 (decode), 1 < Lq < Lk (chunked prefill), Lq = Lk, in one batch.
  const Batch b = randomBatch({1, 9, 24}, {37, 40, 24}, 2, 1, 8, 6);
  for (int64_t topK : {1, 2, 3})
    for (bool causal : {true, false}) {
      SCOPED_TRACE(testing::Message() << "top-k " << topK << (causal ? " causal" : " non-causal"));
      expectClose(moba(b, 8, topK, causal), bruteForceMoba(b, 8, topK, causal));
    }
}

TEST(MobaReference, DecodeRowSitsAtLastKeyPosition) {
  // One query, 37 keys, block 8: p = 36, current block 4 holds keys 32..36.
  const Batch b = randomBatch({1}, {37}, 1, 1, 4, 7);
  auto r = mobaForward(b.view(), {.blockSize = 8, .topK = 1, .causal = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->selection.blocks, (std::vector<int32_t>{4}));
}

TEST(MobaReference, EmptySequencesProduceNothingAndDisturbNothing) {
  // Sequence 1 has Lq = 0 (and Lk = 5), sequence 3 has Lq = Lk = 0.
  const Batch all = randomBatch({6, 0, 4, 0}, {6, 5, 9, 0}, 2, 2, 4, 8);
  const auto got = moba(all, 4, 2, true);
  // The same rows computed from the non-empty sequences alone.
  Batch first = all, third = all;
  first.cuQ = {0, 6};
  first.cuK = {0, 6};
  first.shape.totalQ = 6;
  first.shape.totalK = 6;
  first.q.resize(6 * 2 * 4);
  first.k.resize(6 * 2 * 4);
  first.v.resize(6 * 2 * 4);
  third.cuQ = {0, 4};
  third.cuK = {0, 9};
  third.shape.totalQ = 4;
  third.shape.totalK = 9;
  third.q.assign(all.q.begin() + 6 * 8, all.q.end());
  third.k.assign(all.k.begin() + 11 * 8, all.k.end());
  third.v.assign(all.v.begin() + 11 * 8, all.v.end());
  const auto a = moba(first, 4, 2, true), c = moba(third, 4, 2, true);
  for (size_t i = 0; i < a.out.size(); ++i)
    EXPECT_EQ(got.out[i], a.out[i]);
  for (size_t i = 0; i < c.out.size(); ++i)
    EXPECT_EQ(got.out[a.out.size() + i], c.out[i]);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t r = 0; r < 6; ++r)
      EXPECT_EQ(got.lse[h * 10 + r], a.lse[h * 6 + r]);
    for (int64_t r = 0; r < 4; ++r)
      EXPECT_EQ(got.lse[h * 10 + 6 + r], c.lse[h * 4 + r]);
  }
  // A batch with no query rows at all is valid and empty.
  const Batch none = randomBatch({0, 0}, {0, 3}, 1, 1, 4, 9);
  EXPECT_TRUE(moba(none, 4, 1, true).out.empty());
}

class GqaRatio : public ::testing::TestWithParam<int64_t> {};

TEST_P(GqaRatio, EqualsKvHeadsRepeatedPerQueryHead) {
  const int64_t group = GetParam(), hkv = 2, hq = hkv * group, d = 8;
  const Batch gqa = randomBatch({19, 12}, {19, 33}, hq, hkv, d, 10 + static_cast<uint32_t>(group));
  // The same problem with every kv head repeated for its query heads (Hkv = Hq).
  Batch mha = gqa;
  mha.shape.numKvHeads = hq;
  mha.k.clear();
  mha.v.clear();
  for (int64_t row = 0; row < gqa.shape.totalK; ++row)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t x = 0; x < d; ++x) {
        mha.k.push_back(gqa.k[(row * hkv + h / group) * d + x]);
        mha.v.push_back(gqa.v[(row * hkv + h / group) * d + x]);
      }
  for (bool causal : {true, false}) {
    auto a = mobaForward(gqa.view(), {.blockSize = 8, .topK = 2, .causal = causal});
    auto b = mobaForward(mha.view(), {.blockSize = 8, .topK = 2, .causal = causal});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->attention.out, b->attention.out);
    EXPECT_EQ(a->attention.lse, b->attention.lse);
    EXPECT_EQ(a->selection.blocks, b->selection.blocks);
    expectClose(a->attention, bruteForceMoba(gqa, 8, 2, causal));
  }
}

INSTANTIATE_TEST_SUITE_P(Ratios, GqaRatio, ::testing::Values(1, 2, 4, 8));

TEST(MobaReference, RandomVarlenBatchesMatchBruteForce) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 12; ++trial) {
    const int batch = 1 + static_cast<int>(rng() % 3);
    std::vector<int32_t> lq, lk;
    for (int i = 0; i < batch; ++i) {
      lk.push_back(1 + static_cast<int32_t>(rng() % 48));
      lq.push_back(1 + static_cast<int32_t>(rng() % lk.back()));
    }
    const int64_t hkv = 1 + rng() % 2, hq = hkv * (1 + rng() % 3);
    const int64_t bs = std::vector<int64_t>{1, 3, 4, 8, 16}[rng() % 5];
    const int64_t topK = 1 + rng() % 5;
    const bool causal = rng() % 2;
    const Batch b = randomBatch(lq, lk, hq, hkv, 4, 100 + trial);
    SCOPED_TRACE(testing::Message() << "trial " << trial << " bs " << bs << " k " << topK);
    expectClose(moba(b, bs, topK, causal), bruteForceMoba(b, bs, topK, causal));
  }
}

TEST(MobaReference, SelectionScoresAreGateScores) {
  const Batch b = randomBatch({20}, {20}, 2, 1, 8, 11);
  auto r = mobaForward(b.view(), {.blockSize = 4, .topK = 3, .causal = true});
  auto pooled = poolKeys(b.view(), 4);
  ASSERT_TRUE(r.ok() && pooled.ok());
  for (int64_t row = 0; row < 20; ++row)
    for (int64_t h = 0; h < 2; ++h) {
      const auto scores = gateScores(b.view(), *pooled, row, h);
      const size_t base = static_cast<size_t>((row * 2 + h) * 3);
      int32_t previous = -1;
      for (size_t slot = 0; slot < 3; ++slot) {
        const int32_t j = r->selection.blocks[base + slot];
        if (j < 0)
          continue;
        EXPECT_GT(j, previous); // ascending
        previous = j;
        EXPECT_EQ(r->selection.scores[base + slot], scores[j]);
      }
    }
}

TEST(MobaReference, NonCausalAllowsMoreQueriesThanKeys) {
  const Batch b = randomBatch({12}, {5}, 1, 1, 4, 12);
  expectClose(moba(b, 2, 2, false), bruteForceMoba(b, 2, 2, false));
}

// --- Errors ------------------------------------------------------------------

std::string errorOf(const Batch &b, MobaParams params) {
  auto r = mobaForward(b.view(), params);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(MobaReference, RejectsBadInputsWithPreciseMessages) {
  const Batch good = randomBatch({4, 3}, {4, 6}, 4, 2, 8, 13);
  const MobaParams params{.blockSize = 2, .topK = 2, .causal = true};
  ASSERT_TRUE(mobaForward(good.view(), params).ok());

  auto with = [&](auto edit) {
    Batch b = good;
    edit(b);
    return b;
  };
  EXPECT_EQ(errorOf(good, {.blockSize = 0, .topK = 2}), "block_size must be >= 1 (got 0)");
  EXPECT_EQ(errorOf(good, {.blockSize = 2, .topK = 0}), "top_k must be >= 1 (got 0)");
  EXPECT_EQ(errorOf(good, {.blockSize = 2, .topK = 1, .scale = INFINITY}),
            "scale must be finite (got inf)");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.shape.numKvHeads = 3; }), params),
            "num_q_heads (4) is not a multiple of num_kv_heads (3)");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.shape.numKvHeads = 0; }), params),
            "num_kv_heads must be >= 1 (got 0)");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.q.pop_back(); }), params),
            "q holds 223 values but its shape [7, 4, 8] needs 224");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuK.push_back(10); }), params),
            "cu_seqlens_q and cu_seqlens_k have different lengths (3 and 4): both need B+1 entries");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuQ = {}; b.cuK = {}; }), params),
            "cu_seqlens_q is empty: it needs B+1 entries starting at 0");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuQ[0] = 1; }), params),
            "cu_seqlens_q[0] is 1: it must start at 0");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuK = {0, 4, 9}; }), params),
            "cu_seqlens_k ends at 9 but k has 10 rows");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuQ = {0, 5, 4}; }), params),
            "cu_seqlens_q decreases at index 2 (5 -> 4): it must be non-decreasing");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuQ = {0, 5, 7}; b.cuK = {0, 4, 10}; }), params),
            "sequence 0: Lq = 5 > Lk = 4, but causal attention needs Lq <= Lk (queries are "
            "bottom-right aligned)");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.cuK = {0, 0, 10}; }), params),
            "sequence 0: Lk = 0 with Lq = 4: its queries have no keys");
  EXPECT_EQ(errorOf(with([](Batch &b) { b.k[8 * 2 + 3] = NAN; }), params),
            "k[1, 0, 3] is not finite (nan)");
  // An absurd top_k is refused before anything is allocated for it.
  EXPECT_EQ(errorOf(good, {.blockSize = 2, .topK = int64_t{1} << 40}),
            "the selection [total_q 7, Hq 4, top_k 1099511627776] would exceed 1073741824 "
            "entries; top_k above the largest block count (3) selects every block anyway");
}

} // namespace
} // namespace mobagen::reference
