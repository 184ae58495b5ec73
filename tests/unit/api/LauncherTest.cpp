// The launcher on a recording device: workspace bound and layout, shape checks,
// grids, argument order, lazy module loading and variant choice.
#include <tuple>
#include "runtime/moba/MobaLauncher.h"
#include "tests/unit/api/RecordingDevice.h"
#include "tests/unit/api/TestBundles.h"

#include <random>

#include <gtest/gtest.h>

namespace mobagen::testing {
namespace {

using bundle::Bundle;
using launch::VarlenShape;

const Bundle &loadedSmall() {
  static const Bundle b = [] {
    auto loaded = Bundle::fromDirectory(smallBundle().dir);
    EXPECT_TRUE(loaded) << loaded.status().message();
    return std::move(loaded).value();
  }();
  return b;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

TEST(Workspace, KeyBlockBoundHoldsForEveryBatchAndIsReached) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const int64_t blockSize = std::uniform_int_distribution<int64_t>(1, 64)(rng);
    const int batch = std::uniform_int_distribution<int>(1, 6)(rng);
    std::vector<int64_t> lk(batch);
    for (int64_t &l : lk)
      l = std::uniform_int_distribution<int64_t>(0, 200)(rng);
    VarlenShape s{.batch = batch};
    int64_t blocks = 0;
    for (int64_t l : lk) {
      s.totalK += l;
      s.maxSeqlenK = std::max(s.maxSeqlenK, l);
      blocks += ceilDiv(l, blockSize);
    }
    ASSERT_GE(launch::maxTotalKeyBlocks(s, blockSize), blocks) << "trial " << trial;
  }
  // Every sequence one key past a block boundary: the bound is exact.
  EXPECT_EQ(launch::maxTotalKeyBlocks({.batch = 3, .totalK = 3 * 17, .maxSeqlenK = 17}, 16), 6);
  // One long and many one-key sequences: total_k bounds it.
  EXPECT_EQ(launch::maxTotalKeyBlocks({.batch = 5, .totalK = 4 + 1000, .maxSeqlenK = 1000}, 512), 6);
  EXPECT_EQ(launch::maxTotalKeyBlocks({.batch = 2, .totalK = 0, .maxSeqlenK = 0}, 16), 0);
}

TEST(Workspace, LayoutOfASmallBatch) {
  // Hkv 2, D 64, Hq 4, top-k 3, block 16; 2 sequences, 40 keys, 21 queries.
  auto w = launch::workspaceLayout(loadedSmall().config(),
                                   {.batch = 2, .totalQ = 21, .totalK = 40, .maxSeqlenQ = 20, .maxSeqlenK = 33});
  ASSERT_TRUE(w) << w.status().message();
  EXPECT_EQ(w->maxTotalBlocks, 4); // min(40, (40 + 2*15)/16 = 4, 2*3 = 6)
  // 256-byte aligned, in the launcher's order.
  const std::tuple<const char *, launch::WorkspaceLayout::Buffer, uint64_t, uint64_t> buffers[] = {
      {"kbar", w->kbar, 0, 4u * 2 * 64 * 4},                 // [blocks, Hkv, D] f32
      {"selected", w->selected, 2048, 21u * 4 * 3 * 4},      // [total_q, Hq, top_k] i32
      {"ranks", w->ranks, 3072, 21u * 4 * 3 * 4},            // [total_q, Hq, top_k] i32
      {"block_counts", w->blockCounts, 4096, 4u * 4 * 4},    // [blocks, Hq] i32
      {"block_offsets", w->blockOffsets, 4352, 4u * 4 * 4},  // [blocks, Hq] i32
      {"routed", w->routed, 4608, 21u * 4 * 3 * 4},          // [total_q, Hq, top_k] i32
      {"partial_out", w->partialOut, 5632, 21u * 4 * 3 * 64 * 4}, // [total_q, Hq, top_k, D] f32
      {"partial_lse", w->partialLse, 70144, 21u * 4 * 3 * 4}};    // [total_q, Hq, top_k] f32
  for (const auto &[name, buffer, offset, bytes] : buffers) {
    EXPECT_EQ(buffer.offset, offset) << name;
    EXPECT_EQ(buffer.bytes, bytes) << name;
  }
  EXPECT_EQ(w->totalBytes, 70144u + 1008u);
}

TEST(Workspace, ShapeErrorsNameTheValueAndTheLimit) {
  const bundle::BundleConfig &c = loadedSmall().config();
  const std::pair<VarlenShape, std::string> cases[] = {
      {{.batch = -1}, "batch = -1 is negative"},
      {{.batch = 1, .totalQ = -4}, "total_q = -4 is negative"},
      {{.batch = 70000}, "batch = 70000 exceeds 65535, the grid's z limit"},
      {{.batch = 1, .totalQ = 3000000000}, "total_q = 3000000000 exceeds 2147483647"},
      {{.batch = 1, .totalQ = 5, .totalK = 5, .maxSeqlenQ = 6, .maxSeqlenK = 5},
       "max_seqlen_q = 6 exceeds total_q = 5"},
      {{.batch = 1, .totalQ = 5, .totalK = 5, .maxSeqlenQ = 5, .maxSeqlenK = 9},
       "max_seqlen_k = 9 exceeds total_k = 5"},
      {{.batch = 2, .totalQ = 9, .totalK = 9, .maxSeqlenQ = 4, .maxSeqlenK = 5},
       "total_q = 9 exceeds batch * max_seqlen_q = 2 * 4 = 8"},
      {{.batch = 2, .totalQ = 2, .totalK = 9, .maxSeqlenQ = 1, .maxSeqlenK = 4},
       "total_k = 9 exceeds batch * max_seqlen_k = 2 * 4 = 8"},
      {{.batch = 1, .totalQ = 2, .totalK = 0, .maxSeqlenQ = 2}, "total_q = 2 with total_k = 0"},
      // Hq 4, Hkv 2, D 64, top-k 3: 2^23 rows of q are 2^31 elements.
      {{.batch = 1, .totalQ = 1 << 23, .totalK = 16, .maxSeqlenQ = 1 << 23, .maxSeqlenK = 16},
       "total_q * num_q_heads * head_dim = 8388608 * 4 * 64 = 2147483648 exceeds 2147483647"},
      {{.batch = 1, .totalQ = 16, .totalK = 1 << 24, .maxSeqlenQ = 16, .maxSeqlenK = 1 << 24},
       "total_k * num_kv_heads * head_dim = 16777216 * 2 * 64 = 2147483648 exceeds 2147483647"},
  };
  for (const auto &[shape, expected] : cases) {
    Status s = launch::validateShape(c, shape);
    ASSERT_FALSE(s) << expected;
    EXPECT_NE(s.message().find(expected), std::string::npos) << "expected: " << expected << "\ngot: " << s.message();
  }
  EXPECT_TRUE(launch::validateShape(c, {}));
  bundle::BundleConfig manySlots = c;
  manySlots.topK = 1 << 20;
  Status slots = launch::validateShape(
      manySlots, {.batch = 1, .totalQ = 1024, .totalK = 16, .maxSeqlenQ = 1024, .maxSeqlenK = 16});
  ASSERT_FALSE(slots);
  EXPECT_NE(slots.message().find("total_q * num_q_heads * top_k = 1024 * 4 * 1048576 = 4294967296 exceeds "
                                 "2147483647 (the selection and the routing lists use int32 indices)"),
            std::string::npos)
      << slots.message();
  bundle::BundleConfig huge = c;
  huge.topK = INT32_MAX;
  huge.numQHeads = 65535;
  // The workspace of sizes the kernels cannot index is refused before its bytes are counted.
  auto w = launch::workspaceLayout(
      huge, {.batch = 1, .totalQ = INT32_MAX, .totalK = INT32_MAX, .maxSeqlenQ = INT32_MAX, .maxSeqlenK = INT32_MAX});
  ASSERT_FALSE(w);
  EXPECT_NE(w.status().message().find("total_q * num_q_heads * head_dim"), std::string::npos)
      << w.status().message();
}

TEST(Launcher, EnqueuesTheSixKernelsWithGridsAndArguments) {
  RecordingDevice dev;
  launch::MobaLauncher launcher(dev, loadedSmall());
  const VarlenShape shape{.batch = 3, .totalQ = 26, .totalK = 107, .maxSeqlenQ = 20, .maxSeqlenK = 50};
  auto layout = launch::workspaceLayout(loadedSmall().config(), shape);
  ASSERT_TRUE(layout);
  const launch::ForwardBuffers b{.q = 0x1000, .k = 0x2000, .v = 0x3000, .cuSeqlensQ = 0x4000, .cuSeqlensK = 0x5000,
                                 .out = 0x6000, .lse = 0x7000, .workspace = 0x8000,
                                 .workspaceBytes = layout->totalBytes};
  ASSERT_TRUE(launcher.forward(shape, b, {}, 42));
  const auto &l = dev.launches();
  ASSERT_EQ(l.size(), 5u);
  const uint64_t ws = 0x8000, kbar = ws + layout->kbar.offset, selected = ws + layout->selected.offset;
  const uint64_t ranks = ws + layout->ranks.offset;
  const uint64_t counts = ws + layout->blockCounts.offset, offsets = ws + layout->blockOffsets.offset;
  const uint64_t routed = ws + layout->routed.offset, partialOut = ws + layout->partialOut.offset;
  const uint64_t partialLse = ws + layout->partialLse.offset;
  const bundle::Bundle &bundle = loadedSmall();
  // ceil(50 / 16) = 4 key blocks in the longest sequence, ceil(20 / rows) query tiles.
  const uint32_t gateRows = bundle.kernel(bundle::KernelKind::GateTopK).variants[0].rowsPerProgram;
  const uint32_t routeRows = bundle.kernel(bundle::KernelKind::RouteScatter).variants[0].rowsPerProgram;
  const uint32_t mergeRows = bundle.kernel(bundle::KernelKind::SparseAttentionMerge).variants[0].rowsPerProgram;
  struct Expected {
    uint32_t gridX, gridY;
    std::vector<uint64_t> pointers;
  };
  const Expected expected[] = {
      {4, 2, {0x2000, kbar, counts, 0x5000}},
      {(20 + gateRows - 1) / gateRows, 4, {0x1000, kbar, selected, counts, ranks, 0x4000, 0x5000}},
      {(20 + routeRows - 1) / routeRows, 4, {selected, ranks, counts, offsets, routed, 0x4000, 0x5000}},
      {4, 4, {0x1000, 0x2000, 0x3000, counts, offsets, routed, partialOut, partialLse, 0x4000, 0x5000}},
      {(20 + mergeRows - 1) / mergeRows, 4,
       {0x1000, 0x2000, 0x3000, selected, partialOut, partialLse, 0x6000, 0x7000, 0x4000, 0x5000}},
  };
  for (size_t k = 0; k < 5; ++k) {
    const bundle::KernelVariant &v = bundle.kernels()[k].variants[0];
    SCOPED_TRACE(v.entry);
    EXPECT_EQ(l[k].kernel, v.entry);
    EXPECT_EQ(l[k].config.grid.x, expected[k].gridX);
    EXPECT_EQ(l[k].config.grid.y, expected[k].gridY); // Hkv for pool_keys, else Hq
    EXPECT_EQ(l[k].config.grid.z, 3u);                // batch
    EXPECT_EQ(l[k].config.block.x, v.threads);
    EXPECT_EQ(l[k].stream, 42u);
    ASSERT_EQ(l[k].args.size(), bundle::kKernelParamCounts[k]);
    for (size_t i = 0; i < expected[k].pointers.size(); ++i)
      EXPECT_EQ(argAs<uint64_t>(l[k], i), expected[k].pointers[i]) << "argument " << i;
  }
  EXPECT_EQ(l[0].config.block.x, 64u); // pool_keys w2
  ASSERT_EQ(l[4].args[10].size(), 4u);
  EXPECT_EQ(argAs<int32_t>(l[4], 10), 26); // total_q
}

TEST(Launcher, LoadsEachVariantOnceAndRunsTheChosenOnes) {
  RecordingDevice dev;
  launch::MobaLauncher launcher(dev, loadedSmall());
  const VarlenShape shape{.batch = 1, .totalQ = 8, .totalK = 8, .maxSeqlenQ = 8, .maxSeqlenK = 8};
  const launch::ForwardBuffers b{.q = 0x1000, .k = 0x2000, .v = 0x3000, .cuSeqlensQ = 0x4000, .cuSeqlensK = 0x5000,
                                 .out = 0x6000, .lse = 0x7000, .workspace = 0x8000, .workspaceBytes = 1 << 20};
  EXPECT_TRUE(dev.moduleNames().empty()); // nothing loaded before the first forward
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(launcher.forward(shape, b, {1, 1, 0, 0, 0}, 0));
  ASSERT_EQ(dev.moduleNames().size(), 5u);
  EXPECT_NE(dev.moduleNames()[0].find("pool_keys.w4.ptx"), std::string::npos) << dev.moduleNames()[0];
  EXPECT_NE(dev.moduleNames()[1].find("gate_topk.m16w4.ptx"), std::string::npos);
  ASSERT_EQ(dev.launches().size(), 15u);
  EXPECT_EQ(dev.launches()[0].kernel, "pool_keys_w4");
  EXPECT_EQ(dev.launches()[0].config.block.x, 128u);
  EXPECT_EQ(dev.launches()[1].kernel, "gate_topk_m16w4");
  EXPECT_EQ(dev.launches()[1].config.block.x, 128u);
  ASSERT_TRUE(launcher.forward(shape, b, {0, 1, 0, 0, 0}, 0));
  EXPECT_EQ(dev.moduleNames().size(), 6u); // pool_keys w2 added
  auto missing = launcher.module(bundle::KernelKind::GateTopK, 2);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().message(), "gate_topk has 2 variants; variant 2 does not exist");
}

TEST(Launcher, EmptyWorkIsSkipped) {
  RecordingDevice dev;
  launch::MobaLauncher launcher(dev, loadedSmall());
  const launch::ForwardBuffers b{.workspace = 0x8000, .workspaceBytes = 1 << 20};
  ASSERT_TRUE(launcher.forward({.batch = 0}, b, {}, 0));
  EXPECT_TRUE(dev.launches().empty());
  // Keys but no queries (every sequence is empty of queries): only pool_keys runs.
  ASSERT_TRUE(launcher.forward({.batch = 2, .totalQ = 0, .totalK = 40, .maxSeqlenQ = 0, .maxSeqlenK = 20}, b,
                               {}, 0));
  ASSERT_EQ(dev.launches().size(), 1u);
  EXPECT_EQ(dev.launches()[0].kernel, "pool_keys_w2");
}

} // namespace
} // namespace mobagen::testing
