//===- ScaleOption.h - the accepted range of --scale ------------------------===//
//
// The kernels compute scale * q.k in float32, so a scale is accepted when it is
// finite and positive as a double and stays finite and positive rounded to
// float32: about 1.4e-45 (the smallest float32 subnormal) to 3.4028235e38
// (FLT_MAX). Outside it the logits are infinite or zero and out.npy is NaN.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cmath>
#include <limits>

#include "runtime/support/Status.h"

namespace mobagen::cli {

inline constexpr const char *kScaleHelp =
    "Softmax scale (default 1/sqrt(D)); finite and positive as float32: 1.4e-45 to "
    "3.4028235e38";

inline Status checkScaleOption(double scale) {
  // Compared before the conversion: a double above FLT_MAX has no float value.
  const bool inRange = std::isfinite(scale) && scale > 0 &&
                       scale <= static_cast<double>(std::numeric_limits<float>::max());
  if (!inRange || !(static_cast<float>(scale) > 0))
    return Status::errorf("--scale {:.17g} is out of range: it must be finite and positive as "
                          "float32 (1.4e-45 to 3.4028235e38)",
                          scale);
  return Status::success();
}

} // namespace mobagen::cli
