#include "runtime/cache/DiskCache.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include "runtime/support/FileRead.h"

namespace mobagen {
namespace {

// Entry layout (little-endian):
//   magic "MOBAGENC" | u32 format version | u32 key bytes | u64 payload bytes |
//   u64 xxh64(key || payload) | key | payload
constexpr char kMagic[8] = {'M', 'O', 'B', 'A', 'G', 'E', 'N', 'C'};
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8;
// Entries hold tuning results and compiled kernels (KB to MB); a larger file at
// an entry's name is not one of ours and is not read into memory.
constexpr uint64_t kMaxEntryBytes = 1ull << 30;

template <typename T> void append(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

template <typename T> T read(const std::string &in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

uint64_t checksum(std::string_view key, std::string_view payload) {
  XXH64_state_t *state = XXH64_createState();
  XXH64_reset(state, 0);
  XXH64_update(state, key.data(), key.size());
  XXH64_update(state, payload.data(), payload.size());
  const uint64_t digest = XXH64_digest(state);
  XXH64_freeState(state);
  return digest;
}

/// Writes all of `data` to `fd`, retrying short writes.
bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

CacheKey &CacheKey::add(std::string_view name, std::string_view value) {
  text_.append(name);
  text_ += '=';
  for (char c : value) {
    if (c == '\n')
      text_ += "\\n";
    else if (c == '\\')
      text_ += "\\\\";
    else
      text_ += c;
  }
  text_ += '\n';
  return *this;
}

CacheKey &CacheKey::add(std::string_view name, int64_t value) {
  return add(name, std::to_string(value));
}

std::filesystem::path defaultCacheDirectory() {
  auto nonEmpty = [](const char *name) -> const char * {
    const char *value = std::getenv(name);
    return value && *value ? value : nullptr;
  };
  if (const char *dir = nonEmpty("MOBAGEN_CACHE_DIR"))
    return dir;
  if (const char *xdg = nonEmpty("XDG_CACHE_HOME"))
    return std::filesystem::path(xdg) / "mobagen";
  if (const char *home = nonEmpty("HOME"))
    return std::filesystem::path(home) / ".cache" / "mobagen";
  std::error_code ec;
  return std::filesystem::temp_directory_path(ec) / "mobagen-cache";
}

Expected<DiskCache> DiskCache::open(const std::filesystem::path &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::errorf("cache directory {}: cannot create: {}", dir.string(), ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    return Status::errorf("cache directory {}: not a directory", dir.string());
  return DiskCache(dir);
}

std::filesystem::path DiskCache::entryPath(std::string_view key) const {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  return dir_ / fmt::format("{:016x}{:016x}.entry", h.high64, h.low64);
}

CacheLookup DiskCache::load(std::string_view key) const {
  const std::filesystem::path path = entryPath(key);
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::not_found)
    return {}; // no entry: a plain miss
  // Anything else at the entry's name (a directory, an unreadable file, a
  // device) is a miss with the reason; the next store replaces a file but not
  // a directory, which the caller reports.
  auto entry = readRegularFile(path.string(), kMaxEntryBytes);
  if (!entry)
    return {std::nullopt, entry.status().message()};
  const std::string bytes = std::move(*entry);
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return {std::nullopt, "not a mobagen cache entry"};
  const auto version = read<uint32_t>(bytes, 8);
  if (version != kFormatVersion)
    return {std::nullopt, fmt::format("entry format version {} (this mobagen reads {})", version,
                                      kFormatVersion)};
  const auto keySize = read<uint32_t>(bytes, 12);
  const auto payloadSize = read<uint64_t>(bytes, 16);
  const auto sum = read<uint64_t>(bytes, 24);
  if (payloadSize > bytes.size() || bytes.size() - kHeaderSize != keySize + payloadSize)
    return {std::nullopt, fmt::format("truncated: {} bytes, header says {}", bytes.size(),
                                      kHeaderSize + keySize + payloadSize)};
  const std::string_view storedKey(bytes.data() + kHeaderSize, keySize);
  const std::string_view payload(bytes.data() + kHeaderSize + keySize, payloadSize);
  if (checksum(storedKey, payload) != sum)
    return {std::nullopt, "checksum mismatch"};
  if (storedKey != key)
    return {std::nullopt, "entry belongs to another key"};
  return {std::string(payload), ""};
}

Status DiskCache::store(std::string_view key, std::string_view payload) const {
  if (key.size() > UINT32_MAX)
    return Status::errorf("cache key of {} bytes exceeds the 4 GiB limit", key.size());
  std::string entry;
  entry.reserve(kHeaderSize + key.size() + payload.size());
  entry.append(kMagic, sizeof(kMagic));
  append<uint32_t>(entry, kFormatVersion);
  append<uint32_t>(entry, static_cast<uint32_t>(key.size()));
  append<uint64_t>(entry, payload.size());
  append<uint64_t>(entry, checksum(key, payload));
  entry.append(key);
  entry.append(payload);

  // A name no other writer (process or thread) uses, in the same directory so the
  // rename below is atomic.
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path final = entryPath(key);
  const std::filesystem::path temp =
      dir_ / fmt::format(".tmp-{}-{}-{}", ::getpid(),
                         std::hash<std::thread::id>{}(std::this_thread::get_id()), counter++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::errorf("cache entry {}: cannot create: {}", temp.string(), std::strerror(errno));
  const bool written = writeAll(fd, entry) && ::fsync(fd) == 0;
  const int savedErrno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return Status::errorf("cache entry {}: write failed: {}", temp.string(),
                          std::strerror(savedErrno));
  }
  if (::rename(temp.c_str(), final.c_str()) != 0) {
    const int renameErrno = errno;
    ::unlink(temp.c_str());
    return Status::errorf("cache entry {}: cannot publish: {}", final.string(),
                          std::strerror(renameErrno));
  }
  return Status::success();
}

} // namespace mobagen
