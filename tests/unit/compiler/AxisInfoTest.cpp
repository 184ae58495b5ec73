//===- AxisInfoTest.cpp - contiguity, divisibility and constancy of tiles ----===//
//
// The axis-info analysis on small hand-written tile kernels (the shapes the
// attention templates build: row offsets + a range, K^T loaded along dim 0,
// masks broadcast along a row), and planAsyncOperand's decision and reasons.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TileToNVVM/AsyncCopy.h"
#include "compiler/Conversion/TileToNVVM/AxisInfo.h"
#include "tests/unit/compiler/TaggedValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::compiler;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

class AxisInfoTest : public ::testing::Test {
protected:
  AxisInfoTest() {
    context.loadDialect<func::FuncDialect, tile::TileDialect, arith::ArithDialect,
                        scf::SCFDialect>();
  }

  /// Parses `source` (one func.func) and analyzes it.
  func::FuncOp parse(llvm::StringRef source) {
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << source.str();
    auto kernel = *module->getOps<func::FuncOp>().begin();
    analysis.emplace(kernel);
    return kernel;
  }
  /// The value named by `tag` (an op attribute `tag = "name"`).
  Value named(llvm::StringRef name) { return mobagen::testing::taggedValue(*module, name); }
  AxisInfo info(llvm::StringRef name) { return analysis->lookup(named(name)); }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::optional<AxisInfoAnalysis> analysis;
};

constexpr int64_t kMax = AxisInfo::kMaxDivisibility;

TEST_F(AxisInfoTest, RangesSplatsAndConstants) {
  parse(R"mlir(
    func.func @k(%n: i32, %p: !tile.ptr<bf16>, %f: !tile.ptr<f32>, %b: !tile.ptr<i8>) {
      %r = tile.make_range 0 to 64 {tag = "r"} : tensor<64xi32>
      %r8 = tile.make_range 24 to 32 {tag = "r8"} : tensor<8xi32>
      %c = arith.constant {tag = "c"} 96 : i32
      %z = arith.constant {tag = "z"} dense<0> : tensor<4x8xi32>
      %s = tile.splat %c {tag = "s"} : i32 -> tensor<4x8xi32>
      %sn = tile.splat %n {tag = "sn"} : i32 -> tensor<8xi32>
      %sp = tile.splat %p {tag = "sp"} : !tile.ptr<bf16> -> tensor<8x!tile.ptr<bf16>>
      %sf = tile.splat %f {tag = "sf"} : !tile.ptr<f32> -> tensor<8x!tile.ptr<f32>>
      %sb = tile.splat %b {tag = "sb"} : !tile.ptr<i8> -> tensor<8x!tile.ptr<i8>>
      return
    })mlir");
  EXPECT_THAT(info("r").contiguity, ElementsAre(64));
  EXPECT_THAT(info("r").divisibility, ElementsAre(kMax));
  EXPECT_THAT(info("r").constancy, ElementsAre(1));
  EXPECT_THAT(info("r8").divisibility, ElementsAre(8));
  EXPECT_THAT(info("c").divisibility, ElementsAre(32));
  EXPECT_THAT(info("z").constancy, ElementsAre(4, 8));
  EXPECT_THAT(info("z").divisibility, ElementsAre(kMax, kMax));
  EXPECT_THAT(info("s").constancy, ElementsAre(4, 8));
  EXPECT_THAT(info("s").divisibility, ElementsAre(32, 32));
  EXPECT_THAT(info("s").contiguity, ElementsAre(1, 1));
  // An integer argument proves nothing; a bf16 / f16 pointer argument is
  // 16-byte aligned (the runtime checks), others to their element.
  EXPECT_THAT(info("sn").divisibility, ElementsAre(1));
  EXPECT_THAT(info("sn").constancy, ElementsAre(8));
  EXPECT_THAT(info("sp").divisibility, ElementsAre(16));
  EXPECT_THAT(info("sf").divisibility, ElementsAre(4));
  EXPECT_THAT(info("sb").divisibility, ElementsAre(1));
}

