//===- DiskCache.h - A crash- and concurrency-safe on-disk cache ------------===//
//
// Stores opaque payloads (tuning results, compiled kernels) under string keys in
// one directory that several processes may share. The key names everything that
// changes the answer (config, shape bucket, GPU, driver and ptxas versions, mobagen
// version, bundle hash); the caller builds it with CacheKey.
//
// Safety rules, each tested:
//  - An entry is written to a unique temporary file in the same directory and
//    renamed over the final name, so readers see a whole entry or none.
//  - Every entry carries its full key, its length and an xxHash64 checksum; a
//    truncated, corrupt or foreign entry (another key, another format version) is
//    reported as a miss with the reason, never trusted. The caller recomputes and
//    stores over it.
//  - Nothing here throws; filesystem failures are Status values.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen {

/// Builds a canonical cache key from named fields: "name=value" lines in the order
/// given. Values may contain anything but a newline (it is escaped).
class CacheKey {
public:
  CacheKey &add(std::string_view name, std::string_view value);
  CacheKey &add(std::string_view name, int64_t value);
  const std::string &str() const { return text_; }

private:
  std::string text_;
};

/// The result of a lookup: the payload, or why there is none.
struct CacheLookup {
  std::optional<std::string> payload;
  /// Empty on a hit or a plain miss (no entry); otherwise why the entry on disk
  /// was not trusted, e.g. "checksum mismatch".
  std::string rejected;
};

/// Where mobagen caches by default: $MOBAGEN_CACHE_DIR, else $XDG_CACHE_HOME/mobagen,
/// else $HOME/.cache/mobagen, else <temp>/mobagen-cache.
std::filesystem::path defaultCacheDirectory();

class DiskCache {
public:
  /// Opens (creating if needed) the cache directory.
  static Expected<DiskCache> open(const std::filesystem::path &dir);

  CacheLookup load(std::string_view key) const;
  Status store(std::string_view key, std::string_view payload) const;

  /// The file an entry for `key` lives in (a hash of the key).
  std::filesystem::path entryPath(std::string_view key) const;
  const std::filesystem::path &directory() const { return dir_; }

  /// Bumped whenever the entry layout changes; older entries read as foreign.
  static constexpr uint32_t kFormatVersion = 1;

private:
  explicit DiskCache(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

} // namespace mobagen
