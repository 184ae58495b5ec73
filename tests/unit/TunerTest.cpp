// The autotuner on the emulator: candidates are real kernels (nvcc-compiled
// tests/emulator/kernels/costs.cu) whose cost is the emulator's cost model, so
// the choice, the cost, the cache round trip and every rejection path are
// checked against known values, and several processes share one cache.
#include "runtime/tune/Rotation.h"
#include "runtime/tune/Tuner.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/emulator/Emulator.h"

namespace mobagen::tune {
namespace {

using device::KernelArgs;
using ::testing::HasSubstr;

std::string readFile(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void writeFile(const std::filesystem::path &p, const std::string &bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}
std::string costsPtx() { return readFile(std::string(MOBAGEN_EMU_PTX_DIR) + "/costs.sm_90.ptx"); }

/// How often the tuner called a candidate's functions.
struct Calls {
  int prepare = 0;
  int run = 0;
};

/// One emulator device with the costs module, and candidates that run
/// repeated_fma (`reps` multiply-adds per element) on rotating input copies.
class KernelCandidates {
public:
  static constexpr int kElements = 2048;

  KernelCandidates() {
    auto id = dev.loadModule(costsPtx(), "costs.sm_90.ptx");
    EXPECT_TRUE(id.ok()) << id.status().message();
    module = id.ok() ? *id : 0;
  }

  /// A candidate named `variant`; `calls` counts its prepare and run calls.
  Candidate fma(const std::string &variant, int reps, Calls &calls, uint32_t block = 128) {
    auto sets = std::make_shared<std::vector<std::pair<device::DevicePtr, device::DevicePtr>>>();
    Candidate c;
    c.variant = variant;
    c.prepare = [this, sets, &calls]() -> Status {
      ++calls.prepare;
      const uint64_t bytesPerSet = 2ull * kElements * sizeof(float);
      // An L2 as large as one set: three copies, each run reads cold buffers.
      Expected<uint64_t> copies = rotationCopies(bytesPerSet, bytesPerSet);
      MOBAGEN_RETURN_IF_ERROR(copies.status());
      const std::vector<float> init(kElements, 0.5f);
      for (uint64_t i = 0; i < *copies; ++i) {
        Expected<device::DevicePtr> x = dev.allocate(kElements * sizeof(float));
        Expected<device::DevicePtr> y = dev.allocate(kElements * sizeof(float));
        MOBAGEN_RETURN_IF_ERROR(x.status());
        MOBAGEN_RETURN_IF_ERROR(y.status());
        MOBAGEN_RETURN_IF_ERROR(dev.copyToDevice(*x, init.data(), kElements * sizeof(float)));
        MOBAGEN_RETURN_IF_ERROR(dev.copyToDevice(*y, init.data(), kElements * sizeof(float)));
        sets->push_back({*x, *y});
      }
      return Status::success();
    };
    // The rotating run is built on the first call, after prepare made the sets.
    auto rotating = std::make_shared<std::function<Status()>>();
    c.run = [this, sets, rotating, reps, block, &calls]() -> Status {
      ++calls.run;
      if (!*rotating) {
        auto made = rotatingRun<std::pair<device::DevicePtr, device::DevicePtr>>(
            *sets, [this, reps, block](const std::pair<device::DevicePtr, device::DevicePtr> &set) {
              const device::LaunchConfig config{{(kElements + block - 1) / block}, {block}, 0};
              return dev.enqueue(module, "repeated_fma", config,
                                 KernelArgs().add(kElements).add(reps).add(0.75f).add(set.first).add(set.second), 0);
            });
        MOBAGEN_RETURN_IF_ERROR(made.status());
        *rotating = *made;
      }
      return (*rotating)();
    };
    lastSets = sets;
    return c;
  }

  /// The cost model's microseconds for one launch of repeated_fma.
  double modelCost(int reps, uint32_t block = 128) {
    const std::vector<float> init(kElements, 0.5f);
    auto x = dev.allocate(kElements * sizeof(float)), y = dev.allocate(kElements * sizeof(float));
    EXPECT_TRUE(x.ok() && y.ok());
    EXPECT_TRUE(dev.copyToDevice(*x, init.data(), kElements * sizeof(float)).ok());
    EXPECT_TRUE(dev.copyToDevice(*y, init.data(), kElements * sizeof(float)).ok());
    Status s = dev.launch(module, "repeated_fma", {{(kElements + block - 1) / block}, {block}, 0},
                          KernelArgs().add(kElements).add(reps).add(0.75f).add(*x).add(*y));
    EXPECT_TRUE(s.ok()) << s.message();
    return emu::modeledMicroseconds(dev.counters());
  }

  emu::EmulatorDevice dev{emu::EmulatorOptions{.threads = 1}};
  device::ModuleId module = 0;
  std::shared_ptr<std::vector<std::pair<device::DevicePtr, device::DevicePtr>>> lastSets;
};

TuningKey baseKey(const device::DeviceProperties &props) {
  TuningKey key;
  key.kernel = "repeated_fma";
  key.config = "block_size=64 top_k=4 head_dim=128 causal=1 dtype=bf16 gqa=1 target=sm_90";
  key.bucket = *ShapeBucket::of(3, 100, 1000);
  key.device = props;
  key.compilerVersion = "llvm-22.1 ptx-8.7";
  key.mobagenVersion = "0.1.0";
  key.bundleHash = 0x0123456789abcdefull;
  return key;
}

class TunerTest : public ::testing::Test {
protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              fmt::format("mobagen-tuner-{}-{}", ::getpid(),
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void TearDown() override { std::filesystem::remove_all(dir); }

  DiskCache openCache() {
    auto cache = DiskCache::open(dir);
    EXPECT_TRUE(cache.ok()) << cache.status().message();
    return std::move(cache).value();
  }
  /// Fewer runs than the defaults (the emulator's runs all cost the same), and a log.
  TuneOptions logged() {
    TuneOptions options;
    options.warmup = 1;
    options.repetitions = 3;
    options.log = [this](std::string_view line) { log.emplace_back(line); };
    return options;
  }
  /// The three-candidate set the tests tune: the cheapest is in the middle.
  std::vector<Candidate> threeCandidates(KernelCandidates &k, Calls (&calls)[3]) {
    return {k.fma("reps64", 64, calls[0]), k.fma("reps8", 8, calls[1]), k.fma("reps256", 256, calls[2])};
  }

  KernelCandidates kernels;
  std::vector<std::string> log;
};

TEST(ShapeBucketTest, RoundsEachValueUpToAPowerOfTwo) {
  auto b = ShapeBucket::of(3, 100, 1000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (ShapeBucket{4, 128, 1024}));
  EXPECT_EQ(*ShapeBucket::of(0, 1, 2), (ShapeBucket{0, 1, 2}));
  // Shapes in one bucket share it.
  EXPECT_EQ(*ShapeBucket::of(5, 7, 8), (ShapeBucket{8, 8, 8}));
  EXPECT_EQ(*ShapeBucket::of(8, 5, 6), (ShapeBucket{8, 8, 8}));
  EXPECT_EQ(*ShapeBucket::of(1, 4097, int64_t(1) << 62), (ShapeBucket{1, 8192, int64_t(1) << 62}));
}

TEST(ShapeBucketTest, RejectsNegativeAndTooLargeValuesNamingThem) {
  auto negative = ShapeBucket::of(2, -1, 8);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(), "shape bucket: max_seqlen_q = -1 is outside [0, 2^62]");
  auto large = ShapeBucket::of(2, 8, (int64_t(1) << 62) + 1);
  ASSERT_FALSE(large.ok());
  EXPECT_THAT(large.status().message(), HasSubstr("max_seqlen_k = 4611686018427387905"));
}

TEST(MedianTest, IsTheMiddleSampleOrTheLowerMiddleOne) {
  EXPECT_EQ(medianOf({3, 1, 2}), 2);
  EXPECT_EQ(medianOf({4, 1, 3, 2}), 2);
  EXPECT_EQ(medianOf({5}), 5);
  EXPECT_EQ(medianOf({1, 1, 100}), 1); // one slow outlier does not move it
  EXPECT_TRUE(std::isnan(medianOf({})));
}

TEST(RotationTest, CopiesOutnumberTheL2AndAreAtLeastTwo) {
  EXPECT_EQ(*rotationCopies(100, 1000), 12u);        // 11 other copies: 1100 > 1000 bytes
  EXPECT_EQ(*rotationCopies(1000, 1000), 3u);        // 2 other copies: 2000 > 1000
  EXPECT_EQ(*rotationCopies(5000, 1000), 2u);        // larger than the L2: still 2
  EXPECT_EQ(*rotationCopies(64, 0), 2u);             // no L2 (the emulator)
  EXPECT_EQ(*rotationCopies(16ull << 20, kH200L2Bytes), 5u); // 16 MiB sets on an H200
  auto zero = rotationCopies(0, kH200L2Bytes);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("0 bytes"));
}

TEST(RotationTest, RunsEachSetInTurnAndCopiesShareTheTurn) {
  std::vector<int> used;
  auto run = rotatingRun<int>({10, 11, 12}, [&](const int &set) {
    used.push_back(set);
    return set == 99 ? Status::error("never") : Status::success();
  });
  ASSERT_TRUE(run.ok());
  const std::function<Status()> copy = *run;
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE((*run)().ok());
  ASSERT_TRUE(copy().ok());
  EXPECT_EQ(used, (std::vector<int>{10, 11, 12, 10, 11}));
  auto empty = rotatingRun<int>({}, [](const int &) { return Status::success(); });
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("no buffer sets"));
  auto noRun = rotatingRun<int>({1}, {});
  ASSERT_FALSE(noRun.ok());
  EXPECT_THAT(noRun.status().message(), HasSubstr("no run function"));
}

TEST_F(TunerTest, ChoosesTheCheapestKernelAtTheCostModelsCost) {
  const double cost8 = kernels.modelCost(8), cost64 = kernels.modelCost(64), cost256 = kernels.modelCost(256);
  ASSERT_LT(cost8, cost64);
  ASSERT_LT(cost64, cost256);
  const DiskCache cache = openCache();
  Calls calls[3];
  std::vector<std::pair<size_t, std::string>> progress;
  Tuner tuner(kernels.dev, &cache);
  TuneOptions options;
  options.warmup = 2;
  options.repetitions = 5;
  auto choice = tuner.choose(baseKey(kernels.dev.properties()), threeCandidates(kernels, calls), options,
                             [&](size_t done, size_t total, const TuningChoice &best) {
                               EXPECT_EQ(total, 3u);
                               progress.emplace_back(done, best.variant);
                             });
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "reps8");
  EXPECT_EQ(choice->cost, cost8);
  EXPECT_EQ(choice->unit, "model-us");
  EXPECT_FALSE(choice->fromCache);
  EXPECT_EQ(choice->cacheNote, "");
  ASSERT_EQ(choice->tried.size(), 3u);
  EXPECT_EQ(choice->tried[0].variant, "reps64");
  EXPECT_EQ(choice->tried[0].cost, cost64);
  EXPECT_EQ(choice->tried[1].cost, cost8);
  EXPECT_EQ(choice->tried[2].cost, cost256);
  for (const auto &t : choice->tried)
    EXPECT_EQ(t.skipped, "");
  EXPECT_EQ(progress, (std::vector<std::pair<size_t, std::string>>{{1, "reps64"}, {2, "reps8"}, {3, "reps8"}}));
  for (const Calls &c : calls) {
    EXPECT_EQ(c.prepare, 1);
    EXPECT_EQ(c.run, 7); // 2 warm-up + 5 measured
  }
  // The runs rotated over all three copies: each y was updated in place.
  ASSERT_EQ(kernels.lastSets->size(), 3u);
  for (const auto &[x, y] : *kernels.lastSets) {
    float first = 0;
    ASSERT_TRUE(kernels.dev.copyToHost(&first, y, sizeof first).ok());
    EXPECT_NE(first, 0.5f);
  }
  // The entry holds the choice as JSON.
  const CacheLookup stored = cache.load(baseKey(kernels.dev.properties()).str());
  ASSERT_TRUE(stored.payload.has_value()) << stored.rejected;
  const auto json = nlohmann::json::parse(*stored.payload);
  EXPECT_EQ(json.at("variant"), "reps8");
  EXPECT_EQ(json.at("cost").get<double>(), cost8);
  EXPECT_EQ(json.at("unit"), "model-us");
}

