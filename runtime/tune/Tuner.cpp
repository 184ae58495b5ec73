//===- Tuner.cpp - Per-shape autotuning with a persistent choice -----------===//
//
// The order of work in choose(): validate the request, try the cache, measure
// each candidate (prepare, then Device::measure, then the median), pick the
// lowest, store it. Cache entries are JSON payloads checked field by field: the
// DiskCache checksum proves the bytes are the ones written for this key, the
// checks here prove that what was written still names one of today's candidates.
//
//===----------------------------------------------------------------------===//
#include "runtime/tune/Tuner.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace mobagen::tune {
namespace {

constexpr int64_t kMaxBucketValue = int64_t(1) << 62;

/// The smallest power of two >= value (0 stays 0); value in [0, 2^62].
int64_t roundUpToPowerOfTwo(int64_t value) {
  return value == 0 ? 0 : int64_t(std::bit_ceil(uint64_t(value)));
}

/// The cached choice, or why the payload is not one for these candidates.
Expected<TuningChoice> parseChoice(const std::string &payload, const std::vector<Candidate> &candidates) {
  const nlohmann::json json = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object())
    return Status::error("payload is not a JSON object");
  const auto variant = json.find("variant");
  const auto cost = json.find("cost");
  const auto unit = json.find("unit");
  if (variant == json.end() || !variant->is_string())
    return Status::error("payload has no string 'variant'");
  if (cost == json.end() || !cost->is_number())
    return Status::error("payload has no number 'cost'");
  if (unit == json.end() || !unit->is_string() || unit->get<std::string>().empty())
    return Status::error("payload has no non-empty string 'unit'");
  TuningChoice choice;
  choice.variant = variant->get<std::string>();
  choice.cost = cost->get<double>();
  choice.unit = unit->get<std::string>();
  choice.fromCache = true;
  if (!std::isfinite(choice.cost) || choice.cost < 0)
    return Status::errorf("payload cost {} is not a finite value >= 0", choice.cost);
  const bool known = std::any_of(candidates.begin(), candidates.end(),
                                 [&](const Candidate &c) { return c.variant == choice.variant; });
  if (!known)
    return Status::errorf("payload names variant '{}', which is not among the {} candidates", choice.variant,
                          candidates.size());
  return choice;
}

std::string formatChoice(const TuningChoice &choice) {
  return nlohmann::json{{"variant", choice.variant}, {"cost", choice.cost}, {"unit", choice.unit}}.dump();
}

Status validate(const TuningKey &key, const std::vector<Candidate> &candidates, const TuneOptions &options) {
  if (candidates.empty())
    return Status::errorf("tuning {}: no candidate variants", key.kernel);
  if (options.warmup < 0 || options.repetitions < 1)
    return Status::errorf("tuning {}: {} warm-up runs and {} repetitions; need >= 0 and >= 1", key.kernel,
                          options.warmup, options.repetitions);
  std::set<std::string> seen;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].variant.empty())
      return Status::errorf("tuning {}: candidate {} has an empty variant id", key.kernel, i);
    if (!seen.insert(candidates[i].variant).second)
      return Status::errorf("tuning {}: variant id '{}' appears more than once (candidate {})", key.kernel,
                            candidates[i].variant, i);
  }
  return Status::success();
}

/// Prepares and measures one candidate: its median cost and unit, or why it was skipped.
Expected<std::pair<double, std::string>> measureCandidate(device::Device &device, const Candidate &candidate,
                                                          const TuneOptions &options) {
  if (!candidate.run)
    return Status::error("no run function");
  if (candidate.prepare)
    if (Status s = candidate.prepare(); !s)
      return std::move(s).withContext("prepare: ");
  Expected<device::Measurement> m = device.measure(candidate.run, options.warmup, options.repetitions,
                                                   options.stream);
  if (!m)
    return m.status().withContext("run: ");
  if (m->samples.size() != size_t(options.repetitions))
    return Status::errorf("measure returned {} samples for {} repetitions", m->samples.size(),
                          options.repetitions);
  for (double sample : m->samples)
    if (!std::isfinite(sample) || sample < 0)
      return Status::errorf("measure returned the sample {}; samples must be finite and >= 0", sample);
  return std::make_pair(medianOf(m->samples), m->unit);
}

} // namespace

Expected<ShapeBucket> ShapeBucket::of(int64_t batch, int64_t maxSeqlenQ, int64_t maxSeqlenK) {
  const std::pair<const char *, int64_t> fields[] = {
      {"batch", batch}, {"max_seqlen_q", maxSeqlenQ}, {"max_seqlen_k", maxSeqlenK}};
  for (const auto &[name, value] : fields)
    if (value < 0 || value > kMaxBucketValue)
      return Status::errorf("shape bucket: {} = {} is outside [0, 2^62]", name, value);
  return ShapeBucket{roundUpToPowerOfTwo(batch), roundUpToPowerOfTwo(maxSeqlenQ),
                     roundUpToPowerOfTwo(maxSeqlenK)};
}

