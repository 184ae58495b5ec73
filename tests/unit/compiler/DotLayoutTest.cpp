//===- DotLayoutTest.cpp - the layout analysis of tile.dot for mma.sync -----===//
//
// Which dots chooseMmaSyncLayout takes (and why it refuses the others), the warp
// grid it picks, and the padded shared-memory copies it lays out.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/TileToNVVM/DotLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::compiler;

namespace {

class DotLayoutTest : public ::testing::Test {
protected:
  DotLayoutTest() : module(ModuleOp::create(UnknownLoc::get(&context))) {
    context.loadDialect<func::FuncDialect, tile::TileDialect>();
  }

  /// A tile.dot of a [m, k] * [k, n] -> [m, n] with the given element types.
  tile::DotOp dot(int64_t m, int64_t n, int64_t k, Type operand, Type acc) {
    OpBuilder b(&context);
    b.setInsertionPointToEnd(module->getBody());
    auto a = RankedTensorType::get({m, k}, operand);
    auto bt = RankedTensorType::get({k, n}, operand);
    auto c = RankedTensorType::get({m, n}, acc);
    auto fn = func::FuncOp::create(b, b.getUnknownLoc(), ("f" + llvm::Twine(next++)).str(),
                                   b.getFunctionType({a, bt, c}, {}));
    Block *body = fn.addEntryBlock();
    b.setInsertionPointToStart(body);
    return tile::DotOp::create(b, b.getUnknownLoc(), c, body->getArgument(0),
                               body->getArgument(1), body->getArgument(2));
  }
  Type bf16() { return BFloat16Type::get(&context); }
  Type f16() { return Float16Type::get(&context); }
  Type f32() { return Float32Type::get(&context); }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  int next = 0;
};

TEST_F(DotLayoutTest, ParsesTheOptionSpelling) {
  EXPECT_EQ(parseDotLowering("fma"), DotLowering::fma);
  EXPECT_EQ(parseDotLowering("mma"), DotLowering::mma);
  EXPECT_EQ(parseDotLowering("wgmma"), std::nullopt);
  EXPECT_EQ(parseDotLowering("MMA"), std::nullopt);
  EXPECT_EQ(stringifyDotLowering(DotLowering::mma), "mma");
}

TEST_F(DotLayoutTest, SquareTileGivesEachWarpWholeRows) {
  std::optional<MmaSyncDotLayout> l = chooseMmaSyncLayout(dot(64, 64, 64, bf16(), f32()), 4);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->mTiles, 4);
  EXPECT_EQ(l->nTiles, 8);
  EXPECT_EQ(l->kSteps, 4);
  EXPECT_EQ(l->warpsM, 4);
  EXPECT_EQ(l->warpsN, 1);
  EXPECT_EQ(l->nTilesPerWarp, 8);
  // Rows of 64 elements get 8 of padding: stride 72 = 8 (mod 16).
  EXPECT_EQ(l->aStride, 72);
  EXPECT_EQ(l->bStride, 72);
  EXPECT_EQ(l->cStride, 72);
  EXPECT_EQ(l->aOffset, 0);
  EXPECT_EQ(l->bOffset, 64 * 72 * 2);
  EXPECT_EQ(l->cOffset, 2 * 64 * 72 * 2);
  EXPECT_EQ(l->bytes, 2 * 64 * 72 * 2 + 64 * 72 * 4);
}

