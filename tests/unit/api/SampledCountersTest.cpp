//===- SampledCountersTest.cpp - Sampled emulation against full emulation ---===//
//
// The emulator's sampled mode (runtime/emulator/CtaSampling.h) on the compiler's
// kernels: the five MoBA forward kernels and the dense flash-attention kernel, at
// 2048 causal tokens with block 128, where the work of a CTA grows with its x
// position and sampling skips half or more of each attention grid. Each counter
// and the modeled time of each kernel must be within 2% of full emulation; the
// kernels kept out of sampling (selection, routing) must match exactly.
//
//===----------------------------------------------------------------------===//
#include <random>

#include <gtest/gtest.h>

#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"
#include "runtime/bundle/Bundle.h"
#include "runtime/emulator/Emulator.h"
#include "runtime/moba/MobaLauncher.h"
#include "runtime/support/FloatFormats.h"
#include "templates/FlashAttentionFwd.h"
#include "tests/unit/api/TestBundles.h"
#include "tools/mobagen/InProcessBundle.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::testing {
namespace {

constexpr int64_t kSeqlen = 2048, kHeadDim = 64, kQHeads = 2, kKvHeads = 1;
constexpr const char *kConfigText = "#moba.config<block_size = 128, top_k = 4, head_dim = 64, num_q_heads = 2, "
                                    "num_kv_heads = 1, causal = true, dtype = bf16, target = sm_80>";
/// CTAs per sampled launch: 8 of the 16 or 32 x positions of each of the 2 heads.
constexpr uint64_t kBudget = 16;

const compiler::MobaKernelConfig kConfig{.blockSize = 128, .topK = 4, .headDim = kHeadDim, .numQHeads = kQHeads,
                                         .numKvHeads = kKvHeads, .causal = true, .dtype = DType::BF16,
                                         .target = "sm_80"};

/// The dense flash-attention kernel (templates/FlashAttentionFwd) lowered and
/// emitted in process: block_m 64, block_n 64, 4 warps, 1 stage.
std::string densePtx() {
  mlir::DialectRegistry registry;
  registry.insert<moba::MobaDialect, tile::TileDialect, mlir::func::FuncDialect>();
  compiler::registerPtxTranslations(registry);
  mlir::MLIRContext context;
  mlir::PassManager pm(&context);
  compiler::buildTileToLLVMPipeline(pm, /*numWarps=*/4);
  pm.getDependentDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  auto config = llvm::dyn_cast_if_present<moba::ConfigAttr>(mlir::parseAttribute(kConfigText, &context));
  EXPECT_TRUE(config);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  EXPECT_TRUE(mlir::succeeded(templates::buildFlashAttentionFwd(*module, config, {64, 64, 4, 1})));
  EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
  EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
  auto ptx = compiler::emitPtx(*module, {.chip = "sm_80"});
  EXPECT_TRUE(ptx) << ptx.status().message();
  return ptx ? *ptx : std::string();
}

const bundle::Bundle &forwardBundle() {
  static const bundle::Bundle b = [] {
    auto files = cli::generateBundle(kConfig);
    EXPECT_TRUE(files) << files.status().message();
    const std::filesystem::path dir = scratchDir("sampled-counters-bundle");
    EXPECT_TRUE(cli::writeBundle(*files, dir));
    auto loaded = bundle::Bundle::fromDirectory(dir);
    EXPECT_TRUE(loaded) << loaded.status().message();
    return std::move(loaded).value();
  }();
  return b;
}

/// Per kernel (the six in launch order, then the dense one): the counters of one
/// launch on a device with this sampling budget (0: full emulation).
std::vector<emu::Counters> countersOf(uint64_t sampleCtas) {
  emu::EmulatorDevice dev;
  dev.options().sampleCtas = sampleCtas;
  dev.options().sampledKernels = {"sparse_attention_blocks", "sparse_attention_merge", "flash_attention_fwd"};
  const launch::VarlenShape shape{1, kSeqlen, kSeqlen, kSeqlen, kSeqlen};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  auto upload = [&](size_t bytes, bool random) {
    auto p = dev.allocate(bytes);
    EXPECT_TRUE(p);
    if (random) {
      std::vector<uint16_t> bits(bytes / 2);
      for (uint16_t &x : bits)
        x = encodeDType(uniform(rng), DType::BF16);
      EXPECT_TRUE(dev.copyToDevice(*p, bits.data(), bytes));
    }
    return *p;
  };
  const auto layout = launch::workspaceLayout(forwardBundle().config(), shape);
  EXPECT_TRUE(layout) << layout.status().message();
  launch::ForwardBuffers b;
  b.q = upload(kSeqlen * kQHeads * kHeadDim * 2, true);
  b.k = upload(kSeqlen * kKvHeads * kHeadDim * 2, true);
  b.v = upload(kSeqlen * kKvHeads * kHeadDim * 2, true);
  const int32_t cu[2] = {0, int32_t(kSeqlen)};
  b.cuSeqlensQ = upload(8, false);
  b.cuSeqlensK = upload(8, false);
  EXPECT_TRUE(dev.copyToDevice(b.cuSeqlensQ, cu, 8));
  EXPECT_TRUE(dev.copyToDevice(b.cuSeqlensK, cu, 8));
  b.out = upload(kSeqlen * kQHeads * kHeadDim * 2, false);
  b.lse = upload(kSeqlen * kQHeads * 4, false);
  b.workspace = upload(layout->totalBytes, false);
  b.workspaceBytes = layout->totalBytes;

  std::vector<emu::Counters> result;
  launch::MobaLauncher launcher(dev, forwardBundle());
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    Status s = launcher.enqueueKernel(bundle::KernelKind(k), 0, shape, *layout, b, 0);
    EXPECT_TRUE(s) << bundle::kKernelNames[k] << ": " << s.message();
    result.push_back(dev.counters());
  }
  static const std::string ptx = densePtx();
  auto dense = dev.loadModule(ptx, "flash_attention_fwd");
  EXPECT_TRUE(dense) << dense.status().message();
  device::LaunchConfig launch{.grid = {kSeqlen / 64, kQHeads, 1}, .block = {128, 1, 1}};
  device::KernelArgs args;
  args.add(b.q).add(b.k).add(b.v).add(b.out).add(b.lse).add(b.cuSeqlensQ).add(b.cuSeqlensK).add(int32_t(kSeqlen));
  Status s = dev.enqueue(*dense, "flash_attention_fwd", launch, args, 0);
  EXPECT_TRUE(s) << s.message();
  result.push_back(dev.counters());
  return result;
}

