// The public C and C++ APIs: results on the emulator against the float64
// reference (from one thread and from four at once), variant choice, and every
// misuse returning its error code with a message naming the value and the limit.
#include "mobagen/mobagen.h"
#include "mobagen/mobagen.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/api/Context.h"
#include "runtime/device/OpenDevice.h"
#include "runtime/reference/Compare.h"
#include "tests/unit/RandomBatch.h"
#include "tests/unit/api/TestBundles.h"

namespace mobagen::testing {
namespace {

using json = nlohmann::json;

std::string str(const std::filesystem::path &p) { return p.string(); }

mobagen_device *emulator() {
  mobagen_device *device = nullptr;
  EXPECT_EQ(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, &device), MOBAGEN_SUCCESS) << mobagen_last_error();
  return device;
}

struct ContextFixture : ::testing::Test {
  void SetUp() override {
    device = emulator();
    ASSERT_EQ(mobagen_context_create(device, str(smallBundle().dir).c_str(), nullptr, &context), MOBAGEN_SUCCESS)
        << mobagen_last_error();
  }
  void TearDown() override {
    mobagen_context_destroy(context);
    mobagen_device_destroy(device);
  }
  mobagen_device *device = nullptr;
  mobagen_context *context = nullptr;
};

mobagen_shape shapeOf(const reference::Batch &b) {
  mobagen_shape s{};
  s.batch = int64_t(b.cuQ.size()) - 1;
  s.total_q = b.shape.totalQ;
  s.total_k = b.shape.totalK;
  for (size_t i = 0; i + 1 < b.cuQ.size(); ++i) {
    s.max_seqlen_q = std::max<int64_t>(s.max_seqlen_q, b.cuQ[i + 1] - b.cuQ[i]);
    s.max_seqlen_k = std::max<int64_t>(s.max_seqlen_k, b.cuK[i + 1] - b.cuK[i]);
  }
  s.num_q_heads = b.shape.numQHeads;
  s.num_kv_heads = b.shape.numKvHeads;
  s.head_dim = b.shape.headDim;
  s.dtype = MOBAGEN_DTYPE_BF16;
  return s;
}

/// A batch of the small bundle's configuration, rounded to bf16 as the kernels read it.
reference::Batch smallBatch(const std::vector<int32_t> &lq, const std::vector<int32_t> &lk, uint32_t seed) {
  reference::Batch b = reference::randomBatch(lq, lk, 4, 2, 64, seed);
  for (auto *x : {&b.q, &b.k, &b.v})
    for (double &e : *x)
      e = roundToDType(e, DType::BF16);
  return b;
}

/// A batch on the device through the C++ API, run and checked against the reference.
class DeviceRun {
public:
  DeviceRun(Device &device, const reference::Batch &batch) : device_(device), batch_(batch), shape_(shapeOf(batch)) {}
  ~DeviceRun() {
    for (mobagen_devptr p : owned_)
      (void)device_.free(p);
  }

  /// Uploads the inputs and allocates out, lse and the workspace.
  void prepare(Context &context) {
    auto bits = [](const std::vector<double> &x) {
      std::vector<uint16_t> b(x.size());
      for (size_t i = 0; i < x.size(); ++i)
        b[i] = encodeDType(x[i], DType::BF16);
      return b;
    };
    buffers_.q = upload(bits(batch_.q));
    buffers_.k = upload(bits(batch_.k));
    buffers_.v = upload(bits(batch_.v));
    buffers_.cuSeqlensQ = upload(batch_.cuQ);
    buffers_.cuSeqlensK = upload(batch_.cuK);
    buffers_.out = allocate(size_t(batch_.shape.totalQ * 4 * 64 * 2));
    buffers_.lse = allocate(size_t(batch_.shape.totalQ * 4 * 4));
    auto bytes = context.workspaceSize(shape_);
    ASSERT_TRUE(bytes) << bytes.error().message();
    buffers_.workspace = allocate(*bytes);
    buffers_.workspaceBytes = *bytes;
  }