TEST_F(TunerTest, PrefersTheBlockSizeThatFillsTheGpu) {
  Calls calls[2];
  Tuner tuner(kernels.dev, nullptr);
  auto choice = tuner.choose(baseKey(kernels.dev.properties()),
                             {kernels.fma("block256", 64, calls[0], 256), kernels.fma("block32", 64, calls[1], 32)});
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "block32"); // 64 CTAs on 64 SMs rather than 8
  EXPECT_EQ(choice->cost, kernels.modelCost(64, 32));
}

TEST_F(TunerTest, TiesGoToTheEarlierCandidate) {
  Calls calls[2];
  Tuner tuner(kernels.dev, nullptr);
  auto choice = tuner.choose(baseKey(kernels.dev.properties()),
                             {kernels.fma("first", 16, calls[0]), kernels.fma("second", 16, calls[1])});
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->tried[0].cost, choice->tried[1].cost);
  EXPECT_EQ(choice->variant, "first");
}

TEST_F(TunerTest, ASecondTunerReadsTheCacheWithoutRunningAnything) {
  const DiskCache cache = openCache();
  const TuningKey key = baseKey(kernels.dev.properties());
  Calls calls[3];
  auto first = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(first.ok()) << first.status().message();

  KernelCandidates other; // another device, as another process would have
  Calls again[3];
  auto second = Tuner(other.dev, &cache).choose(key, threeCandidates(other, again));
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->fromCache);
  EXPECT_EQ(second->variant, "reps8");
  EXPECT_EQ(second->cost, first->cost);
  EXPECT_EQ(second->unit, "model-us");
  EXPECT_TRUE(second->tried.empty());
  for (const Calls &c : again) {
    EXPECT_EQ(c.prepare, 0);
    EXPECT_EQ(c.run, 0);
  }
}

