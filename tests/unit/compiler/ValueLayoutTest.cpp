//===- ValueLayoutTest.cpp - which layout each tile value lives in -----------===//
//
// The layout analysis of ValueLayout.h on a hand-written flash-attention-like
// key loop: the dot's result in accumulator registers, its row reduction in the
// rows layout, the row statistics broadcast back, loop-carried tiles settling on
// their yield's layout, and round-robin wherever layouts mix.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TileToNVVM/ValueLayout.h"
#include "tests/unit/compiler/TaggedValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::compiler;

namespace {

// S = Q K^T [64 x 32] on 4 warps: 4 x 2 tiles of 16 x 8 on a 4 x 1 warp grid.
constexpr llvm::StringLiteral kKernel = R"mlir(
func.func @keys(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %n: i32)
    attributes {tile.num_warps = 4 : i32} {
  %r = tile.make_range 0 to 1024 : tensor<1024xi32>
  %qs = tile.splat %q : !tile.ptr<bf16> -> tensor<1024x!tile.ptr<bf16>>
  %qp = tile.addptr %qs, %r {tag = "qptr"} : tensor<1024x!tile.ptr<bf16>>, tensor<1024xi32>
  %qv = tile.load %qp : (tensor<1024x!tile.ptr<bf16>>) -> tensor<1024xbf16>
  %qt = tile.reshape %qv {tag = "q"} : tensor<1024xbf16> -> tensor<64x16xbf16>
  %r2 = tile.make_range 0 to 512 : tensor<512xi32>
  %ks = tile.splat %k : !tile.ptr<bf16> -> tensor<512x!tile.ptr<bf16>>
  %kp = tile.addptr %ks, %r2 : tensor<512x!tile.ptr<bf16>>, tensor<512xi32>
  %kv = tile.load %kp : (tensor<512x!tile.ptr<bf16>>) -> tensor<512xbf16>
  %kt = tile.reshape %kv : tensor<512xbf16> -> tensor<16x32xbf16>
  %zero = arith.constant {tag = "zero"} dense<0.0> : tensor<64x32xf32>
  %ninf = arith.constant dense<0xFF800000> : tensor<64xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %res:2 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %ninf, %acc = %zero)
      -> (tensor<64xf32>, tensor<64x32xf32>) : i32 {
    %s = tile.dot %qt, %kt, %zero {tag = "s"} : tensor<64x16xbf16> * tensor<16x32xbf16> -> tensor<64x32xf32>
    %mx = tile.reduce max %s, 1 {tag = "rowmax"} : tensor<64x32xf32> -> tensor<64xf32>
    %mn = arith.maximumf %m, %mx {tag = "mnew"} : tensor<64xf32>
    %e = tile.expand_dims %mn, 1 {tag = "expand"} : tensor<64xf32> -> tensor<64x1xf32>
    %bc = tile.broadcast %e {tag = "bcast"} : tensor<64x1xf32> -> tensor<64x32xf32>
    %p = arith.subf %s, %bc {tag = "p"} : tensor<64x32xf32>
    %a2 = arith.addf %acc, %p {tag = "accnew"} : tensor<64x32xf32>
    %cs = tile.reduce sum %s, 0 {tag = "colsum"} : tensor<64x32xf32> -> tensor<32xf32>
    scf.yield %mn, %a2 : tensor<64xf32>, tensor<64x32xf32>
  }
  %r3 = tile.make_range 0 to 2048 : tensor<2048xi32>
  %os = tile.splat %o : !tile.ptr<f32> -> tensor<2048x!tile.ptr<f32>>
  %op = tile.addptr %os, %r3 : tensor<2048x!tile.ptr<f32>>, tensor<2048xi32>
  %ov = tile.load %op : (tensor<2048x!tile.ptr<f32>>) -> tensor<2048xf32>
  %loaded = tile.reshape %ov {tag = "loaded"} : tensor<2048xf32> -> tensor<64x32xf32>
  %mix = arith.addf %res#1, %loaded {tag = "mixed"} : tensor<64x32xf32>
  %flat = tile.reshape %mix : tensor<64x32xf32> -> tensor<2048xf32>
  tile.store %op, %flat : tensor<2048x!tile.ptr<f32>>, tensor<2048xf32>
  return
}
)mlir";

class ValueLayoutTest : public ::testing::Test {
protected:
  ValueLayoutTest() {
    context.loadDialect<func::FuncDialect, tile::TileDialect, arith::ArithDialect,
                        scf::SCFDialect>();
    module = parseSourceString<ModuleOp>(kKernel, &context);
    EXPECT_TRUE(module);
    kernel = *module->getOps<func::FuncOp>().begin();
    module->walk([&](scf::ForOp op) { loop = op; });
  }
  Value named(llvm::StringRef name) { return mobagen::testing::taggedValue(*module, name); }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  func::FuncOp kernel;
  scf::ForOp loop;
};