TEST_F(DotLayoutTest, TransposedBIsStagedAsRowsOfK) {
  // M = 32, N = 16, K = 64: B staged [K, N] has 64 rows of 16 + 8; staged [N, K]
  // (bTransposed) 16 rows of 64 + 8.
  std::optional<MmaSyncDotLayout> plain = chooseMmaSyncLayout(dot(32, 16, 64, bf16(), f32()), 4);
  std::optional<MmaSyncDotLayout> l =
      chooseMmaSyncLayout(dot(32, 16, 64, bf16(), f32()), 4, nullptr, /*bTransposed=*/true);
  ASSERT_TRUE(plain && l);
  EXPECT_FALSE(plain->bTransposed);
  EXPECT_EQ(plain->bStride, 24);
  EXPECT_EQ(plain->cOffset, 32 * 72 * 2 + 64 * 24 * 2);
  EXPECT_TRUE(l->bTransposed);
  EXPECT_EQ(l->bStride, 72);
  EXPECT_EQ(l->bOffset, 32 * 72 * 2);
  EXPECT_EQ(l->cOffset, 32 * 72 * 2 + 16 * 72 * 2);
  EXPECT_EQ(l->bytes, l->cOffset + 32 * 24 * 4);
}

TEST_F(DotLayoutTest, OperandsInBuffersOfTheirOwnLeaveTheStagingBuffer) {
  // The blocks kernel's dots at D 128, 32 x 64 tiles: q . k^T with q resident and
  // K^T pipelined keeps only C ([32, 64] f32, stride 72); p . v with V pipelined
  // keeps A ([32, 64] bf16) and C ([32, 128] f32, stride 136) after it.
  std::optional<MmaSyncDotLayout> qk =
      chooseMmaSyncLayout(dot(32, 64, 128, bf16(), f32()), 4, nullptr, /*bTransposed=*/true);
  std::optional<MmaSyncDotLayout> pv = chooseMmaSyncLayout(dot(32, 128, 64, bf16(), f32()), 4);
  ASSERT_TRUE(qk && pv);
  const MmaSyncDotLayout cOnly = withoutStagedOperands(*qk, true, true);
  EXPECT_EQ(cOnly.cOffset, 0);
  EXPECT_EQ(cOnly.bytes, 32 * 72 * 4);
  const MmaSyncDotLayout aAndC = withoutStagedOperands(*pv, false, true);
  EXPECT_EQ(aAndC.aOffset, 0);
  EXPECT_EQ(aAndC.cOffset, 32 * 72 * 2);
  EXPECT_EQ(aAndC.bytes, 32 * 72 * 2 + 32 * 136 * 4);
  EXPECT_EQ(aAndC.bytes, 22016); // the blocks kernel's staging (docs/lowering.md)
  // With A elsewhere, B starts at offset 0; with nothing elsewhere the layout
  // is unchanged.
  const MmaSyncDotLayout bAndC = withoutStagedOperands(*qk, true, false);
  EXPECT_EQ(bAndC.bOffset, 0);
  EXPECT_EQ(bAndC.cOffset, 64 * 136 * 2);
  // C and D in registers (the accumulator layout): the staging ends after A.
  const MmaSyncDotLayout aOnly = withoutStagedOperands(*pv, false, true, /*cElsewhere=*/true);
  EXPECT_EQ(aOnly.bytes, 32 * 72 * 2);
  const MmaSyncDotLayout all = withoutStagedOperands(*pv, false, false);
  EXPECT_EQ(all.aOffset, pv->aOffset);
  EXPECT_EQ(all.bOffset, pv->bOffset);
  EXPECT_EQ(all.cOffset, pv->cOffset);
  EXPECT_EQ(all.bytes, pv->bytes);
}

TEST_F(DotLayoutTest, WarpGridMaximizesWarpsWithWork) {
  // One m tile, two n tiles, 4 warps: 2 x 2 puts two warps to work (4 x 1 one).
  std::optional<MmaSyncDotLayout> small = chooseMmaSyncLayout(dot(16, 16, 16, bf16(), f32()), 4);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->warpsM, 2);
  EXPECT_EQ(small->warpsN, 2);
  EXPECT_EQ(small->nTilesPerWarp, 1);
  // One m tile, 16 n tiles: all 4 warps side by side, 4 n tiles each.
  std::optional<MmaSyncDotLayout> wide = chooseMmaSyncLayout(dot(16, 128, 16, f16(), f32()), 4);
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->warpsM, 1);
  EXPECT_EQ(wide->warpsN, 4);
  EXPECT_EQ(wide->nTilesPerWarp, 4);
  // Three n tiles on 2 warps: warpsN must divide 3, so the warps stack along M.
  std::optional<MmaSyncDotLayout> odd = chooseMmaSyncLayout(dot(32, 24, 16, bf16(), f32()), 2);
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->warpsM, 2);
  EXPECT_EQ(odd->warpsN, 1);
  EXPECT_EQ(odd->nTilesPerWarp, 3);
  // Rows of 24 elements already have a stride of 8 (mod 16): no padding.
  EXPECT_EQ(odd->bStride, 24);
  EXPECT_EQ(odd->cStride, 24);
  EXPECT_EQ(odd->aStride, 24);
}