TEST_F(TunerTest, LookupReturnsTheCachedChoiceAndNeverRunsOrStores) {
  const DiskCache cache = openCache();
  const TuningKey key = baseKey(kernels.dev.properties());
  Calls calls[3];
  // A miss: nothing, and nothing prepared, run or stored.
  auto miss = Tuner(kernels.dev, &cache).lookup(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(miss.ok()) << miss.status().message();
  EXPECT_FALSE(miss->has_value());
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  // No cache: nothing either.
  auto uncached = Tuner(kernels.dev, nullptr).lookup(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(uncached.ok());
  EXPECT_FALSE(uncached->has_value());
  // A hit: the stored choice.
  ASSERT_TRUE(cache.store(key.str(), R"({"variant":"reps256","cost":2.5,"unit":"model-us"})").ok());
  auto hit = Tuner(kernels.dev, &cache).lookup(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->variant, "reps256");
  EXPECT_EQ((*hit)->cost, 2.5);
  EXPECT_TRUE((*hit)->fromCache);
  // An entry not trusted: nothing, the hook told, the entry left as it was.
  const auto path = cache.entryPath(key.str());
  std::string corrupt = readFile(path);
  corrupt[corrupt.size() - 3] ^= 0x20;
  writeFile(path, corrupt);
  TuneOptions options = logged();
  std::vector<std::string> rejected;
  options.rejected = [&](const std::filesystem::path &entry, std::string_view why) {
    EXPECT_EQ(entry, path);
    rejected.emplace_back(why);
  };
  auto bad = Tuner(kernels.dev, &cache).lookup(key, threeCandidates(kernels, calls), options);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->has_value());
  EXPECT_EQ(rejected, (std::vector<std::string>{"checksum mismatch"}));
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(readFile(path), corrupt);
  for (const Calls &c : calls) {
    EXPECT_EQ(c.prepare, 0);
    EXPECT_EQ(c.run, 0);
  }
  // The request is checked as choose() checks it.
  auto none = Tuner(kernels.dev, &cache).lookup(key, {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no candidate variants"));
}

TEST_F(TunerTest, EveryKeyFieldChangesTheKey) {
  const TuningKey base = baseKey(kernels.dev.properties());
  std::vector<std::function<void(TuningKey &)>> changes = {
      [](TuningKey &k) { k.kernel = "gate_topk"; },
      [](TuningKey &k) { k.config += " scale=0.1"; },
      [](TuningKey &k) { k.bucket.batch = 8; },
      [](TuningKey &k) { k.bucket.maxSeqlenQ = 256; },
      [](TuningKey &k) { k.bucket.maxSeqlenK = 2048; },
      [](TuningKey &k) { k.device.kind = "cuda"; },
      [](TuningKey &k) { k.device.name = "NVIDIA H100 80GB HBM3"; },
      [](TuningKey &k) { k.device.computeMajor = 8; },
      [](TuningKey &k) { k.device.computeMinor = 9; },
      [](TuningKey &k) { k.device.multiprocessors = 114; },
      [](TuningKey &k) { k.device.driverVersion = 12080; },
      [](TuningKey &k) { k.device.maxSharedBytesPerBlock = 101376; },
      [](TuningKey &k) { k.compilerVersion = "llvm-22.1 ptx-8.8"; },
      [](TuningKey &k) { k.mobagenVersion = "0.2.0"; },
      [](TuningKey &k) { k.bundleHash ^= 1; },
  };
  std::set<std::string> keys = {base.str()};
  for (const auto &change : changes) {
    TuningKey k = base;
    change(k);
    EXPECT_TRUE(keys.insert(k.str()).second) << "a change left the key as it was:\n" << k.str();
  }
  EXPECT_EQ(keys.size(), changes.size() + 1);
  EXPECT_EQ(base.str(), baseKey(kernels.dev.properties()).str()); // canonical
  EXPECT_THAT(base.str(), HasSubstr("bundle_hash=0123456789abcdef\n"));
  EXPECT_THAT(base.str(), HasSubstr("compute_capability=9.0\n"));
  EXPECT_THAT(base.str(), HasSubstr("max_seqlen_k=1024\n"));

  // A choice stored under one key does not answer another (here: fewer SMs).
  const DiskCache cache = openCache();
  Calls calls[3];
  ASSERT_TRUE(Tuner(kernels.dev, &cache).choose(base, threeCandidates(kernels, calls)).ok());
  TuningKey smaller = base;
  smaller.device.multiprocessors = 114;
  Calls again[3];
  auto other = Tuner(kernels.dev, &cache).choose(smaller, threeCandidates(kernels, again));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->fromCache);
  EXPECT_EQ(again[1].prepare, 1);
}

TEST_F(TunerTest, CorruptTruncatedAndForeignEntriesAreIgnoredAndRebuilt) {
  const DiskCache cache = openCache();
  const TuningKey key = baseKey(kernels.dev.properties());
  Calls calls[3];
  ASSERT_TRUE(Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls)).ok());
  const auto path = cache.entryPath(key.str());
  const std::string good = readFile(path);
  // An entry for another key, copied over this key's file.
  TuningKey otherKey = key;
  otherKey.kernel = "pool_keys";
  ASSERT_TRUE(cache.store(otherKey.str(), R"({"variant":"reps8","cost":1,"unit":"model-us"})").ok());
  const std::string foreign = readFile(cache.entryPath(otherKey.str()));

  std::string corrupt = good;
  corrupt[corrupt.size() - 3] ^= 0x20; // inside the JSON payload
  const std::pair<std::string, std::string> cases[] = {
      {corrupt, "checksum mismatch"},
      {good.substr(0, good.size() - 5), "truncated"},
      {foreign, "entry belongs to another key"},
  };
  for (const auto &[bytes, reason] : cases) {
    writeFile(path, bytes);
    log.clear();
    Calls again[3];
    TuneOptions options = logged();
    std::vector<std::pair<std::filesystem::path, std::string>> rejected;
    options.rejected = [&](const std::filesystem::path &entry, std::string_view why) {
      rejected.emplace_back(entry, why);
    };
    auto choice = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, again), options);
    ASSERT_EQ(rejected.size(), 1u) << reason; // the hook: the entry and the bare reason
    EXPECT_EQ(rejected[0].first, path);
    EXPECT_EQ(rejected[0].second.rfind(reason, 0), 0u) << rejected[0].second;
    ASSERT_TRUE(choice.ok()) << reason << ": " << choice.status().message();
    EXPECT_FALSE(choice->fromCache) << reason;
    EXPECT_EQ(choice->variant, "reps8");
    EXPECT_THAT(choice->cacheNote, HasSubstr(reason));
    ASSERT_EQ(log.size(), 1u) << reason;
    EXPECT_THAT(log[0], HasSubstr("tuning repeated_fma: cache entry rejected: " + reason));
    EXPECT_EQ(again[1].prepare, 1) << reason; // measured again
    // Rebuilt: the entry is whole again and the next tuner trusts it.
    EXPECT_EQ(readFile(path), good) << reason;
    auto next = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, again));
    ASSERT_TRUE(next.ok());
    EXPECT_TRUE(next->fromCache) << reason;
  }
}

