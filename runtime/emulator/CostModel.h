//===- CostModel.h - A deterministic cost for an emulated launch -----------===//
//
// The emulator cannot time anything, but the autotuner still has to rank
// variants on it (that is how the tuning path is tested without a GPU). This
// model turns one launch's counters into modeled microseconds on an H200-like
// part: the launch latency plus the slowest of instruction issue, tensor-core
// work, global-memory traffic and shared-memory wavefronts, spread over the SMs
// the grid can fill, plus a share of the other three (they overlap with the
// bottleneck, but not perfectly). It ranks variants; it does not predict wall
// time. docs/tuning.md gives the source of each constant.
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
  /// The fraction of each non-bottleneck term that is added to the bottleneck's.
  /// A modeling choice, not a hardware figure: with 0 (a pure roofline) a variant
  /// with extra bank conflicts or bytes off the critical pipe would tie with one
  /// without them; with 1 the pipes would not overlap at all.
  double nonBottleneckShare = 0.1;
};

/// Modeled microseconds of one launch with these counters.
double modeledMicroseconds(const Counters &counters, const CostModelParams &params = {});

} // namespace mobagen::emu
