//===- FloatFormats.h - bf16 and fp16, the kernels' storage formats --------===//
//
// The kernels read and write bf16 or fp16. The float64 reference and the CLI work
// on doubles, so they need exact IEEE round-to-nearest-even into those formats and
// exact decoding of their bit patterns.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mobagen {

/// The element types a MoBA configuration can use for q, k, v and out.
enum class DType { BF16, F16 };

std::string_view dtypeName(DType dtype);           // "bf16" or "fp16"
std::optional<DType> parseDType(std::string_view); // accepts bf16, fp16, f16

/// Rounds `x` to the nearest value representable in `dtype`, ties to even, with
/// subnormals and overflow to infinity as IEEE 754 specifies. NaN stays NaN.
double roundToDType(double x, DType dtype);

/// The 16-bit pattern of roundToDType(x, dtype).
uint16_t encodeDType(double x, DType dtype);

/// The exact value of a 16-bit pattern of `dtype`.
double decodeDType(uint16_t bits, DType dtype);

} // namespace mobagen
