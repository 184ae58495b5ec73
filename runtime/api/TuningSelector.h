//===- TuningSelector.h - The autotuner behind mobagen_tune -----------------===//
//
// The VariantSelector that measures. For one kernel and one shape bucket it
// builds one tune::Candidate per bundle variant and lets tune::Tuner keep the
// fastest (docs/tuning.md, "Tuning a context"):
//
//  - inputs: random q, k, v in the config's dtype and the cu_seqlens of the
//    bucket's own shape (batch and every sequence at the bucket's lengths), so
//    that every shape of a bucket is tuned on the same work and the cached
//    answer does not depend on which shape came first;
//  - rotation: N copies of everything one run reads and writes, N from
//    tune::rotationCopies for the L2 size, but never more than the runs that
//    measure() makes (warm-up + repetitions): further copies would never be used;
//  - earlier kernels: each kernel reads what the ones before it wrote (gate_topk
//    kbar, the routing kernels the selection, and so on), so before the candidates of a kernel are measured, the kernels
//    before it run once on every copy with their chosen variants;
//  - prepare loads the variant's module (a failure skips the candidate with its
//    reason) and, for the first candidate, allocates and fills the inputs;
//  - run enqueues the one variant on the device directly, with arguments built
//    beforehand, so that no launcher lock is taken while the device measures.
//
// The key: the bundle's canonical config text, compiler and hash, the device's
// properties, the shape bucket, mobagen's version. Choices persist in the
// request's cache (the context's cache directory); without one, tuning is in
// memory only.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "runtime/api/Context.h"

namespace mobagen::api {

struct TuningSelectorOptions {
  int warmup = 2;
  int repetitions = 10;
  /// Measure even when the cache holds a choice (and store the new one).
  bool force = false;
  /// The L2 size the rotation defeats; unset: tune::kH200L2Bytes (the device
  /// interface does not report it).
  std::optional<uint64_t> l2Bytes;
  /// Skipped variants, rejected cache entries (tune::TuneOptions::log).
  std::function<void(std::string_view)> log;
  /// After each candidate of a kernel (tune::Progress, with the kernel).
  std::function<void(bundle::KernelKind, size_t done, size_t total, const tune::TuningChoice &best)> progress;
  /// The choice for each kernel, measured or from the cache.
  std::function<void(bundle::KernelKind, const tune::TuningChoice &)> chosen;
};

/// The measuring selector (the default of every Context).
VariantSelector makeTuningSelector(TuningSelectorOptions options = {});

/// The cache key of a kernel's choice for `request`.
tune::TuningKey tuningKeyFor(const VariantRequest &request);

/// The varlen shape a bucket is tuned on: `bucket.batch` sequences, each of the
/// bucket's lengths (queries at most the keys when causal). Falls back to `shape`
/// split evenly when the bucket's own shape exceeds the kernels' limits.
/// Returns the cu_seqlens too.
struct TuningShape {
  launch::VarlenShape sizes;
  std::vector<int32_t> cuSeqlensQ, cuSeqlensK;
};
TuningShape tuningShapeFor(const bundle::BundleConfig &config, const tune::ShapeBucket &bucket,
                           const launch::VarlenShape &shape);

} // namespace mobagen::api

namespace mobagen::api {

/// The index of the variant the request's cache holds for its kernel and bucket
/// (tuningKeyFor's key, the autotuner's payload checks), else nullopt: no cache,
/// no entry, or an entry it does not trust, which goes to the request's log as
/// rejectedEntryNote's line ending in `consequence`. Never measures or stores
/// (tune::Tuner::lookup). What Context::loadTuned asks for each kernel.
std::optional<size_t> cachedChoiceFor(const VariantRequest &request,
                                      std::string_view consequence = "the default variant runs");

/// cachedChoiceFor as a VariantSelector: the cached choice, else each kernel's
/// first variant; never measures. Tuned buckets run as tuned, the others as
/// untuned forwards do. An entry it does not trust goes to the request's log
/// ("...; the default variant runs"), as the autotuner's does ("...; tuning
/// again"). Context::loadTuned is the same lookup without replacing tune()'s
/// selector.
VariantSelector makeCachedChoiceSelector();

} // namespace mobagen::api
