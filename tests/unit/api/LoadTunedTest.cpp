// mobagen_load_tuned: a context applies the choices the tuning cache holds for a
// shape's bucket without measuring or storing anything; an entry it does not
// trust reaches the log and leaves its kernel's default; pins still win; its
// misuse returns error codes with messages naming the value and the limit; and it
// runs beside tune on one context.
#include "mobagen/mobagen.h"
#include "mobagen/mobagen.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/api/TuningSelector.h"
#include "runtime/device/OpenDevice.h"
#include "tests/unit/api/RecordingDevice.h"
#include "tests/unit/api/TestBundles.h"

namespace mobagen::testing {
namespace {

/// A selector that stores each kernel's last variant as the cached choice, under
/// the autotuner's key (tuningKeyFor) and in its payload format, and measures
/// nothing: the small bundle's pool_keys and gate_topk then differ from their
/// defaults, so a test can tell a loaded choice from a default one.
api::VariantSelector storeLastVariants() {
  return [](const api::VariantRequest &r) -> Expected<size_t> {
    const auto &variants = r.bundle.kernel(r.kernel).variants;
    const size_t last = variants.size() - 1;
    if (!r.cache)
      return Status::error("no cache");
    MOBAGEN_RETURN_IF_ERROR(r.cache->store(
        api::tuningKeyFor(r).str(), fmt::format(R"({{"variant":"{}","cost":1.5,"unit":"model-us"}})",
                                                variants[last].id)));
    return last;
  };
}

/// An api::Context of the small bundle on `device`, with `cache` (may be unset).
std::unique_ptr<api::Context> contextOn(std::shared_ptr<device::Device> device,
                                        std::optional<std::filesystem::path> cache,
                                        std::function<void(std::string_view)> log = {}) {
  auto b = bundle::Bundle::fromDirectory(smallBundle().dir);
  EXPECT_TRUE(b) << b.status().message();
  api::ContextOptions options;
  options.cacheDir = std::move(cache);
  options.log = std::move(log);
  std::unique_ptr<api::Context> context;
  api::ApiStatus s = api::Context::create(std::move(device), std::move(*b), options, context);
  EXPECT_TRUE(s.ok()) << s.message;
  return context;
}

std::shared_ptr<device::Device> emulatorDevice() {
  auto device = device::openDevice(device::DeviceChoice::Emulator);
  EXPECT_TRUE(device);
  return std::shared_ptr<device::Device>(std::move(*device));
}

/// Each file of `dir` and its bytes.
std::map<std::string, std::string> filesOf(const std::filesystem::path &dir) {
  std::map<std::string, std::string> files;
  for (const auto &e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    files[e.path().filename().string()].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

/// The entry file of `kernel`'s choice (its stored key names the kernel).
std::filesystem::path entryOf(const std::filesystem::path &cache, std::string_view kernel) {
  const std::string field = fmt::format("kernel={}\n", kernel);
  for (const auto &[name, bytes] : filesOf(cache))
    if (bytes.find(field) != std::string::npos)
      return cache / name;
  ADD_FAILURE() << "no entry for " << kernel << " in " << cache;
  return {};
}

/// The variant id of each kernel a forward of `shape` runs, through the C API.
std::vector<std::string> variantsOf(const mobagen_context *context, const mobagen_shape &shape) {
  std::vector<std::string> ids;
  for (std::string_view kernel : bundle::kKernelNames) {
    const char *id = nullptr;
    EXPECT_EQ(mobagen_context_variant(context, &shape, std::string(kernel).c_str(), &id), MOBAGEN_SUCCESS)
        << mobagen_last_error();
    ids.emplace_back(id ? id : "");
  }
  return ids;
}

void appendLine(void *user, const char *message) { static_cast<std::vector<std::string> *>(user)->push_back(message); }

struct CContext {
  mobagen_device *device = nullptr;
  mobagen_context *context = nullptr;
  std::vector<std::string> lines;
  CContext(const std::optional<std::filesystem::path> &cache, bool log = true) {
    EXPECT_EQ(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, &device), MOBAGEN_SUCCESS) << mobagen_last_error();
    const std::string dir = smallBundle().dir.string(), cacheText = cache ? cache->string() : "";
    mobagen_context_options options{};
    options.cache_dir = cache ? cacheText.c_str() : nullptr;
    options.log = log ? appendLine : nullptr;
    options.log_user = &lines;
    EXPECT_EQ(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_SUCCESS)
        << mobagen_last_error();
  }
  ~CContext() {
    mobagen_context_destroy(context);
    mobagen_device_destroy(device);
  }
};

TEST(LoadTuned, AppliesTheCachedChoicesOfTheShapesBucketAndPinsStillWin) {
  const auto cache = scratchDir("load-tuned-applies");
  const mobagen_shape s = smallShape(1, 16, 30);
  ASSERT_TRUE(contextOn(emulatorDevice(), cache)->tune(s, storeLastVariants()).ok());

  CContext c(cache);
  // The defaults until the cache is read (the test bundle's first variants).
  const std::vector<std::string> defaults = variantsOf(c.context, s);
  ASSERT_EQ(defaults[0], "w2");
  ASSERT_EQ(defaults[1], "m16w2");
  size_t found = 99;
  ASSERT_EQ(mobagen_load_tuned(c.context, &s, &found), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(found, 5u);
  std::vector<std::string> tuned = defaults;
  tuned[0] = "w4";
  tuned[1] = "m16w4";
  EXPECT_EQ(variantsOf(c.context, s), tuned);
  // Every shape of the bucket (1 x 16 x 32) runs them; another bucket its defaults.
  EXPECT_EQ(variantsOf(c.context, smallShape(1, 9, 32)), tuned);
  EXPECT_EQ(variantsOf(c.context, smallShape(1, 16, 33)), defaults);
  EXPECT_TRUE(c.lines.empty());

  // A pin wins over the loaded choice, before and after another load.
  ASSERT_EQ(mobagen_context_set_variant(c.context, "pool_keys", "w2"), MOBAGEN_SUCCESS);
  EXPECT_EQ(variantsOf(c.context, s)[0], "w2");
  ASSERT_EQ(mobagen_load_tuned(c.context, &s, nullptr), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(variantsOf(c.context, s)[0], "w2");
  ASSERT_EQ(mobagen_context_set_variant(c.context, "pool_keys", nullptr), MOBAGEN_SUCCESS);
  EXPECT_EQ(variantsOf(c.context, s)[0], "w4");

  // The C++ wrapper.
  auto device = mobagen::Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  mobagen::ContextOptions options;
  options.cacheDir = cache.string();
  auto context = mobagen::Context::open(*device, smallBundle().dir.string(), options);
  ASSERT_TRUE(context) << context.error().message();
  auto loaded = context->loadTuned(s);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, 5u);
  auto id = context->variant(s, "gate_topk");
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, "m16w4");
}

TEST(LoadTuned, ReadsWhatMobagenTuneStored) {
  const auto cache = scratchDir("load-tuned-after-tune");
  const mobagen_shape s = smallShape(1, 16, 16);
  CContext tuner(cache);
  ASSERT_EQ(mobagen_tune(tuner.context, &s), MOBAGEN_SUCCESS) << mobagen_last_error();
  const auto entries = filesOf(cache);
  EXPECT_EQ(entries.size(), 5u);

  CContext c(cache);
  size_t found = 0;
  ASSERT_EQ(mobagen_load_tuned(c.context, &s, &found), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(found, 5u);
  EXPECT_EQ(variantsOf(c.context, s), variantsOf(tuner.context, s));
  // Read only: every entry as it was.
  EXPECT_EQ(filesOf(cache), entries);
}

TEST(LoadTuned, ARejectedEntryReachesTheLogAndItsKernelKeepsTheDefault) {
  const auto cache = scratchDir("load-tuned-rejected");
  const mobagen_shape s = smallShape(1, 16, 16);
  ASSERT_TRUE(contextOn(emulatorDevice(), cache)->tune(s, storeLastVariants()).ok());
  const std::filesystem::path pool = entryOf(cache, "pool_keys");
  {
    std::string bytes = filesOf(cache)[pool.filename().string()];
    bytes[bytes.size() - 3] ^= 0x20; // inside the payload: a checksum mismatch
    std::ofstream(pool, std::ios::binary | std::ios::trunc) << bytes;
  }
  const auto before = filesOf(cache);

  CContext c(cache);
  size_t found = 0;
  ASSERT_EQ(mobagen_load_tuned(c.context, &s, &found), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(found, 4u);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], fmt::format("tuning-cache entry {} (pool_keys) rejected: checksum mismatch; the default "
                                    "variant runs",
                                    pool.string()));
  const std::vector<std::string> ids = variantsOf(c.context, s);
  EXPECT_EQ(ids[0], "w2");    // the rejected entry's kernel: its default
  EXPECT_EQ(ids[1], "m16w4"); // the others: their cached choice
  // Nothing was tuned again or stored over the entry.
  EXPECT_EQ(filesOf(cache), before);

  // Without a log the rejection is silent, with the same result.
  CContext silent(cache, /*log=*/false);
  ASSERT_EQ(mobagen_load_tuned(silent.context, &s, &found), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(found, 4u);
  EXPECT_EQ(variantsOf(silent.context, s)[0], "w2");
}

TEST(LoadTuned, NeverMeasuresOrStores) {
  // A device that runs nothing and counts every launch.
  const auto cache = scratchDir("load-tuned-never-measures");
  auto recording = std::make_shared<RecordingDevice>();
  const mobagen_shape s = smallShape(2, 20, 40);
  std::vector<std::string> log;
  auto context = contextOn(recording, cache, [&](std::string_view line) { log.emplace_back(line); });

  // A miss: nothing launched, nothing stored, the defaults stand.
  size_t found = 99;
  api::ApiStatus loaded = context->loadTuned(s, found);
  ASSERT_TRUE(loaded.ok()) << loaded.message;
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(recording->enqueues(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(cache));
  EXPECT_EQ(context->choiceFor({2, 40, 80, 20, 40}), launch::VariantChoice{});
  EXPECT_TRUE(log.empty()); // a missing entry is no rejection

  // A hit: still nothing launched; the chosen modules are loaded ahead of the forward.
  ASSERT_TRUE(contextOn(recording, cache)->tune(s, storeLastVariants()).ok());
  const auto entries = filesOf(cache);
  ASSERT_EQ(entries.size(), 5u);
  const size_t modulesBefore = recording->moduleNames().size();
  loaded = context->loadTuned(s, found);
  ASSERT_TRUE(loaded.ok()) << loaded.message;
  EXPECT_EQ(found, 5u);
  EXPECT_EQ(recording->enqueues(), 0u);
  EXPECT_EQ(recording->moduleNames().size(), modulesBefore + 5);
  EXPECT_EQ(filesOf(cache), entries);
  EXPECT_EQ(context->choiceFor({2, 40, 80, 20, 40}), (launch::VariantChoice{1, 1, 0, 0, 0}));
}

TEST(LoadTuned, WithoutACacheDirItChangesNothing) {
  const mobagen_shape s = smallShape(1, 16, 16);
  auto context = contextOn(emulatorDevice(), std::nullopt);
  // Tuned in memory (the last variants), then a load finds nothing and keeps them.
  ASSERT_TRUE(context
                  ->tune(s, [](const api::VariantRequest &r) -> Expected<size_t> {
                    return r.bundle.kernel(r.kernel).variants.size() - 1;
                  })
                  .ok());
  size_t found = 99;
  ASSERT_TRUE(context->loadTuned(s, found).ok());
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(context->choiceFor({1, 16, 16, 16, 16}), (launch::VariantChoice{1, 1, 0, 0, 0}));

  CContext c(std::nullopt);
  const std::vector<std::string> defaults = variantsOf(c.context, s);
  EXPECT_EQ(defaults[0], "w2");
  found = 99;
  ASSERT_EQ(mobagen_load_tuned(c.context, &s, &found), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(variantsOf(c.context, s), defaults);
}

TEST(LoadTuned, MisuseIsAnErrorNamingTheValue) {
  const auto cache = scratchDir("load-tuned-misuse");
  CContext c(cache);
  const mobagen_shape s = smallShape(1, 16, 16);
  size_t found = 7;
  EXPECT_API_ERROR(mobagen_load_tuned(nullptr, &s, &found), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_load_tuned: context is null");
  EXPECT_API_ERROR(mobagen_load_tuned(c.context, nullptr, &found), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_load_tuned: shape is null");
  mobagen_shape bad = s;
  bad.num_q_heads = 8;
  EXPECT_API_ERROR(mobagen_load_tuned(c.context, &bad, &found), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.num_q_heads = 8 but the bundle's config has num_q_heads = 4");
  bad = s;
  bad.dtype = MOBAGEN_DTYPE_FP16;
  EXPECT_API_ERROR(mobagen_load_tuned(c.context, &bad, &found), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.dtype = fp16 but the bundle's config has dtype = bf16");
  bad = s;
  bad.total_k = -40;
  EXPECT_API_ERROR(mobagen_load_tuned(c.context, &bad, &found), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.total_k = -40 is negative");
  bad = s;
  bad.total_q = 10;
  EXPECT_API_ERROR(mobagen_load_tuned(c.context, &bad, &found), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.max_seqlen_q = 16 exceeds total_q = 10");
  EXPECT_EQ(found, 7u); // untouched by a failed call
  // The shape is checked even where there is nothing to load.
  CContext uncached(std::nullopt);
  bad = s;
  bad.head_dim = 128;
  EXPECT_API_ERROR(mobagen_load_tuned(uncached.context, &bad, &found), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.head_dim = 128 but the bundle's config has head_dim = 64");

  const char *id = nullptr;
  EXPECT_API_ERROR(mobagen_context_variant(nullptr, &s, "pool_keys", &id), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_variant: context is null");
  EXPECT_API_ERROR(mobagen_context_variant(c.context, nullptr, "pool_keys", &id), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_variant: shape is null");
  EXPECT_API_ERROR(mobagen_context_variant(c.context, &s, nullptr, &id), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_variant: kernel is null");
  EXPECT_API_ERROR(mobagen_context_variant(c.context, &s, "pool_keys", nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_variant: variant is null");
  EXPECT_API_ERROR(mobagen_context_variant(c.context, &s, "softmax", &id), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "unknown kernel 'softmax': expected one of pool_keys, gate_topk, route_scatter, "
                   "sparse_attention_blocks, sparse_attention_merge");
  bad = s;
  bad.num_kv_heads = 1;
  EXPECT_API_ERROR(mobagen_context_variant(c.context, &bad, "pool_keys", &id), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.num_kv_heads = 1 but the bundle's config has num_kv_heads = 2");
  EXPECT_EQ(id, nullptr);
}

TEST(LoadTuned, RunsWhileAnotherThreadTunes) {
  // One thread measures a bucket with the autotuner while another loads a second
  // bucket's cached choices again and again on the same context.
  const auto cache = scratchDir("load-tuned-beside-tune");
  const mobagen_shape cached = smallShape(1, 16, 16), measured = smallShape(2, 24, 60);
  ASSERT_TRUE(contextOn(emulatorDevice(), cache)->tune(cached, storeLastVariants()).ok());
  auto context = contextOn(emulatorDevice(), cache);
  std::thread tuner([&] {
    api::ApiStatus s = context->tune(measured);
    EXPECT_TRUE(s.ok()) << s.message;
  });
  for (int i = 0; i < 20; ++i) {
    size_t found = 0;
    api::ApiStatus s = context->loadTuned(cached, found);
    EXPECT_TRUE(s.ok()) << s.message;
    EXPECT_EQ(found, 5u);
  }
  tuner.join();
  EXPECT_EQ(context->choiceFor({1, 16, 16, 16, 16}), (launch::VariantChoice{1, 1, 0, 0, 0}));
  // The measured bucket's choices were stored beside the five loaded ones.
  EXPECT_EQ(filesOf(cache).size(), 10u);
  size_t found = 0;
  ASSERT_TRUE(contextOn(emulatorDevice(), cache)->loadTuned(measured, found).ok());
  EXPECT_EQ(found, 5u);
}

} // namespace
} // namespace mobagen::testing