TEST_F(DotLayoutTest, RefusesWhatMmaSyncCannotRunAndSaysWhy) {
  std::string why;
  EXPECT_FALSE(chooseMmaSyncLayout(dot(16, 16, 16, f32(), f32()), 4, &why));
  EXPECT_EQ(why, "operands are f32 * f32; mma.sync m16n8k16 takes bf16 or f16");
  EXPECT_FALSE(chooseMmaSyncLayout(dot(16, 16, 16, f16(), f16()), 4, &why));
  EXPECT_EQ(why, "the accumulator is f16; mma.sync lowers f32 accumulators");
  EXPECT_FALSE(chooseMmaSyncLayout(dot(24, 16, 16, bf16(), f32()), 4, &why));
  EXPECT_EQ(why, "shape M x N x K = 24 x 16 x 16 is not a multiple of 16 x 8 x 16");
  EXPECT_FALSE(chooseMmaSyncLayout(dot(16, 16, 40, bf16(), f32()), 4, &why));
  EXPECT_EQ(why, "shape M x N x K = 16 x 16 x 40 is not a multiple of 16 x 8 x 16");
  // Without a place for the reason it still refuses.
  EXPECT_FALSE(chooseMmaSyncLayout(dot(16, 16, 16, f32(), f32()), 4));
}

TEST_F(DotLayoutTest, OnlyWhatIsStagedIsHeldToTheSharedMemoryLimit) {
  // 128 x 128 x 128: A and B take 128 x 136 x 2 bytes each, C 128 x 136 x 4. All
  // three (139264 bytes) pass 99 KB; with C and D in registers, 69632 do not.
  std::optional<MmaSyncDotLayout> l = chooseMmaSyncLayout(dot(128, 128, 128, bf16(), f32()), 4);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->bytes, 139264);
  const int64_t limit = 99 * 1024;
  EXPECT_EQ(mmaSyncStagingOverLimit(*l, limit),
            "M x N x K = 128 x 128 x 128 on a 4 x 1 warp grid stages 139264 bytes of shared "
            "memory (A 128 x 136 x 2, B 128 x 136 x 2, C 128 x 136 x 4), over the shared-limit "
            "of 101376 bytes");
  const MmaSyncDotLayout inRegisters = withoutStagedOperands(*l, false, false, true);
  EXPECT_EQ(inRegisters.bytes, 69632);
  EXPECT_EQ(mmaSyncStagingOverLimit(inRegisters, limit), std::nullopt);
  // B alone, past a 16 KB limit: only B is named.
  const MmaSyncDotLayout onlyB = withoutStagedOperands(*l, true, false, true);
  EXPECT_EQ(mmaSyncStagingOverLimit(onlyB, 16384),
            "M x N x K = 128 x 128 x 128 on a 4 x 1 warp grid stages 34816 bytes of shared "
            "memory (B 128 x 136 x 2), over the shared-limit of 16384 bytes");
}

