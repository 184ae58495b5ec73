//===- cache_entry_fuzzer.cpp - libFuzzer target for tuning-cache entries ---===//
//
// Writes arbitrary bytes as the entry file of a fixed key in a private cache
// directory and loads it. A cache directory is shared between processes and may
// hold anything (a truncated write, another version, garbage); load must answer a
// hit or a miss with a reason, and a hit only when the entry is well formed, for
// this key, with a matching checksum.
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

#include "runtime/cache/DiskCache.h"

namespace {

const std::string kKey = mobagen::CacheKey()
                             .add("kind", "tuning")
                             .add("config", "block_size=64 top_k=2 head_dim=64")
                             .add("bucket", 1024)
                             .str();

/// A cache directory of this process's own, removed when the fuzzer exits.
struct PrivateCache {
  PrivateCache()
      : dir(std::filesystem::temp_directory_path() / ("mobagen-cache-fuzz-" + std::to_string(getpid()))),
        cache([this] {
          auto opened = mobagen::DiskCache::open(dir);
          if (!opened)
            std::abort();
          return std::move(*opened);
        }()) {}
  ~PrivateCache() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  mobagen::DiskCache cache;
};

const mobagen::DiskCache &cache() {
  static PrivateCache c;
  return c.cache;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const auto path = cache().entryPath(kKey);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(data), std::streamsize(size));
    if (!out)
      std::abort();
  }
  const mobagen::CacheLookup lookup = cache().load(kKey);
  // A hit's payload is part of the entry, and a miss on a present entry says why.
  if (lookup.payload && lookup.payload->size() > size)
    std::abort();
  if (!lookup.payload && lookup.rejected.empty())
    std::abort();
  return 0;
}