// The q tile of the routed attention kernel: rows gathered by a loaded index,
// each row contiguous along D.
TEST_F(AxisInfoTest, GatheredRowsAreContiguousAlongARow) {
  parse(R"mlir(
    func.func @k(%q: !tile.ptr<bf16>, %idx: !tile.ptr<i32>, %head: i32) {
      %rows0 = tile.make_range 0 to 16 : tensor<16xi32>
      %pi0 = tile.splat %idx : !tile.ptr<i32> -> tensor<16x!tile.ptr<i32>>
      %pi = tile.addptr %pi0, %rows0 : tensor<16x!tile.ptr<i32>>, tensor<16xi32>
      %row = tile.load %pi {tag = "row"} : (tensor<16x!tile.ptr<i32>>) -> tensor<16xi32>
      %stride = arith.constant dense<256> : tensor<16xi32>
      %rowOff = arith.muli %row, %stride {tag = "rowOff"} : tensor<16xi32>
      %c64 = arith.constant 64 : i32
      %h = arith.muli %head, %c64 {tag = "h"} : i32
      %hs = tile.splat %h : i32 -> tensor<16xi32>
      %base = arith.addi %rowOff, %hs {tag = "base"} : tensor<16xi32>
      %base2 = tile.expand_dims %base, 1 {tag = "base2"} : tensor<16xi32> -> tensor<16x1xi32>
      %baseB = tile.broadcast %base2 {tag = "baseB"} : tensor<16x1xi32> -> tensor<16x64xi32>
      %d = tile.make_range 0 to 64 : tensor<64xi32>
      %d2 = tile.expand_dims %d, 0 {tag = "d2"} : tensor<64xi32> -> tensor<1x64xi32>
      %dB = tile.broadcast %d2 : tensor<1x64xi32> -> tensor<16x64xi32>
      %off = arith.addi %baseB, %dB {tag = "off"} : tensor<16x64xi32>
      %qs = tile.splat %q : !tile.ptr<bf16> -> tensor<16x64x!tile.ptr<bf16>>
      %qp = tile.addptr %qs, %off {tag = "qp"} : tensor<16x64x!tile.ptr<bf16>>, tensor<16x64xi32>
      return
    })mlir");
  EXPECT_EQ(info("row"), AxisInfo::unknown(1)); // loaded: nothing known
  EXPECT_THAT(info("rowOff").divisibility, ElementsAre(256));
  EXPECT_THAT(info("h").divisibility, ElementsAre(64));
  EXPECT_THAT(info("base").divisibility, ElementsAre(64));
  EXPECT_THAT(info("base").contiguity, ElementsAre(1));
  // Every element of base is a multiple of 64: so along the new size-1 axis.
  EXPECT_THAT(info("base2").divisibility, ElementsAre(64, 64));
  EXPECT_THAT(info("baseB").constancy, ElementsAre(1, 64));
  // make_range's elements past the first are not multiples of anything.
  EXPECT_THAT(info("d2").divisibility, ElementsAre(1, kMax));
  EXPECT_THAT(info("off").contiguity, ElementsAre(1, 64));
  EXPECT_THAT(info("off").divisibility, ElementsAre(1, 64));
  EXPECT_THAT(info("off").constancy, ElementsAre(1, 1));
  // Pointers count bytes: gcd(16, 64 elements x 2 bytes); down a column only
  // the element size is known.
  EXPECT_THAT(info("qp").contiguity, ElementsAre(1, 64));
  EXPECT_THAT(info("qp").divisibility, ElementsAre(2, 16));
}

