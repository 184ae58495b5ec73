//===- Counters.h - What one launch did: the performance model's inputs ----===//
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "runtime/emulator/PtxModule.h"
#include "runtime/support/Status.h"

namespace mobagen::emu {

struct Counters {
  /// Warp-level instructions by class, and thread-level (per active lane).
  std::array<uint64_t, size_t(OpClass::Count)> warpInstructions{};
  uint64_t threadInstructions = 0;
  uint64_t tensorCoreFlops = 0; // 2 * M * N * K per mma
  uint64_t globalBytesRead = 0, globalBytesWritten = 0;
  uint64_t sharedBytesRead = 0, sharedBytesWritten = 0;
  /// Extra shared-memory wavefronts caused by bank conflicts (0 for a
  /// conflict-free access), summed over warp-level accesses.
  uint64_t sharedBankConflicts = 0;
  uint64_t sharedAccesses = 0; // warp-level shared memory instructions
  /// The grid's CTAs. In sampled mode (EmulatorOptions::sampleCtas) every other
  /// field is the estimate for the whole grid, and executedCtas < ctas says so.
  uint64_t ctas = 0;
  /// The CTAs that actually ran (== ctas for a full launch).
  uint64_t executedCtas = 0;

  bool sampled() const { return executedCtas < ctas; }

  uint64_t totalWarpInstructions() const {
    uint64_t n = 0;
    for (uint64_t v : warpInstructions)
      n += v;
    return n;
  }
  void add(const Counters &o);
  /// Every count times `weight`, except executedCtas: one CTA standing for `weight`.
  /// Fails, naming the limit, if a product passes 64 bits.
  Status scale(uint64_t weight);
  /// Every count but executedCtas halved, rounding up (undoes a doubled weight).
  void halve();
  /// A multi-line human-readable summary.
  std::string format() const;
};

} // namespace mobagen::emu