  /// Runs the forward and compares out, lse and the selection with the reference.
  void runAndCheck(Context &context) {
    Error e = context.forward(shape_, buffers_);
    ASSERT_TRUE(e.ok()) << e.codeName() << ": " << e.message();
    ASSERT_TRUE(device_.synchronize().ok());
    const size_t outCount = size_t(batch_.shape.totalQ * 4 * 64);
    std::vector<uint16_t> outBits(outCount);
    std::vector<float> lse(size_t(batch_.shape.totalQ * 4));
    ASSERT_TRUE(device_.copyToHost(outBits.data(), buffers_.out, outCount * 2).ok());
    ASSERT_TRUE(device_.copyToHost(lse.data(), buffers_.lse, lse.size() * 4).ok());
    // The selection, from the workspace (Context's layout).
    auto layout = launch::workspaceLayout(bundle::Bundle::fromDirectory(smallBundle().dir)->config(),
                                          {shape_.batch, shape_.total_q, shape_.total_k, shape_.max_seqlen_q,
                                           shape_.max_seqlen_k});
    ASSERT_TRUE(layout);
    std::vector<int32_t> selected(size_t(batch_.shape.totalQ * 4 * 3));
    ASSERT_TRUE(device_.copyToHost(selected.data(), buffers_.workspace + layout->selected.offset,
                                   selected.size() * 4).ok());

    const reference::MobaParams params{.blockSize = 16, .topK = 3, .causal = true};
    auto expected = reference::mobaForward(batch_.view(), params);
    ASSERT_TRUE(expected) << expected.status().message();
    std::vector<double> out(outCount), lseD(lse.begin(), lse.end());
    for (size_t i = 0; i < outCount; ++i)
      out[i] = decodeDType(outBits[i], DType::BF16);
    auto outputs = reference::checkOutputs(batch_.view(), params, DType::BF16, out, lseD, *expected);
    ASSERT_TRUE(outputs) << outputs.status().message();
    EXPECT_TRUE(outputs->ok()) << outputs->summary();
    auto selection = reference::checkSelection(batch_.view(), params, selected, expected->selection);
    ASSERT_TRUE(selection) << selection.status().message();
    EXPECT_TRUE(selection->ok()) << selection->firstMismatch;
    EXPECT_EQ(selection->entries, batch_.shape.totalQ * 4);
  }

  const mobagen_shape &shape() const { return shape_; }
  const ForwardBuffers &buffers() const { return buffers_; }

private:
  template <typename T> mobagen_devptr upload(const std::vector<T> &host) {
    const mobagen_devptr p = allocate(host.size() * sizeof(T));
    EXPECT_TRUE(device_.copyToDevice(p, host.data(), host.size() * sizeof(T)).ok());
    return p;
  }
  mobagen_devptr allocate(size_t bytes) {
    auto p = device_.malloc(std::max<size_t>(bytes, 16));
    EXPECT_TRUE(p) << p.error().message();
    owned_.push_back(p ? *p : 0);
    return p ? *p : 0;
  }

  Device &device_;
  reference::Batch batch_;
  mobagen_shape shape_;
  ForwardBuffers buffers_;
  std::vector<mobagen_devptr> owned_;
};

extern "C" int mobagen_c_header_check(void);

TEST(Api, TheCHeaderCompilesAsC) {
  EXPECT_EQ(mobagen_c_header_check(), int(MOBAGEN_ERROR_INVALID_BUNDLE));
  EXPECT_NE(std::string(mobagen_last_error()).find("manifest.json: format is missing"), std::string::npos)
      << mobagen_last_error();
}

TEST(Api, VersionAndStatusNames) {
  EXPECT_STREQ(mobagen_version(), "0.1.0");
  EXPECT_STREQ(mobagen_status_name(MOBAGEN_ERROR_WORKSPACE_TOO_SMALL), "MOBAGEN_ERROR_WORKSPACE_TOO_SMALL");
  EXPECT_STREQ(mobagen_status_name(mobagen_status(77)), "unknown status");
}

TEST(Api, ForwardMatchesTheReference) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device) << device.error().message();
  EXPECT_STREQ(device->name(), "emulator");
  auto context = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(context) << context.error().message();
  // A prefill, a decode step and a chunk over 3 blocks, none a multiple of 16.
  DeviceRun run(*device, smallBatch({20, 1, 5}, {20, 37, 50}, 11));
  run.prepare(*context);
  run.runAndCheck(*context);
}

