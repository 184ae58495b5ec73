//===- StageClock.h - Milliseconds per stage of generation -----------------===//
#pragma once

#include <chrono>

namespace mobagen::compiler {

/// The milliseconds since construction or the last lap(); the generation timers
/// (GenerationTimes, PtxStageTimes) add laps of it per stage.
class StageClock {
public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    return ms;
  }

private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

} // namespace mobagen::compiler
