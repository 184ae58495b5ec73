//===- EmulatorRun.h - `mobagen run --device emulator` -----------------------===//
//
// Generates the three MoBA kernels for the run's configuration, loads their PTX on
// the emulator device and runs pool_keys, gate_topk and sparse_attention_fwd on
// the inputs, with every emulator check on.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>

#include "runtime/reference/MobaReference.h"
#include "runtime/support/FloatFormats.h"
#include "tools/mobagen/MobaInputs.h"

namespace mobagen::cli {

/// out (rounded to the dtype), lse, and the selection (scores are NaN: the
/// kernels write only the indices). Each kernel runs in its default tuning variant
/// unless `variants` names another (kernel name -> variant id).
Expected<reference::MobaOutput>
runMobaOnEmulator(const MobaInputs &inputs, const reference::MobaParams &params, DType dtype,
                  const std::map<std::string, std::string> &variants = {});

} // namespace mobagen::cli
