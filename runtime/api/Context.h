//===- Context.h - One bundle on one device: what the public API drives -----===//
//
// The C API (include/mobagen/mobagen.h) is a thin shell over this class: every
// check of the caller's arguments happens here, each failure with the public
// error code and a message naming the value and the limit.
//
// Variant choice: each kernel runs its first (default) variant unless tune() or
// loadTuned() has chosen one for the shape's bucket, or setVariant() pins one.
// tune() asks a VariantSelector, kernel by kernel in launch order: the one it is
// given, else the context's, by default the autotuner (TuningSelector.h: measure
// every variant, keep the fastest, persist the choice in the context's cache
// directory). loadTuned() only reads the choices the cache directory holds.
//
// Thread safety: forward, workspaceSize, tune, loadTuned, variantFor and
// setVariant may be called from several threads at once (a reader-writer lock
// guards the choices, the launcher's lock the modules; selectors and cache
// lookups run outside the choices' lock, so a tune that measures for seconds
// holds up no forward or loadTuned). Whether their launches overlap is the
// device's business (the emulator runs one launch at a time).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "mobagen/mobagen.h"
#include "runtime/bundle/Bundle.h"
#include "runtime/cache/DiskCache.h"
#include "runtime/moba/MobaLauncher.h"
#include "runtime/tune/Tuner.h"

namespace mobagen::api {

/// Success, or a public error code with its message.
struct ApiStatus {
  mobagen_status code = MOBAGEN_SUCCESS;
  std::string message;
  bool ok() const { return code == MOBAGEN_SUCCESS; }
  static ApiStatus success() { return {}; }
  static ApiStatus error(mobagen_status code, std::string message) { return {code, std::move(message)}; }
};

/// What a VariantSelector is asked: one kernel, one shape bucket.
struct VariantRequest {
  bundle::KernelKind kernel;
  tune::ShapeBucket bucket;
  launch::VarlenShape shape;            ///< the shape tune() was given
  /// The variants already chosen for the kernels before this one (launch order),
  /// so that a selector can run them to fill this kernel's inputs (kbar, selected).
  launch::VariantChoice earlier;
  const bundle::Bundle &bundle;
  launch::MobaLauncher &launcher;       ///< loads variants and enqueues single kernels
  device::Device &device;
  const DiskCache *cache;             ///< null without a cache directory
  /// The context's log (ContextOptions::log): a selector reports each cache entry
  /// it did not trust as one line, rejectedEntryNote's. May be empty.
  const std::function<void(std::string_view)> &log;
};

/// Returns the index of the variant to run (into the kernel's variants).
using VariantSelector = std::function<Expected<size_t>(const VariantRequest &)>;

/// Each kernel's first variant (no measuring).
Expected<size_t> selectFirstVariant(const VariantRequest &request);

/// The shape's tune::ShapeBucket (batch and longest sequences rounded up to powers of two).
tune::ShapeBucket bucketOf(const launch::VarlenShape &shape);

struct ContextOptions {
  std::optional<std::filesystem::path> cacheDir;
  std::optional<mobagen_config> expectedConfig;
  /// One line per tuning-cache entry that tune() or loadTuned() found and did not trust (corrupt,
  /// truncated, another format or key, unreadable, not a regular file), naming the
  /// entry and the reason. Called on the thread that called tune() / loadTuned(); may be empty.
  std::function<void(std::string_view)> log;
};

/// The line a selector logs for a rejected cache entry: "tuning-cache entry PATH
/// (KERNEL) rejected: REASON; CONSEQUENCE".
std::string rejectedEntryNote(const std::filesystem::path &entry, bundle::KernelKind kernel, std::string_view reason,
                              std::string_view consequence);

class Context {
public:
  /// Checks that the bundle is the expected one and that the device runs its target.
  static ApiStatus create(std::shared_ptr<device::Device> device, bundle::Bundle bundle,
                          const ContextOptions &options, std::unique_ptr<Context> &out);

  const bundle::Bundle &bundle() const { return bundle_; }
  device::Device &device() const { return *device_; }
  mobagen_config config() const;

  ApiStatus workspaceSize(const mobagen_shape &shape, uint64_t &bytes) const;
  ApiStatus forward(const mobagen_shape &shape, const launch::ForwardBuffers &buffers, device::Stream stream);
  /// Chooses each kernel's variant for the shape's bucket with the context's
  /// selector (setVariantSelector), loads the chosen modules and records them.
  ApiStatus tune(const mobagen_shape &shape);
  /// The same with `selector`, leaving the context's alone: callers that choose
  /// differently need not swap the member under other threads.
  ApiStatus tune(const mobagen_shape &shape, const VariantSelector &selector);
  /// Applies the choices the cache directory holds for the shape's bucket
  /// (cachedChoiceFor: the autotuner's key and checks), loads their modules and
  /// records them; never measures or stores. A kernel without a valid entry keeps
  /// the variant it had for the bucket (its first, unless this context tuned the
  /// bucket); an entry not trusted goes to the log ("...; the default variant
  /// runs"). `found`: the kernels whose choice came from the cache. Without a
  /// cache directory: nothing changes, found = 0. Errors: checkShape's, a module
  /// that does not load (MOBAGEN_ERROR_DEVICE).
  ApiStatus loadTuned(const mobagen_shape &shape, size_t &found);
  /// The id of the variant of `kernel` a forward of `shape` runs now (choiceFor).
  ApiStatus variantFor(const mobagen_shape &shape, std::string_view kernel, const std::string *&id) const;
  /// Runs one checked forward (errors as forward's), then Device::measure of the
  /// forward: `warmup` unmeasured runs, `repetitions` measured ones (ms on a GPU,
  /// model-us on the emulator), with the variants choiceFor gives.
  ApiStatus benchmarkForward(const mobagen_shape &shape, const launch::ForwardBuffers &buffers, int warmup,
                             int repetitions, device::Stream stream, device::Measurement &measurement);
  /// Pins `variant` of `kernel` for every shape; an empty variant unpins.
  ApiStatus setVariant(std::string_view kernel, std::string_view variant);
  /// Replaces the selector tune(shape) asks; an empty one restores the autotuner.
  void setVariantSelector(VariantSelector selector);

  /// The variants a forward of `shape` runs now.
  launch::VariantChoice choiceFor(const launch::VarlenShape &shape) const;

  /// The launcher of the context's kernels (single kernels, e.g. for counters).
  launch::MobaLauncher &launcher() { return launcher_; }

private:
  Context(std::shared_ptr<device::Device> device, bundle::Bundle bundle);
  /// The shape's heads / head dim / dtype against the config, then its sizes.
  ApiStatus checkShape(const mobagen_shape &shape, launch::VarlenShape &sizes) const;
  /// The kernel's index in launch order, or an error naming the known kernels.
  ApiStatus kernelIndex(std::string_view kernel, size_t &index) const;

  std::shared_ptr<device::Device> device_;
  bundle::Bundle bundle_;
  std::optional<DiskCache> cache_;
  std::function<void(std::string_view)> log_;
  launch::MobaLauncher launcher_;

  mutable std::shared_mutex choicesMutex_;
  using BucketKey = std::tuple<int64_t, int64_t, int64_t>;
  std::map<BucketKey, launch::VariantChoice> tuned_;
  std::array<std::optional<size_t>, bundle::kKernelCount> pinned_;
  VariantSelector selector_;
};

} // namespace mobagen::api
