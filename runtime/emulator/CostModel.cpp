//===- CostModel.cpp - A deterministic cost for an emulated launch ---------===//
#include "runtime/emulator/CostModel.h"

#include <algorithm>

namespace mobagen::emu {

double modeledMicroseconds(const Counters &c, const CostModelParams &p) {
  // A grid smaller than the part leaves SMs idle: per-SM work is the total over
  // the SMs the CTAs occupy.
  const double sms = double(std::max<uint64_t>(1, std::min<uint64_t>(c.ctas, uint64_t(p.multiprocessors))));
  const double cyclesPerUs = p.clockGHz * 1e3;
  const double issueUs = double(c.totalWarpInstructions()) / (sms * p.issuePerSmPerCycle) / cyclesPerUs;
  const double share = sms / p.multiprocessors; // the fraction of the part the grid fills
  const double tensorUs = double(c.tensorCoreFlops) / (p.tensorFlopsPerSecond * share) * 1e6;
  const double globalUs =
      double(c.globalBytesRead + c.globalBytesWritten) / (p.globalBytesPerSecond * share) * 1e6;
  const double sharedUs =
      double(c.sharedAccesses + c.sharedBankConflicts) / (sms * p.sharedWavefrontsPerSmPerCycle) / cyclesPerUs;
  const double bottleneckUs = std::max({issueUs, tensorUs, globalUs, sharedUs});
  const double restUs = issueUs + tensorUs + globalUs + sharedUs - bottleneckUs;
  return p.launchMicroseconds + bottleneckUs + p.nonBottleneckShare * restUs;
}

} // namespace mobagen::emu
