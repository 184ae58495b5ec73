// The on-disk cache: round trips, every kind of untrustworthy entry (truncated,
// corrupt, foreign, old format, garbage) read as a miss with its reason and then
// rebuilt, and several processes sharing one directory.
#include "runtime/cache/DiskCache.h"

#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mobagen {
namespace {

class DiskCacheTest : public ::testing::Test {
protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("mobagen-cache-" + std::to_string(::getpid()));
  void TearDown() override { std::filesystem::remove_all(dir); }

  DiskCache openCache() {
    auto cache = DiskCache::open(dir);
    EXPECT_TRUE(cache.ok()) << cache.status().message();
    return std::move(cache).value();
  }

  std::string readFile(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  void writeFile(const std::filesystem::path &p, const std::string &bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }
};

TEST_F(DiskCacheTest, StoresLoadsAndOverwrites) {
  const DiskCache cache = openCache();
  EXPECT_FALSE(cache.load("k").payload.has_value());
  EXPECT_EQ(cache.load("k").rejected, "");
  ASSERT_TRUE(cache.store("k", std::string("v1\0binary", 9)).ok());
  EXPECT_EQ(cache.load("k").payload, std::string("v1\0binary", 9));
  ASSERT_TRUE(cache.store("k", "v2").ok());
  EXPECT_EQ(cache.load("k").payload, "v2");
  ASSERT_TRUE(cache.store("empty", "").ok());
  EXPECT_EQ(cache.load("empty").payload, "");
  // Only the two entries remain: no temporary files are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 2);
}

TEST_F(DiskCacheTest, UntrustworthyEntriesAreMissesWithAReasonAndGetRebuilt) {
  const DiskCache cache = openCache();
  ASSERT_TRUE(cache.store("key", "payload-bytes").ok());
  const auto path = cache.entryPath("key");
  const std::string good = readFile(path);

  auto expectRejected = [&](const std::string &bytes, const std::string &reason) {
    writeFile(path, bytes);
    const CacheLookup lookup = cache.load("key");
    EXPECT_FALSE(lookup.payload.has_value()) << reason;
    EXPECT_NE(lookup.rejected.find(reason), std::string::npos) << lookup.rejected;
    // The caller rebuilds: storing again makes the entry good.
    ASSERT_TRUE(cache.store("key", "payload-bytes").ok());
    EXPECT_EQ(cache.load("key").payload, "payload-bytes");
  };
  expectRejected(good.substr(0, good.size() - 3), "truncated");
  expectRejected(good.substr(0, 10), "not a mobagen cache entry");
  std::string corrupt = good;
  corrupt[corrupt.size() - 2] ^= 0x40;
  expectRejected(corrupt, "checksum mismatch");
  std::string oldFormat = good;
  oldFormat[8] = 0x7F;
  expectRejected(oldFormat, "entry format version 127");
  expectRejected("garbage that is long enough to hold a header, but is not one", "not a mobagen");

  // A foreign entry: another key's valid file under this key's name.
  ASSERT_TRUE(cache.store("other", "x").ok());
  expectRejected(readFile(cache.entryPath("other")), "entry belongs to another key");
}

TEST_F(DiskCacheTest, ADirectoryOrUnreadableFileAtAnEntryIsAMissWithAReason) {
  const DiskCache cache = openCache();
  const auto path = cache.entryPath("key");
  // A directory at the entry's name used to escape as basic_filebuf's
  // "underflow error reading the file: Is a directory" exception.
  std::filesystem::create_directory(path);
  const CacheLookup directory = cache.load("key");
  EXPECT_FALSE(directory.payload.has_value());
  EXPECT_EQ(directory.rejected, path.string() + ": is a directory");
  std::filesystem::remove(path);
  if (::geteuid() != 0) { // root reads anything
    ASSERT_TRUE(cache.store("key", "payload").ok());
    std::filesystem::permissions(path, std::filesystem::perms::none);
    const CacheLookup denied = cache.load("key");
    EXPECT_FALSE(denied.payload.has_value());
    EXPECT_EQ(denied.rejected, path.string() + ": cannot open: permission denied");
  }
}

TEST_F(DiskCacheTest, KeysAreCanonicalAndUnambiguous) {
  EXPECT_EQ(CacheKey().add("gpu", "H200").add("sms", 132).str(), "gpu=H200\nsms=132\n");
  // A value cannot forge another field.
  EXPECT_NE(CacheKey().add("a", "1\nb=2").str(), CacheKey().add("a", "1").add("b", "2").str());
  const DiskCache cache = openCache();
  EXPECT_NE(cache.entryPath(CacheKey().add("a", "1").str()),
            cache.entryPath(CacheKey().add("a", "2").str()));
}

TEST_F(DiskCacheTest, OpenReportsAPathThatIsAFile) {
  std::filesystem::create_directories(dir);
  writeFile(dir / "file", "x");
  auto cache = DiskCache::open(dir / "file");
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.status().message().find("cannot create"), std::string::npos)
      << cache.status().message();
}

TEST_F(DiskCacheTest, ProcessesSharingADirectoryNeverSeeAPartialEntry) {
  openCache();
  constexpr int kProcesses = 4, kRounds = 150;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto cache = DiskCache::open(dir);
      int bad = !cache.ok();
      for (int r = 0; r < kRounds && !bad; ++r) {
        // Large payloads make a torn write likely if publication were not atomic.
        const std::string payload(4096 + 512 * p, static_cast<char>('a' + p));
        bad |= !cache->store("shared", payload).ok();
        const CacheLookup lookup = cache->load("shared");
        bad |= !lookup.rejected.empty();
        if (lookup.payload) {
          const std::string &got = *lookup.payload;
          const int writer = got.empty() ? -1 : got[0] - 'a';
          bad |= writer < 0 || writer >= kProcesses ||
                 got != std::string(4096 + 512 * writer, got[0]);
        }
      }
      ::_exit(bad);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid;
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

} // namespace
} // namespace mobagen
