//===- Numerics.h - f16 / bf16 bit patterns and rounding for the ALU -------===//
//
// Conversions the tensor-core and packing instructions need on their hot
// paths, written for speed (bit manipulation, no doubles): decoding is exact,
// encoding rounds as the instruction's rounding modifier says.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "runtime/emulator/PtxModule.h"

namespace mobagen::emu {

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

inline float bf16ToFloat(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

inline float f16ToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0)
      return std::bit_cast<float>(sign);
    // Subnormal: mant * 2^-24.
    const float v = float(mant) * 0x1p-24f;
    return sign ? -v : v;
  }
  if (exp == 31)
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

/// Rounds a float to bf16 with `mode` (Rn/None = nearest even, Rz toward zero,
/// Rm down, Rp up). NaN stays a quiet NaN.
inline uint16_t floatToBf16(float f, Rounding mode = Rounding::Rn) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x40);
  const uint32_t lower = u & 0xffff;
  const bool negative = u >> 31;
  uint32_t r = u >> 16;
  switch (mode) {
  case Rounding::Rz: break;
  case Rounding::Rm: if (lower && negative) ++r; break;
  case Rounding::Rp: if (lower && !negative) ++r; break;
  default: r = (u + 0x7fff + ((u >> 16) & 1)) >> 16; break;
  }
  return uint16_t(r);
}

/// Rounds a float to IEEE binary16 with `mode`, with subnormals and overflow.
inline uint16_t floatToF16(float f, Rounding mode = Rounding::Rn) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const bool negative = sign != 0;
  const float a = std::fabs(f);
  if (std::isnan(f))
    return uint16_t(sign | 0x7e00);
  auto overflow = [&]() -> uint16_t {
    const bool toInf = mode == Rounding::Rn || mode == Rounding::None ||
                       (mode == Rounding::Rp && !negative) || (mode == Rounding::Rm && negative);
    return uint16_t(sign | (toInf ? 0x7c00 : 0x7bff));
  };
  if (std::isinf(f))
    return uint16_t(sign | 0x7c00);
  if (a >= 65536.0f)
    return overflow();
  // Scale to an integer count of the target's units in the last place.
  int e;
  std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
  int unitExp = std::max(e - 11, -24); // ulp of binary16 at this magnitude
  const float scaled = std::ldexp(a, -unitExp); // exact: a power-of-two scale
  float q = std::trunc(scaled);
  const float rest = scaled - q;
  switch (mode) {
  case Rounding::Rz: break;
  case Rounding::Rm: if (rest > 0 && negative) q += 1; break;
  case Rounding::Rp: if (rest > 0 && !negative) q += 1; break;
  default:
    if (rest > 0.5f || (rest == 0.5f && std::fmod(q, 2.0f) != 0))
      q += 1;
    break;
  }
  const float value = std::ldexp(q, unitExp);
  if (value >= 65520.0f || (value > 65504.0f))
    return overflow();
  if (value == 0)
    return sign;
  // Re-encode value (exactly representable now).
  int e2;
  const float m2 = std::frexp(value, &e2); // value = m2 * 2^e2
  if (e2 - 1 < -14) // subnormal: value / 2^-24
    return uint16_t(sign | uint16_t(std::ldexp(value, 24)));
  const uint32_t exp = uint32_t(e2 - 1 + 15);
  const uint32_t mant = uint32_t(std::ldexp(m2 * 2.0f - 1.0f, 10));
  return uint16_t(sign | (exp << 10) | mant);
}

/// Rounds a double to float "to odd": truncate, and set the last bit when inexact.
/// Rounding that float to f16 or bf16 (any mode) then equals rounding the double
/// directly, because float keeps more than two extra bits: no double rounding.
inline float toFloatRoundToOdd(double x) {
  float f = float(x);
  if (double(f) == x || std::isnan(x))
    return f;
  if (std::fabs(double(f)) > std::fabs(x))
    f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

inline uint16_t doubleToF16(double x, Rounding mode = Rounding::Rn) {
  return floatToF16(toFloatRoundToOdd(x), mode);
}
inline uint16_t doubleToBf16(double x, Rounding mode = Rounding::Rn) {
  return floatToBf16(toFloatRoundToOdd(x), mode);
}

inline float flushSubnormal(float f) {
  return std::fpclassify(f) == FP_SUBNORMAL ? std::copysign(0.0f, f) : f;
}

} // namespace mobagen::emu