TEST_F(TunerTest, APayloadThatIsNotAValidChoiceIsRetuned) {
  const DiskCache cache = openCache();
  const TuningKey key = baseKey(kernels.dev.properties());
  const std::pair<std::string, std::string> cases[] = {
      {R"({"variant":"reps4096","cost":1.5,"unit":"model-us"})",
       "payload names variant 'reps4096', which is not among the 3 candidates"},
      {"not json", "payload is not a JSON object"},
      {R"(["reps8"])", "payload is not a JSON object"},
      {R"({"cost":1.5,"unit":"model-us"})", "payload has no string 'variant'"},
      {R"({"variant":"reps8","cost":"fast","unit":"model-us"})", "payload has no number 'cost'"},
      {R"({"variant":"reps8","cost":-2,"unit":"model-us"})", "payload cost -2 is not a finite value >= 0"},
      {R"({"variant":"reps8","cost":2,"unit":""})", "payload has no non-empty string 'unit'"},
  };
  for (const auto &[payload, reason] : cases) {
    ASSERT_TRUE(cache.store(key.str(), payload).ok());
    log.clear();
    Calls calls[3];
    auto choice = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls), logged());
    ASSERT_TRUE(choice.ok()) << choice.status().message();
    EXPECT_FALSE(choice->fromCache) << payload;
    EXPECT_EQ(choice->variant, "reps8");
    EXPECT_EQ(choice->cacheNote, "cache entry rejected: " + reason);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], "tuning repeated_fma: cache entry rejected: " + reason + "; tuning again");
    const auto rebuilt = nlohmann::json::parse(*cache.load(key.str()).payload);
    EXPECT_EQ(rebuilt.at("variant"), "reps8") << payload;
  }
}