const std::vector<emu::Counters> &full() {
  static const std::vector<emu::Counters> c = countersOf(0);
  return c;
}
const std::vector<emu::Counters> &sampled() {
  static const std::vector<emu::Counters> c = countersOf(kBudget);
  return c;
}

std::string nameOf(size_t k) {
  return k < bundle::kKernelCount ? std::string(bundle::kKernelNames[k]) : "flash_attention_fwd";
}

void expectWithin2Percent(const std::string &what, double sampledValue, double fullValue) {
  EXPECT_NEAR(sampledValue, fullValue, 0.02 * fullValue) << what;
}

TEST(SampledCounters, EachKernelWithin2PercentOfFullEmulation) {
  ASSERT_EQ(full().size(), bundle::kKernelCount + 1);
  ASSERT_EQ(sampled().size(), full().size());
  for (size_t k = 0; k < full().size(); ++k) {
    const emu::Counters &f = full()[k], &s = sampled()[k];
    const std::string name = nameOf(k);
    EXPECT_FALSE(f.sampled()) << name;
    EXPECT_EQ(s.ctas, f.ctas) << name;
    const bool attention = k >= size_t(bundle::KernelKind::SparseAttentionBlocks);
    EXPECT_EQ(s.sampled(), attention) << name << ": " << s.executedCtas << " of " << s.ctas << " CTAs ran";
    if (!attention) { // run in full: the same launch exactly
      EXPECT_EQ(s.totalWarpInstructions(), f.totalWarpInstructions()) << name;
      EXPECT_EQ(s.globalBytesRead, f.globalBytesRead) << name;
      continue;
    }
    EXPECT_LE(s.executedCtas * 2, s.ctas) << name << ": sampling must skip CTAs";
    expectWithin2Percent(name + " warp instructions", s.totalWarpInstructions(), f.totalWarpInstructions());
    expectWithin2Percent(name + " thread instructions", s.threadInstructions, f.threadInstructions);
    expectWithin2Percent(name + " tensor-core FLOPs", s.tensorCoreFlops, f.tensorCoreFlops);
    expectWithin2Percent(name + " global bytes read", s.globalBytesRead, f.globalBytesRead);
    expectWithin2Percent(name + " global bytes written", s.globalBytesWritten, f.globalBytesWritten);
    expectWithin2Percent(name + " shared bytes read", s.sharedBytesRead, f.sharedBytesRead);
    expectWithin2Percent(name + " shared bytes written", s.sharedBytesWritten, f.sharedBytesWritten);
    expectWithin2Percent(name + " shared accesses", s.sharedAccesses, f.sharedAccesses);
    expectWithin2Percent(name + " bank conflicts", s.sharedBankConflicts, f.sharedBankConflicts);
    expectWithin2Percent(name + " modeled microseconds", emu::modeledMicroseconds(s), emu::modeledMicroseconds(f));
  }
}

TEST(SampledCounters, ASampledLaunchSaysSo) {
  const emu::Counters &merge = sampled()[size_t(bundle::KernelKind::SparseAttentionMerge)];
  ASSERT_TRUE(merge.sampled());
  EXPECT_EQ(merge.format().substr(0, merge.format().find('\n')),
            fmt::format("sampled: {} of {} CTAs ran; the counts are scaled to the grid", merge.executedCtas,
                        merge.ctas));
  const emu::Counters &gate = sampled()[size_t(bundle::KernelKind::GateTopK)];
  EXPECT_EQ(gate.format().rfind("ctas: ", 0), 0u) << "a full launch prints no sampling line";
}

} // namespace
} // namespace mobagen::testing
