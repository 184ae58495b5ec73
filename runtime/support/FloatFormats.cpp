#include "runtime/support/FloatFormats.h"

#include <bit>
#include <cmath>
#include <limits>

namespace mobagen {
namespace {

/// Binary interchange format parameters: p significand bits (with the hidden one),
/// exponent range [emin, emax].
struct Format {
  int precision;
  int emin;
  int emax;
};

constexpr Format formatOf(DType dtype) {
  return dtype == DType::BF16 ? Format{8, -126, 127} : Format{11, -14, 15};
}

} // namespace

std::string_view dtypeName(DType dtype) { return dtype == DType::BF16 ? "bf16" : "fp16"; }

std::optional<DType> parseDType(std::string_view name) {
  if (name == "bf16")
    return DType::BF16;
  if (name == "fp16" || name == "f16")
    return DType::F16;
  return std::nullopt;
}

double roundToDType(double x, DType dtype) {
  if (!std::isfinite(x) || x == 0.0)
    return x;
  const Format f = formatOf(dtype);
  int exponent = 0;
  std::frexp(x, &exponent); // |x| = m * 2^exponent, m in [0.5, 1)
  // The leading bit of x has weight 2^(exponent-1); below emin the quantum stays at
  // the subnormal spacing.
  const int lead = std::max(exponent - 1, f.emin);
  const double quantum = std::ldexp(1.0, lead - (f.precision - 1));
  // x / quantum is exact (power-of-two scaling); nearbyint rounds ties to even in the
  // default rounding mode.
  const double rounded = std::nearbyint(x / quantum) * quantum;
  const double maxFinite =
      std::ldexp(2.0 - std::ldexp(1.0, -(f.precision - 1)), f.emax);
  if (std::fabs(rounded) > maxFinite)
    return std::copysign(std::numeric_limits<double>::infinity(), x);
  return rounded;
}

uint16_t encodeDType(double x, DType dtype) {
  const double r = roundToDType(x, dtype);
  if (dtype == DType::BF16) {
    // Every bf16 value is a float32 whose low 16 bits are zero.
    if (std::isnan(r))
      return std::signbit(r) ? 0xFFC0 : 0x7FC0;
    return static_cast<uint16_t>(std::bit_cast<uint32_t>(static_cast<float>(r)) >> 16);
  }
  const uint16_t sign = std::signbit(r) ? 0x8000 : 0;
  if (std::isnan(r))
    return sign | 0x7E00;
  if (std::isinf(r))
    return sign | 0x7C00;
  const double a = std::fabs(r);
  if (a == 0.0)
    return sign;
  int exponent = 0;
  const double m = std::frexp(a, &exponent); // a = m * 2^exponent
  const int e = exponent - 1;                // a = 1.f * 2^e
  if (e < -14) // subnormal: a = mantissa * 2^-24
    return sign | static_cast<uint16_t>(std::ldexp(a, 24));
  const auto mantissa = static_cast<uint16_t>(std::ldexp(m * 2.0 - 1.0, 10));
  return sign | static_cast<uint16_t>((e + 15) << 10) | mantissa;
}

double decodeDType(uint16_t bits, DType dtype) {
  if (dtype == DType::BF16)
    return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits) << 16));
  const bool negative = bits & 0x8000;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  double value;
  if (exponent == 0)
    value = std::ldexp(mantissa, -24);
  else if (exponent == 31)
    value = mantissa ? std::numeric_limits<double>::quiet_NaN()
                     : std::numeric_limits<double>::infinity();
  else
    value = std::ldexp(1024 + mantissa, exponent - 25);
  return negative ? -value : value;
}

} // namespace mobagen
