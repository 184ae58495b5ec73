//===- CostModel.h - A deterministic cost for an emulated launch -----------===//
//
// The emulator cannot time anything, but the autotuner still has to rank
// variants on it (that is how the tuning path is tested without a GPU). This
// model turns one launch's counters into modeled microseconds on an H200-like
// part: the launch latency plus the slowest of instruction issue, tensor-core
// work, global-memory traffic and shared-memory wavefronts, spread over the SMs
// the grid can fill. It ranks variants; it does not predict wall time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/emulator/Counters.h"

namespace mobagen::emu {

struct CostModelParams {
  int multiprocessors = 132;         ///< H200 (SXM): 132 SMs
  double clockGHz = 1.98;            ///< boost clock
  double issuePerSmPerCycle = 4;     ///< four warp schedulers per SM
  double tensorFlopsPerSecond = 660e12; ///< mma.sync bf16 dense, about 2/3 of wgmma's peak
  double globalBytesPerSecond = 4.8e12; ///< HBM3e
  double sharedWavefrontsPerSmPerCycle = 1;
  double launchMicroseconds = 3;
};

/// Modeled microseconds of one launch with these counters.
double modeledMicroseconds(const Counters &counters, const CostModelParams &params = {});

} // namespace mobagen::emu
