// The rules that decide whether a kernel's result matches the reference:
// outputs within the derived per-element bounds, and selections valid up to the
// gate-score error bound (near-ties accepted, everything else reported).
#include "runtime/reference/Compare.h"
#include "tests/unit/RandomBatch.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace mobagen::reference {
namespace {

struct Problem : Batch {
  MobaParams params{.blockSize = 4, .topK = 3, .causal = true};
};

/// Two sequences (20 queries over 20 keys, 9 over 25), Hq 4, Hkv 2, D 8, with
/// bf16-exact values as a kernel would read them.
Problem randomProblem(uint32_t seed) {
  Problem p;
  static_cast<Batch &>(p) = randomBatch({20, 9}, {20, 25}, 4, 2, 8, seed);
  for (auto *x : {&p.q, &p.k, &p.v})
    for (double &e : *x)
      e = roundToDType(e, DType::BF16);
  return p;
}

MobaOutput referenceOf(const Problem &p) {
  auto r = mobaForward(p.view(), p.params);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

OutputCheck outputs(const Problem &p, const std::vector<double> &out, const std::vector<double> &lse,
                    const MobaOutput &ref) {
  auto c = checkOutputs(p.view(), p.params, DType::BF16, out, lse, ref);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? c.value() : OutputCheck{};
}

TEST(CompareOutputs, ReferenceAndItsBf16RoundingPass) {
  const Problem p = randomProblem(1);
  const MobaOutput ref = referenceOf(p);
  OutputCheck same = outputs(p, ref.attention.out, ref.attention.lse, ref);
  EXPECT_TRUE(same.ok()) << same.summary();
  EXPECT_EQ(same.outWorstRatio, 0);
  std::vector<double> rounded = ref.attention.out;
  for (double &x : rounded)
    x = roundToDType(x, DType::BF16);
  const OutputCheck check = outputs(p, rounded, ref.attention.lse, ref);
  EXPECT_TRUE(check.ok()) << check.summary();
  EXPECT_GT(check.outWorstRatio, 0);
  EXPECT_LE(check.outWorstRatio, 0.5); // rounding costs at most u |ref| of the 2u(...) bound
}

TEST(CompareOutputs, ElementBeyondItsBoundFails) {
  const Problem p = randomProblem(2);
  const MobaOutput ref = referenceOf(p);
  std::vector<double> out = ref.attention.out;
  out[123] += 0.1; // bound is about 2^-7 * (|ref| + max|v|) ~ 0.03
  const OutputCheck check = outputs(p, out, ref.attention.lse, ref);
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(check.outWorstIndex, 123);
  EXPECT_GT(check.outWorstRatio, 1);
  EXPECT_NE(check.summary().find("FAIL"), std::string::npos);
}

TEST(CompareOutputs, NoiseAboveOnePercentL2Fails) {
  const Problem p = randomProblem(3);
  const MobaOutput ref = referenceOf(p);
  std::vector<double> out = ref.attention.out;
  for (double &x : out)
    x *= 1.02; // 2% everywhere: within no per-element bound's reach for small |ref|
  const OutputCheck check = outputs(p, out, ref.attention.lse, ref);
  EXPECT_NEAR(check.outRelativeL2, 0.02, 1e-9);
  EXPECT_FALSE(check.ok());
}

TEST(CompareOutputs, LseAndNaNAreChecked) {
  const Problem p = randomProblem(4);
  const MobaOutput ref = referenceOf(p);
  std::vector<double> lse = ref.attention.lse;
  lse[7] += 0.01 * (1 + std::fabs(lse[7]));
  OutputCheck check = outputs(p, ref.attention.out, lse, ref);
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(check.lseWorstIndex, 7);
  std::vector<double> out = ref.attention.out;
  out[5] = NAN;
  check = outputs(p, out, ref.attention.lse, ref);
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(check.outWorstIndex, 5);
  auto wrongSize = checkOutputs(p.view(), p.params, DType::BF16, std::vector<double>(3), lse, ref);
  EXPECT_FALSE(wrongSize.ok());
}

SelectionCheck selection(const Problem &p, const std::vector<int32_t> &blocks, const MobaOutput &ref) {
  auto c = checkSelection(p.view(), p.params, blocks, ref.selection);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? c.value() : SelectionCheck{};
}

TEST(CompareSelection, ReferenceIsExact) {
  const Problem p = randomProblem(5);
  const MobaOutput ref = referenceOf(p);
  const SelectionCheck c = selection(p, ref.selection.blocks, ref);
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.exact, c.entries);
  EXPECT_EQ(c.entries, 29 * 4);
}

TEST(CompareSelection, StructuralErrorsAreNamed) {
  const Problem p = randomProblem(6);
  const MobaOutput ref = referenceOf(p);
  // Row 19 of sequence 0 sits at p = 19: current block 4, past blocks 0..3, 3 slots.
  const size_t base = (19 * 4 + 0) * 3;
  auto edited = [&](std::vector<int32_t> slots) {
    std::vector<int32_t> blocks = ref.selection.blocks;
    std::copy(slots.begin(), slots.end(), blocks.begin() + base);
    return selection(p, blocks, ref);
  };
  const auto &r = ref.selection.blocks;
  ASSERT_EQ(r[base + 2], 4); // the current block is the largest selected index
  EXPECT_NE(edited({r[base], -1, 4}).firstMismatch.find("after an empty slot"), std::string::npos);
  EXPECT_NE(edited({r[base + 1], r[base], 4}).firstMismatch.find("not strictly ascending"),
            std::string::npos);
  EXPECT_NE(edited({r[base], r[base + 1], -1}).firstMismatch.find("2 blocks selected, expected 3"),
            std::string::npos);
  EXPECT_NE(edited({r[base], r[base + 1], 5}).firstMismatch.find("block 5 does not exist"),
            std::string::npos);
  EXPECT_EQ(edited({r[base], r[base + 1], 4}).mismatches, 0);
  const SelectionCheck noCurrent = edited({0, 1, 2});
  EXPECT_EQ(noCurrent.mismatches, 1);
  EXPECT_EQ(noCurrent.firstMismatch.substr(0, 16), "row 19 head 0: t");
}

TEST(CompareSelection, LowerScoringBlockIsAMismatchButANearTieIsNot) {
  Problem p = randomProblem(7);
  // Make blocks 1 and 2 of sequence 0 (keys 4..11, kv head 0) score almost alike for
  // every query: block 2 is block 1 plus a perturbation far below the error bound.
  for (int r = 0; r < 4; ++r)
    for (int x = 0; x < 8; ++x)
      p.k[((8 + r) * 2 + 0) * 8 + x] = p.k[((4 + r) * 2 + 0) * 8 + x] * (1 + 1e-12);
  // Row 19, head 0 points at block 1's mean, so the twins outscore blocks 0 and 3.
  for (int x = 0; x < 8; ++x) {
    double mean = 0;
    for (int r = 0; r < 4; ++r)
      mean += p.k[((4 + r) * 2 + 0) * 8 + x] / 4;
    p.q[(19 * 4 + 0) * 8 + x] = 10 * mean;
  }
  p.params = {.blockSize = 4, .topK = 2, .causal = true};
  const MobaOutput ref = referenceOf(p);
  // Row 19 (current block 4) has one past slot.
  const size_t base = (19 * 4 + 0) * 2;
  const int32_t picked = ref.selection.blocks[base];
  ASSERT_TRUE(picked == 1 || picked == 2) << picked;
  for (int32_t other : {0, 1, 2, 3}) {
    if (other == picked)
      continue;
    std::vector<int32_t> blocks = ref.selection.blocks;
    blocks[base] = other;
    const SelectionCheck c = selection(p, blocks, ref);
    if (other == 1 || other == 2) { // the twin: a near-tie, accepted
      EXPECT_TRUE(c.ok()) << c.firstMismatch;
      EXPECT_EQ(c.nearTies, 1);
    } else {
      EXPECT_EQ(c.mismatches, 1) << "swap " << picked << " -> " << other;
      EXPECT_NE(c.firstMismatch.find("more than the error bound"), std::string::npos)
          << c.firstMismatch;
    }
  }
  auto wrongSize = checkSelection(p.view(), p.params, std::vector<int32_t>(5), ref.selection);
  ASSERT_FALSE(wrongSize.ok());
  EXPECT_NE(wrongSize.status().message().find("needs 232"), std::string::npos)
      << wrongSize.status().message();
}

} // namespace
} // namespace mobagen::reference