std::string TuningKey::str() const {
  CacheKey key;
  key.add("entry", "tuning-choice")
      .add("kernel", kernel)
      .add("config", config)
      .add("batch", bucket.batch)
      .add("max_seqlen_q", bucket.maxSeqlenQ)
      .add("max_seqlen_k", bucket.maxSeqlenK)
      .add("device_kind", device.kind)
      .add("device_name", device.name)
      .add("compute_capability", fmt::format("{}.{}", device.computeMajor, device.computeMinor))
      .add("multiprocessors", device.multiprocessors)
      .add("driver_version", device.driverVersion)
      .add("max_shared_bytes_per_block", int64_t(device.maxSharedBytesPerBlock))
      .add("compiler_version", compilerVersion)
      .add("mobagen_version", mobagenVersion)
      .add("bundle_hash", fmt::format("{:016x}", bundleHash));
  return key.str();
}

double medianOf(std::vector<double> samples) {
  if (samples.empty())
    return std::numeric_limits<double>::quiet_NaN();
  const auto middle = samples.begin() + (samples.size() - 1) / 2;
  std::nth_element(samples.begin(), middle, samples.end());
  return *middle;
}

namespace {

/// The cache's choice for `keyText`, or nullopt with `reason` set when an entry
/// was there and not trusted ("" on a plain miss).
std::optional<TuningChoice> cachedChoice(const DiskCache &cache, const std::string &keyText,
                                         const std::vector<Candidate> &candidates, std::string &reason) {
  reason.clear();
  const CacheLookup lookup = cache.load(keyText);
  if (lookup.payload) {
    Expected<TuningChoice> cached = parseChoice(*lookup.payload, candidates);
    if (cached)
      return std::move(*cached);
    reason = cached.status().message();
  } else {
    reason = lookup.rejected;
  }
  return std::nullopt;
}

/// Hands a rejected entry to options.rejected: its file and the bare reason.
void reportRejected(const DiskCache &cache, const std::string &keyText, const std::string &reason,
                    const TuneOptions &options) {
  if (!options.rejected)
    return;
  // File errors ("PATH: is a directory") name the entry already.
  const std::filesystem::path entry = cache.entryPath(keyText);
  const std::string prefix = entry.string() + ": ";
  options.rejected(entry, std::string_view(reason).starts_with(prefix) ? std::string_view(reason).substr(prefix.size())
                                                                       : std::string_view(reason));
}

} // namespace

Expected<std::optional<TuningChoice>> Tuner::lookup(const TuningKey &key, const std::vector<Candidate> &candidates,
                                                    const TuneOptions &options) const {
  MOBAGEN_RETURN_IF_ERROR(validate(key, candidates, options));
  if (!cache_)
    return std::optional<TuningChoice>();
  const std::string keyText = key.str();
  std::string reason;
  std::optional<TuningChoice> cached = cachedChoice(*cache_, keyText, candidates, reason);
  if (!reason.empty())
    reportRejected(*cache_, keyText, reason, options);
  return cached;
}

Expected<TuningChoice> Tuner::choose(const TuningKey &key, const std::vector<Candidate> &candidates,
                                     const TuneOptions &options, const Progress &progress) {
  MOBAGEN_RETURN_IF_ERROR(validate(key, candidates, options));
  auto log = [&](const std::string &line) {
    if (options.log)
      options.log(line);
  };
  const std::string keyText = key.str();
  std::string cacheNote;

  if (cache_ && !options.force) {
    std::string reason;
    if (std::optional<TuningChoice> cached = cachedChoice(*cache_, keyText, candidates, reason))
      return std::move(*cached);
    if (!reason.empty()) {
      cacheNote = "cache entry rejected: " + reason;
      log(fmt::format("tuning {}: {}; tuning again", key.kernel, cacheNote));
      reportRejected(*cache_, keyText, reason, options);
    }
  }

  TuningChoice best;
  best.cost = std::numeric_limits<double>::quiet_NaN();
  best.cacheNote = cacheNote;
  bool haveBest = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate &candidate = candidates[i];
    Expected<std::pair<double, std::string>> measured = measureCandidate(device_, candidate, options);
    if (!measured) {
      best.tried.push_back({candidate.variant, std::numeric_limits<double>::quiet_NaN(),
                            measured.status().message()});
      log(fmt::format("tuning {}: skipped variant '{}': {}", key.kernel, candidate.variant,
                      measured.status().message()));
    } else {
      const auto &[cost, unit] = *measured;
      best.tried.push_back({candidate.variant, cost, ""});
      // Strictly lower: a tie keeps the earlier candidate.
      if (!haveBest || cost < best.cost) {
        best.variant = candidate.variant;
        best.cost = cost;
        best.unit = unit;
        haveBest = true;
      }
    }
    if (progress)
      progress(i + 1, candidates.size(), best);
  }

  if (!haveBest) {
    std::string reasons;
    for (const TuningChoice::Tried &t : best.tried)
      reasons += fmt::format("; '{}': {}", t.variant, t.skipped);
    return Status::errorf("tuning {}: all {} candidate variants failed{}", key.kernel, candidates.size(),
                          reasons);
  }

  if (cache_) {
    if (Status s = cache_->store(keyText, formatChoice(best)); !s) {
      best.cacheNote += (best.cacheNote.empty() ? "" : "; ") + ("choice not stored: " + s.message());
      log(fmt::format("tuning {}: choice '{}' not stored: {}", key.kernel, best.variant, s.message()));
    }
  }
  return best;
}

} // namespace mobagen::tune
