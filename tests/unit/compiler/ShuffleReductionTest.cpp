//===- ShuffleReductionTest.cpp - which reductions take warp shuffles -------===//
//
// chooseShuffleReduction: the plan (slots, lanes and warps of a row) for the
// shapes the layout allows, and the reason each other reduction stays staged.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TileToNVVM/ShuffleReduction.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mobagen::compiler;

namespace {

class ShuffleReductionTest : public ::testing::Test {
protected:
  RankedTensorType tile(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }
  Type f32() { return Float32Type::get(&context); }
  Type i32() { return IntegerType::get(&context, 32); }
  MLIRContext context;
};

TEST_F(ShuffleReductionTest, ShortRowsShareAWarp) {
  // [8, 16] on 1 warp: 4 slots of 2 rows; segments of 16 lanes, one part per row.
  std::optional<ShuffleReductionPlan> p = chooseShuffleReduction(tile({8, 16}, f32()), 1, 32);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rows, 8);
  EXPECT_EQ(p->slotsPerRow, 1);
  EXPECT_EQ(p->rowsPerSlot, 2);
  EXPECT_EQ(p->shuffleWidth, 16);
  EXPECT_EQ(p->warpsPerRow, 1);
  EXPECT_EQ(p->groups, 4);
  EXPECT_EQ(p->partialBytes(), 8 * 4);
  EXPECT_EQ(chunkSize(*p, 4), 4);
}

TEST_F(ShuffleReductionTest, RowsSpanningWarpsExchangePerWarpPartials) {
  // [32, 64] on 4 warps (the attention's m32n64w4): 2 warps per row, 16 slots.
  std::optional<ShuffleReductionPlan> p = chooseShuffleReduction(tile({32, 64}, f32()), 1, 128);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rowsPerSlot, 2);
  EXPECT_EQ(p->shuffleWidth, 32);
  EXPECT_EQ(p->warpsPerRow, 2);
  EXPECT_EQ(p->groups, 16);
  EXPECT_EQ(p->partialBytes(), 32 * 2 * 4);
  EXPECT_EQ(chunkSize(*p, 16), 16);
}

TEST_F(ShuffleReductionTest, RowsLongerThanTheBlockCombineSlotsFirst) {
  // [3, 512] i32 on 4 warps: 4 slots of one row per thread, all 4 warps per row;
  // 3 groups go as chunks of 2 and 1.
  std::optional<ShuffleReductionPlan> p = chooseShuffleReduction(tile({3, 512}, i32()), 1, 128);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->slotsPerRow, 4);
  EXPECT_EQ(p->rowsPerSlot, 1);
  EXPECT_EQ(p->warpsPerRow, 4);
  EXPECT_EQ(p->groups, 3);
  EXPECT_EQ(chunkSize(*p, 3), 2);
  EXPECT_EQ(chunkSize(*p, 1), 1);
}

TEST_F(ShuffleReductionTest, HigherRankReducesTheLastAxis) {
  std::optional<ShuffleReductionPlan> p =
      chooseShuffleReduction(tile({2, 4, 32}, f32()), 2, 64);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rows, 8);
  EXPECT_EQ(p->groups, 4);
}

TEST_F(ShuffleReductionTest, OtherReductionsStayStaged) {
  std::string why;
  EXPECT_FALSE(chooseShuffleReduction(tile({64}, f32()), 0, 128, &why));
  EXPECT_EQ(why, "a 1-D reduction gives a scalar every thread holds");
  EXPECT_FALSE(chooseShuffleReduction(tile({16, 64}, f32()), 0, 128, &why));
  EXPECT_EQ(why, "axis 0 is not the last axis (1)");
  EXPECT_FALSE(chooseShuffleReduction(tile({4, 24}, f32()), 1, 128, &why));
  EXPECT_EQ(why, "the reduced length 24 is not a power of two");
  EXPECT_FALSE(chooseShuffleReduction(tile({4, 32}, IntegerType::get(&context, 64)), 1, 128, &why));
  EXPECT_EQ(why, "element type i64 is not f32 or i32 (shfl.sync moves 32 bits)");
  EXPECT_FALSE(chooseShuffleReduction(tile({4, 32}, IntegerType::get(&context, 1)), 1, 128, &why));
  EXPECT_EQ(why, "element type i1 is not f32 or i32 (shfl.sync moves 32 bits)");
  EXPECT_FALSE(chooseShuffleReduction(tile({4, 32}, BFloat16Type::get(&context)), 1, 128, &why));
  EXPECT_EQ(why, "element type bf16 is not f32 or i32 (shfl.sync moves 32 bits)");
}

} // namespace
