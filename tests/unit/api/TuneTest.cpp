// The autotuning selector behind mobagen_tune, on the emulator: the choice is
// the variant of lowest modeled cost (checked by measuring each variant here),
// it persists in the cache directory, broken variants are skipped with their
// reason, and the shape a bucket is tuned on.
#include "runtime/api/TuningSelector.h"

#include "mobagen/mobagen.hpp"

#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include "runtime/device/OpenDevice.h"
#include "runtime/support/FloatFormats.h"
#include "tests/unit/api/TestBundles.h"

namespace mobagen::testing {
namespace {

using bundle::KernelKind;

struct Tuned {
  std::unique_ptr<api::Context> context;
  std::array<std::optional<tune::TuningChoice>, bundle::kKernelCount> chosen;
  std::vector<std::string> log;
};

/// A context of `dir` on a fresh emulator with a recording tuning selector.
std::unique_ptr<Tuned> tunedContext(const std::filesystem::path &dir, std::optional<std::filesystem::path> cache) {
  auto t = std::make_unique<Tuned>();
  auto b = bundle::Bundle::fromDirectory(dir);
  EXPECT_TRUE(b) << b.status().message();
  auto device = device::openDevice(device::DeviceChoice::Emulator);
  EXPECT_TRUE(device);
  api::ContextOptions options;
  options.cacheDir = cache;
  api::ApiStatus s =
      api::Context::create(std::shared_ptr<device::Device>(std::move(*device)), std::move(*b), options, t->context);
  EXPECT_TRUE(s.ok()) << s.message;
  api::TuningSelectorOptions o;
  o.warmup = 0;
  o.repetitions = 2;
  Tuned *raw = t.get();
  o.chosen = [raw](KernelKind k, const tune::TuningChoice &c) { raw->chosen[size_t(k)] = c; };
  o.log = [raw](std::string_view line) { raw->log.emplace_back(line); };
  t->context->setVariantSelector(api::makeTuningSelector(o));
  return t;
}

/// The modeled cost of each variant of `kind` on the bucket's tuning shape, with
/// the earlier kernels run first with `earlier`: measured here, launch by launch.
std::vector<double> costsOfEachVariant(api::Context &ctx, KernelKind kind, const launch::VarlenShape &given,
                                       const launch::VariantChoice &earlier) {
  device::Device &device = ctx.device();
  const bundle::Bundle &b = ctx.bundle();
  const api::TuningShape shape = api::tuningShapeFor(b.config(), api::bucketOf(given), given);
  const launch::VarlenShape &s = shape.sizes;
  auto layout = launch::workspaceLayout(b.config(), s);
  EXPECT_TRUE(layout);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uniform(-1, 1);
  auto upload = [&](const void *data, size_t bytes) {
    auto p = device.allocate(std::max<size_t>(bytes, 16));
    EXPECT_TRUE(p);
    if (data) {
      EXPECT_TRUE(device.copyToDevice(*p, data, bytes));
    }
    return *p;
  };
  auto random = [&](int64_t n) {
    std::vector<uint16_t> v(static_cast<size_t>(n));
    for (uint16_t &x : v)
      x = encodeDType(uniform(rng), DType::BF16);
    return v;
  };
  const auto q = random(s.totalQ * 4 * 64), k = random(s.totalK * 2 * 64), v = random(s.totalK * 2 * 64);
  launch::ForwardBuffers buf;
  buf.q = upload(q.data(), q.size() * 2);
  buf.k = upload(k.data(), k.size() * 2);
  buf.v = upload(v.data(), v.size() * 2);
  buf.cuSeqlensQ = upload(shape.cuSeqlensQ.data(), shape.cuSeqlensQ.size() * 4);
  buf.cuSeqlensK = upload(shape.cuSeqlensK.data(), shape.cuSeqlensK.size() * 4);
  buf.out = upload(nullptr, q.size() * 2);
  buf.lse = upload(nullptr, size_t(s.totalQ * 4 * 4));
  buf.workspace = upload(nullptr, layout->totalBytes);
  buf.workspaceBytes = layout->totalBytes;
  launch::MobaLauncher launcher(device, b);
  for (size_t e = 0; e < size_t(kind); ++e)
    EXPECT_TRUE(launcher.enqueueKernel(KernelKind(e), earlier[e], s, *layout, buf, 0));
  std::vector<double> costs;
  for (size_t i = 0; i < b.kernel(kind).variants.size(); ++i) {
    auto m = device.measure([&] { return launcher.enqueueKernel(kind, i, s, *layout, buf, 0); }, 0, 1, 0);
    EXPECT_TRUE(m) << m.status().message();
    costs.push_back(m ? m->samples.at(0) : -1);
  }
  for (device::DevicePtr p : {buf.q, buf.k, buf.v, buf.cuSeqlensQ, buf.cuSeqlensK, buf.out, buf.lse, buf.workspace})
    EXPECT_TRUE(device.free(p));
  return costs;
}

TEST(TuningSelector, ChoosesTheVariantOfLowestModeledCost) {
  auto t = tunedContext(smallBundle().dir, std::nullopt);
  const mobagen_shape s = smallShape(2, 20, 40);
  api::ApiStatus tuned = t->context->tune(s);
  ASSERT_TRUE(tuned.ok()) << tuned.message;
  const launch::VarlenShape sizes{2, 40, 80, 20, 40};
  const launch::VariantChoice choice = t->context->choiceFor(sizes);
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    ASSERT_TRUE(t->chosen[k]) << bundle::kKernelNames[k];
    const tune::TuningChoice &c = *t->chosen[k];
    EXPECT_FALSE(c.fromCache);
    EXPECT_EQ(c.unit, "model-us");
    const auto &variants = t->context->bundle().kernels()[k].variants;
    ASSERT_EQ(c.tried.size(), variants.size());
    EXPECT_EQ(variants[choice[k]].id, c.variant);
    const std::vector<double> costs = costsOfEachVariant(*t->context, KernelKind(k), sizes, choice);
    const size_t lowest = size_t(std::min_element(costs.begin(), costs.end()) - costs.begin());
    EXPECT_EQ(choice[k], lowest) << bundle::kKernelNames[k];
    // The tuner's medians are the same model costs (the emulator's is deterministic).
    for (size_t i = 0; i < costs.size(); ++i)
      EXPECT_NEAR(c.tried[i].cost, costs[i], 1e-9 * costs[i]) << bundle::kKernelNames[k] << " " << variants[i].id;
  }
  // The two variants of pool_keys and gate_topk cost differently: the test can tell.
  EXPECT_NE(t->chosen[0]->tried[0].cost, t->chosen[0]->tried[1].cost);
  EXPECT_NE(t->chosen[1]->tried[0].cost, t->chosen[1]->tried[1].cost);
}

TEST(TuningSelector, ASecondContextReadsTheCacheWithoutMeasuring) {
  const auto cache = scratchDir("tune-cache");
  const mobagen_shape s = smallShape(1, 16, 30);
  auto first = tunedContext(smallBundle().dir, cache);
  ASSERT_TRUE(first->context->tune(s).ok());
  auto second = tunedContext(smallBundle().dir, cache);
  ASSERT_TRUE(second->context->tune(s).ok());
  const launch::VarlenShape sizes{1, 16, 30, 16, 30};
  EXPECT_EQ(second->context->choiceFor(sizes), first->context->choiceFor(sizes));
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    ASSERT_TRUE(first->chosen[k] && second->chosen[k]);
    EXPECT_FALSE(first->chosen[k]->fromCache);
    EXPECT_TRUE(second->chosen[k]->fromCache) << bundle::kKernelNames[k];
    EXPECT_TRUE(second->chosen[k]->tried.empty()); // nothing was measured
    EXPECT_EQ(second->chosen[k]->variant, first->chosen[k]->variant);
    EXPECT_EQ(second->chosen[k]->cost, first->chosen[k]->cost);
  }
  // Another shape of the same bucket (1 x 16 x 32) also reads it; a forced tune measures again.
  ASSERT_TRUE(second->context->tune(smallShape(1, 13, 32)).ok());
  EXPECT_TRUE(second->chosen[2]->fromCache);
  // Without a cache directory nothing persists: a third context measures.
  auto third = tunedContext(smallBundle().dir, std::nullopt);
  ASSERT_TRUE(third->context->tune(s).ok());
  EXPECT_FALSE(third->chosen[0]->fromCache);
}

