//===- JitTest.cpp - Contexts for configurations generated at run time ------===//
#include <filesystem>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "jit/GeneratedContext.h"
#include "mobagen/mobagen_jit.h"
#include "runtime/cache/DiskCache.h"
#include "tests/unit/api/TestBundles.h"
#include "tools/mobagen/InProcessBundle.h"

namespace mobagen {
namespace {

mobagen_config smallConfig() {
  mobagen_config c{};
  c.block_size = 16;
  c.top_k = 2;
  c.head_dim = 64;
  c.num_q_heads = 2;
  c.num_kv_heads = 1;
  c.causal = 1;
  c.dtype = MOBAGEN_DTYPE_BF16;
  return c; // target "": sm_80
}

compiler::MobaKernelConfig compilerConfig() {
  return {.blockSize = 16, .topK = 2, .headDim = 64, .numQHeads = 2, .numKvHeads = 1, .causal = true,
          .dtype = DType::BF16, .target = "sm_80", .scale = std::nullopt};
}

/// The bundle hash of a context made from `files`.
uint64_t hashOf(mobagen_device *device, const cli::BundleFiles &files) {
  std::vector<mobagen_bundle_file> views;
  for (const auto &[name, bytes] : files)
    views.push_back({name.c_str(), reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()});
  mobagen_context *context = nullptr;
  EXPECT_EQ(mobagen_context_create_from_files(device, views.data(), views.size(), nullptr, &context), MOBAGEN_SUCCESS)
      << mobagen_last_error();
  uint64_t hash = 0;
  EXPECT_EQ(mobagen_context_bundle_hash(context, &hash), MOBAGEN_SUCCESS);
  mobagen_context_destroy(context);
  return hash;
}

class JitContext : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, &device), MOBAGEN_SUCCESS); }
  void TearDown() override { mobagen_device_destroy(device); }
  mobagen_device *device = nullptr;
};

TEST_F(JitContext, GeneratesEveryVariantAndCachesTheBundle) {
  const auto dir = testing::scratchDir("jit-cache");
  const std::string dirText = dir.string();
  const mobagen_context_options options{dirText.c_str(), nullptr};
  const mobagen_config config = smallConfig();
  mobagen_context *context = nullptr;
  ASSERT_EQ(mobagen_context_create_for_config(device, &config, &options, &context), MOBAGEN_SUCCESS)
      << mobagen_last_error();
  mobagen_config got{};
  ASSERT_EQ(mobagen_context_config(context, &got), MOBAGEN_SUCCESS);
  EXPECT_STREQ(got.target, "sm_80");
  EXPECT_EQ(got.block_size, 16);
  uint64_t generatedHash = 0;
  ASSERT_EQ(mobagen_context_bundle_hash(context, &generatedHash), MOBAGEN_SUCCESS);
  mobagen_context_destroy(context);

  // The same bundle `mobagen generate --variants all` writes.
  auto all = cli::generateBundle(compilerConfig(), {.allVariants = true});
  ASSERT_TRUE(all) << all.status().message();
  EXPECT_EQ(generatedHash, hashOf(device, *all));

  // The entry is in the cache; a later context is made from it: replace it by the
  // default-only bundle and the next context has that bundle's hash.
  auto cache = DiskCache::open(dir);
  ASSERT_TRUE(cache);
  const std::string key = jit::bundleCacheKey(compilerConfig());
  ASSERT_TRUE(cache->load(key).payload.has_value());
  auto defaults = cli::generateBundle(compilerConfig());
  ASSERT_TRUE(defaults);
  nlohmann::json packed = nlohmann::json::array();
  for (const auto &[name, bytes] : *defaults)
    packed.push_back({{"name", name}, {"bytes", bytes}});
  ASSERT_TRUE(cache->store(key, packed.dump()));
  ASSERT_EQ(mobagen_context_create_for_config(device, &config, &options, &context), MOBAGEN_SUCCESS);
  uint64_t cachedHash = 0;
  ASSERT_EQ(mobagen_context_bundle_hash(context, &cachedHash), MOBAGEN_SUCCESS);
  EXPECT_EQ(cachedHash, hashOf(device, *defaults));
  EXPECT_NE(cachedHash, generatedHash);
  mobagen_context_destroy(context);
}

