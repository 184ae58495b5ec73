//===- KernelsTest.cpp - nvcc-compiled kernels vs results computed on the CPU ===//
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/support/FloatFormats.h"
#include "tests/emulator/EmuTestSupport.h"

namespace mobagen::emu::testing {
namespace {

using device::KernelArgs;

class ElementwiseTest : public EmuKernelTest {};

TEST_P(ElementwiseTest, FloatMathWithRaggedTail) {
  load("elementwise");
  const int n = 1000; // 8 CTAs of 128: the last one is partly out of range
  Rng rng(1);
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = rng.uniform(-4, 4);
    y[i] = rng.uniform(-4, 4);
  }
  const float a = 1.75f;
  auto dx = upload(x), dy = upload(y);
  auto dout = output<float>(n + 24); // the tail past n must stay untouched
  ASSERT_TRUE(launch("elementwise_math", {8}, {128}, KernelArgs().add(n).add(a).add(dx).add(dy).add(dout)).ok());
  const auto out = download<float>(dout, n + 24);
  for (int i = 0; i < n; ++i) {
    const double xi = x[i], yi = y[i];
    double r = a * xi + yi;
    r += std::exp(xi * 0.25) + yi / (1.0 + std::fabs(xi));
    r += 1.0 / std::sqrt(1.0 + xi * xi) + std::sqrt(std::fabs(yi)) + std::log(2.0 + std::fabs(xi));
    r += std::min(xi, yi) - std::max(xi, -yi);
    r += xi / (2.5 + std::fabs(yi));
    EXPECT_NEAR(out[i], r, 1e-4 * (1 + std::fabs(r))) << "i = " << i;
  }
  for (int i = n; i < n + 24; ++i)
    EXPECT_EQ(out[i], 0.0f) << "written past n at " << i;
  EXPECT_GT(dev.counters().warpInstructions[size_t(OpClass::Special)], 0u);
  EXPECT_EQ(dev.counters().globalBytesRead, uint64_t(n) * 8);
  EXPECT_EQ(dev.counters().globalBytesWritten, uint64_t(n) * 4);
}

TEST_P(ElementwiseTest, MeasureIsTheCostModelOfEachRepetition) {
  load("elementwise");
  const int n = 1000;
  std::vector<float> x(n, 1.0f);
  auto dx = upload(x), dy = upload(x);
  auto dout = output<float>(n);
  const float a = 2.0f;
  auto work = [&] {
    return dev.enqueue(module, "elementwise_math", {{8}, {128}}, KernelArgs().add(n).add(a).add(dx).add(dy).add(dout),
                       0);
  };
  auto twice = [&]() -> Status {
    MOBAGEN_RETURN_IF_ERROR(work());
    return work();
  };
  auto once = dev.measure(work, 1, 3, 0);
  ASSERT_TRUE(once.ok()) << once.status().message();
  EXPECT_EQ(once->unit, "model-us");
  ASSERT_EQ(once->samples.size(), 3u);
  EXPECT_EQ(once->samples[0], once->samples[2]); // deterministic
  EXPECT_DOUBLE_EQ(once->samples[0], modeledMicroseconds(dev.counters()));
  auto two = dev.measure(twice, 0, 1, 0);
  ASSERT_TRUE(two.ok());
  EXPECT_DOUBLE_EQ(two->samples[0], 2 * once->samples[0]);
  // A failing repetition fails the measurement, and bad counts are refused.
  auto failing = dev.measure([&] { return dev.enqueue(module, "no_such_kernel", {{1}, {32}}, KernelArgs(), 0); }, 0,
                             1, 0);
  EXPECT_FALSE(failing.ok());
  auto bad = dev.measure(work, 0, 0, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("0 repetitions"), std::string::npos) << bad.status().message();
  EXPECT_EQ(dev.properties().kind, "emulator");
  EXPECT_EQ(dev.properties().multiprocessors, 132);
}

TEST_P(ElementwiseTest, IntegerOps) {
  load("elementwise");
  const int n = 777;
  Rng rng(2);
  std::vector<int> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = i < 8 ? std::vector<int>{0, 1, -1, INT32_MAX, INT32_MIN + 1, -7, 7, 123456789}[i]
                 : int(uint32_t(rng.next()));
  auto dx = upload(x);
  auto dout = output<int>(n);
  ASSERT_TRUE(launch("integer_ops", {7}, {128}, KernelArgs().add(n).add(dx).add(dout)).ok());
  const auto out = download<int>(dout, n);
  for (int i = 0; i < n; ++i) {
    const int v = x[i];
    const uint32_t u = uint32_t(v);
    uint32_t d = uint32_t(v / 7) + uint32_t(v % 5) + (u >> 3) + (u << 2) + uint32_t(v >> 1);
    d ^= uint32_t((v & 0xff) | 0x100);
    const int mulhi = int((int64_t(v) * 12345) >> 32);
    const int absv = v == INT32_MIN ? v : std::abs(v);
    const int maxv = v == INT32_MIN ? v : std::max(v, -v);
    d += uint32_t(std::popcount(u)) + uint32_t(std::countl_zero(u | 1)) + uint32_t(mulhi) + uint32_t(maxv) +
         uint32_t(std::min(v, 3)) + uint32_t(absv);
    d += (u / 3u) + (u % 11u);
    EXPECT_EQ(out[i], int(d)) << "x = " << v;
  }
}

TEST_P(ElementwiseTest, PacksHalvesInIsaOrder) {
  load("elementwise");
  const int n = 300;
  Rng rng(3);
  std::vector<float> x(2 * n);
  for (auto &v : x)
    v = rng.uniform(-70000, 70000) / float(1 + rng.range(0, 2000));
  auto dx = upload(x);
  auto dh = output<uint32_t>(n), db = output<uint32_t>(n);
  auto dback = output<float>(2 * n);
  ASSERT_TRUE(launch("pack_halves", {3}, {128}, KernelArgs().add(n).add(dx).add(dh).add(db).add(dback)).ok());
  const auto h = download<uint32_t>(dh, n), b = download<uint32_t>(db, n);
  const auto back = download<float>(dback, 2 * n);
  for (int i = 0; i < n; ++i) {
    const float lo = x[2 * i], hi = x[2 * i + 1];
    const uint32_t wantH = encodeDType(lo, DType::F16) | uint32_t(encodeDType(hi, DType::F16)) << 16;
    const uint32_t wantB = encodeDType(lo, DType::BF16) | uint32_t(encodeDType(hi, DType::BF16)) << 16;
    EXPECT_EQ(h[i], wantH) << "lo " << lo << " hi " << hi;
    EXPECT_EQ(b[i], wantB) << "lo " << lo << " hi " << hi;
    const double l16 = decodeDType(uint16_t(wantH), DType::F16), h16 = decodeDType(uint16_t(wantH >> 16), DType::F16);
    const double lb = decodeDType(uint16_t(wantB), DType::BF16), hb = decodeDType(uint16_t(wantB >> 16), DType::BF16);
    EXPECT_EQ(back[2 * i], float(l16 + hb));
    EXPECT_EQ(back[2 * i + 1], float(h16 * 2.0 + lb));
  }
}

TEST_P(ElementwiseTest, PackedHalfArithmetic) {
  load("elementwise");
  const int n = 500;
  Rng rng(14);
  std::vector<uint32_t> a(n), b(n), c(n);
  auto pack = [&](DType t) {
    return uint32_t(encodeDType(rng.uniform(-8, 8), t)) | uint32_t(encodeDType(rng.uniform(-8, 8), t)) << 16;
  };
  // The f16 and bf16 halves read the same bits: draw them as f16 for a, b, c, then
  // the bf16 view is just other values; both are checked against double arithmetic.
  for (int i = 0; i < n; ++i) {
    a[i] = pack(DType::F16);
    b[i] = pack(DType::F16);
    c[i] = pack(DType::F16);
  }
  auto da = upload(a), db = upload(b), dc = upload(c);
  auto dh = output<uint32_t>(n), dbo = output<uint32_t>(n);
  Status s = launch("half2_math", {4}, {128}, KernelArgs().add(n).add(da).add(db).add(dc).add(dh).add(dbo));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto h = download<uint32_t>(dh, n), bo = download<uint32_t>(dbo, n);
  auto half = [](uint32_t v, int i, DType t) { return decodeDType(uint16_t(v >> (16 * i)), t); };
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) {
      const DType F = DType::F16, B = DType::BF16;
      const double x = half(a[i], k, F), y = half(b[i], k, F), z = half(c[i], k, F);
      double r = roundToDType(x * y + z, F);
      r = roundToDType(r + roundToDType(x * x, F), F);
      r = std::max(r, -y);
      EXPECT_EQ(half(h[i], k, F), r) << i << "." << k;
      const double xb = half(a[i], k, B), yb = half(b[i], k, B), zb = half(c[i], k, B);
      const double rb = std::min(roundToDType(xb * yb + zb, B), roundToDType(xb + zb, B));
      if (std::isnan(rb))
        continue;
      EXPECT_EQ(half(bo[i], k, B), rb) << i << "." << k;
    }
}

