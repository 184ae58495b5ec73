//===- CtaSamplingTest.cpp - The strata and weights of sampled mode --------===//
//
// planCtaSample must partition each y/z slice's x range into its tail (run
// exactly) and bands of even size, run a mirrored pair per band, and weigh them so the
// weights sum to the grid: the estimate of a counter that is the same in every
// CTA is then exact, and of any counter unbiased (CtaSampling.h).
//
//===----------------------------------------------------------------------===//
#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "runtime/emulator/Counters.h"
#include "runtime/emulator/CtaSampling.h"

namespace mobagen::emu {
namespace {

uint64_t weightSum(const std::vector<SampledCta> &plan) {
  uint64_t sum = 0;
  for (const SampledCta &c : plan)
    sum += c.doubleWeight;
  return sum;
}

TEST(CtaSampling, WithoutABudgetOrWithinItEveryCtaRunsOnce) {
  for (uint64_t budget : {uint64_t(0), uint64_t(24), uint64_t(100)}) {
    const auto plan = planCtaSample({4, 3, 2}, budget, 1);
    ASSERT_EQ(plan.size(), 24u) << "budget " << budget;
    for (const SampledCta &c : plan)
      EXPECT_EQ(c.doubleWeight, 2u);
  }
}

TEST(CtaSampling, EachSliceGetsBandsWhoseWeightsSumToTheGrid) {
  const Dim grid{37, 3, 2}; // odd x: the last x runs alone, bands of 18 over [0, 36)
  const auto plan = planCtaSample(grid, 24, 7);
  EXPECT_EQ(weightSum(plan), 2u * 37 * 3 * 2);
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> perSlice;
  for (const SampledCta &c : plan) {
    ASSERT_LT(c.id.x, grid.x);
    ASSERT_LT(c.id.y, grid.y);
    ASSERT_LT(c.id.z, grid.z);
    perSlice[{c.id.y, c.id.z}] += c.doubleWeight;
  }
  ASSERT_EQ(perSlice.size(), 6u); // every y/z slice is sampled
  for (const auto &[slice, weight] : perSlice)
    EXPECT_EQ(weight, 2u * 37) << "slice y " << slice.first << " z " << slice.second;
  // 24 / 6 = 4 CTAs a slice: x = 36 alone and (4 - 1) / 2 = 1 band, [0, 36).
  ASSERT_EQ(plan.size(), 3u * 6);
  EXPECT_EQ(plan[0].id.x + plan[1].id.x, 35u) << "a band's pair is mirrored";
  EXPECT_NE(plan[0].id.x % 2, plan[1].id.x % 2) << "an even band's pair is one even and one odd x";
  EXPECT_EQ(plan[0].doubleWeight, 36u);
  EXPECT_EQ(plan[2].id.x, 36u);
  EXPECT_EQ(plan[2].doubleWeight, 2u) << "the tail stands for itself";
  // A larger budget: 48 / 6 = 8 a slice, 3 bands of 12 over [0, 36).
  const auto wider = planCtaSample(grid, 48, 7);
  ASSERT_EQ(wider.size(), 7u * 6);
  EXPECT_EQ(weightSum(wider), 2u * 37 * 3 * 2);
  EXPECT_LT(wider[0].id.x, 12u);
  EXPECT_EQ(wider[0].id.x + wider[1].id.x, 11u);
  EXPECT_GE(wider[2].id.x, 12u);
  EXPECT_LT(wider[4].id.x + 0u, 36u);
  EXPECT_GE(wider[4].id.x, 24u);
  EXPECT_EQ(wider[6].id.x, 36u);
}

TEST(CtaSampling, EvenGridsRunTheirLastTwoAndBandsOfEvenSize) {
  // 32 x positions, 2 slices, budget 20: 10 a slice, 4 bands of even size over
  // [0, 30) (8 and 6 CTAs), then x = 30 and 31 exactly.
  const auto plan = planCtaSample({32, 2, 1}, 20, 3);
  ASSERT_EQ(plan.size(), 2u * (4 * 2 + 2));
  EXPECT_EQ(weightSum(plan), 2u * 32 * 2);
  for (size_t slice = 0; slice < 2; ++slice) {
    const size_t at = slice * 10;
    for (size_t band = 0; band < 4; ++band) {
      const SampledCta &a = plan[at + 2 * band], &b = plan[at + 2 * band + 1];
      EXPECT_EQ(a.doubleWeight % 2, 0u) << "even band sizes";
      EXPECT_NE(a.id.x % 2, b.id.x % 2);
      EXPECT_LT(a.id.x, 30u);
      EXPECT_LT(b.id.x, 30u);
    }
    EXPECT_EQ(plan[at + 8].id.x, 30u);
    EXPECT_EQ(plan[at + 9].id.x, 31u);
  }
  // An estimate of work that alternates with x (2 on even x, 5 on odd) plus a
  // trend is exact.
  uint64_t estimate = 0, truth = 0;
  auto work = [](uint32_t x) { return uint64_t(3 * x + (x % 2 ? 5 : 2)); };
  for (const SampledCta &c : plan)
    estimate += c.doubleWeight * work(c.id.x);
  for (uint32_t x = 0; x < 32; ++x)
    truth += 2 * 2 * work(x); // two slices, doubled
  EXPECT_EQ(estimate, truth);
}

TEST(CtaSampling, MoreSlicesThanTheBudgetRunOnePairPerSlice) {
  const auto plan = planCtaSample({16, 8, 4}, 8, 1);
  EXPECT_EQ(plan.size(), 4u * 8 * 4); // a pair and the last two x per slice
  EXPECT_EQ(weightSum(plan), 2u * 16 * 8 * 4);
}

TEST(CtaSampling, TinyGridsRunTheirTailOnly) {
  for (uint32_t gx : {1u, 2u}) {
    const auto plan = planCtaSample({gx, 40, 1}, 8, 1);
    EXPECT_EQ(plan.size(), size_t(gx) * 40) << "grid.x " << gx;
    EXPECT_EQ(weightSum(plan), 2u * gx * 40);
  }
}

TEST(CtaSampling, DeterministicForASeedAndDrawnAgainForAnother) {
  auto xs = [](uint64_t seed) {
    std::vector<uint32_t> x;
    for (const SampledCta &c : planCtaSample({64, 2, 1}, 16, seed))
      x.push_back(c.id.x);
    return x;
  };
  EXPECT_EQ(xs(5), xs(5));
  EXPECT_NE(xs(5), xs(6));
}

TEST(CtaSampling, AWeightThatOverflowsACountIsAnError) {
  Counters c;
  c.tensorCoreFlops = uint64_t(1) << 40;
  const Status s = c.scale(uint64_t(1) << 30);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "a sampled CTA's count times its weight: 1099511627776 x 1073741824 overflows the 64-bit "
                         "limit 18446744073709551615");
  Counters ok;
  ok.tensorCoreFlops = 3;
  ok.ctas = ok.executedCtas = 1;
  ASSERT_TRUE(ok.scale(4));
  EXPECT_EQ(ok.tensorCoreFlops, 12u);
  EXPECT_EQ(ok.ctas, 4u);
  EXPECT_EQ(ok.executedCtas, 1u) << "the CTAs that ran are not scaled";
  EXPECT_TRUE(ok.sampled());
}

} // namespace
} // namespace mobagen::emu