/// The entry file of `kernel`'s choice in `cache` (its stored key names the kernel).
std::filesystem::path entryOf(const std::filesystem::path &cache, std::string_view kernel) {
  const std::string field = fmt::format("kernel={}\n", kernel);
  for (const auto &e : std::filesystem::directory_iterator(cache)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(field) != std::string::npos)
      return e.path();
  }
  ADD_FAILURE() << "no entry for " << kernel << " in " << cache;
  return {};
}

/// Flips a byte of the entry's JSON payload: a checksum mismatch.
void corruptEntry(const std::filesystem::path &entry) {
  std::string bytes;
  {
    std::ifstream in(entry, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(bytes.size(), 3u);
  bytes[bytes.size() - 3] ^= 0x20;
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << bytes;
}

void appendLine(void *user, const char *message) { static_cast<std::vector<std::string> *>(user)->push_back(message); }

TEST(TuningSelector, RejectedCacheEntriesReachTheContextLog) {
  const auto cache = scratchDir("tune-rejected-log");
  const mobagen_shape s = smallShape(1, 16, 16);
  ASSERT_TRUE(tunedContext(smallBundle().dir, cache)->context->tune(s).ok()); // stores six entries
  const std::filesystem::path pool = entryOf(cache, "pool_keys"), count = entryOf(cache, "route_scatter");
  corruptEntry(pool);
  std::filesystem::remove(count);
  std::filesystem::create_directory(count);

  // The C API: one line per rejected entry, with its path, kernel and reason.
  mobagen_device *device = nullptr;
  ASSERT_EQ(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, &device), MOBAGEN_SUCCESS) << mobagen_last_error();
  const std::string dir = smallBundle().dir.string(), cacheText = cache.string();
  std::vector<std::string> lines;
  mobagen_context_options options{};
  options.cache_dir = cacheText.c_str();
  options.log = appendLine;
  options.log_user = &lines;
  mobagen_context *context = nullptr;
  ASSERT_EQ(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_SUCCESS) << mobagen_last_error();
  // The directory blocks storing route_scatter's new choice; tuning succeeds anyway.
  ASSERT_EQ(mobagen_tune(context, &s), MOBAGEN_SUCCESS) << mobagen_last_error();
  mobagen_context_destroy(context);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], fmt::format("tuning-cache entry {} (pool_keys) rejected: checksum mismatch; tuning again",
                                  pool.string()));
  EXPECT_EQ(lines[1], fmt::format("tuning-cache entry {} (route_scatter) rejected: is a directory; tuning again",
                                  count.string()));

  // A null log: the same rejection, silently (pool_keys was stored again above).
  corruptEntry(pool);
  options.log = nullptr;
  lines.clear();
  ASSERT_EQ(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(mobagen_tune(context, &s), MOBAGEN_SUCCESS) << mobagen_last_error();
  mobagen_context_destroy(context);
  EXPECT_TRUE(lines.empty());

  // The C++ wrapper's std::function, called after the Context has been moved.
  corruptEntry(pool);
  auto dev = mobagen::Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(dev);
  mobagen::ContextOptions cpp;
  cpp.cacheDir = cacheText;
  cpp.log = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto opened = mobagen::Context::open(*dev, dir, cpp);
  ASSERT_TRUE(opened) << opened.error().message();
  mobagen::Context moved = std::move(*opened);
  EXPECT_TRUE(moved.tune(s).ok());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], fmt::format("tuning-cache entry {} (pool_keys) rejected: checksum mismatch; tuning again",
                                  pool.string()));
  EXPECT_NE(lines[1].find("(route_scatter) rejected: is a directory"), std::string::npos) << lines[1];
  mobagen_device_destroy(device);
}