TEST(Api, NonDefaultVariantsMatchTheReference) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  auto context = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(context);
  ASSERT_TRUE(context->setVariant("pool_keys", "w4").ok());
  ASSERT_TRUE(context->setVariant("gate_topk", "m16w4").ok());
  DeviceRun run(*device, smallBatch({7, 17}, {30, 17}, 12));
  run.prepare(*context);
  run.runAndCheck(*context);
}

TEST(Api, EmbeddedBundleRunsLikeTheDirectory) {
  std::vector<mobagen_bundle_file> files;
  for (const auto &[name, bytes] : smallBundle().files)
    files.push_back({name.c_str(), reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()});
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  auto embedded = Context::open(*device, files.data(), files.size());
  ASSERT_TRUE(embedded) << embedded.error().message();
  auto directory = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(directory);
  EXPECT_EQ(embedded->bundleHash(), directory->bundleHash());
  const mobagen_config c = embedded->config();
  EXPECT_EQ(c.block_size, 16);
  EXPECT_EQ(c.top_k, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.num_q_heads, 4);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.causal, 1);
  EXPECT_EQ(c.dtype, MOBAGEN_DTYPE_BF16);
  EXPECT_STREQ(c.target, "sm_80");
  EXPECT_EQ(c.has_scale, 0);
  EXPECT_DOUBLE_EQ(c.scale, 0.125);
  DeviceRun run(*device, smallBatch({3}, {40}, 13));
  run.prepare(*embedded);
  run.runAndCheck(*embedded);
}

TEST(Api, FourThreadsShareOneContext) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  auto context = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(context);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      // Different shapes per thread (so different buckets), two forwards each.
      DeviceRun run(*device, smallBatch({int32_t(3 + 5 * t), 1}, {int32_t(3 + 5 * t), int32_t(20 + 9 * t)},
                                        uint32_t(100 + t)));
      run.prepare(*context);
      if (t % 2 == 1) {
        Error tuned = context->tune(run.shape());
        EXPECT_TRUE(tuned.ok()) << tuned.message();
      }
      for (int i = 0; i < 2; ++i)
        run.runAndCheck(*context);
    });
  for (std::thread &t : threads)
    t.join();
}

TEST(ApiTune, TheForwardAfterTuningMatchesTheReference) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  const auto cache = scratchDir("tune-forward");
  const mobagen_context_options options{cache.c_str(), nullptr};
  auto context = Context::open(*device, str(smallBundle().dir), &options);
  ASSERT_TRUE(context);
  DeviceRun run(*device, smallBatch({20, 7}, {33, 40}, 21));
  run.prepare(*context);
  Error tuned = context->tune(run.shape());
  ASSERT_TRUE(tuned.ok()) << tuned.message();
  run.runAndCheck(*context);
  // The choices were stored: one entry per kernel.
  size_t entries = 0;
  for (const auto &e : std::filesystem::recursive_directory_iterator(cache))
    entries += e.is_regular_file();
  EXPECT_EQ(entries, 5u);
}

TEST(ApiTune, OneThreadTunesWhileThreeRunForwards) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  auto context = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(context);
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int lk : {24, 60}) {
      mobagen_shape s = shapeOf(smallBatch({8}, {lk}, 3));
      Error tuned = context->tune(s);
      EXPECT_TRUE(tuned.ok()) << tuned.message();
    }
  });
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      DeviceRun run(*device, smallBatch({int32_t(4 + 6 * t)}, {int32_t(20 + 15 * t)}, uint32_t(40 + t)));
      run.prepare(*context);
      for (int i = 0; i < 3; ++i)
        run.runAndCheck(*context);
    });
  for (std::thread &t : threads)
    t.join();
}