// K^T as the B operand of q . k^T: [D, N] with D along dim 0, keys n0 + j of a
// loop, key rows of 128 elements; the mask is a per-key bound broadcast down D.
TEST_F(AxisInfoTest, TransposedKeysAreContiguousAlongDimZero) {
  parse(R"mlir(
    func.func @k(%kp: !tile.ptr<bf16>, %n: i32) {
      %c0 = arith.constant 0 : i32
      %c32 = arith.constant 32 : i32
      scf.for %n0 = %c0 to %n step %c32 : i32 {
        %j = tile.make_range 0 to 32 : tensor<32xi32>
        %n0s = tile.splat %n0 : i32 -> tensor<32xi32>
        %cols = arith.addi %n0s, %j {tag = "cols"} : tensor<32xi32>
        %ns = tile.splat %n : i32 -> tensor<32xi32>
        %ok = arith.cmpi slt, %cols, %ns {tag = "ok"} : tensor<32xi32>
        %ok2 = tile.expand_dims %ok, 0 : tensor<32xi1> -> tensor<1x32xi1>
        %okB = tile.broadcast %ok2 {tag = "okB"} : tensor<1x32xi1> -> tensor<64x32xi1>
        %stride = arith.constant dense<128> : tensor<32xi32>
        %rowOff = arith.muli %cols, %stride : tensor<32xi32>
        %r2 = tile.expand_dims %rowOff, 0 : tensor<32xi32> -> tensor<1x32xi32>
        %rB = tile.broadcast %r2 : tensor<1x32xi32> -> tensor<64x32xi32>
        %d = tile.make_range 0 to 64 : tensor<64xi32>
        %d2 = tile.expand_dims %d, 1 : tensor<64xi32> -> tensor<64x1xi32>
        %dB = tile.broadcast %d2 : tensor<64x1xi32> -> tensor<64x32xi32>
        %off = arith.addi %rB, %dB {tag = "off"} : tensor<64x32xi32>
        %ks = tile.splat %kp : !tile.ptr<bf16> -> tensor<64x32x!tile.ptr<bf16>>
        %p = tile.addptr %ks, %off {tag = "p"} : tensor<64x32x!tile.ptr<bf16>>, tensor<64x32xi32>
        %sub = arith.subi %off, %dB {tag = "sub"} : tensor<64x32xi32>
        %neg = arith.subi %dB, %rB {tag = "neg"} : tensor<64x32xi32>
      }
      return
    })mlir");
  // n0 = 0 + i * 32: a multiple of 32; cols are n0, n0 + 1, ...
  EXPECT_THAT(info("cols").contiguity, ElementsAre(32));
  EXPECT_THAT(info("cols").divisibility, ElementsAre(32));
  EXPECT_THAT(info("ok").constancy, ElementsAre(1)); // a comparison of a range
  EXPECT_THAT(info("okB").constancy, ElementsAre(64, 1));
  EXPECT_THAT(info("off").contiguity, ElementsAre(64, 1));
  // Along a row (dim 1) every element starts a run, and d = 1, 2, ... is odd
  // half the time.
  EXPECT_THAT(info("off").divisibility, ElementsAre(128, 1));
  EXPECT_THAT(info("p").contiguity, ElementsAre(64, 1));
  EXPECT_THAT(info("p").divisibility, ElementsAre(16, 2));
  // (rows + d) - d is constant down a column; d - rows is not contiguous.
  EXPECT_THAT(info("sub").constancy, ElementsAre(1, 1));
  EXPECT_THAT(info("sub").contiguity, ElementsAre(1, 1));
  EXPECT_THAT(info("neg").contiguity, ElementsAre(64, 1));
}

TEST_F(AxisInfoTest, ScaledRangesLoseContiguityAndStrayOffsetsLoseAlignment) {
  parse(R"mlir(
    func.func @k(%p: !tile.ptr<f16>, %x: i32) {
      %r = tile.make_range 0 to 64 : tensor<64xi32>
      %two = arith.constant dense<2> : tensor<64xi32>
      %one = arith.constant dense<1> : tensor<64xi32>
      %r2 = arith.muli %r, %two {tag = "r2"} : tensor<64xi32>
      %r1 = arith.muli %r, %one {tag = "r1"} : tensor<64xi32>
      %odd = arith.addi %r, %one {tag = "odd"} : tensor<64xi32>
      %xs = tile.splat %x : i32 -> tensor<64xi32>
      %stray = arith.addi %r, %xs {tag = "stray"} : tensor<64xi32>
      %ps = tile.splat %p : !tile.ptr<f16> -> tensor<64x!tile.ptr<f16>>
      %pOdd = tile.addptr %ps, %odd {tag = "pOdd"} : tensor<64x!tile.ptr<f16>>, tensor<64xi32>
      %pStray = tile.addptr %ps, %stray {tag = "pStray"} : tensor<64x!tile.ptr<f16>>, tensor<64xi32>
      %wide = arith.extsi %r {tag = "wide"} : tensor<64xi32> to tensor<64xi64>
      %shr = arith.shrui %r, %one {tag = "shr"} : tensor<64xi32>
      return
    })mlir");
  EXPECT_THAT(info("r2").contiguity, ElementsAre(1));
  EXPECT_THAT(info("r2").divisibility, ElementsAre(2)); // 2 x (0, 1, 2, ...)
  EXPECT_EQ(info("r1"), info("wide"));
  EXPECT_THAT(info("r1").contiguity, ElementsAre(64));
  EXPECT_THAT(info("odd").contiguity, ElementsAre(64));
  EXPECT_THAT(info("odd").divisibility, ElementsAre(1));
  EXPECT_THAT(info("pOdd").divisibility, ElementsAre(2));
  EXPECT_THAT(info("stray").contiguity, ElementsAre(64));
  EXPECT_THAT(info("pStray").divisibility, ElementsAre(2));
  EXPECT_EQ(info("shr"), AxisInfo::unknown(1)); // no rule: nothing known
}