INSTANTIATE_TEST_SUITE_P(Targets, ElementwiseTest, ::testing::ValuesIn(targets()));

class ReduceTest : public EmuKernelTest {};

TEST_P(ReduceTest, ShflDownAndBflyBlockSum) {
  load("reduce");
  const int blocks = 3, threads = 256;
  Rng rng(4);
  std::vector<float> x(blocks * threads);
  for (auto &v : x)
    v = rng.uniform(-1, 1);
  auto dx = upload(x);
  auto dout = output<float>(blocks);
  ASSERT_TRUE(launch("reduce_shfl_down", {blocks}, {threads}, KernelArgs().add(dx).add(dout)).ok());
  const auto out = download<float>(dout, blocks);
  for (int b = 0; b < blocks; ++b) {
    double s = 0;
    for (int t = 0; t < threads; ++t)
      s += x[b * threads + t];
    EXPECT_NEAR(out[b], s, 1e-4);
  }
}

TEST_P(ReduceTest, ShflUpScanAndIdxBroadcast) {
  load("reduce");
  const int blocks = 2, threads = 128, n = blocks * threads;
  Rng rng(5);
  std::vector<int> x(n);
  for (auto &v : x)
    v = rng.range(-100, 100);
  auto dx = upload(x);
  auto dscan = output<int>(n), dtot = output<int>(n / 32);
  ASSERT_TRUE(launch("scan_shfl_up", {blocks}, {threads}, KernelArgs().add(dx).add(dscan).add(dtot)).ok());
  const auto scan = download<int>(dscan, n), tot = download<int>(dtot, n / 32);
  for (int w = 0; w < n / 32; ++w) {
    int s = 0;
    for (int l = 0; l < 32; ++l) {
      s += x[w * 32 + l];
      EXPECT_EQ(scan[w * 32 + l], s) << "warp " << w << " lane " << l;
    }
    EXPECT_EQ(tot[w], s);
  }
}