TEST_F(JitContext, UntrustworthyEntriesAreRegenerated) {
  const auto dir = testing::scratchDir("jit-corrupt");
  const std::string dirText = dir.string();
  const mobagen_context_options options{dirText.c_str(), nullptr};
  const mobagen_config config = smallConfig();
  auto cache = DiskCache::open(dir);
  ASSERT_TRUE(cache);
  const std::string key = jit::bundleCacheKey(compilerConfig());
  auto all = cli::generateBundle(compilerConfig(), {.allVariants = true});
  ASSERT_TRUE(all);
  const uint64_t expected = hashOf(device, *all);
  // Not JSON; JSON that is not a file list; a file list that is no valid bundle;
  // bytes on disk that fail the entry's checksum.
  for (const std::string payload :
       {std::string("not json"), std::string("{\"name\": 1}"),
        std::string("[{\"name\": \"manifest.json\", \"bytes\": \"{}\"}]"), std::string()}) {
    if (payload.empty()) {
      std::ofstream(cache->entryPath(key), std::ios::binary | std::ios::trunc) << "garbage";
    } else {
      ASSERT_TRUE(cache->store(key, payload));
    }
    mobagen_context *context = nullptr;
    ASSERT_EQ(mobagen_context_create_for_config(device, &config, &options, &context), MOBAGEN_SUCCESS)
        << mobagen_last_error();
    uint64_t hash = 0;
    ASSERT_EQ(mobagen_context_bundle_hash(context, &hash), MOBAGEN_SUCCESS);
    EXPECT_EQ(hash, expected) << "payload: " << payload;
    mobagen_context_destroy(context);
    // ... and the entry now holds the regenerated bundle.
    EXPECT_TRUE(cache->load(key).payload.has_value());
  }
}

TEST_F(JitContext, Errors) {
  mobagen_context *context = nullptr;
  mobagen_config config = smallConfig();
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, nullptr, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(mobagen_last_error(), "mobagen_context_create_for_config: context is null");
  EXPECT_EQ(mobagen_context_create_for_config(nullptr, &config, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(mobagen_last_error(), "mobagen_context_create_for_config: device is null");
  EXPECT_EQ(mobagen_context_create_for_config(device, nullptr, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(mobagen_last_error(), "mobagen_context_create_for_config: config is null");

  config.dtype = mobagen_dtype(7);
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mobagen_last_error()).find("dtype = 7"), std::string::npos) << mobagen_last_error();

  config = smallConfig();
  config.has_scale = 1;
  config.scale = -1;
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mobagen_last_error()).find("scale = -1"), std::string::npos) << mobagen_last_error();

  config = smallConfig();
  std::memset(config.target, 'x', sizeof(config.target));
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mobagen_last_error()).find("not NUL-terminated"), std::string::npos);

  config = smallConfig();
  config.block_size = 24; // not a multiple of 16
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mobagen_last_error()).find("cannot generate the kernels of this configuration"),
            std::string::npos)
      << mobagen_last_error();
  EXPECT_NE(std::string(mobagen_last_error()).find("24"), std::string::npos) << mobagen_last_error();
  EXPECT_EQ(context, nullptr);

  config = smallConfig();
  const auto file = testing::scratchDir("jit-not-a-dir") / "file";
  std::ofstream(file) << "x";
  const std::string fileText = file.string();
  const mobagen_context_options options{fileText.c_str(), nullptr};
  EXPECT_EQ(mobagen_context_create_for_config(device, &config, &options, &context), MOBAGEN_ERROR_IO);
  EXPECT_NE(std::string(mobagen_last_error()).find(fileText), std::string::npos) << mobagen_last_error();
}

} // namespace
} // namespace mobagen
