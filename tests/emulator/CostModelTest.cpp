//===- CostModelTest.cpp - The emulator's cost model ranks sensibly ---------===//
//
// The autotuner ranks variants on the emulator by this model, so it must be
// deterministic (the same work costs the same on any number of host threads) and
// monotone (more instructions, more bytes, more bank conflicts: a higher cost).
//
//===----------------------------------------------------------------------===//
#include <cmath>

#include "tests/emulator/EmuTestSupport.h"

namespace mobagen::emu::testing {
namespace {

using device::KernelArgs;

class CostModelKernelTest : public EmuKernelTest {
protected:
  /// Counters and modeled cost of one launch of repeated_fma on 4096 elements.
  std::pair<Counters, double> fma(int reps, uint32_t block = 128) {
    const int n = 4096;
    std::vector<float> x(n, 0.5f);
    auto dx = upload(x), dy = upload(x);
    const uint32_t grid = (n + block - 1) / block;
    Status s = launch("repeated_fma", {grid}, {block}, KernelArgs().add(n).add(reps).add(0.75f).add(dx).add(dy));
    EXPECT_TRUE(s.ok()) << s.message();
    return {dev.counters(), modeledMicroseconds(dev.counters())};
  }
  /// Counters and modeled cost of one launch of shared_stride (8 CTAs of 32).
  std::pair<Counters, double> shared(int stride, int rounds = 16) {
    std::vector<float> x(8 * 32, 1.0f);
    auto dx = upload(x);
    auto dout = output<float>(x.size());
    Status s = launch("shared_stride", {8}, {32}, KernelArgs().add(stride).add(rounds).add(dx).add(dout));
    EXPECT_TRUE(s.ok()) << s.message();
    return {dev.counters(), modeledMicroseconds(dev.counters())};
  }
};

TEST_P(CostModelKernelTest, IsDeterministicAcrossRunsAndHostThreads) {
  load("costs");
  const auto [counters, cost] = fma(32);
  EXPECT_EQ(fma(32).second, cost);
  // The same launch on a device with another number of host threads.
  EmulatorDevice single{EmulatorOptions{.threads = 1}};
  auto id = single.loadModule(readPtx("costs", GetParam()), "costs");
  ASSERT_TRUE(id.ok()) << id.status().message();
  const int n = 4096;
  std::vector<float> x(n, 0.5f);
  auto dx = single.allocate(n * 4), dy = single.allocate(n * 4);
  ASSERT_TRUE(dx.ok() && dy.ok());
  ASSERT_TRUE(single.copyToDevice(*dx, x.data(), n * 4).ok());
  ASSERT_TRUE(single.copyToDevice(*dy, x.data(), n * 4).ok());
  ASSERT_TRUE(single.launch(*id, "repeated_fma", {{32}, {128}},
                            KernelArgs().add(n).add(32).add(0.75f).add(*dx).add(*dy)).ok());
  EXPECT_EQ(single.counters().totalWarpInstructions(), counters.totalWarpInstructions());
  EXPECT_EQ(modeledMicroseconds(single.counters()), cost);
}

TEST_P(CostModelKernelTest, MoreInstructionsCostMore) {
  load("costs");
  const auto [c8, cost8] = fma(8);
  const auto [c64, cost64] = fma(64);
  const auto [c256, cost256] = fma(256);
  // Same global traffic, more instructions.
  EXPECT_EQ(c8.globalBytesRead, c256.globalBytesRead);
  EXPECT_EQ(c8.globalBytesWritten, c256.globalBytesWritten);
  EXPECT_LT(c8.totalWarpInstructions(), c64.totalWarpInstructions());
  EXPECT_LT(cost8, cost64);
  EXPECT_LT(cost64, cost256);
  EXPECT_GT(cost8, CostModelParams().launchMicroseconds);
}

TEST_P(CostModelKernelTest, AGridThatFillsMoreSmsCostsLess) {
  load("costs");
  // The same 4096 elements in 128 CTAs of 32 threads or 16 CTAs of 256: the small
  // grid leaves most of the 132 SMs idle.
  const auto [wide, wideCost] = fma(64, 32);
  const auto [narrow, narrowCost] = fma(64, 256);
  EXPECT_EQ(wide.ctas, 128u);
  EXPECT_EQ(narrow.ctas, 16u);
  EXPECT_LT(wideCost, narrowCost);
}

TEST_P(CostModelKernelTest, BankConflictsCostMoreThanNone) {
  load("costs");
  const auto [free1, cost1] = shared(1);
  const auto [two, cost2] = shared(2);
  const auto [all, cost32] = shared(32);
  EXPECT_EQ(free1.sharedBankConflicts, 0u);
  EXPECT_GT(free1.sharedAccesses, 0u);
  // Same instructions, more wavefronts: stride 2 is 2-way, stride 32 is 32-way.
  EXPECT_EQ(free1.totalWarpInstructions(), all.totalWarpInstructions());
  EXPECT_EQ(two.sharedBankConflicts, free1.sharedAccesses);
  EXPECT_EQ(all.sharedBankConflicts, 31 * free1.sharedAccesses);
  EXPECT_LT(cost1, cost2);
  EXPECT_LT(cost2, cost32);
}

INSTANTIATE_TEST_SUITE_P(Targets, CostModelKernelTest, ::testing::ValuesIn(targets()));

// The model on its own, on counters made up to isolate each term.
TEST(CostModelTest, AnEmptyLaunchCostsTheLaunchLatency) {
  Counters c;
  c.ctas = 1;
  EXPECT_EQ(modeledMicroseconds(c), CostModelParams().launchMicroseconds);
}

TEST(CostModelTest, EachTermMatchesItsHardwareRate) {
  CostModelParams p;
  Counters c;
  c.ctas = 132; // the whole part
  c.globalBytesRead = 4'800'000'000ull;      // 1 ms at 4.8 TB/s
  EXPECT_DOUBLE_EQ(modeledMicroseconds(c, p), p.launchMicroseconds + 1000.0);
  Counters t;
  t.ctas = 132;
  t.tensorCoreFlops = 660'000'000'000ull;    // 1 ms at 660 TFLOP/s
  EXPECT_DOUBLE_EQ(modeledMicroseconds(t, p), p.launchMicroseconds + 1000.0);
  Counters i;
  i.ctas = 132;
  i.warpInstructions[0] = 132ull * 4 * 1'980'000; // 4 per SM per cycle for 1 ms at 1.98 GHz
  EXPECT_NEAR(modeledMicroseconds(i, p), p.launchMicroseconds + 1000.0, 1e-9);
}

TEST(CostModelTest, TheBottleneckCountsFullyTheOtherTermsAtTheirShare) {
  CostModelParams p;
  Counters c;
  c.ctas = 132;
  c.globalBytesRead = 4'800'000'000ull;   // 1000 us: the bottleneck
  c.tensorCoreFlops = 330'000'000'000ull; // 500 us, overlapped but for 10%
  EXPECT_DOUBLE_EQ(modeledMicroseconds(c, p), p.launchMicroseconds + 1000.0 + 0.1 * 500.0);
  p.nonBottleneckShare = 0; // a pure roofline
  EXPECT_DOUBLE_EQ(modeledMicroseconds(c, p), p.launchMicroseconds + 1000.0);
}

TEST(CostModelTest, EveryCounterRaisesTheCost) {
  // Starting from a launch bound by instruction issue, adding any other kind of work
  // must cost something, even when it is not the bottleneck: otherwise two variants
  // that differ only in bank conflicts or bytes would tie.
  Counters base;
  base.ctas = 132;
  base.warpInstructions[0] = 1'000'000;
  base.sharedAccesses = 10'000;
  base.globalBytesRead = 1'000'000;
  base.tensorCoreFlops = 1'000'000;
  const double baseCost = modeledMicroseconds(base);
  Counters conflicts = base;
  conflicts.sharedBankConflicts += 10'000;
  Counters bytes = base;
  bytes.globalBytesWritten += 1'000'000;
  Counters flops = base;
  flops.tensorCoreFlops += 1'000'000;
  Counters instructions = base;
  instructions.warpInstructions[0] += 1000;
  EXPECT_GT(modeledMicroseconds(conflicts), baseCost);
  EXPECT_GT(modeledMicroseconds(bytes), baseCost);
  EXPECT_GT(modeledMicroseconds(flops), baseCost);
  EXPECT_GT(modeledMicroseconds(instructions), baseCost);
}

} // namespace
} // namespace mobagen::emu::testing
