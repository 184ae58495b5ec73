#include "runtime/support/CheckedMath.h"

#include <gtest/gtest.h>

#include <array>

namespace mobagen {
namespace {

TEST(CheckedMath, MulAndAddInRange) {
  EXPECT_EQ(*checkedMul<uint64_t>(1000, 4, "bytes"), 4000u);
  EXPECT_EQ(*checkedAdd<int32_t>(1, 2, "rows"), 3);
}

TEST(CheckedMath, MulOverflowNamesOperandsAndLimit) {
  auto r = checkedMul<uint64_t>(4, (uint64_t(1) << 62) + 1000, "out shape");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(),
            "out shape: 4 x 4611686018427388904 overflows the 64-bit limit "
            "18446744073709551615");
}

TEST(CheckedMath, AddOverflow) {
  auto r = checkedAdd<int32_t>(2147483647, 1, "offset");
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("2147483647 + 1"), std::string::npos);
}

TEST(CheckedMath, ProductStopsAtTheFirstOverflow) {
  std::array<uint64_t, 3> dims{4294967296ull, 4294967297ull, 2};
  auto r = checkedProduct<uint64_t>(dims, "shape");
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("4294967296 x 4294967297"), std::string::npos);
  std::array<uint64_t, 0> none{};
  EXPECT_EQ(*checkedProduct<uint64_t>(none, "shape"), 1u);
}

TEST(CheckedMath, CastOutOfRange) {
  EXPECT_EQ(*checkedCast<int32_t>(int64_t(7), "n"), 7);
  auto r = checkedCast<uint32_t>(int64_t(-1), "threads");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "threads: -1 is outside [0, 4294967295]");
}

} // namespace
} // namespace mobagen
