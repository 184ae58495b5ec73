//===- FragmentLayoutTest.cpp - The fragment tables on their own -----------===//
//
// Entries checked against the PTX ISA's fragment figures, and the structural
// property that every matrix element is held by exactly one (lane, slot).
//
//===----------------------------------------------------------------------===//
#include <set>

#include <gtest/gtest.h>

#include "runtime/emulator/FragmentLayout.h"

namespace mobagen::emu {
namespace {

TEST(FragmentLayout, MmaM16N8K16AFromTheIsaFigure) {
  // Lane 0 (group 0, thread-in-group 0): a0,a1 at row 0 cols 0,1; a2,a3 at row 8;
  // a4,a5 at row 0 cols 8,9; a6,a7 at row 8 cols 8,9.
  EXPECT_EQ(mmaAElement(16, 0, 0), (FragCoord{0, 0}));
  EXPECT_EQ(mmaAElement(16, 0, 1), (FragCoord{0, 1}));
  EXPECT_EQ(mmaAElement(16, 0, 2), (FragCoord{8, 0}));
  EXPECT_EQ(mmaAElement(16, 0, 4), (FragCoord{0, 8}));
  EXPECT_EQ(mmaAElement(16, 0, 7), (FragCoord{8, 9}));
  // Lane 5: group 1, thread-in-group 1.
  EXPECT_EQ(mmaAElement(16, 5, 0), (FragCoord{1, 2}));
  EXPECT_EQ(mmaAElement(16, 5, 3), (FragCoord{9, 3}));
  EXPECT_EQ(mmaAElement(16, 31, 6), (FragCoord{15, 14}));
}

TEST(FragmentLayout, MmaBAndCFromTheIsaFigure) {
  EXPECT_EQ(mmaBElement(16, 0, 0), (FragCoord{0, 0}));
  EXPECT_EQ(mmaBElement(16, 4, 1), (FragCoord{1, 1}));   // lane 4: group 1 -> column 1
  EXPECT_EQ(mmaBElement(16, 3, 2), (FragCoord{14, 0}));  // b2: k + 8
  EXPECT_EQ(mmaBElement(8, 7, 1), (FragCoord{7, 1}));
  EXPECT_EQ(mmaCElement(0, 0), (FragCoord{0, 0}));
  EXPECT_EQ(mmaCElement(6, 1), (FragCoord{1, 5}));
  EXPECT_EQ(mmaCElement(6, 2), (FragCoord{9, 4}));
  EXPECT_EQ(mmaAElement(8, 5, 2), (FragCoord{9, 2}));
}

void expectBijection(unsigned rows, unsigned cols, unsigned slots, FragCoord (*f)(unsigned, unsigned)) {
  std::set<std::pair<unsigned, unsigned>> seen;
  for (unsigned lane = 0; lane < 32; ++lane)
    for (unsigned i = 0; i < slots; ++i) {
      const FragCoord c = f(lane, i);
      ASSERT_LT(c.row, rows);
      ASSERT_LT(c.col, cols);
      EXPECT_TRUE(seen.insert({c.row, c.col}).second) << "element " << c.row << "," << c.col << " held twice";
    }
  EXPECT_EQ(seen.size(), rows * cols);
}

TEST(FragmentLayout, EveryElementHeldExactlyOnce) {
  expectBijection(16, 16, 8, [](unsigned l, unsigned i) { return mmaAElement(16, l, i); });
  expectBijection(16, 8, 4, [](unsigned l, unsigned i) { return mmaAElement(8, l, i); });
  expectBijection(16, 8, 4, [](unsigned l, unsigned i) { return mmaBElement(16, l, i); });
  expectBijection(8, 8, 2, [](unsigned l, unsigned i) { return mmaBElement(8, l, i); });
  expectBijection(16, 8, 4, [](unsigned l, unsigned i) { return mmaCElement(l, i); });
  expectBijection(8, 8, 2, [](unsigned l, unsigned i) { return ldmatrixElement(l, i, false); });
  expectBijection(8, 8, 2, [](unsigned l, unsigned i) { return ldmatrixElement(l, i, true); });
}

TEST(FragmentLayout, LdmatrixRowsAndTranspose) {
  // Without .trans lane l holds row l/4; with .trans, column l/4 of two rows.
  EXPECT_EQ(ldmatrixElement(5, 0, false), (FragCoord{1, 2}));
  EXPECT_EQ(ldmatrixElement(5, 1, false), (FragCoord{1, 3}));
  EXPECT_EQ(ldmatrixElement(5, 0, true), (FragCoord{2, 1}));
  EXPECT_EQ(ldmatrixElement(5, 1, true), (FragCoord{3, 1}));
  EXPECT_EQ(ldmatrixAddressLane(2, 3), 19u);
  // ldmatrix (no .trans) of a row-major A tile gives exactly the mma A fragment of
  // the k8 shape: the reason CUTLASS can feed one into the other.
  for (unsigned lane = 0; lane < 32; ++lane)
    for (unsigned i = 0; i < 4; ++i) {
      const unsigned matrix = i / 2; // x2: rows 0-7, then rows 8-15
      const FragCoord e = ldmatrixElement(lane, i % 2, false);
      EXPECT_EQ(mmaAElement(8, lane, i), (FragCoord{e.row + 8 * matrix, e.col}));
    }
}

} // namespace
} // namespace mobagen::emu