TEST(ApiBenchmark, MedianCostOfTheForward) {
  auto device = Device::open(MOBAGEN_DEVICE_EMULATOR);
  ASSERT_TRUE(device);
  auto opened = Context::open(*device, str(smallBundle().dir));
  ASSERT_TRUE(opened);
  Context &ctx = *opened;
  mobagen_context *context = ctx.get();
  {
    DeviceRun run(*device, smallBatch({10}, {30}, 8));
    run.prepare(ctx);
    const ForwardBuffers &b = run.buffers();
    const mobagen_shape &s = run.shape();
    double median = 0;
    const char *unit = nullptr;
    auto bench = [&](const mobagen_shape *shape, mobagen_devptr q, int warmup, int reps, double *m,
                     const char **u) {
      return mobagen_benchmark_forward(context, shape, q, b.k, b.v, b.cuSeqlensQ, b.cuSeqlensK, b.out, b.lse,
                                       b.workspace, b.workspaceBytes, 0, warmup, reps, m, u);
    };
    ASSERT_EQ(bench(&s, b.q, 1, 3, &median, &unit), MOBAGEN_SUCCESS) << mobagen_last_error();
    EXPECT_STREQ(unit, "model-us");
    EXPECT_GT(median, 0);
    // The emulator's model: the same work costs the same; a pinned variant changes it.
    double again = 0;
    ASSERT_EQ(bench(&s, b.q, 0, 1, &again, &unit), MOBAGEN_SUCCESS);
    EXPECT_EQ(again, median);
    ASSERT_EQ(mobagen_context_set_variant(context, "gate_topk", "m16w4"), MOBAGEN_SUCCESS);
    double pinned = 0;
    ASSERT_EQ(bench(&s, b.q, 0, 1, &pinned, &unit), MOBAGEN_SUCCESS);
    EXPECT_NE(pinned, median);
    run.runAndCheck(ctx); // the benchmarked buffers hold a correct forward
    auto timing = ctx.benchmarkForward(s, b, 0, 1); // the C++ API, same numbers
    ASSERT_TRUE(timing) << timing.error().message();
    EXPECT_EQ(timing->median, pinned);
    EXPECT_EQ(timing->unit, "model-us");
    EXPECT_EQ(ctx.benchmarkForward(s, b, 0, 0).error().code(), MOBAGEN_ERROR_INVALID_ARGUMENT);

    EXPECT_API_ERROR(bench(&s, b.q, -1, 3, &median, &unit), MOBAGEN_ERROR_INVALID_ARGUMENT,
                     "-1 warm-up runs and 3 repetitions; need warmup >= 0 and repetitions >= 1");
    EXPECT_API_ERROR(bench(&s, b.q, 0, 0, &median, &unit), MOBAGEN_ERROR_INVALID_ARGUMENT, "0 repetitions");
    EXPECT_API_ERROR(bench(&s, b.q + 2, 0, 1, &median, &unit), MOBAGEN_ERROR_MISALIGNED, "is not 16-byte aligned");
    EXPECT_API_ERROR(bench(nullptr, b.q, 0, 1, &median, &unit), MOBAGEN_ERROR_INVALID_ARGUMENT,
                     "mobagen_benchmark_forward: shape is null");
    EXPECT_API_ERROR(bench(&s, b.q, 0, 1, nullptr, &unit), MOBAGEN_ERROR_INVALID_ARGUMENT,
                     "mobagen_benchmark_forward: median is null");
    EXPECT_API_ERROR(bench(&s, b.q, 0, 1, &median, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                     "mobagen_benchmark_forward: unit is null");
  }
}

TEST(Api, LastErrorIsPerThread) {
  mobagen_device *device = nullptr;
  ASSERT_EQ(mobagen_device_open(mobagen_device_kind(9), 0, &device), MOBAGEN_ERROR_INVALID_ARGUMENT);
  const std::string mine = mobagen_last_error();
  EXPECT_NE(mine.find("kind = 9 is not a mobagen_device_kind"), std::string::npos) << mine;
  std::string other = "unset";
  std::thread([&] { other = mobagen_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(std::string(mobagen_last_error()), mine);
}

TEST(ApiMisuse, Devices) {
  EXPECT_API_ERROR(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_device_open: device is null");
  mobagen_device *device = nullptr;
  EXPECT_API_ERROR(mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, -1, &device), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "ordinal = -1 is negative");
  // No GPU here: an explicit CUDA device is unavailable, with the reason.
  if (mobagen_device_open(MOBAGEN_DEVICE_CUDA, 0, &device) == MOBAGEN_SUCCESS) {
    mobagen_device_destroy(device);
    GTEST_SKIP() << "a CUDA device is present";
  }
  EXPECT_API_ERROR(mobagen_device_open(MOBAGEN_DEVICE_CUDA, 0, &device), MOBAGEN_ERROR_DEVICE_UNAVAILABLE,
                   "CUDA device 0");
  EXPECT_EQ(device, nullptr);
  EXPECT_API_ERROR(mobagen_device_malloc(nullptr, 16, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_device_malloc: device is null");
  mobagen_device *emu = emulator();
  EXPECT_API_ERROR(mobagen_device_free(emu, 0x1234), MOBAGEN_ERROR_DEVICE, "not the start of a live allocation");
  EXPECT_API_ERROR(mobagen_memcpy_to_host(emu, nullptr, 0x1234, 4), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_memcpy_to_host: dst is null");
  mobagen_device_destroy(emu);
}

TEST(ApiMisuse, ContextCreation) {
  mobagen_device *device = emulator();
  mobagen_context *context = nullptr;
  const std::string dir = str(smallBundle().dir);
  EXPECT_API_ERROR(mobagen_context_create(nullptr, dir.c_str(), nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_create: device is null");
  EXPECT_API_ERROR(mobagen_context_create(device, nullptr, nullptr, &context), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_create: bundle_dir is null");
  EXPECT_API_ERROR(mobagen_context_create(device, dir.c_str(), nullptr, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_context_create: context is null");
  EXPECT_API_ERROR(mobagen_context_create(device, (dir + "-absent").c_str(), nullptr, &context),
                   MOBAGEN_ERROR_INVALID_BUNDLE, "no such directory");
  const std::string v1 = str(editedBundle(smallBundle(), "api-v1", [](json &m) { m["format_version"] = 1; }));
  EXPECT_API_ERROR(mobagen_context_create(device, v1.c_str(), nullptr, &context), MOBAGEN_ERROR_INVALID_BUNDLE,
                   "format_version = 1 is not supported");

  // The bundle is not the configuration the caller asked for.
  mobagen_config want{};
  want.block_size = 16;
  want.top_k = 3;
  want.head_dim = 64;
  want.num_q_heads = 4;
  want.num_kv_heads = 2;
  want.causal = 1;
  want.dtype = MOBAGEN_DTYPE_BF16;
  mobagen_context_options options{nullptr, &want};
  ASSERT_EQ(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_SUCCESS) << mobagen_last_error();
  mobagen_context_destroy(context);
  want.block_size = 32;
  EXPECT_API_ERROR(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_ERROR_CONFIG_MISMATCH,
                   "is for block_size = 16, but 32 was requested");
  want.block_size = 16;
  std::snprintf(want.target, sizeof want.target, "sm_90a");
  EXPECT_API_ERROR(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_ERROR_CONFIG_MISMATCH,
                   "is for target = sm_80, but sm_90a was requested");
  want.target[0] = '\0';
  want.has_scale = 1;
  want.scale = 0.5;
  EXPECT_API_ERROR(mobagen_context_create(device, dir.c_str(), &options, &context), MOBAGEN_ERROR_CONFIG_MISMATCH,
                   "is for scale = default (1/sqrt(head_dim)), but 0.5 was requested");

  // A target the device (the emulator models compute capability 9.0) cannot run.
  const std::string sm100 = str(editedBundle(smallBundle(), "api-sm100", [](json &m) {
    m["config"]["target"] = "sm_100";
  }));
  EXPECT_API_ERROR(mobagen_context_create(device, sm100.c_str(), nullptr, &context),
                   MOBAGEN_ERROR_UNSUPPORTED_DEVICE,
                   "the bundle's target sm_100 cannot run on a device of compute capability 9.0: sm_100 needs 10.0 "
                   "or later");

  // A cache directory that cannot be one.
  const auto file = scratchDir("api-cache") / "a-file";
  std::ofstream(file) << "x";
  const std::string cachePath = str(file / "cache");
  mobagen_context_options withCache{cachePath.c_str(), nullptr};
  EXPECT_EQ(mobagen_context_create(device, dir.c_str(), &withCache, &context), MOBAGEN_ERROR_IO);
  EXPECT_NE(std::string(mobagen_last_error()).find(cachePath), std::string::npos) << mobagen_last_error();
  const std::string goodCache = str(scratchDir("api-cache-ok"));
  mobagen_context_options okCache{goodCache.c_str(), nullptr};
  ASSERT_EQ(mobagen_context_create(device, dir.c_str(), &okCache, &context), MOBAGEN_SUCCESS) << mobagen_last_error();
  mobagen_context_destroy(context);

  // Embedded files with holes.
  const mobagen_bundle_file noName[] = {{nullptr, nullptr, 0}};
  EXPECT_API_ERROR(mobagen_context_create_from_files(device, noName, 1, nullptr, &context),
                   MOBAGEN_ERROR_INVALID_ARGUMENT, "files[0].name is null");
  const mobagen_bundle_file noData[] = {{"manifest.json", nullptr, 12}};
  EXPECT_API_ERROR(mobagen_context_create_from_files(device, noData, 1, nullptr, &context),
                   MOBAGEN_ERROR_INVALID_ARGUMENT, "files[0] ('manifest.json') has size 12 but null data");
  EXPECT_API_ERROR(mobagen_context_create_from_files(device, nullptr, 3, nullptr, &context),
                   MOBAGEN_ERROR_INVALID_ARGUMENT, "files is null");
  EXPECT_API_ERROR(mobagen_context_create_from_files(device, nullptr, 0, nullptr, &context),
                   MOBAGEN_ERROR_INVALID_BUNDLE, "no file named \"manifest.json\"");
  mobagen_device_destroy(device);
}

TEST(ApiMisuse, ContextOutlivesItsDeviceHandle) {
  mobagen_device *device = emulator();
  mobagen_context *context = nullptr;
  ASSERT_EQ(mobagen_context_create(device, str(smallBundle().dir).c_str(), nullptr, &context), MOBAGEN_SUCCESS);
  mobagen_device_destroy(device); // the context keeps the device
  mobagen_config c{};
  EXPECT_EQ(mobagen_context_config(context, &c), MOBAGEN_SUCCESS);
  EXPECT_EQ(c.block_size, 16);
  mobagen_context_destroy(context);
}

TEST_F(ContextFixture, WorkspaceSizeAndShapeChecks) {
  mobagen_shape s{};
  s.batch = 2;
  s.total_q = 21;
  s.total_k = 40;
  s.max_seqlen_q = 20;
  s.max_seqlen_k = 33;
  s.num_q_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 64;
  size_t bytes = 0;
  ASSERT_EQ(mobagen_workspace_size(context, &s, &bytes), MOBAGEN_SUCCESS) << mobagen_last_error();
  // kbar 2048, selected and ranks 1008 each, block counts and offsets 64 each, routed
  // 1008, partial_out 21 x 4 x 3 x 64 x 4 = 64512, partial_lse 1008, each at a
  // 256-byte boundary (LauncherTest).
  EXPECT_EQ(bytes, 71152u);

  mobagen_shape bad = s;
  bad.num_q_heads = 8;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.num_q_heads = 8 but the bundle's config has num_q_heads = 4");
  bad = s;
  bad.num_kv_heads = 1;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.num_kv_heads = 1 but the bundle's config has num_kv_heads = 2");
  bad = s;
  bad.head_dim = 128;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.head_dim = 128 but the bundle's config has head_dim = 64");
  bad = s;
  bad.dtype = MOBAGEN_DTYPE_FP16;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.dtype = fp16 but the bundle's config has dtype = bf16");
  bad = s;
  bad.dtype = mobagen_dtype(5);
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.dtype = 5 is not a mobagen_dtype");
  bad = s;
  bad.total_k = -40;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.total_k = -40 is negative");
  bad = s;
  bad.total_q = 10;
  EXPECT_API_ERROR(mobagen_workspace_size(context, &bad, &bytes), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.max_seqlen_q = 20 exceeds total_q = 10");
  EXPECT_API_ERROR(mobagen_workspace_size(context, nullptr, &bytes), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_workspace_size: shape is null");
  EXPECT_API_ERROR(mobagen_workspace_size(context, &s, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_workspace_size: bytes is null");
  EXPECT_API_ERROR(mobagen_workspace_size(nullptr, &s, &bytes), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_workspace_size: context is null");
  mobagen_shape empty = s;
  empty.batch = 0;
  empty.total_q = empty.total_k = empty.max_seqlen_q = empty.max_seqlen_k = 0;
  ASSERT_EQ(mobagen_workspace_size(context, &empty, &bytes), MOBAGEN_SUCCESS);
  EXPECT_EQ(bytes, 0u);
}

TEST_F(ContextFixture, ForwardArgumentChecks) {
  mobagen_shape s{};
  s.batch = 1;
  s.total_q = 4;
  s.total_k = 20;
  s.max_seqlen_q = 4;
  s.max_seqlen_k = 20;
  s.num_q_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 64;
  size_t need = 0;
  ASSERT_EQ(mobagen_workspace_size(context, &s, &need), MOBAGEN_SUCCESS);
  mobagen_devptr base = 0;
  ASSERT_EQ(mobagen_device_malloc(device, 1 << 16, &base), MOBAGEN_SUCCESS);
  // Distinct, aligned addresses in one allocation; nothing is launched below.
  const mobagen_devptr q = base, k = base + 4096, v = base + 8192, cuq = base + 12288, cuk = base + 12352,
                       out = base + 16384, lse = base + 20480, ws = base + 24576;
  auto forward = [&](const mobagen_shape *shape, mobagen_devptr q_, mobagen_devptr lse_, mobagen_devptr ws_,
                     size_t wsBytes) {
    return mobagen_forward(context, shape, q_, k, v, cuq, cuk, out, lse_, ws_, wsBytes, 0);
  };
  EXPECT_API_ERROR(mobagen_forward(nullptr, &s, q, k, v, cuq, cuk, out, lse, ws, need, 0),
                   MOBAGEN_ERROR_INVALID_ARGUMENT, "mobagen_forward: context is null");
  EXPECT_API_ERROR(forward(nullptr, q, lse, ws, need), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "mobagen_forward: shape is null");
  EXPECT_API_ERROR(forward(&s, 0, lse, ws, need), MOBAGEN_ERROR_INVALID_ARGUMENT, "q is null");
  EXPECT_API_ERROR(mobagen_forward(context, &s, q, k, v, 0, cuk, out, lse, ws, need, 0),
                   MOBAGEN_ERROR_INVALID_ARGUMENT, "cu_seqlens_q is null");
  EXPECT_API_ERROR(forward(&s, q + 8, lse, ws, need), MOBAGEN_ERROR_MISALIGNED,
                   fmt::format("q = 0x{:x} is not 16-byte aligned (it is 8 bytes past a boundary", q + 8));
  EXPECT_API_ERROR(mobagen_forward(context, &s, q, k, v + 2, cuq, cuk, out, lse, ws, need, 0),
                   MOBAGEN_ERROR_MISALIGNED, "v = ");
  EXPECT_API_ERROR(mobagen_forward(context, &s, q, k, v, cuq, cuk, out + 4, lse, ws, need, 0),
                   MOBAGEN_ERROR_MISALIGNED, "is not 16-byte aligned");
  EXPECT_API_ERROR(forward(&s, q, lse + 2, ws, need), MOBAGEN_ERROR_MISALIGNED, "is not 4-byte aligned");
  EXPECT_API_ERROR(mobagen_forward(context, &s, q, k, v, cuq + 1, cuk, out, lse, ws, need, 0),
                   MOBAGEN_ERROR_MISALIGNED, "cu_seqlens_q");
  EXPECT_API_ERROR(forward(&s, q, lse, ws + 4, need), MOBAGEN_ERROR_MISALIGNED, "workspace = ");
  EXPECT_API_ERROR(forward(&s, q, lse, 0, need), MOBAGEN_ERROR_INVALID_ARGUMENT, "workspace is null");
  EXPECT_API_ERROR(forward(&s, q, lse, ws, need - 1), MOBAGEN_ERROR_WORKSPACE_TOO_SMALL,
                   fmt::format("workspace_bytes = {} is less than the {} bytes this shape needs", need - 1, need));
  mobagen_shape wrongHeads = s;
  wrongHeads.num_q_heads = 2;
  EXPECT_API_ERROR(forward(&wrongHeads, q, lse, ws, need), MOBAGEN_ERROR_SHAPE_MISMATCH,
                   "shape.num_q_heads = 2 but the bundle's config has num_q_heads = 4");
  mobagen_shape inconsistent = s;
  inconsistent.max_seqlen_q = 3; // total_q 4 > batch 1 x 3
  EXPECT_API_ERROR(forward(&inconsistent, q, lse, ws, need), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "shape.total_q = 4 exceeds batch * max_seqlen_q = 1 * 3 = 3");
  // batch 0 is a no-op: no pointer is looked at.
  mobagen_shape none = s;
  none.batch = none.total_q = none.total_k = none.max_seqlen_q = none.max_seqlen_k = 0;
  EXPECT_EQ(mobagen_forward(context, &none, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), MOBAGEN_SUCCESS) << mobagen_last_error();
  EXPECT_EQ(mobagen_device_free(device, base), MOBAGEN_SUCCESS);
}

TEST_F(ContextFixture, VariantPinsAndErrors) {
  EXPECT_API_ERROR(mobagen_context_set_variant(context, "softmax", "x"), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "unknown kernel 'softmax': expected one of pool_keys, gate_topk, route_scatter, "
                   "sparse_attention_blocks, sparse_attention_merge");
  EXPECT_API_ERROR(mobagen_context_set_variant(context, "gate_topk", "m64n64w8"), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "gate_topk has no variant 'm64n64w8' (variants: m16w2, m16w4)");
  EXPECT_API_ERROR(mobagen_context_set_variant(context, nullptr, "x"), MOBAGEN_ERROR_INVALID_ARGUMENT,
                   "kernel is null");
  EXPECT_EQ(mobagen_context_set_variant(context, "gate_topk", "m16w4"), MOBAGEN_SUCCESS);
  EXPECT_EQ(mobagen_context_set_variant(context, "gate_topk", nullptr), MOBAGEN_SUCCESS);
  EXPECT_API_ERROR(mobagen_tune(context, nullptr), MOBAGEN_ERROR_INVALID_ARGUMENT, "mobagen_tune: shape is null");
}

TEST(ApiTune, TheSelectorHookChoosesPerShapeBucket) {
  auto b = bundle::Bundle::fromDirectory(smallBundle().dir);
  ASSERT_TRUE(b);
  auto opened = device::openDevice(device::DeviceChoice::Emulator);
  ASSERT_TRUE(opened);
  std::unique_ptr<api::Context> context;
  ASSERT_TRUE(api::Context::create(std::shared_ptr<device::Device>(std::move(*opened)), std::move(*b), {}, context)
                  .ok());
  std::vector<std::string> asked;
  std::mutex mutex;
  context->setVariantSelector([&](const api::VariantRequest &r) -> Expected<size_t> {
    std::lock_guard lock(mutex);
    asked.push_back(fmt::format("{} {}x{}x{}", bundle::kKernelNames[size_t(r.kernel)], r.bucket.batch,
                                r.bucket.maxSeqlenQ, r.bucket.maxSeqlenK));
    return r.bundle.kernel(r.kernel).variants.size() - 1; // the last variant
  });
  mobagen_shape s{};
  s.batch = 3;
  s.total_q = 30;
  s.total_k = 90;
  s.max_seqlen_q = 17;
  s.max_seqlen_k = 40;
  s.num_q_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 64;
  ASSERT_TRUE(context->tune(s).ok());
  EXPECT_EQ(asked, (std::vector<std::string>{"pool_keys 4x32x64", "gate_topk 4x32x64",
                                             "route_scatter 4x32x64", "sparse_attention_blocks 4x32x64",
                                             "sparse_attention_merge 4x32x64"}));
  // The same bucket (batch 4, max lengths up to 32 / 64) runs the tuned variants;
  // another bucket runs the defaults until it is tuned; a pin overrides both.
  EXPECT_EQ(context->choiceFor({4, 30, 90, 32, 64}), (launch::VariantChoice{1, 1, 0, 0, 0}));
  EXPECT_EQ(context->choiceFor({4, 30, 90, 33, 64}), (launch::VariantChoice{}));
  ASSERT_TRUE(context->setVariant("pool_keys", "w2").ok());
  EXPECT_EQ(context->choiceFor({3, 30, 90, 17, 40}), (launch::VariantChoice{0, 1, 0, 0, 0}));

  context->setVariantSelector([](const api::VariantRequest &) -> Expected<size_t> { return size_t(5); });
  api::ApiStatus bad = context->tune(s);
  EXPECT_EQ(bad.code, MOBAGEN_ERROR_DEVICE);
  EXPECT_EQ(bad.message, "the variant selector chose variant 5 of pool_keys, which has 2");
}

} // namespace
} // namespace mobagen::testing
