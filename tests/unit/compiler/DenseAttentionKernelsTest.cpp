// The dense baseline's variants: the space's product in order, each with tensor-core
// PTX or the reason it left the space (a knob the template refuses: never lowered
// another way). The pipelined variants (num_stages 2) lower the rows broadcast of the
// online softmax into the accumulator layout, which once read freed memory (a
// segfault about one run in twenty); the test runs them repeatedly.
#include "compiler/Pipeline/DenseAttentionKernels.h"

#include <gtest/gtest.h>

namespace mobagen::compiler {
namespace {

const MobaKernelConfig kConfig{.blockSize = 64, .topK = 2, .headDim = 64, .numQHeads = 2, .numKvHeads = 1};

TEST(DenseAttentionKernelsTest, DefaultSpaceIsTheProductOfItsKnobs) {
  const std::vector<DenseTuning> variants = DenseTuningSpace().variants();
  ASSERT_EQ(variants.size(), 2u * 3u * 2u * 3u);
  EXPECT_EQ(variants.front().id(), "m64n32w4s1");
  EXPECT_EQ(variants.back().id(), "m128n128w8s3");
}

TEST(DenseAttentionKernelsTest, EveryVariantHasMmaPtxOrAReason) {
  DenseTuningSpace space;
  space.blockM = {64};
  space.blockN = {32, 48}; // 48: not a power of two, the template refuses it
  space.numWarps = {4};
  space.numStages = {1, 2};
  auto variants = generateDenseAttentionVariants(kConfig, space, {.threads = 2});
  ASSERT_TRUE(variants.ok()) << variants.status().message();
  ASSERT_EQ(variants->size(), 4u);
  for (const DenseAttentionVariant &v : *variants) {
    if (v.tuning.blockN == 32) {
      EXPECT_TRUE(v.rejected.empty()) << v.tuning.id() << ": " << v.rejected;
      EXPECT_NE(v.ptx.find("mma.sync"), std::string::npos) << v.tuning.id();
      EXPECT_NE(v.ptx.find(".entry flash_attention_fwd"), std::string::npos) << v.tuning.id();
    } else {
      EXPECT_TRUE(v.ptx.empty()) << v.tuning.id();
      EXPECT_NE(v.rejected.find("the template refuses it"), std::string::npos) << v.rejected;
      EXPECT_NE(v.rejected.find("block_n"), std::string::npos) << v.rejected;
    }
  }
}

TEST(DenseAttentionKernelsTest, PipelinedVariantsLowerRepeatedly) {
  DenseTuningSpace space;
  space.blockM = {64};
  space.blockN = {32};
  space.numWarps = {4};
  space.numStages = {2, 3};
  for (int run = 0; run < 20; ++run) {
    auto variants = generateDenseAttentionVariants(kConfig, space, {.threads = 2});
    ASSERT_TRUE(variants.ok()) << variants.status().message();
    for (const DenseAttentionVariant &v : *variants)
      ASSERT_TRUE(v.rejected.empty()) << v.tuning.id() << ": " << v.rejected;
  }
}

TEST(DenseAttentionKernelsTest, AnUnsupportedConfigurationFailsTheCall) {
  MobaKernelConfig bad = kConfig;
  bad.numKvHeads = 3; // Hq % Hkv != 0
  auto variants = generateDenseAttentionVariants(bad, DenseTuningSpace{});
  EXPECT_FALSE(variants.ok());
}

} // namespace
} // namespace mobagen::compiler