class AsyncPlanTest : public AxisInfoTest {
protected:
  /// A kernel with A [32, 64] and B loaded as `bOffsets` of shape `bShape`, a dot.
  std::optional<AsyncOperandCopy> plan(llvm::StringRef body, unsigned operand,
                                       std::string *why) {
    func::FuncOp kernel = parse(body);
    tile::DotOp dot;
    kernel.walk([&](tile::DotOp d) { dot = d; });
    return planAsyncOperand(dot, operand, *analysis, why);
  }
};

// A [16, 32] row-major with a row mask, and B [32, 16] given by its offsets.
std::string dotKernel(llvm::StringRef bOffsets, llvm::StringRef bMask, llvm::StringRef between = "",
                      llvm::StringRef other = "0.0") {
  return (R"mlir(
    func.func @k(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %m: i32) {
      %i = tile.make_range 0 to 16 : tensor<16xi32>
      %k = tile.make_range 0 to 32 : tensor<32xi32>
      %i2 = tile.expand_dims %i, 1 : tensor<16xi32> -> tensor<16x1xi32>
      %k2 = tile.expand_dims %k, 0 : tensor<32xi32> -> tensor<1x32xi32>
      %c32 = arith.constant dense<32> : tensor<16x1xi32>
      %ri = arith.muli %i2, %c32 : tensor<16x1xi32>
      %riB = tile.broadcast %ri : tensor<16x1xi32> -> tensor<16x32xi32>
      %kB = tile.broadcast %k2 : tensor<1x32xi32> -> tensor<16x32xi32>
      %aOff = arith.addi %riB, %kB : tensor<16x32xi32>
      %ms = tile.splat %m : i32 -> tensor<16x1xi32>
      %rowOk = arith.cmpi slt, %i2, %ms : tensor<16x1xi32>
      %aMask = tile.broadcast %rowOk : tensor<16x1xi1> -> tensor<16x32xi1>
      %zeroA = arith.constant dense<0.0> : tensor<16x32xbf16>
      %as = tile.splat %a : !tile.ptr<bf16> -> tensor<16x32x!tile.ptr<bf16>>
      %ap = tile.addptr %as, %aOff : tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi32>
      %va = tile.load %ap, mask %aMask, other %zeroA : (tensor<16x32x!tile.ptr<bf16>>, tensor<16x32xi1>, tensor<16x32xbf16>) -> tensor<16x32xbf16>
      %j = tile.make_range 0 to 16 : tensor<16xi32>
      %kc = tile.expand_dims %k, 1 : tensor<32xi32> -> tensor<32x1xi32>
      %j2 = tile.expand_dims %j, 0 : tensor<16xi32> -> tensor<1x16xi32>
      %kcB = tile.broadcast %kc : tensor<32x1xi32> -> tensor<32x16xi32>
      %j2B = tile.broadcast %j2 : tensor<1x16xi32> -> tensor<32x16xi32>
      )mlir" +
          bOffsets + "\n" + bMask + R"mlir(
      %other = arith.constant dense<)mlir" +
          other + R"mlir(> : tensor<32x16xbf16>
      %bs = tile.splat %b : !tile.ptr<bf16> -> tensor<32x16x!tile.ptr<bf16>>
      %bp = tile.addptr %bs, %bOff : tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi32>
      %vb = tile.load %bp, mask %bMask, other %other : (tensor<32x16x!tile.ptr<bf16>>, tensor<32x16xi1>, tensor<32x16xbf16>) -> tensor<32x16xbf16>
      )mlir" +
          between + R"mlir(
      %acc = arith.constant dense<0.0> : tensor<16x16xf32>
      %d = tile.dot %va, %vb, %acc : tensor<16x32xbf16> * tensor<32x16xbf16> -> tensor<16x16xf32>
      return
    })mlir")
      .str();
}

// B [K, N] = [32, 16] row-major (contiguous along N), with a mask per k row.
constexpr const char *kRowMajorB = R"mlir(
      %c16 = arith.constant dense<16> : tensor<32x16xi32>
      %kr = arith.muli %kcB, %c16 : tensor<32x16xi32>
      %bOff = arith.addi %kr, %j2B : tensor<32x16xi32>)mlir";
constexpr const char *kRowMask = R"mlir(
      %ms2 = tile.splat %m : i32 -> tensor<32x16xi32>
      %bMask = arith.cmpi slt, %kcB, %ms2 : tensor<32x16xi32>)mlir";