/// The small bundle with text that does not parse appended to each of `files`
/// (their .entry lines stay, so the bundle loads; the module does not).
std::filesystem::path corrupted(const std::string &name, const std::vector<std::string> &files) {
  return editedBundle(smallBundle(), name, {}, [&](cli::BundleFiles &f) {
    for (auto &[file, bytes] : f)
      if (std::find(files.begin(), files.end(), file) != files.end())
        bytes += "\nthis is not ptx;\n";
  });
}

TEST(TuningSelector, AVariantThatFailsToLoadIsSkippedWithItsReason) {
  auto t = tunedContext(corrupted("corrupt-one", {"gate_topk.m16w2.ptx"}), std::nullopt);
  api::ApiStatus tuned = t->context->tune(smallShape(1, 16, 32));
  ASSERT_TRUE(tuned.ok()) << tuned.message;
  const tune::TuningChoice &gate = *t->chosen[1];
  EXPECT_EQ(gate.variant, "m16w4");
  ASSERT_EQ(gate.tried.size(), 2u);
  EXPECT_NE(gate.tried[0].skipped.find("loading gate_topk variant m16w2 (gate_topk.m16w2.ptx)"), std::string::npos)
      << gate.tried[0].skipped;
  EXPECT_TRUE(gate.tried[1].skipped.empty());
  ASSERT_FALSE(t->log.empty());
  EXPECT_NE(t->log[0].find("tuning gate_topk: skipped variant 'm16w2'"), std::string::npos) << t->log[0];
  EXPECT_EQ(t->context->choiceFor({1, 16, 32, 16, 32})[1], 1u);
}

