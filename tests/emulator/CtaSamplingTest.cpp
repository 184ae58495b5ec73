//===- CtaSamplingTest.cpp - The strata and weights of sampled mode --------===//
//
// planCtaSample must partition each y/z slice's x range into bands, run a
// mirrored pair (or a band's middle alone) per band, and weigh them so the
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
  const Dim grid{37, 3, 2}; // odd x: bands of 9 and 10, some with a middle CTA
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
  // 24 / (2 * 6) = 2 bands per slice: [0, 18) and [18, 37); the pair of the first band.
  EXPECT_LT(plan[0].id.x, 18u);
  EXPECT_EQ(plan[0].id.x + plan[1].id.x, 17u) << "a band's pair is mirrored";
  EXPECT_LE(plan.size(), 24u);
}

TEST(CtaSampling, MoreSlicesThanTheBudgetRunOnePairPerSlice) {
  const auto plan = planCtaSample({16, 8, 4}, 8, 1);
  EXPECT_EQ(plan.size(), 2u * 8 * 4);
  EXPECT_EQ(weightSum(plan), 2u * 16 * 8 * 4);
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
