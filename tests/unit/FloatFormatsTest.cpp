// bf16 / fp16 rounding and bit patterns, checked against independent conversions:
// the float32 bit trick for bf16 and the compiler's _Float16 for fp16.
#include "runtime/support/FloatFormats.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace mobagen {
namespace {

// Round-to-nearest-even of a float32 to bf16 by integer arithmetic on its bits.
uint16_t bf16BitsByBitTrick(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

TEST(FloatFormats, Names) {
  EXPECT_EQ(dtypeName(DType::BF16), "bf16");
  EXPECT_EQ(dtypeName(DType::F16), "fp16");
  EXPECT_EQ(parseDType("bf16"), DType::BF16);
  EXPECT_EQ(parseDType("fp16"), DType::F16);
  EXPECT_EQ(parseDType("f16"), DType::F16);
  EXPECT_FALSE(parseDType("fp32").has_value());
}

TEST(FloatFormats, Bf16TiesToEven) {
  EXPECT_EQ(roundToDType(1.0, DType::BF16), 1.0);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even neighbour is 1.
  EXPECT_EQ(roundToDType(1.0 + std::ldexp(1, -8), DType::BF16), 1.0);
  // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(roundToDType(1.0 + 3 * std::ldexp(1, -8), DType::BF16), 1.0 + std::ldexp(1, -6));
  EXPECT_EQ(roundToDType(-1.0 - std::ldexp(1, -8) - std::ldexp(1, -30), DType::BF16),
            -1.0 - std::ldexp(1, -7));
}

TEST(FloatFormats, Fp16RangeEnds) {
  EXPECT_EQ(roundToDType(65504.0, DType::F16), 65504.0);
  EXPECT_EQ(roundToDType(65519.0, DType::F16), 65504.0);
  // 65520 is halfway between 65504 and 65536 (not representable): ties to even -> inf.
  EXPECT_TRUE(std::isinf(roundToDType(65520.0, DType::F16)));
  EXPECT_EQ(roundToDType(std::ldexp(1, -24), DType::F16), std::ldexp(1, -24)); // min subnormal
  EXPECT_EQ(roundToDType(std::ldexp(1, -25), DType::F16), 0.0);                 // tie -> 0 (even)
  EXPECT_EQ(roundToDType(3 * std::ldexp(1, -26), DType::F16), std::ldexp(1, -24));
  EXPECT_EQ(roundToDType(std::ldexp(1, -133), DType::BF16), std::ldexp(1, -133)); // bf16 min
  EXPECT_TRUE(std::isinf(roundToDType(3.5e38, DType::BF16)));
  EXPECT_TRUE(std::isnan(roundToDType(std::numeric_limits<double>::quiet_NaN(), DType::BF16)));
}

TEST(FloatFormats, EveryBitPatternRoundTrips) {
  for (DType dtype : {DType::BF16, DType::F16})
    for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
      const double value = decodeDType(static_cast<uint16_t>(bits), dtype);
      if (std::isnan(value))
        continue;
      ASSERT_EQ(roundToDType(value, dtype), value) << dtypeName(dtype) << " bits " << bits;
      ASSERT_EQ(encodeDType(value, dtype), bits) << dtypeName(dtype) << " bits " << bits;
    }
}

TEST(FloatFormats, Bf16MatchesFloat32BitTrick) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(any(rng));
    if (!std::isfinite(f) || std::fabs(f) > 3.38e38f)
      continue;
    ASSERT_EQ(encodeDType(f, DType::BF16), bf16BitsByBitTrick(f)) << f;
  }
}

#ifdef __FLT16_MAX__
TEST(FloatFormats, Fp16MatchesCompilerConversion) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    // float32 values spread over fp16's range and a bit beyond it.
    const float f = std::ldexp(std::bit_cast<float>((any(rng) & 0x807FFFFF) | 0x3F800000),
                               static_cast<int>(any(rng) % 48) - 30);
    const _Float16 h = static_cast<_Float16>(f);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(encodeDType(f, DType::F16), expected) << f;
  }
}
#endif

} // namespace
} // namespace mobagen