TEST_F(TunerTest, AFailingCandidateIsSkippedWithItsReason) {
  Calls calls[3];
  // Too much dynamic shared memory for one CTA: the device refuses the launch.
  auto x = kernels.dev.allocate(4096), y = kernels.dev.allocate(4096);
  ASSERT_TRUE(x.ok() && y.ok());
  Candidate tooBig = kernels.fma("huge_smem", 4, calls[0]);
  tooBig.run = [this, x = *x, y = *y]() {
    return kernels.dev.enqueue(kernels.module, "repeated_fma", {{1}, {128}, 300000},
                               KernelArgs().add(1024).add(4).add(0.75f).add(x).add(y), 0);
  };
  Candidate unloadable{"bad_ptx", [this]() { return kernels.dev.loadModule("not ptx", "bad_ptx").status(); },
                       [] { return Status::success(); }};
  std::vector<Candidate> candidates = {tooBig, unloadable, kernels.fma("reps8", 8, calls[2])};
  auto choice = Tuner(kernels.dev, nullptr).choose(baseKey(kernels.dev.properties()), candidates, logged());
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "reps8");
  ASSERT_EQ(choice->tried.size(), 3u);
  EXPECT_TRUE(std::isnan(choice->tried[0].cost));
  EXPECT_THAT(choice->tried[0].skipped, HasSubstr("run: "));
  EXPECT_THAT(choice->tried[0].skipped, HasSubstr("300000"));
  EXPECT_TRUE(std::isnan(choice->tried[1].cost));
  EXPECT_THAT(choice->tried[1].skipped, HasSubstr("prepare: "));
  EXPECT_EQ(choice->tried[2].skipped, "");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], HasSubstr("skipped variant 'huge_smem': run: "));
  EXPECT_THAT(log[1], HasSubstr("skipped variant 'bad_ptx': prepare: "));
}