TEST_P(ReduceTest, SharedMemoryTreeWithDynamicShared) {
  load("reduce");
  const int blocks = 4, threads = 256;
  Rng rng(6);
  std::vector<int> x(blocks * threads);
  for (auto &v : x)
    v = rng.range(-1000, 1000);
  auto dx = upload(x);
  auto dout = output<int>(blocks);
  ASSERT_TRUE(launch("reduce_smem", {blocks}, {threads}, KernelArgs().add(dx).add(dout), threads * 4).ok());
  const auto out = download<int>(dout, blocks);
  for (int b = 0; b < blocks; ++b) {
    int s = 0;
    for (int t = 0; t < threads; ++t)
      s += x[b * threads + t];
    EXPECT_EQ(out[b], s);
  }
  // Without the dynamic shared memory the kernel indexes past the CTA's window.
  Status s = launch("reduce_smem", {blocks}, {threads}, KernelArgs().add(dx).add(dout), 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out-of-bounds shared write"), std::string::npos) << s.message();
}

TEST_P(ReduceTest, VoteAndRedux) {
  load("reduce");
  const int threads = 128;
  Rng rng(7);
  std::vector<int> x(threads);
  for (auto &v : x)
    v = rng.range(-50, 200);
  x[5] = 150; // warp 0 has a value > 100
  for (int l = 32; l < 64; ++l)
    x[l] = rng.range(1, 99); // warp 1: all positive, none > 100
  auto dx = upload(x);
  auto dout = output<uint32_t>(threads / 32 * 5);
  ASSERT_TRUE(launch("warp_vote", {1}, {threads}, KernelArgs().add(dx).add(dout)).ok());
  const auto out = download<uint32_t>(dout, threads / 32 * 5);
  for (int w = 0; w < threads / 32; ++w) {
    uint32_t ballot = 0, sum = 0;
    int any = 0, all = 1, mx = INT32_MIN;
    for (int l = 0; l < 32; ++l) {
      const int v = x[w * 32 + l];
      ballot |= uint32_t(v > 0) << l;
      any |= v > 100;
      all &= v > -1000;
      sum += uint32_t(v);
      mx = std::max(mx, v);
    }
    EXPECT_EQ(out[w * 5 + 0], ballot);
    EXPECT_EQ(out[w * 5 + 1], uint32_t(any));
    EXPECT_EQ(out[w * 5 + 2], uint32_t(all));
    EXPECT_EQ(out[w * 5 + 3], sum);
    EXPECT_EQ(int(out[w * 5 + 4]), mx);
  }
}

TEST_P(ReduceTest, ShflWithWidthEightSegments) {
  load("reduce");
  std::vector<int> x(32);
  for (int i = 0; i < 32; ++i)
    x[i] = i * 7 % 11;
  auto dx = upload(x);
  auto dout = output<int>(32);
  ASSERT_TRUE(launch("segmented_sum", {1}, {32}, KernelArgs().add(dx).add(dout)).ok());
  const auto out = download<int>(dout, 32);
  for (int l = 0; l < 32; ++l) {
    const int seg = l / 8 * 8;
    int sum = 0;
    for (int k = 0; k < 8; ++k)
      sum += x[seg + k];
    const int up = l % 8 == 0 ? x[l] : x[l - 1];
    EXPECT_EQ(out[l], sum * 1000 + up) << l;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, ReduceTest, ::testing::ValuesIn(targets()));

class ControlTest : public EmuKernelTest {};

TEST_P(ControlTest, DivergentLoopsReconvergeBeforeShfl) {
  load("control");
  const int n = 256;
  Rng rng(8);
  std::vector<int> x(n);
  for (auto &v : x)
    v = rng.range(0, 1000);
  auto dx = upload(x);
  auto dout = output<int>(n);
  ASSERT_TRUE(launch("divergent_loops", {2}, {128}, KernelArgs().add(dx).add(dout)).ok());
  const auto out = download<int>(dout, n);
  std::vector<int> acc(n);
  for (int i = 0; i < n; ++i) {
    const int v = x[i];
    int a = 0;
    for (int k = 0; k < (v & 15); ++k) {
      if (k & 1)
        a += k * v;
      else if (v & 2)
        a -= k;
      else
        a ^= k << 3;
    }
    acc[i] = a;
  }
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(out[i], acc[i] + acc[i ^ 1]) << i;
}

TEST_P(ControlTest, EarlyExit) {
  load("control");
  const int n = 200;
  Rng rng(9);
  std::vector<int> x(n);
  for (auto &v : x)
    v = rng.range(-20, 500);
  auto dx = upload(x);
  auto dout = output<int>(256);
  ASSERT_TRUE(launch("early_exit", {2}, {128}, KernelArgs().add(n).add(dx).add(dout)).ok());
  const auto out = download<int>(dout, 256);
  for (int i = 0; i < 256; ++i) {
    int want = 0;
    if (i < n) {
      int v = x[i];
      if (v < 0) {
        want = -1;
      } else {
        while (v > 1)
          v = (v & 1) ? 3 * v + 1 : v >> 1;
        want = v + 1;
      }
    }
    EXPECT_EQ(out[i], want) << i;
  }
}

TEST_P(ControlTest, ThreeDimensionalGridOfManyCtas) {
  load("control");
  const device::Dim3 grid{5, 3, 4}, block{8, 4, 2};
  const size_t total = grid.count() * block.count();
  auto dout = output<int>(total);
  ASSERT_TRUE(launch("grid3d", grid, block, KernelArgs().add(dout)).ok());
  const auto out = download<int>(dout, total);
  size_t i = 0;
  for (uint32_t bz = 0; bz < grid.z; ++bz)
    for (uint32_t by = 0; by < grid.y; ++by)
      for (uint32_t bx = 0; bx < grid.x; ++bx)
        for (uint32_t tz = 0; tz < block.z; ++tz)
          for (uint32_t ty = 0; ty < block.y; ++ty)
            for (uint32_t tx = 0; tx < block.x; ++tx, ++i)
              ASSERT_EQ(out[i], int((bx << 24) | (by << 16) | (bz << 12) | (tx << 8) | (ty << 4) | tz)) << i;
  EXPECT_EQ(dev.counters().ctas, grid.count());
}

TEST_P(ControlTest, NamedBarrierProducerConsumer) {
  load("control");
  std::vector<int> in(32);
  for (int i = 0; i < 32; ++i)
    in[i] = i * i;
  auto din = upload(in);
  auto dout = output<int>(32);
  Status s = launch("producer_consumer", {1}, {64}, KernelArgs().add(din).add(dout));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto out = download<int>(dout, 32);
  for (int l = 0; l < 32; ++l)
    EXPECT_EQ(out[l], in[31 - l] * 3 + 1);
}

TEST_P(ControlTest, BarrierReductions) {
  load("control");
  for (int variant = 0; variant < 2; ++variant) {
    const int n = 96;
    Rng rng(30 + variant);
    std::vector<int> x(n);
    for (auto &v : x)
      v = rng.range(-40, 80);
    if (variant == 1) {
      x[17] = 95;  // someone above 90
      x[70] = -60; // someone at or below -50
    }
    auto dx = upload(x);
    auto dout = output<int>(n);
    Status s = launch("sync_reductions", {1}, {uint32_t(n)}, KernelArgs().add(dx).add(dout));
    ASSERT_TRUE(s.ok()) << s.message();
    int count = 0, all = 1, any = 0;
    for (int v : x) {
      count += v > 0;
      all &= v > -50;
      any |= v > 90;
    }
    const auto out = download<int>(dout, n);
    for (int t = 0; t < n; ++t)
      EXPECT_EQ(out[t], count * 100 + all * 10 + any) << "variant " << variant << " thread " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, ControlTest, ::testing::ValuesIn(targets()));

class MemoryTest : public EmuKernelTest {};

TEST_P(MemoryTest, AtomicsOnGlobalAndShared) {
  load("memory");
  const int n = 1000;
  Rng rng(10);
  std::vector<int> x(n);
  for (auto &v : x)
    v = rng.range(0, 100000);
  auto dx = upload(x);
  auto dhist = output<int>(16);
  auto dsum = output<float>(1);
  auto dmax = output<uint32_t>(1);
  Status s = launch("histogram", {8}, {128}, KernelArgs().add(n).add(dx).add(dhist).add(dsum).add(dmax));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto hist = download<int>(dhist, 16);
  std::vector<int> want(16, 0);
  float sum = 0;
  uint32_t mx = 0;
  for (int v : x) {
    want[v & 15]++;
    sum += float(v & 7);
    mx = std::max(mx, uint32_t(v));
  }
  EXPECT_EQ(hist, want);
  EXPECT_EQ(download<float>(dsum, 1)[0], sum);
  EXPECT_EQ(download<uint32_t>(dmax, 1)[0], mx);
}

TEST_P(MemoryTest, LocalArrays) {
  load("memory");
  const int n = 128;
  Rng rng(11);
  std::vector<int> x(n);
  for (auto &v : x)
    v = rng.range(0, 5000);
  auto dx = upload(x);
  auto dout = output<int>(n);
  ASSERT_TRUE(launch("local_array", {2}, {64}, KernelArgs().add(dx).add(dout)).ok());
  const auto out = download<int>(dout, n);
  for (int i = 0; i < n; ++i) {
    const int v = x[i];
    uint32_t a[24];
    for (int k = 0; k < 24; ++k)
      a[k] = uint32_t(v) * uint32_t(k) + uint32_t(k ^ v);
    uint32_t s = 0;
    for (int k = 0; k < 24; ++k)
      s += a[(k * 7 + v) % 24] * uint32_t(k + 1);
    EXPECT_EQ(out[i], int(s)) << i;
  }
  EXPECT_GT(dev.counters().warpInstructions[size_t(OpClass::Memory)], 0u);
}

TEST_P(MemoryTest, SixtyFourBitIndexing) {
  load("memory");
  const int n = 192;
  const long long base = 5'000'000'000LL; // > 2^32
  std::vector<double> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = 1000.25 * i - 77777.5;
  auto dx = upload(x);
  auto dout = output<long long>(n);
  ASSERT_TRUE(launch("index64", {3}, {64}, KernelArgs().add(base).add(dx).add(dout)).ok());
  const auto out = download<long long>(dout, n);
  for (int i = 0; i < n; ++i) {
    const unsigned long long h = (unsigned long long)(i + base) * 0x9E3779B97F4A7C15ull;
    EXPECT_EQ(out[i], (long long)(h >> 17) ^ (long long)x[i]) << i;
  }
}

struct Mixed {
  int8_t s8;
  uint8_t u8;
  int16_t s16;
  uint16_t u16;
  int32_t s32;
  float f32;
  int64_t s64;
  double f64;
};

TEST_P(MemoryTest, EveryWidthAndVectorForm) {
  load("memory");
  const int n = 64;
  Rng rng(12);
  std::vector<Mixed> in(n);
  std::vector<float> v4(4 * n);
  std::vector<double> d2(2 * n);
  for (int i = 0; i < n; ++i) {
    in[i] = Mixed{int8_t(rng.range(-128, 127)), uint8_t(rng.range(0, 255)), int16_t(rng.range(-32768, 32767)),
                  uint16_t(rng.range(0, 65535)), int32_t(rng.next()), rng.uniform(-10, 10),
                  int64_t(rng.next()) >> 20, rng.uniform(-1e6f, 1e6f) * 1.000001};
    for (int k = 0; k < 4; ++k)
      v4[4 * i + k] = rng.uniform(-5, 5);
    d2[2 * i] = rng.uniform(-5, 5);
    d2[2 * i + 1] = rng.uniform(-5, 5);
  }
  auto din = upload(in);
  auto dv4 = upload(v4), dd2 = upload(d2);
  auto dout = output<double>(n);
  auto dout2 = output<float>(2 * n);
  auto dbytes = output<char>(n);
  Status s = launch("widths", {2}, {32}, KernelArgs().add(din).add(dv4).add(dd2).add(dout).add(dout2).add(dbytes));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto out = download<double>(dout, n);
  const auto out2 = download<float>(dout2, 2 * n);
  const auto bytes = download<char>(dbytes, n);
  for (int i = 0; i < n; ++i) {
    const Mixed &m = in[i];
    const float *a = &v4[4 * i];
    const double want = double(m.s8) + double(m.u8) * 2 + double(m.s16) * 3 + double(m.u16) * 4 +
                        double(m.s32) * 5 + double(m.f32) * 6 + double(m.s64) * 7 + m.f64 * 8 + a[0] + a[1] * 2 +
                        a[2] * 3 + a[3] * 4 + d2[2 * i] - d2[2 * i + 1];
    EXPECT_NEAR(out[i], want, 1e-6 * std::fabs(want)) << i;
    EXPECT_EQ(out2[2 * i], a[0] + a[3]);
    EXPECT_EQ(out2[2 * i + 1], a[1] - a[2]);
    EXPECT_EQ(bytes[i], char(m.s8 * 3));
  }
}

TEST_P(MemoryTest, CasExchangeAnd64BitAtomics) {
  load("memory");
  const int n = 256;
  Rng rng(13);
  std::vector<float> x(n);
  for (auto &v : x)
    v = rng.uniform(-100, 100);
  auto dx = upload(x);
  auto dmax = upload(std::vector<float>{-1e30f});
  auto dsum = output<unsigned long long>(1);
  auto dlast = output<int>(1);
  auto dcount = output<unsigned>(1);
  Status s = launch("more_atomics", {4}, {64}, KernelArgs().add(dx).add(dmax).add(dsum).add(dlast).add(dcount));
  ASSERT_TRUE(s.ok()) << s.message();
  float mx = -1e30f;
  unsigned long long sum = 0;
  for (int i = 0; i < n; ++i) {
    mx = std::max(mx, x[i]);
    sum += (unsigned long long)(i + 1) << 33;
  }
  EXPECT_EQ(download<float>(dmax, 1)[0], mx);
  EXPECT_EQ(download<unsigned long long>(dsum, 1)[0], sum);
  EXPECT_EQ(download<int>(dlast, 1)[0], 7);
  EXPECT_EQ(download<unsigned>(dcount, 1)[0], unsigned(n));
}

TEST_P(MemoryTest, ConstantAndDeviceModuleVariables) {
  load("memory");
  const int n = 128;
  std::vector<int> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = i * 37 % 101;
  auto dx = upload(x);
  auto dout = output<float>(n);
  auto dticket = output<unsigned>(n);
  Status s = launch("module_variables", {2}, {64}, KernelArgs().add(dx).add(dout).add(dticket));
  ASSERT_TRUE(s.ok()) << s.message();
  const float coeffs[4] = {0.5f, -1.25f, 2.0f, 3.5f};
  const int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
  const auto out = download<float>(dout, n);
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(out[i], coeffs[x[i] & 3] * float(table[(x[i] >> 2) & 7])) << i;
  // The counter starts at its initializer, 10: the tickets are 10 .. 10 + n - 1.
  auto tickets = download<unsigned>(dticket, n);
  std::sort(tickets.begin(), tickets.end());
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(tickets[i], unsigned(10 + i));
}

TEST_P(MemoryTest, CpAsyncSourceSizeZeroFills) {
  load("memory");
  const int n = 70; // thread 17 copies 2 real elements, threads 18.. copy none
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i)
    in[i] = 1000 + i;
  auto din = upload(in);
  auto dout = output<int>(128);
  Status s = launch("cp_async_zero_fill", {1}, {32}, KernelArgs().add(din).add(n).add(dout));
  ASSERT_TRUE(s.ok()) << s.message();
  const auto out = download<int>(dout, 128);
  for (int i = 0; i < 128; ++i) {
    const int src = (i + 4) & 127;
    EXPECT_EQ(out[i], src < n ? 1000 + src : 0) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, MemoryTest, ::testing::ValuesIn(targets()));

} // namespace
} // namespace mobagen::emu::testing
