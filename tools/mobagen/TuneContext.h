//===- TuneContext.h - What `mobagen tune` and `mobagen bench` share ---------===//
//
// Both take a bundle (--bundle DIR, or the configuration flags of `mobagen
// generate`, then every variant is generated in this process), a device, a cache
// directory and a shape, and drive an api::Context: the runtime behind the
// public API, used directly for its tuning hooks (progress, cached choices).
// RejectedEntryNotes is `mobagen run`'s too.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/api/Context.h"

namespace mobagen::cli {

struct ContextFlags {
  std::string bundle;
  int64_t blockSize = 512, topK = 3, headDim = 128, numQHeads = 1, numKvHeads = 1;
  bool causal = true;
  std::string dtype = "bf16";
  std::string target = "sm_80";
  double scale = 0.0;
  bool haveScale = false;
  std::string device = "auto";
  std::string cacheDir; ///< "" = runtime/cache's default directory
};

/// --bundle, the configuration flags, --device and --cache-dir.
void addContextFlags(CLI::App &command, ContextFlags &flags);

/// Opens the device and a context for the bundle (generated here, every variant,
/// when --bundle is not given) with the cache directory; `log` becomes the
/// context's (api::ContextOptions::log).
Expected<std::unique_ptr<api::Context>> openContext(const ContextFlags &flags, std::string &cacheDirUsed,
                                                    std::function<void(std::string_view)> log = {});

/// A context's log for the command line: each rejected tuning-cache entry as one
/// "mobagen: note: LINE" on stderr (a line seen before is not repeated), or with
/// `quiet` only counted, for printCount's one line.
class RejectedEntryNotes {
public:
  explicit RejectedEntryNotes(bool quiet) : quiet_(quiet) {}
  void note(std::string_view line);
  /// With `quiet` and at least one rejected entry: "mobagen: note: N tuning-cache
  /// entries were rejected (rerun without --quiet for each reason)".
  void printCount() const;
  /// The distinct rejected entries noted so far.
  size_t count() const { return seen_.size(); }
  std::function<void(std::string_view)> log() {
    return [this](std::string_view line) { note(line); };
  }

private:
  bool quiet_;
  std::set<std::string, std::less<>> seen_;
};

/// `batch` sequences of `seqlenQ` queries and `seqlenK` keys each, in the
/// context's heads, head dim and dtype, with its cu_seqlens.
struct UniformBatch {
  mobagen_shape shape{};
  std::vector<int32_t> cuSeqlensQ, cuSeqlensK;
};
UniformBatch uniformBatch(const api::Context &context, int64_t batch, int64_t seqlenQ, int64_t seqlenK);
/// One sequence per length, queries = keys (a varlen batch).
UniformBatch varlenBatch(const api::Context &context, const std::vector<int64_t> &lengths);

} // namespace mobagen::cli