TEST_F(TunerTest, AllCandidatesFailingIsAnErrorListingEachReason) {
  const DiskCache cache = openCache();
  Calls calls[1];
  Candidate unknownKernel = kernels.fma("unknown_kernel", 8, calls[0]);
  unknownKernel.run = [this]() {
    return kernels.dev.enqueue(kernels.module, "no_such_kernel", {{1}, {32}, 0}, KernelArgs(), 0);
  };
  std::vector<Candidate> candidates = {
      {"no_module", [] { return Status::error("module 'v0' is not in the bundle"); }, [] { return Status::success(); }},
      unknownKernel,
      {"no_run", {}, {}},
  };
  const TuningKey key = baseKey(kernels.dev.properties());
  auto choice = Tuner(kernels.dev, &cache).choose(key, candidates);
  ASSERT_FALSE(choice.ok());
  const std::string m = choice.status().message();
  EXPECT_THAT(m, HasSubstr("tuning repeated_fma: all 3 candidate variants failed"));
  EXPECT_THAT(m, HasSubstr("'no_module': prepare: module 'v0' is not in the bundle"));
  EXPECT_THAT(m, HasSubstr("'unknown_kernel': run: launch: module 'costs.sm_90.ptx' has no kernel 'no_such_kernel'"));
  EXPECT_THAT(m, HasSubstr("'no_run': no run function"));
  EXPECT_FALSE(cache.load(key.str()).payload.has_value()); // nothing stored
}