using Kind = ValueLayout::Kind;

TEST_F(ValueLayoutTest, TheKeyLoopStaysInTheAccumulatorsRegisters) {
  const LayoutAnalysis layouts(kernel, 4, /*mmaDots=*/true);
  const ValueLayout s = layouts.layoutOf(named("s"));
  EXPECT_EQ(s.kind, Kind::mmaAcc);
  EXPECT_EQ(s.m, 64);
  EXPECT_EQ(s.n, 32);
  EXPECT_EQ(s.warpsM, 4);
  EXPECT_EQ(s.warpsN, 1);
  EXPECT_EQ(s.slots(), 16); // 1 m tile x 4 n tiles x 4 per warp
  const ValueLayout rows = layouts.layoutOf(named("rowmax"));
  EXPECT_EQ(rows, s.rows());
  EXPECT_EQ(rows.slots(), 2); // rows g and g + 8 of the warp's m tile
  EXPECT_EQ(layouts.layoutOf(named("mnew")), rows);
  EXPECT_EQ(layouts.layoutOf(named("expand")), rows);
  EXPECT_EQ(layouts.layoutOf(named("bcast")), s);
  EXPECT_EQ(layouts.layoutOf(named("p")), s);
  EXPECT_EQ(layouts.layoutOf(named("accnew")), s);
  // The carried tiles settle on their yields' layouts: both start from splats.
  EXPECT_EQ(layouts.layoutOf(loop.getRegionIterArgs()[0]), rows);
  EXPECT_EQ(layouts.layoutOf(loop.getRegionIterArgs()[1]), s);
  EXPECT_EQ(layouts.layoutOf(loop.getResult(0)), rows);
  EXPECT_EQ(layouts.layoutOf(loop.getResult(1)), s);
}

TEST_F(ValueLayoutTest, MixedLayoutsAndOtherReductionsAreRoundRobin) {
  const LayoutAnalysis layouts(kernel, 4, /*mmaDots=*/true);
  EXPECT_TRUE(layouts.layoutOf(named("colsum")).isRoundRobin()); // along the columns
  EXPECT_TRUE(layouts.layoutOf(named("loaded")).isRoundRobin());
  EXPECT_TRUE(layouts.layoutOf(named("mixed")).isRoundRobin());
  EXPECT_TRUE(layouts.layoutOf(named("q")).isRoundRobin());
}

TEST_F(ValueLayoutTest, WithoutTensorCoresEverythingIsRoundRobin) {
  const LayoutAnalysis layouts(kernel, 4, /*mmaDots=*/false);
  for (llvm::StringRef name : {"s", "rowmax", "bcast", "accnew"})
    EXPECT_TRUE(layouts.layoutOf(named(name)).isRoundRobin()) << name.str();
}

TEST_F(ValueLayoutTest, RecomputableValuesAreThoseBuiltFromRangesAndSplats) {
  EXPECT_TRUE(recomputable(named("zero")));
  EXPECT_TRUE(recomputable(named("qptr")));
  EXPECT_FALSE(recomputable(named("q")));
  EXPECT_FALSE(recomputable(named("s")));
  EXPECT_FALSE(recomputable(loop.getRegionIterArgs()[1]));
}

TEST_F(ValueLayoutTest, AnAccumulatorNeedsEveryWarpToHoldAsManyTiles) {
  MmaSyncDotLayout dot{};
  dot.m = 32;
  dot.n = 16;
  dot.mTiles = 2;
  dot.nTiles = 2;
  dot.warpsM = 4; // warps 2 and 3 would hold no m tile
  dot.warpsN = 2;
  EXPECT_TRUE(ValueLayout::accumulatorOf(dot).isRoundRobin());
  dot.warpsM = 2;
  dot.warpsN = 2;
  const ValueLayout acc = ValueLayout::accumulatorOf(dot);
  EXPECT_EQ(acc.kind, Kind::mmaAcc);
  EXPECT_EQ(acc.slots(), 4);
  EXPECT_TRUE(acc.fits({32, 16}));
  EXPECT_FALSE(acc.fits({16, 32}));
  EXPECT_TRUE(acc.rows().fits({32}));
  EXPECT_TRUE(acc.rows().fits({32, 1}));
  EXPECT_FALSE(acc.rows().fits({32, 2}));
}

} // namespace
