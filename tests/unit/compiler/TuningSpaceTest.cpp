//===- TuningSpaceTest.cpp - the MoBA kernels' tuning variants ---------------===//
//
// The tuning space for a configuration: the default first, ids made of the knobs
// and unique, only variants within the limits (warps, static shared memory, key
// tiles within the block), the shared-memory prediction equal to what the
// lowering declares, and the pipeline emitting one PTX module per variant whose
// only entry is <kernel>_<id>.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/MobaToTile/TuningSpace.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/Pipeline/MobaKernels.h"
#include "dialect/tile/IR/TileDialect.h"
#include "templates/VarlenProgram.h"

#include "llvm/Support/MathExtras.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::compiler;

namespace {

class TuningSpaceTest : public ::testing::Test {
protected:
  TuningSpaceTest() {
    DialectRegistry registry;
    registry.insert<moba::MobaDialect, tile::TileDialect, func::FuncDialect, LLVM::LLVMDialect,
                    NVVM::NVVMDialect, gpu::GPUDialect>();
    PassManager pm(&context);
    buildTileToLLVMPipeline(pm, 4);
    pm.getDependentDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  moba::ConfigAttr config(int64_t headDim, int64_t blockSize = 128, bool causal = true) {
    std::string text =
        "#moba.config<block_size = " + std::to_string(blockSize) +
        ", top_k = 3, head_dim = " + std::to_string(headDim) +
        ", num_q_heads = 4, num_kv_heads = 1, causal = " + (causal ? "true" : "false") +
        ", dtype = bf16, target = sm_80>";
    return cast<moba::ConfigAttr>(parseAttribute(text, &context));
  }

  /// The bytes of the staging buffer the lowering declares for `build`'s kernel.
  template <typename Build> int64_t loweredStagingBytes(Build build) {
    OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
    if (failed(build(*module)))
      return -1;
    PassManager pm(&context);
    pm.addPass(createConvertTileToNVVM(ConvertTileToNVVMOptions{4, "mma"})); // as the pipeline lowers
    if (failed(pm.run(*module)))
      return -2;
    int64_t bytes = 0;
    module->walk([&](LLVM::GlobalOp global) {
      if (global.getSymName().ends_with("_staging"))
        bytes += cast<LLVM::LLVMArrayType>(global.getGlobalType()).getNumElements();
    });
    return bytes;
  }

  MLIRContext context;
};

template <typename Variants> std::vector<std::string> idsOf(const Variants &variants) {
  std::vector<std::string> ids;
  for (const auto &v : variants)
    ids.push_back(v.id);
  return ids;
}

TEST_F(TuningSpaceTest, DefaultComesFirstAndIdsAreTheKnobs) {
  for (int64_t d : {64, 128}) {
    const MobaTuningSpace space = mobaTuningSpace(config(d));
    const MobaTuning byDefault = defaultMobaTuning(config(d));
    ASSERT_FALSE(space.pool.empty());
    ASSERT_FALSE(space.gate.empty());
    ASSERT_FALSE(space.route.empty());
    ASSERT_FALSE(space.blocks.empty());
    ASSERT_FALSE(space.merge.empty());
    EXPECT_EQ(space.pool.front().id, variantId(byDefault.pool));
    EXPECT_EQ(space.gate.front().id, variantId(byDefault.gate));
    EXPECT_EQ(space.route.front().id, variantId(byDefault.route));
    EXPECT_EQ(space.blocks.front().id, variantId(byDefault.blocks));
    EXPECT_EQ(space.merge.front().id, variantId(byDefault.merge));
  }
  EXPECT_EQ(variantId(templates::PoolKeysTuning{.blockRows = 16, .numWarps = 4}), "w4");
  EXPECT_EQ(variantId(templates::GateTopKTuning{.blockM = 32, .blockN = 16, .numWarps = 4}),
            "m32w4");
  EXPECT_EQ(variantId(templates::RouteTuning{.blockRows = 64, .blocks = 32, .numWarps = 4}),
            "r64b32w4");
  EXPECT_EQ(variantId(templates::SparseBlocksTuning{.blockM = 32, .blockN = 64, .numWarps = 4}),
            "m32n64w4s2");
  EXPECT_EQ(variantId(templates::SparseBlocksTuning{
                .blockM = 32, .blockN = 64, .numWarps = 4, .numStages = 1}),
            "m32n64w4s1");
  EXPECT_EQ(variantId(templates::SparseMergeTuning{.blockM = 64, .blockN = 32, .numWarps = 8}),
            "m64n32w8s2");
  EXPECT_EQ(variantId(templates::SparseMergeTuning{
                .blockM = 64, .blockN = 32, .numWarps = 8, .numStages = 1}),
            "m64n32w8s1");
  // The non-causal merge kernel has no key loop: its default has one stage.
  EXPECT_EQ(defaultMobaTuning(config(128)).merge.numStages, 2);
  EXPECT_EQ(defaultMobaTuning(config(128, 128, false)).merge.numStages, 1);
  // The blocks kernel's default keeps a block of at most 128 keys resident (one
  // stage, no key loop); larger blocks stream their keys through the pipeline.
  EXPECT_TRUE(defaultMobaTuning(config(128, 128, false)).blocks.keysResident);
  EXPECT_EQ(defaultMobaTuning(config(128, 128, false)).blocks.numStages, 1);
  EXPECT_FALSE(defaultMobaTuning(config(128, 512)).blocks.keysResident);
  EXPECT_EQ(defaultMobaTuning(config(128, 512)).blocks.numStages, 2);
  EXPECT_EQ(streamedBlocksTuning(config(128, 128, false)).numStages, 2);
}

// Any block size the config verifier accepts (a multiple of 16) gets power-of-two
// key tiles: the largest power of two dividing the block, at most the default's.
TEST_F(TuningSpaceTest, KeyTilesForBlocksThatAreNotPowersOfTwo) {
  EXPECT_EQ(templates::keyTileFor(48, 64), 16);
  EXPECT_EQ(templates::keyTileFor(80, 64), 16);
  EXPECT_EQ(templates::keyTileFor(96, 64), 32);
  EXPECT_EQ(templates::keyTileFor(192, 64), 64);
  EXPECT_EQ(templates::keyTileFor(768, 64), 64);
  EXPECT_EQ(templates::keyTileFor(768, 32), 32);
  EXPECT_EQ(templates::keyTileFor(16, 64), 16);
  EXPECT_EQ(templates::keyTileFor(4080, 64), 16);
  for (auto [block, blocksN, mergeN] :
       {std::tuple{48, 16, 16}, {80, 16, 16}, {192, 64, 32}, {768, 64, 32}, {128, 64, 32}}) {
    const MobaTuning t = defaultMobaTuning(config(64, block));
    EXPECT_EQ(streamedBlocksTuning(config(64, block)).blockN, blocksN) << "block " << block;
    // The default keeps the block resident when it rounds up to at most 128 keys.
    EXPECT_EQ(t.blocks.keysResident, llvm::PowerOf2Ceil(block) <= 128) << "block " << block;
    EXPECT_EQ(t.merge.blockN, mergeN) << "block " << block;
    // Every listed variant's key tile is a power of two within the block; a tile
    // that does not divide it (32 keys of a 48-key block) masks the remainder.
    const MobaTuningSpace space = mobaTuningSpace(config(64, block));
    EXPECT_EQ(variantId(space.blocks.front().tuning), variantId(t.blocks)) << "block " << block;
    const auto streamed = std::find_if(space.blocks.begin(), space.blocks.end(),
                                       [](const auto &v) { return !v.tuning.keysResident; });
    ASSERT_NE(streamed, space.blocks.end());
    EXPECT_EQ(streamed->tuning.blockN, blocksN) << "block " << block;
    // (A resident key tile is the whole block, rounded up to a power of two.)
    for (const auto &v : space.blocks)
      EXPECT_TRUE(llvm::isPowerOf2_64(v.tuning.blockN) &&
                  v.tuning.blockN <= (v.tuning.keysResident ? int64_t(llvm::PowerOf2Ceil(block)) : block))
          << v.id;
    for (const auto &v : space.merge)
      EXPECT_TRUE(llvm::isPowerOf2_64(v.tuning.blockN) && v.tuning.blockN <= block) << v.id;
  }
  EXPECT_EQ(idsOf(mobaTuningSpace(config(64, 48)).blocks),
            (std::vector<std::string>{"m32n64w4r", "m32n16w4s2", "m32n16w4s1", "m32n32w4s2",
                                      "m16n32w4s2", "m64n16w8s2", "m16n16w4s2", "m64n64w8r"}));
}

TEST_F(TuningSpaceTest, TheSpaceOfEachHeadDim) {
  const MobaTuningSpace d64 = mobaTuningSpace(config(64));
  EXPECT_EQ(idsOf(d64.pool), (std::vector<std::string>{"w2", "w4", "w8", "w1"}));
  EXPECT_EQ(idsOf(d64.gate), (std::vector<std::string>{"m16w2", "m16w4", "m32w4", "m64w8"}));
  EXPECT_EQ(idsOf(d64.route), (std::vector<std::string>{"r64b64w4", "r32b64w4", "r64b32w4", "r16b32w2"}));
  // The blocks kernel: the whole block's keys resident in shared memory (the
  // default). Both attention kernels: the streamed default with the key loop's
  // cp.async pipeline, the same without, then other tiles.
  EXPECT_EQ(idsOf(d64.blocks), (std::vector<std::string>{"m32n128w4r", "m32n64w4s2", "m32n64w4s1", "m64n64w8s2", "m32n32w4s2", "m16n32w4s2", "m64n16w8s2"}));
  EXPECT_EQ(idsOf(d64.merge), (std::vector<std::string>{"m64n32w8s2", "m64n32w8s1", "m32n32w4s2", "m64n64w8s2", "m64n16w8s2", "m16n32w4s2"}));
  // At D 128 the 64-row tiles with 64 keys stage more than 48 KiB, and 64 rows
  // with the resident 128-key block pass sm_80's 99 KB.
  const MobaTuningSpace d128 = mobaTuningSpace(config(128));
  EXPECT_EQ(idsOf(d128.blocks), (std::vector<std::string>{"m32n128w4r", "m32n64w4s2", "m32n64w4s1", "m32n32w4s2", "m16n32w4s2", "m64n16w8s2", "m32n16w4s2"}));
  EXPECT_EQ(idsOf(d128.merge), (std::vector<std::string>{"m64n32w8s2", "m64n32w8s1", "m32n32w4s2", "m64n16w8s2", "m16n32w4s2", "m32n16w4s2"}));
  // Non-causal merge programs have no key loop: one stage, and no unpipelined
  // twin of the default (it would be the same kernel).
  const MobaTuningSpace nonCausal = mobaTuningSpace(config(128, 128, false));
  EXPECT_EQ(idsOf(nonCausal.merge), (std::vector<std::string>{"m64n32w8s1", "m32n32w4s1", "m64n16w8s1", "m16n32w4s1", "m32n16w4s1", "m16n16w4s1"}));
  EXPECT_EQ(idsOf(nonCausal.blocks), idsOf(d128.blocks));
  // The gate's 16 rows on 2 warps spill at D 128: 4 warps are its default there.
  EXPECT_EQ(idsOf(d128.gate), (std::vector<std::string>{"m16w4", "m32w4", "m64w8"}));
  EXPECT_EQ(d64.gate.front().tuning.blockN, 32);
  // Key tiles stay within the block: 16-key blocks keep only 16-key tiles.
  for (const auto &v : mobaTuningSpace(config(64, 16)).blocks)
    EXPECT_EQ(v.tuning.blockN, 16) << v.id;
}

TEST_F(TuningSpaceTest, EveryVariantIsWithinTheLimits) {
  const std::regex idPattern("[a-z0-9]+");
  for (int64_t d : {64, 128})
    for (int64_t bs : {16, 512}) {
      moba::ConfigAttr c = config(d, bs);
      const MobaTuningSpace space = mobaTuningSpace(c);
      EXPECT_LE(space.pool.size(), 4u);
      EXPECT_LE(space.gate.size(), 4u);
      EXPECT_LE(space.route.size(), 4u);
      EXPECT_LE(space.blocks.size(), 8u);
      EXPECT_LE(space.merge.size(), 6u);
      for (const auto &ids : {idsOf(space.pool), idsOf(space.gate), idsOf(space.route),
                              idsOf(space.blocks), idsOf(space.merge)}) {
        EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
        for (const std::string &id : ids)
          EXPECT_TRUE(std::regex_match(id, idPattern)) << id;
      }
      auto withinLimits = [&](const auto &variants) {
        for (const auto &v : variants) {
          EXPECT_LE(v.tuning.numWarps, kMaxTuningWarps) << v.id;
          EXPECT_LE(stagingBytes(c, v.tuning), kMaxStaticSharedBytes) << v.id;
        }
      };
      withinLimits(space.pool);
      withinLimits(space.gate);
      withinLimits(space.route);
      withinLimits(space.blocks);
      withinLimits(space.merge);
      for (const auto &v : space.blocks)
        EXPECT_LE(v.tuning.blockN, bs) << v.id;
      for (const auto &v : space.merge)
        EXPECT_LE(v.tuning.blockN, bs) << v.id;
    }
}

TEST_F(TuningSpaceTest, PredictedSharedMemoryIsWhatTheLoweringDeclares) {
  for (int64_t d : {64, 128}) {
    moba::ConfigAttr c = config(d);
    const MobaTuningSpace space = mobaTuningSpace(c);
    for (const auto &v : space.pool)
      EXPECT_EQ(loweredStagingBytes([&](ModuleOp m) {
                  return templates::buildPoolKeys(m, c, v.tuning);
                }),
                stagingBytes(c, v.tuning))
          << "pool_keys " << v.id << " D " << d;
    // The gate's and route_scatter's dots keep C and D in registers (the
    // accumulator layout) and stage A and B, then the result for its
    // round-robin users: the larger of the two, within the prediction.
    auto aPlusBOrC = [](int64_t m, int64_t n, int64_t k) {
      auto padded = [](int64_t x) { return x % 16 == 0 ? x + 8 : x; };
      // Operands stored from registers keep padded rows (only cp.async copies are swizzled).
      return std::max(m * padded(k) * 2 + k * padded(n) * 2, m * padded(n) * 4);
    };
    for (const auto &v : space.gate) {
      const int64_t lowered = loweredStagingBytes([&](ModuleOp m) {
        return templates::buildGateTopK(m, c, v.tuning);
      });
      EXPECT_EQ(lowered, aPlusBOrC(v.tuning.blockM, v.tuning.blockN, d)) << "gate_topk " << v.id;
      EXPECT_LE(lowered, stagingBytes(c, v.tuning)) << "gate_topk " << v.id << " D " << d;
    }
    for (const auto &v : space.route) {
      const int64_t lowered = loweredStagingBytes([&](ModuleOp m) {
        return templates::buildRouteScatter(m, c, v.tuning);
      });
      EXPECT_GT(lowered, 0) << "route_scatter " << v.id;
      EXPECT_LE(lowered, stagingBytes(c, v.tuning)) << "route_scatter " << v.id << " D " << d;
    }
    // The attention kernels' resident q and pipelined K / V sit in buffers of
    // their own and leave the staging buffer to the other operands
    // (withoutStagedOperands): the prediction, which keeps every dot within
    // the static limit, bounds it. (A kernel on dynamic shared memory declares
    // no static staging buffer: 0.)
    for (const auto &v : space.blocks) {
      const int64_t lowered = loweredStagingBytes([&](ModuleOp m) {
        return templates::buildSparseAttentionBlocks(m, c, v.tuning);
      });
      EXPECT_GE(lowered, 0) << "sparse_attention_blocks " << v.id;
      EXPECT_LE(lowered, stagingBytes(c, v.tuning)) << "sparse_attention_blocks " << v.id << " D " << d;
    }
    for (const auto &v : space.merge) {
      const int64_t lowered = loweredStagingBytes([&](ModuleOp m) {
        return templates::buildSparseAttentionMerge(m, c, v.tuning);
      });
      EXPECT_GE(lowered, 0) << "sparse_attention_merge " << v.id;
      EXPECT_LE(lowered, stagingBytes(c, v.tuning)) << "sparse_attention_merge " << v.id << " D " << d;
    }
  }
}

// The pipeline: one module per variant, entry <kernel>_<id>, and the choice of variants.
TEST(MobaKernelsTest, OnePtxModulePerVariantWithItsOwnEntry) {
  const MobaKernelConfig c{.blockSize = 64, .topK = 2, .headDim = 128, .numQHeads = 2};
  auto all = generateMobaKernels(c, {.allVariants = true, .threads = 2});
  ASSERT_TRUE(all.ok()) << all.status().message();
  auto space = mobaTuningSpace(c);
  ASSERT_TRUE(space.ok()) << space.status().message();
  ASSERT_EQ(all->kernels.size(), 5u);
  const std::regex entry(R"(\.entry\s+(\w+)\()");
  for (size_t k = 0; k < 5; ++k) {
    const KernelInfo &kernel = all->kernels[k];
    EXPECT_EQ(kernel.name, space->kernels[k].name);
    EXPECT_FALSE(kernel.params.empty()) << kernel.name;
    ASSERT_EQ(kernel.variants.size(), space->kernels[k].variants.size());
    for (size_t v = 0; v < kernel.variants.size(); ++v) {
      const KernelVariant &variant = kernel.variants[v];
      EXPECT_EQ(variant.id, space->kernels[k].variants[v].id);
      EXPECT_EQ(variant.entry, kernel.name + "_" + variant.id);
      std::vector<std::string> entries;
      for (auto it = std::sregex_iterator(variant.ptx.begin(), variant.ptx.end(), entry);
           it != std::sregex_iterator(); ++it)
        entries.push_back((*it)[1].str());
      EXPECT_EQ(entries, std::vector<std::string>{variant.entry});
    }
  }
  EXPECT_EQ(all->kernel("gate_topk").defaultVariant().rowsPerProgram, 16u);
  EXPECT_EQ(all->kernel("route_scatter").defaultVariant().rowsPerProgram, 64u);
  EXPECT_EQ(all->kernel("sparse_attention_merge").defaultVariant().threads, 256u);
  // Every kernel with a dot runs it on tensor cores (the pipeline lowers dot=mma,
  // which refuses instead of falling back).
  for (const char *kernel :
       {"gate_topk", "sparse_attention_blocks", "sparse_attention_merge"})
    for (const KernelVariant &v : all->kernel(kernel).variants)
      EXPECT_NE(v.ptx.find("mma.sync.aligned.m16n8k16"), std::string::npos) << kernel << " " << v.id;

  // One thread produces the same PTX as two.
  auto serial = generateMobaKernels(c, {.allVariants = true, .threads = 1});
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(serial->kernels[3].variants[1].ptx, all->kernels[3].variants[1].ptx);
}

// Every variant the tuning space lists, at both head dims, lowers with its dots on
// tensor cores: a variant the lowering cannot honour would fail generation here.
// (The non-causal merge kernel has no dot: it only merges the blocks' partials.)
TEST(MobaKernelsTest, EveryListedVariantRunsItsDotsOnTensorCores) {
  for (const MobaKernelConfig c :
       {MobaKernelConfig{.blockSize = 128, .topK = 3, .headDim = 64, .numQHeads = 4},
        MobaKernelConfig{.blockSize = 256, .topK = 2, .headDim = 128, .numQHeads = 8,
                         .numKvHeads = 2}}) {
    auto all = generateMobaKernels(c, {.allVariants = true, .threads = 2});
    ASSERT_TRUE(all.ok()) << all.status().message();
    for (const char *kernel :
         {"gate_topk", "sparse_attention_blocks", "sparse_attention_merge"})
      for (const KernelVariant &v : all->kernel(kernel).variants)
        EXPECT_NE(v.ptx.find("mma.sync.aligned.m16n8k16"), std::string::npos)
            << kernel << " " << v.id << " D " << c.headDim;
  }
}

TEST(MobaKernelsTest, DefaultsOnlyOrTheSelectedVariant) {
  const MobaKernelConfig c{.blockSize = 64, .topK = 2, .headDim = 128};
  auto defaults = generateMobaKernels(c, {.select = {{"sparse_attention_blocks", {"m32n32w4s2"}}}});
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  for (const KernelInfo &k : defaults->kernels)
    ASSERT_EQ(k.variants.size(), 1u) << k.name;
  EXPECT_EQ(defaults->kernels[0].variants[0].id, "w2");
  EXPECT_EQ(defaults->kernels[3].variants[0].entry, "sparse_attention_blocks_m32n32w4s2");

  auto badId = generateMobaKernels(c, {.select = {{"gate_topk", {"m7w3"}}}});
  ASSERT_FALSE(badId.ok());
  EXPECT_EQ(badId.status().message(), "gate_topk has no variant 'm7w3' for this configuration; "
                                      "its variants: m16w4, m32w4, m64w8");
  // Several ids keep that order (the first becomes the default); one twice is refused.
  auto ordered = generateMobaKernels(c, {.select = {{"gate_topk", {"m32w4", "m16w4"}}}});
  ASSERT_TRUE(ordered.ok()) << ordered.status().message();
  ASSERT_EQ(ordered->kernels[1].variants.size(), 2u);
  EXPECT_EQ(ordered->kernels[1].variants[0].id, "m32w4");
  EXPECT_EQ(ordered->kernels[1].variants[1].id, "m16w4");
  EXPECT_NE(ordered->kernels[1].variants[0].ptx.find(".entry gate_topk_m32w4"), std::string::npos);
  EXPECT_NE(ordered->kernels[1].variants[1].ptx.find(".entry gate_topk_m16w4"), std::string::npos);
  auto twice = generateMobaKernels(c, {.select = {{"gate_topk", {"m16w4", "m16w4"}}}});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "gate_topk variant 'm16w4' is selected twice");
  auto badKernel = generateMobaKernels(c, {.select = {{"attention", {"m8n8w4"}}}});
  ASSERT_FALSE(badKernel.ok());
  EXPECT_EQ(badKernel.status().message(),
            "unknown kernel 'attention' (pool_keys, gate_topk, route_scatter, "
            "sparse_attention_blocks, sparse_attention_merge)");
  auto badConfig = mobaTuningSpace({.headDim = 96});
  ASSERT_FALSE(badConfig.ok());
  EXPECT_NE(badConfig.status().message().find("head_dim = 96"), std::string::npos);
}

} // namespace