TEST_F(TunerTest, ForceMeasuresAgainAndReplacesTheEntry) {
  const DiskCache cache = openCache();
  const TuningKey key = baseKey(kernels.dev.properties());
  // A valid entry naming a slower candidate (a choice made on an earlier day) is trusted...
  ASSERT_TRUE(cache.store(key.str(), R"({"variant":"reps256","cost":7.25,"unit":"model-us"})").ok());
  Calls calls[3];
  auto cached = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(cached.ok());
  EXPECT_TRUE(cached->fromCache);
  EXPECT_EQ(cached->variant, "reps256");
  EXPECT_EQ(cached->cost, 7.25);
  EXPECT_EQ(calls[2].run, 0);
  // ...until forced: then every candidate is measured and the entry replaced.
  TuneOptions force;
  force.force = true;
  auto forced = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls), force);
  ASSERT_TRUE(forced.ok());
  EXPECT_FALSE(forced->fromCache);
  EXPECT_EQ(forced->variant, "reps8");
  EXPECT_EQ(calls[0].prepare, 1);
  EXPECT_EQ(calls[2].run, 12); // 2 warm-up + 10 measured (the defaults)
  auto after = Tuner(kernels.dev, &cache).choose(key, threeCandidates(kernels, calls));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->fromCache);
  EXPECT_EQ(after->variant, "reps8");
}

TEST_F(TunerTest, AChoiceThatCannotBeStoredIsStillReturned) {
  const DiskCache cache = openCache();
  std::filesystem::remove_all(dir); // the directory vanishes under the cache
  Calls calls[3];
  auto choice = Tuner(kernels.dev, &cache).choose(baseKey(kernels.dev.properties()),
                                                  threeCandidates(kernels, calls), logged());
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "reps8");
  EXPECT_THAT(choice->cacheNote, HasSubstr("choice not stored: cache entry"));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("choice 'reps8' not stored"));
}

TEST_F(TunerTest, BadRequestsAreErrorsBeforeAnythingRuns) {
  Calls calls[3];
  const TuningKey key = baseKey(kernels.dev.properties());
  Tuner tuner(kernels.dev, nullptr);
  auto none = tuner.choose(key, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "tuning repeated_fma: no candidate variants");
  auto twice = tuner.choose(key, {kernels.fma("a", 8, calls[0]), kernels.fma("a", 64, calls[1])});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "tuning repeated_fma: variant id 'a' appears more than once (candidate 1)");
  auto unnamed = tuner.choose(key, {kernels.fma("", 8, calls[0])});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.status().message(), "tuning repeated_fma: candidate 0 has an empty variant id");
  TuneOptions noReps;
  noReps.repetitions = 0;
  auto bad = tuner.choose(key, {kernels.fma("a", 8, calls[0])}, noReps);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "tuning repeated_fma: 2 warm-up runs and 0 repetitions; need >= 0 and >= 1");
  EXPECT_EQ(calls[0].prepare + calls[1].prepare, 0);
}