TEST_F(DotLayoutTest, CopiedOperandsAreSwizzledOthersPadded) {
  // 64 x 64 x 64: A and B copied by cp.async have swizzled rows of 64 (8 chunks),
  // no padding; from registers they keep 64 + 8; C is always padded.
  std::optional<MmaSyncDotLayout> copied = chooseMmaSyncLayout(
      dot(64, 64, 64, bf16(), f32()), 4, nullptr, /*bTransposed=*/false, true, true);
  ASSERT_TRUE(copied);
  EXPECT_TRUE(copied->aSwizzled && copied->bSwizzled);
  EXPECT_EQ(copied->aStride, 64);
  EXPECT_EQ(copied->bStride, 64);
  EXPECT_EQ(copied->cStride, 72);
  EXPECT_EQ(copied->bOffset, 64 * 64 * 2);
  EXPECT_EQ(copied->cOffset, 2 * 64 * 64 * 2);
  std::optional<MmaSyncDotLayout> onlyB = chooseMmaSyncLayout(
      dot(64, 64, 64, bf16(), f32()), 4, nullptr, /*bTransposed=*/true, false, true);
  ASSERT_TRUE(onlyB);
  EXPECT_FALSE(onlyB->aSwizzled);
  EXPECT_EQ(onlyB->aStride, 72);
  EXPECT_TRUE(onlyB->bSwizzled);
  EXPECT_EQ(onlyB->bStride, 64);
  // Rows of 24 elements (3 chunks) cannot be swizzled: padded rules apply.
  std::optional<MmaSyncDotLayout> odd = chooseMmaSyncLayout(
      dot(32, 24, 16, bf16(), f32()), 2, nullptr, /*bTransposed=*/false, true, true);
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->aSwizzled); // rows of 16: 2 chunks
  EXPECT_EQ(odd->aStride, 16);
  EXPECT_FALSE(odd->bSwizzled);
  EXPECT_EQ(odd->bStride, 24);
}

TEST_F(DotLayoutTest, TheSwizzleIsABijectionThatSpreadsEveryPhaseOverTheBanks) {
  EXPECT_TRUE(swizzlesRows(8));
  EXPECT_TRUE(swizzlesRows(64));
  EXPECT_TRUE(swizzlesRows(256));
  EXPECT_FALSE(swizzlesRows(24)); // 3 chunks
  EXPECT_FALSE(swizzlesRows(48));
  EXPECT_FALSE(swizzlesRows(12));
  // The 16-byte bank group (of 8 in a 128-byte line) of a chunk at element offset o.
  auto group = [](int64_t o) { return o / 8 % 8; };
  for (int64_t rowElements : {8, 16, 32, 64, 128, 256}) {
    const int64_t rows = 64, chunks = rowElements / 8;
    std::vector<int> seen(rows * rowElements, 0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < rowElements; ++c) {
        const int64_t o = swizzledOffset(r, c, rowElements);
        ASSERT_GE(o, 0);
        ASSERT_LT(o, rows * rowElements);
        ++seen[o];
        // A chunk stays whole: its elements stay adjacent.
        EXPECT_EQ(o % 8, c % 8);
      }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }))
        << "rows of " << rowElements;
    // ldmatrix: 8 consecutive rows (from a multiple of 8) at one chunk.
    for (int64_t r0 = 0; r0 < rows; r0 += 8)
      for (int64_t c = 0; c < chunks; ++c) {
        std::set<int64_t> groups;
        for (int64_t r = r0; r < r0 + 8; ++r)
          groups.insert(group(swizzledOffset(r, 8 * c, rowElements)));
        EXPECT_EQ(groups.size(), 8u) << "ldmatrix rows " << r0 << ", chunk " << c << ", rows of "
                                     << rowElements;
      }
    // cp.async: 8 consecutive chunks of the row-major order.
    for (int64_t first = 0; first < rows * chunks; first += 8) {
      std::set<int64_t> groups;
      for (int64_t k = first; k < first + 8; ++k)
        groups.insert(group(swizzledOffset(k / chunks, 8 * (k % chunks), rowElements)));
      EXPECT_EQ(groups.size(), 8u) << "copies from chunk " << first << ", rows of " << rowElements;
    }
  }
}

} // namespace
