//===- Tuner.h - Per-shape autotuning with a persistent choice -------------===//
//
// For one kernel of one configuration, on one device and one shape bucket, the
// tuner runs every candidate variant (warm-up, then repeated measured runs with
// Device::measure), keeps the one with the lowest median and stores the choice in
// the on-disk cache under a key that names everything that changes the answer.
// A later tuner with the same key reads the choice back without measuring.
// Candidates that fail to prepare (load, resources) or to run are skipped with
// their reason; only if every candidate fails is tuning an error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cache/DiskCache.h"
#include "runtime/device/Device.h"

namespace mobagen::tune {

/// Which shapes share a tuning answer: the batch and the longest query and key
/// sequences, each rounded up to a power of two (1, 2, 4, ...; 0 stays 0).
struct ShapeBucket {
  int64_t batch = 0;
  int64_t maxSeqlenQ = 0;
  int64_t maxSeqlenK = 0;
  static ShapeBucket of(int64_t batch, int64_t maxSeqlenQ, int64_t maxSeqlenK);
  bool operator==(const ShapeBucket &) const = default;
};

/// Everything that changes which variant is fastest.
struct TuningKey {
  std::string kernel;          ///< "gate_topk", ...
  std::string config;          ///< the configuration, canonical text (the bundle's)
  ShapeBucket bucket;
  device::DeviceProperties device;
  std::string compilerVersion; ///< what produced the PTX / cubin (from the bundle)
  std::string mobagenVersion;
  uint64_t bundleHash = 0;
  /// The canonical cache key text (CacheKey), one field per line.
  std::string str() const;
};

struct Candidate {
  std::string variant; ///< the bundle's variant id
  /// Loads the variant and its inputs; an error skips the candidate with its message.
  std::function<Status()> prepare;
  /// Enqueues one run of the variant on the measuring stream.
  std::function<Status()> run;
};

struct TuneOptions {
  int warmup = 2;
  int repetitions = 10;
  device::Stream stream = 0;
  /// Measure even when the cache holds a choice, and store the new one.
  bool force = false;
};

struct TuningChoice {
  std::string variant;
  double cost = 0;          ///< median sample of the chosen variant
  std::string unit;         ///< Measurement::unit
  bool fromCache = false;
  /// variant, median cost (NaN for skipped ones) and skip reason ("" if measured).
  struct Tried {
    std::string variant;
    double cost;
    std::string skipped;
  };
  std::vector<Tried> tried; ///< empty when fromCache
};

/// Called after each candidate: candidates done, total, the best so far.
using Progress = std::function<void(size_t done, size_t total, const TuningChoice &bestSoFar)>;

class Tuner {
public:
  /// `cache` may be null (no persistence).
  Tuner(device::Device &device, const DiskCache *cache) : device_(device), cache_(cache) {}

  Expected<TuningChoice> choose(const TuningKey &key, const std::vector<Candidate> &candidates,
                                const TuneOptions &options = {}, const Progress &progress = {});

private:
  device::Device &device_;
  const DiskCache *cache_;
};

} // namespace mobagen::tune