/// A device whose measurements are scripted per candidate, for the statistics
/// the emulator cannot show (its repetitions all cost the same).
class ScriptedDevice final : public device::Device {
public:
  std::vector<std::vector<double>> script; // one list of samples per measure() call
  std::string name() const override { return "scripted"; }
  device::DeviceProperties properties() const override { return {.kind = "scripted", .name = "scripted"}; }
  Expected<device::DevicePtr> allocate(size_t) override { return Status::error("scripted: no memory"); }
  Status free(device::DevicePtr) override { return Status::error("scripted: no memory"); }
  Status copyToDevice(device::DevicePtr, const void *, size_t) override { return Status::error("scripted"); }
  Status copyToHost(void *, device::DevicePtr, size_t) override { return Status::error("scripted"); }
  Expected<device::ModuleId> loadModule(std::string_view, std::string_view) override {
    return Status::error("scripted: no modules");
  }
  Status enqueue(device::ModuleId, std::string_view, const device::LaunchConfig &, const device::KernelArgs &,
                 device::Stream) override {
    return Status::error("scripted: no kernels");
  }
  Status synchronize(device::Stream) override { return Status::success(); }
  Expected<device::Measurement> measure(const std::function<Status()> &work, int warmup, int repetitions,
                                        device::Stream) override {
    for (int i = 0; i < warmup + repetitions; ++i)
      MOBAGEN_RETURN_IF_ERROR(work());
    if (calls >= script.size())
      return Status::error("scripted: out of samples");
    return device::Measurement{script[calls++], "ms"};
  }
  size_t calls = 0;
};

TEST(TunerStatisticsTest, TheMedianDecidesNotTheMean) {
  ScriptedDevice dev;
  // "spiky" has one slow outlier (mean 34, median 1); "steady" is always 5.
  dev.script = {{1, 100, 1}, {5, 5, 5}};
  auto ok = [] { return Status::success(); };
  TuneOptions options;
  options.repetitions = 3;
  TuningKey key;
  key.kernel = "k";
  auto choice = Tuner(dev, nullptr).choose(key, {{"spiky", {}, ok}, {"steady", {}, ok}}, options);
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "spiky");
  EXPECT_EQ(choice->cost, 1);
  EXPECT_EQ(choice->unit, "ms");
}

TEST(TunerStatisticsTest, ImpossibleSamplesSkipTheCandidate) {
  ScriptedDevice dev;
  dev.script = {{1, NAN, 1}, {-1, 2, 3}, {1, 2}, {4, 4, 4}};
  auto ok = [] { return Status::success(); };
  TuneOptions options;
  options.repetitions = 3;
  TuningKey key;
  key.kernel = "k";
  auto choice = Tuner(dev, nullptr)
                    .choose(key, {{"nan", {}, ok}, {"negative", {}, ok}, {"short", {}, ok}, {"fine", {}, ok}},
                            options);
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  EXPECT_EQ(choice->variant, "fine");
  EXPECT_THAT(choice->tried[0].skipped, HasSubstr("the sample nan"));
  EXPECT_THAT(choice->tried[1].skipped, HasSubstr("the sample -1"));
  EXPECT_EQ(choice->tried[2].skipped, "measure returned 2 samples for 3 repetitions");
}

TEST_F(TunerTest, ProcessesSharingADirectoryAllEndWithTheSameValidEntry) {
  const TuningKey key = baseKey(kernels.dev.properties());
  const double expectedCost = kernels.modelCost(8);
  ASSERT_TRUE(DiskCache::open(dir).ok());
  constexpr int kProcesses = 4, kRounds = 6;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its own device and cache handle, tuning and reading in turn.
      int failures = 0;
      auto cache = DiskCache::open(dir);
      KernelCandidates own;
      for (int round = 0; round < kRounds && cache.ok(); ++round) {
        Calls calls[3];
        std::vector<Candidate> candidates = {own.fma("reps64", 64, calls[0]), own.fma("reps8", 8, calls[1]),
                                             own.fma("reps256", 256, calls[2])};
        TuneOptions options;
        options.force = (round + p) % 2 == 0;
        options.repetitions = 2;
        options.log = [&](std::string_view) { ++failures; }; // nothing may be rejected or lost
        auto choice = Tuner(own.dev, &*cache).choose(key, candidates, options);
        if (!choice.ok() || choice->variant != "reps8" || choice->cost != expectedCost)
          ++failures;
      }
      ::_exit(cache.ok() && failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "process " << pid << " status " << status;
  }
  const DiskCache cache = openCache();
  const CacheLookup entry = cache.load(key.str());
  ASSERT_TRUE(entry.payload.has_value()) << entry.rejected;
  const auto json = nlohmann::json::parse(*entry.payload);
  EXPECT_EQ(json.at("variant"), "reps8");
  EXPECT_EQ(json.at("cost").get<double>(), expectedCost);
  // One entry and no temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

} // namespace
} // namespace mobagen::tune
