//===- Tuner.h - Per-shape autotuning with a persistent choice -------------===//
//
// For one kernel of one configuration, on one device and one shape bucket, the
// tuner runs every candidate variant (warm-up, then repeated measured runs with
// Device::measure), keeps the one with the lowest median and stores the choice in
// the on-disk cache under a key that names everything that changes the answer.
// A later tuner with the same key reads the choice back without measuring.
// Candidates that fail to prepare (load, resources) or to run are skipped with
// their reason; only if every candidate fails is tuning an error. A cache entry
// that is corrupt, truncated, foreign or names a variant that is not a candidate
// is logged and re-tuned, never trusted. docs/tuning.md gives the rules.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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
  /// Each value must be in [0, 2^62] (a larger one has no power of two in int64);
  /// a negative or larger value is an error naming it.
  static Expected<ShapeBucket> of(int64_t batch, int64_t maxSeqlenQ, int64_t maxSeqlenK);
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
  /// The canonical cache key text (CacheKey), one field per line: every field
  /// above, every DeviceProperties field, and "entry=tuning-choice" so that a
  /// tuning entry never answers another kind of lookup in a shared directory.
  std::string str() const;
};

struct Candidate {
  std::string variant; ///< the bundle's variant id (non-empty, unique among the candidates)
  /// Loads the variant and its inputs; an error skips the candidate with its message.
  /// May be empty (nothing to prepare).
  std::function<Status()> prepare;
  /// Enqueues one run of the variant on the measuring stream. To keep the L2 cache
  /// from flattering repeated runs, it rotates among copies of its inputs
  /// (rotatingRun and rotationCopies in Rotation.h).
  std::function<Status()> run;
};

struct TuneOptions {
  int warmup = 2;
  int repetitions = 10;
  device::Stream stream = 0;
  /// Measure even when the cache holds a choice, and store the new one.
  bool force = false;
  /// Receives one line per event worth logging: a skipped candidate and why, a
  /// cache entry rejected and why, a choice that could not be stored. May be empty.
  std::function<void(std::string_view)> log;
  /// Called once per cache entry this lookup did not trust (besides `log`): the
  /// entry's file and the reason, without the path ("checksum mismatch",
  /// "is a directory", "payload names variant 'x', ..."). May be empty.
  std::function<void(const std::filesystem::path &entry, std::string_view reason)> rejected;
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
  /// Why the cache entry was not used ("" if there was none or it was used), or
  /// why the new choice could not be stored; the tuning result stands either way.
  std::string cacheNote;
};

/// The median of `samples`: the middle sample, the lower of the two middle ones
/// for an even count, so that it is always a measured value; NaN if empty.
double medianOf(std::vector<double> samples);

/// Called after each candidate: candidates done, total, the best so far (its
/// variant is empty while no candidate has been measured).
using Progress = std::function<void(size_t done, size_t total, const TuningChoice &bestSoFar)>;

class Tuner {
public:
  /// `cache` may be null (no persistence).
  Tuner(device::Device &device, const DiskCache *cache) : device_(device), cache_(cache) {}

  /// The cached choice for `key` if there is a valid one (and !options.force);
  /// otherwise measures every candidate in order, returns the lowest median (ties
  /// to the earlier candidate) and stores it. Errors: no candidates, an empty or
  /// repeated variant id, bad warm-up/repetition counts, or every candidate failing
  /// (the message lists each one's reason).
  Expected<TuningChoice> choose(const TuningKey &key, const std::vector<Candidate> &candidates,
                                const TuneOptions &options = {}, const Progress &progress = {});

  /// The cached choice for `key` if the cache holds a valid one for these
  /// candidates (choose()'s checks), else nullopt: no cache, no entry, or an entry
  /// it does not trust, which goes to options.rejected (options.log is not
  /// called). Never prepares, runs or measures a candidate and never stores; only
  /// the candidates' variant ids are read. Errors: choose()'s request checks.
  Expected<std::optional<TuningChoice>> lookup(const TuningKey &key, const std::vector<Candidate> &candidates,
                                               const TuneOptions &options = {}) const;

private:
  device::Device &device_;
  const DiskCache *cache_;
};

} // namespace mobagen::tune