TEST(TuningSelector, EveryVariantBrokenIsAnErrorNamingEachReason) {
  auto t = tunedContext(corrupted("corrupt-all", {"pool_keys.w2.ptx", "pool_keys.w4.ptx"}), std::nullopt);
  api::ApiStatus tuned = t->context->tune(smallShape(1, 16, 32));
  EXPECT_EQ(tuned.code, MOBAGEN_ERROR_DEVICE);
  EXPECT_NE(tuned.message.find("choosing a variant of pool_keys: tuning pool_keys: all 2 candidate variants failed"),
            std::string::npos)
      << tuned.message;
  EXPECT_NE(tuned.message.find("'w2': prepare: loading pool_keys variant w2"), std::string::npos) << tuned.message;
  EXPECT_NE(tuned.message.find("'w4': prepare: loading pool_keys variant w4"), std::string::npos) << tuned.message;
  // Nothing was recorded: the bucket still runs the defaults.
  EXPECT_EQ(t->context->choiceFor({1, 16, 32, 16, 32}), (launch::VariantChoice{}));
}

TEST(TuningSelector, TheShapeABucketIsTunedOn) {
  bundle::BundleConfig c;
  c.blockSize = 16;
  c.topK = 3;
  c.headDim = 64;
  c.numQHeads = 4;
  c.numKvHeads = 2;
  c.causal = true;
  // The bucket's own shape: batch 4 (of 3), every sequence 32 queries (of 17) and 64 keys (of 40).
  api::TuningShape own = api::tuningShapeFor(c, {4, 32, 64}, {3, 30, 90, 17, 40});
  EXPECT_EQ(own.sizes.batch, 4);
  EXPECT_EQ(own.sizes.totalQ, 128);
  EXPECT_EQ(own.sizes.totalK, 256);
  EXPECT_EQ(own.cuSeqlensQ, (std::vector<int32_t>{0, 32, 64, 96, 128}));
  EXPECT_EQ(own.cuSeqlensK, (std::vector<int32_t>{0, 64, 128, 192, 256}));
  // Causal: never more queries than keys per sequence.
  api::TuningShape clamped = api::tuningShapeFor(c, {1, 64, 16}, {1, 40, 16, 40, 16});
  EXPECT_EQ(clamped.sizes.maxSeqlenQ, 16);
  // Batch 65535 rounds up to 65536, past the grid's z limit: the given shape, split evenly.
  api::TuningShape fallback = api::tuningShapeFor(c, {65536, 1, 1}, {65535, 65535, 65535, 1, 1});
  EXPECT_EQ(fallback.sizes.batch, 65535);
  EXPECT_EQ(fallback.sizes.totalQ, 65535);
  EXPECT_EQ(fallback.cuSeqlensQ.back(), 65535);
  // An empty batch has nothing to tune: the default variant, nothing measured.
  auto t = tunedContext(smallBundle().dir, std::nullopt);
  ASSERT_TRUE(t->context->tune(smallShape(0, 0, 0)).ok());
  EXPECT_FALSE(t->chosen[0]);
}

} // namespace
} // namespace mobagen::testing