// B = K^T: element (k, n) at n * 32 + k (contiguous along K), masked per column n.
constexpr const char *kTransposedB = R"mlir(
      %c32b = arith.constant dense<32> : tensor<32x16xi32>
      %nr = arith.muli %j2B, %c32b : tensor<32x16xi32>
      %bOff = arith.addi %nr, %kcB : tensor<32x16xi32>)mlir";
constexpr const char *kColumnMask = R"mlir(
      %ms2 = tile.splat %m : i32 -> tensor<32x16xi32>
      %bMask = arith.cmpi slt, %j2B, %ms2 : tensor<32x16xi32>)mlir";

TEST_F(AsyncPlanTest, TakesRowMajorAAndBothOrdersOfB) {
  std::string why;
  std::optional<AsyncOperandCopy> a = plan(dotKernel(kRowMajorB, kRowMask), 0, &why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->axis, 1);
  EXPECT_FALSE(a->resident); // loaded in the dot's block
  std::optional<AsyncOperandCopy> b = plan(dotKernel(kRowMajorB, kRowMask), 1, &why);
  ASSERT_TRUE(b) << why;
  EXPECT_EQ(b->axis, 1);
  std::optional<AsyncOperandCopy> bt = plan(dotKernel(kTransposedB, kColumnMask), 1, &why);
  ASSERT_TRUE(bt) << why;
  EXPECT_EQ(bt->axis, 0);
}

TEST_F(AsyncPlanTest, RefusesWhatItCannotProveAndSaysWhy) {
  std::string why;
  // K^T with a mask per k row: the mask changes inside each 8-element run of k.
  EXPECT_FALSE(plan(dotKernel(kTransposedB, kRowMask), 1, &why));
  EXPECT_THAT(why, HasSubstr("along axis 0: mask constancy 1 < 8"));
  EXPECT_THAT(why, HasSubstr("along axis 1: pointer contiguity 1 < 8"));
  // A row-major B with a column mask: the mask changes along N.
  EXPECT_FALSE(plan(dotKernel(kRowMajorB, kColumnMask), 1, &why));
  EXPECT_THAT(why, HasSubstr("along axis 1: mask constancy 1 < 8"));
  // Rows of an odd length: runs start at odd offsets.
  constexpr const char *oddRows = R"mlir(
      %c17 = arith.constant dense<17> : tensor<32x16xi32>
      %kr = arith.muli %kcB, %c17 : tensor<32x16xi32>
      %bOff = arith.addi %kr, %j2B : tensor<32x16xi32>)mlir";
  EXPECT_FALSE(plan(dotKernel(oddRows, kRowMask), 1, &why));
  EXPECT_THAT(why, HasSubstr("along axis 1: pointer alignment 2 B < 16 B"));
  // A store between the load and the dot, and an `other` zero-fill cannot give.
  EXPECT_FALSE(plan(dotKernel(kRowMajorB, kRowMask,
                              "tile.store %bp, %vb, mask %bMask : tensor<32x16x!tile.ptr<bf16>>, "
                              "tensor<32x16xbf16>, tensor<32x16xi1>"),
                    1, &why));
  EXPECT_THAT(why, HasSubstr("B has other uses than the dot"));
  EXPECT_FALSE(plan(dotKernel(kRowMajorB, kRowMask,
                              "tile.store %ap, %zeroA, mask %aMask : tensor<16x32x!tile.ptr<bf16>>, "
                              "tensor<16x32xbf16>, tensor<16x32xi1>"),
                    0, &why));
  EXPECT_THAT(why, HasSubstr("a tile.store through A's pointer argument (or an untraced pointer) "
                              "sits between A's load and the dot"));
  // A store through another kernel argument does not touch A's memory (a
  // kernel's pointer arguments are disjoint): A still comes by cp.async.
  std::optional<AsyncOperandCopy> past =
      plan(dotKernel(kRowMajorB, kRowMask,
                     "tile.store %bp, %vb, mask %bMask : tensor<32x16x!tile.ptr<bf16>>, "
                     "tensor<32x16xbf16>, tensor<32x16xi1>"),
           0, &why);
  EXPECT_TRUE(past) << why;
  EXPECT_FALSE(plan(dotKernel(kRowMajorB, kRowMask, "", "-0.0"), 1, &why));
  EXPECT_THAT(why, HasSubstr("B's load has an `other` that is not +0.0"));
}

} // namespace
