//===- ThreadSafetyTest.cpp - Threads sharing one device and one cache ------===//
//
// What docs/api.md ("Thread safety") promises below the context: one emulator
// device may be used from several host threads at once (module loads, allocations,
// copies and launches interleave; the device serializes them with its lock), and
// one cache directory may be stored to and loaded from by several threads at once
// (each entry is published by rename, so a reader sees a whole entry or none).
// Built with ThreadSanitizer in build-tsan/ by scripts/sanitize.sh, where any data
// race fails the test; in the normal build it checks the values.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cache/DiskCache.h"
#include "runtime/emulator/Emulator.h"

namespace mobagen {
namespace {

using device::DevicePtr;
using device::KernelArgs;

constexpr int kThreads = 4;

std::string elementwisePtx() {
  std::ifstream in(std::string(MOBAGEN_EMU_PTX_DIR) + "/elementwise.sm_80.ptx");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs elementwise_math (tests/emulator/kernels/elementwise.cu) on `n` inputs
/// derived from `seed`, loading its own module, on a device shared with others.
Expected<std::vector<float>> runElementwise(device::Device &dev, const std::string &ptx, int seed, int n) {
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = float((i * 7 + seed * 13) % 17) * 0.25f - 2.0f;
    y[i] = float((i * 5 + seed * 3) % 11) * 0.5f - 2.5f;
  }
  auto module = dev.loadModule(ptx, "elementwise.sm_80.ptx");
  if (!module)
    return module.status();
  const size_t bytes = size_t(n) * sizeof(float);
  DevicePtr buffers[3];
  for (DevicePtr &b : buffers) {
    auto p = dev.allocate(bytes);
    if (!p)
      return p.status();
    b = *p;
  }
  if (Status s = dev.copyToDevice(buffers[0], x.data(), bytes); !s)
    return s;
  if (Status s = dev.copyToDevice(buffers[1], y.data(), bytes); !s)
    return s;
  if (Status s = dev.copyToDevice(buffers[2], std::vector<float>(n).data(), bytes); !s)
    return s;
  const float a = 1.75f;
  if (Status s = dev.launch(*module, "elementwise_math", {{uint32_t((n + 127) / 128)}, {128}},
                            KernelArgs().add(n).add(a).add(buffers[0]).add(buffers[1]).add(buffers[2]));
      !s)
    return s;
  std::vector<float> out(n);
  if (Status s = dev.copyToHost(out.data(), buffers[2], bytes); !s)
    return s;
  for (DevicePtr b : buffers)
    if (Status s = dev.free(b); !s)
      return s;
  return out;
}

TEST(ThreadSafety, FourThreadsShareOneEmulatorDevice) {
  const std::string ptx = elementwisePtx();
  ASSERT_FALSE(ptx.empty()) << "missing " << MOBAGEN_EMU_PTX_DIR << "/elementwise.sm_80.ptx";
  const int n = 300; // 3 CTAs, the last one ragged
  // The answers of each thread's inputs, computed alone on a device of their own.
  std::vector<std::vector<float>> expected(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    emu::EmulatorDevice alone{emu::EmulatorOptions{.threads = 1}};
    auto out = runElementwise(alone, ptx, t, n);
    ASSERT_TRUE(out.ok()) << out.status().message();
    expected[t] = *out;
  }
  emu::EmulatorDevice shared{emu::EmulatorOptions{.threads = 2}};
  std::vector<std::string> failures(kThreads);
  std::vector<std::vector<float>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        auto out = runElementwise(shared, ptx, t, n);
        if (!out) {
          failures[t] = out.status().message();
          return;
        }
        got[t] = *out;
        if (got[t] != expected[t])
          return;
      }
    });
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    EXPECT_EQ(got[t], expected[t]) << "thread " << t << " got another thread's or a corrupted result";
  }
}

TEST(ThreadSafety, FourThreadsStoreAndLoadOneCache) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "mobagen-thread-cache";
  std::filesystem::remove_all(dir);
  auto cache = DiskCache::open(dir);
  ASSERT_TRUE(cache.ok()) << cache.status().message();
  const std::string sharedKey = CacheKey().add("kind", "tuning").add("shared", 1).str();
  auto payloadOf = [](int t, int i) { return fmt::format("thread {} round {} {}", t, i, std::string(200 + t, 'x')); };
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const std::string ownKey = CacheKey().add("kind", "tuning").add("thread", t).str();
      for (int i = 0; i < 25 && failures[t].empty(); ++i) {
        if (Status s = cache->store(ownKey, payloadOf(t, i)); !s)
          failures[t] = s.message();
        if (Status s = cache->store(sharedKey, payloadOf(t, i)); !s)
          failures[t] = s.message();
        const CacheLookup own = cache->load(ownKey);
        if (own.payload != payloadOf(t, i))
          failures[t] = fmt::format("own key, round {}: {}", i, own.payload ? *own.payload : own.rejected);
        // Another thread may have replaced the shared entry since: it must be whole.
        const CacheLookup any = cache->load(sharedKey);
        if (!any.payload || any.payload->rfind("thread ", 0) != 0 || !any.rejected.empty())
          failures[t] = fmt::format("shared key, round {}: {}", i, any.payload ? *any.payload : any.rejected);
      }
    });
  for (std::thread &th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], "") << "thread " << t;
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace mobagen
