//===- KernelBuilderTest.cpp - the kernel DSL's broadcasting and ops --------===//
//
// What the DSL promises beyond a one-to-one op mapping: NumPy broadcasting
// (splat, size-1 repeat), literals typed by their partner, pointer + offset as
// tile.addptr, masks and `other` brought to the pointers' shape, loops carrying
// tiles (or nothing), scalars kept scalar (load, store, where), and template mistakes surfacing as verifier errors. Also builds the
// flash-attention template for every supported dtype / head_dim / causality.
//
//===----------------------------------------------------------------------===//

#include "templates/FlashAttentionFwd.h"
#include "templates/GateTopK.h"
#include "templates/PoolKeys.h"
#include "templates/RouteBlocks.h"
#include "templates/SparseAttentionBlocks.h"
#include "templates/SparseAttentionFwd.h"
#include "templates/dsl/KernelBuilder.h"

#include "compiler/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <string>

using namespace mlir;
using namespace mobagen;
using namespace mobagen::templates;

namespace {

class KernelBuilderTest : public ::testing::Test {
protected:
  KernelBuilderTest()
      : module(ModuleOp::create(UnknownLoc::get(&context))),
        diagnostics(&context, [this](Diagnostic &d) {
          messages += d.str() + "\n";
          return success();
        }) {
    context.loadDialect<moba::MobaDialect, tile::TileDialect>();
  }

  Type f16() { return Float16Type::get(&context); }
  Type f32() { return Float32Type::get(&context); }
  Type i32() { return IntegerType::get(&context, 32); }
  Type f16Ptr() { return tile::PointerType::get(f16()); }
  std::string typeOf(const Tile &t) {
    std::string text;
    llvm::raw_string_ostream(text) << t.type();
    return text;
  }
  /// Whether a copy of the module lowers through the tile-to-LLVM pipeline
  /// with `dot` (what `mobagen-opt --mobagen-tile-to-llvm` runs).
  bool lowers(compiler::DotLowering dot) {
    OwningOpRef<ModuleOp> copy = module->clone();
    PassManager pm(&context);
    compiler::buildTileToLLVMPipeline(pm, 4, dot);
    DialectRegistry registry;
    pm.getDependentDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    return succeeded(pm.run(*copy));
  }
  /// The nvvm.mma.sync ops of the module lowered with dot=mma; -1 when it does
  /// not lower (the diagnostics are in `messages`).
  int mmaSyncsAfterLowering() {
    OwningOpRef<ModuleOp> copy = module->clone();
    PassManager pm(&context);
    compiler::buildTileToLLVMPipeline(pm, 4, compiler::DotLowering::mma);
    DialectRegistry registry;
    pm.getDependentDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    if (failed(pm.run(*copy)))
      return -1;
    int n = 0;
    copy->walk([&](NVVM::MmaOp) { ++n; });
    return n;
  }
  template <typename OpT> int count() {
    int n = 0;
    module->walk([&](OpT) { ++n; });
    return n;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::string messages;
  ScopedDiagnosticHandler diagnostics;
};

TEST_F(KernelBuilderTest, ColumnPlusRowBroadcastsBoth) {
  KernelBuilder kb(*module, "k", {});
  Tile sum = kb.arange(0, 64).expandDims(1) + kb.arange(0, 32).expandDims(0);
  kb.finish();
  EXPECT_EQ(typeOf(sum), "tensor<64x32xi32>");
  EXPECT_EQ(count<tile::BroadcastOp>(), 2);
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, ScalarOperandIsSplatted) {
  KernelBuilder kb(*module, "k", {});
  Tile rows = kb.programId(tile::ProgramAxis::x) * 64 + kb.arange(0, 64);
  kb.finish();
  EXPECT_EQ(typeOf(rows), "tensor<64xi32>");
  EXPECT_EQ(count<tile::SplatOp>(), 1);
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, LiteralTakesItsPartnersType) {
  KernelBuilder kb(*module, "k", {{"x", f32()}});
  Tile scaled = kb.full({16}, 1.5, f32()) * 2;
  Tile next = kb.programId(tile::ProgramAxis::y) + 1;
  kb.finish();
  EXPECT_EQ(typeOf(scaled), "tensor<16xf32>");
  EXPECT_EQ(typeOf(next), "i32");
  auto constant = scaled.value().getDefiningOp()->getOperand(1)
                      .getDefiningOp<arith::ConstantOp>();
  ASSERT_TRUE(constant);
  auto splat =
      cast<DenseElementsAttr>(constant.getValue()).getSplatValue<APFloat>();
  EXPECT_EQ(splat.convertToFloat(), 2.0f);
}

TEST_F(KernelBuilderTest, PointerPlusOffsetsIsAddPtrOverSplattedBase) {
  KernelBuilder kb(*module, "k", {{"p", f16Ptr()}});
  Tile ptrs = kb.arg(0) + kb.arange(0, 64);
  kb.finish();
  EXPECT_EQ(typeOf(ptrs), "tensor<64x!tile.ptr<f16>>");
  EXPECT_TRUE(ptrs.value().getDefiningOp<tile::AddPtrOp>());
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, LoadBringsMaskAndOtherToThePointersShape) {
  KernelBuilder kb(*module, "k", {{"p", f16Ptr()}, {"n", i32()}});
  Tile rows = kb.arange(0, 64).expandDims(1);
  Tile ptrs = kb.arg(0) + (rows * 32 + kb.arange(0, 32).expandDims(0));
  Tile loaded = kb.load(ptrs, rows < kb.arg(1), 0.0);
  kb.finish();
  auto load = loaded.value().getDefiningOp<tile::LoadOp>();
  ASSERT_TRUE(load);
  EXPECT_EQ(typeOf(Tile(kb, load.getMask())), "tensor<64x32xi1>");
  EXPECT_EQ(typeOf(Tile(kb, load.getOther())), "tensor<64x32xf16>");
  EXPECT_EQ(typeOf(loaded), "tensor<64x32xf16>");
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, AtomicAddBroadcastsValueAndMaskAndLowers) {
  Type i32Ptr = tile::PointerType::get(IntegerType::get(&context, 32));
  KernelBuilder kb(*module, "k", {{"counts", i32Ptr}, {"n", i32()}});
  Tile offs = kb.arange(0, 64);
  Tile old = kb.atomicAdd(kb.arg(0) + offs, kb.constant(1, i32()), offs < kb.arg(1));
  kb.finish();
  EXPECT_EQ(typeOf(old), "tensor<64xi32>");
  EXPECT_EQ(count<tile::AtomicAddOp>(), 1);
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::fma)) << messages;
}

TEST_F(KernelBuilderTest, ForLoopCarriesTilesAndYieldsTheBodysValues) {
  KernelBuilder kb(*module, "k", {{"n", i32()}});
  scf::ForOp loop;
  SmallVector<Tile> out = kb.forLoop(
      kb.constant(0, kb.i32()), kb.arg(0), kb.constant(1, kb.i32()),
      {kb.full({8}, 0.0, f32())},
      [&](Tile, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        return {carried[0] + 1.0};
      },
      &loop);
  kb.finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value(), loop.getResult(0));
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  EXPECT_TRUE(yield.getOperand(0).getDefiningOp<arith::AddFOp>());
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

// A scalar pointer with a scalar mask is a scalar tile.load (and tile.store):
// the mask and `other` stay scalars rather than becoming rank-0 tiles.
TEST_F(KernelBuilderTest, ScalarMaskedLoadAndStoreStayScalar) {
  KernelBuilder kb(*module, "k", {{"p", tile::PointerType::get(f32())}, {"n", i32()}});
  Tile pid = kb.programId(tile::ProgramAxis::x);
  Tile ok = pid < kb.arg(1);
  Tile loaded = kb.load(kb.arg(0) + pid, ok, -1.0);
  kb.store(kb.arg(0) + pid, loaded * 2.0, ok);
  kb.finish();
  auto load = loaded.value().getDefiningOp<tile::LoadOp>();
  ASSERT_TRUE(load);
  EXPECT_EQ(typeOf(Tile(kb, load.getMask())), "i1");
  EXPECT_EQ(typeOf(Tile(kb, load.getOther())), "f32");
  EXPECT_EQ(typeOf(loaded), "f32");
  EXPECT_EQ(count<tile::SplatOp>(), 0);
  ASSERT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::fma)) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::mma)) << messages;
}

// where() on scalars is a scalar arith.select; a tile condition widens scalar
// values to its shape.
TEST_F(KernelBuilderTest, WhereOnScalarsIsAScalarSelect) {
  KernelBuilder kb(*module, "k", {{"x", f32()}, {"n", i32()}});
  Tile pid = kb.programId(tile::ProgramAxis::x);
  Tile ok = pid < kb.arg(1);
  Tile picked = kb.where(ok, kb.arg(0), 7.0);
  Tile index = kb.where(ok, pid, kb.arg(1));
  Tile widened = kb.where(kb.arange(0, 16) < kb.arg(1), kb.arg(0), 0.0);
  kb.finish();
  EXPECT_EQ(typeOf(picked), "f32");
  EXPECT_EQ(typeOf(index), "i32");
  EXPECT_EQ(typeOf(widened), "tensor<16xf32>");
  auto select = picked.value().getDefiningOp<arith::SelectOp>();
  ASSERT_TRUE(select);
  EXPECT_EQ(select.getCondition().getType(), IntegerType::get(&context, 1));
  EXPECT_EQ(count<arith::SelectOp>(), 3);
  ASSERT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::fma)) << messages;
}

// A loop without carried values is an scf.for without iter_args whose body
// ends with exactly one scf.yield (the body's ops come before it).
TEST_F(KernelBuilderTest, ForLoopWithoutCarriedValues) {
  KernelBuilder kb(*module, "k", {{"p", tile::PointerType::get(f32())}, {"n", i32()}});
  scf::ForOp loop;
  SmallVector<Tile> out = kb.forLoop(
      kb.constant(0, i32()), kb.arg(1), kb.constant(1, i32()), {},
      [&](Tile iv, ArrayRef<Tile> carried) -> SmallVector<Tile> {
        EXPECT_TRUE(carried.empty());
        Tile offsets = kb.arange(0, 16) + iv * 16;
        kb.store(kb.arg(0) + offsets, offsets.to(f32()), offsets < kb.arg(1));
        return {};
      },
      &loop);
  kb.finish();
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop.getNumRegionIterArgs(), 0u);
  EXPECT_EQ(count<scf::YieldOp>(), 1);
  EXPECT_TRUE(isa<scf::YieldOp>(loop.getBody()->back()));
  EXPECT_EQ(count<tile::StoreOp>(), 1);
  ASSERT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::fma)) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::mma)) << messages;
}

// The three together in one kernel: tests/lit/conversion/Inputs/dsl-scalars.mlir
// is this module as printed, which dsl-scalars-emulated.test runs on the emulator.
TEST_F(KernelBuilderTest, ScalarKernelVerifiesAndLowers) {
  Type f32Ptr = tile::PointerType::get(f32());
  KernelBuilder kb(*module, "dsl_scalars", {{"src", f32Ptr}, {"dst", f32Ptr}, {"n", i32()}});
  Tile pid = kb.programId(tile::ProgramAxis::x);
  Tile ok = pid < kb.arg(2);
  Tile v = kb.load(kb.arg(0) + pid, ok, -1.0);
  Tile w = kb.where(ok, v * 2.0, v + 8.0);
  kb.forLoop(kb.constant(0, i32()), kb.constant(4, i32()), kb.constant(1, i32()), {},
             [&](Tile iv, ArrayRef<Tile>) -> SmallVector<Tile> {
               kb.store(kb.arg(1) + (pid * 4 + iv), w + iv.to(f32()));
               return {};
             });
  kb.finish();
  ASSERT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::fma)) << messages;
  EXPECT_TRUE(lowers(compiler::DotLowering::mma)) << messages;
  if (const char *path = std::getenv("MOBAGEN_PRINT_DSL_SCALARS")) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    module->print(os);
  }
}

TEST_F(KernelBuilderTest, ArgmaxMinAndEqualityKeepTheirTypes) {
  KernelBuilder kb(*module, "k", {});
  Tile scores = kb.full({16, 32}, 0.5, f32());
  auto [best, at] = kb.argmax(scores, 1);
  Tile lowest = kb.min(scores, 0);
  Tile hit = kb.arange(0, 32).expandDims(0) == at.expandDims(1);
  Tile cleared = kb.where(hit, -1.0, scores); // a literal on the true side
  auto [total, where] = kb.argmax(kb.arange(0, 8), 0);
  kb.finish();
  EXPECT_EQ(typeOf(best), "tensor<16xf32>");
  EXPECT_EQ(typeOf(at), "tensor<16xi32>");
  EXPECT_EQ(typeOf(lowest), "tensor<32xf32>");
  EXPECT_EQ(typeOf(hit), "tensor<16x32xi1>");
  EXPECT_EQ(typeOf(cleared), "tensor<16x32xf32>");
  EXPECT_EQ(typeOf(total), "i32"); // a 1-D argmax gives scalars
  EXPECT_EQ(typeOf(where), "i32");
  EXPECT_EQ(count<tile::ArgMaxOp>(), 2);
  auto reduce = lowest.value().getDefiningOp<tile::ReduceOp>();
  ASSERT_TRUE(reduce);
  EXPECT_EQ(reduce.getKind(), tile::ReduceKind::min);
  auto compare = hit.value().getDefiningOp<arith::CmpIOp>();
  ASSERT_TRUE(compare);
  EXPECT_EQ(compare.getPredicate(), arith::CmpIPredicate::eq);
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, FloatToIntIsFPToSI) {
  KernelBuilder kb(*module, "k", {});
  Tile counts = kb.full({16, 32}, 3.0, f32()).to(i32());
  Tile scalar = kb.constant(2.5, f32()).to(i32());
  Tile half = kb.full({8}, 1.0, f16()).to(i32());
  kb.finish();
  EXPECT_EQ(typeOf(counts), "tensor<16x32xi32>");
  EXPECT_EQ(typeOf(scalar), "i32");
  EXPECT_EQ(typeOf(half), "tensor<8xi32>");
  EXPECT_TRUE(counts.value().getDefiningOp<arith::FPToSIOp>());
  EXPECT_TRUE(scalar.value().getDefiningOp<arith::FPToSIOp>());
  EXPECT_EQ(count<arith::FPToSIOp>(), 3);
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
}

TEST_F(KernelBuilderTest, RankMismatchIsReportedByTheVerifier) {
  KernelBuilder kb(*module, "k", {});
  (void)(kb.arange(0, 64) + kb.arange(0, 32).expandDims(0));
  kb.finish();
  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(messages.find("differ in rank"), std::string::npos) << messages;
}

struct FlashCase {
  const char *dtype;
  int64_t headDim;
  bool causal;
  FlashAttentionTuning tuning;
};

class FlashAttentionFwdTest : public KernelBuilderTest,
                              public ::testing::WithParamInterface<FlashCase> {};

TEST_P(FlashAttentionFwdTest, BuildsAndVerifies) {
  const FlashCase &c = GetParam();
  Type dtype = std::string(c.dtype) == "bf16" ? Type(BFloat16Type::get(&context))
                                              : Type(Float16Type::get(&context));
  auto config = moba::ConfigAttr::get(&context, 64, 3, c.headDim, 8, 2, c.causal,
                                      dtype, "sm_80", nullptr);
  FailureOr<func::FuncOp> kernel = buildFlashAttentionFwd(*module, config, c.tuning);
  ASSERT_TRUE(succeeded(kernel)) << messages;
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
  // Two tensor-core products per key block: q.K^T and p.V.
  EXPECT_EQ(count<tile::DotOp>(), 2);
  int causalMasks = 0;
  module->walk([&](arith::CmpIOp cmp) {
    causalMasks += cmp.getPredicate() == arith::CmpIPredicate::sle;
  });
  EXPECT_EQ(causalMasks, c.causal ? 1 : 0);
}

// dot=mma is honoured or refused: both dots run on tensor cores (D = 128 with
// 64 x 64 tiles once fell back to FMA loops, its A + B + C staging over 48 KB
// though C stays in registers), or the lowering names the limit.
TEST_P(FlashAttentionFwdTest, LowersBothDotsToMmaSyncOrSaysWhyNot) {
  const FlashCase &c = GetParam();
  Type dtype = std::string(c.dtype) == "bf16" ? Type(BFloat16Type::get(&context))
                                              : Type(Float16Type::get(&context));
  auto config = moba::ConfigAttr::get(&context, 64, 3, c.headDim, 8, 2, c.causal,
                                      dtype, "sm_80", nullptr);
  ASSERT_TRUE(succeeded(buildFlashAttentionFwd(*module, config, c.tuning))) << messages;
  const int mmas = mmaSyncsAfterLowering();
  if (c.tuning.blockM == 256) { // q [256, 128] and K [256, 128] staged: 139264 bytes
    EXPECT_EQ(mmas, -1);
    EXPECT_NE(messages.find("cannot be lowered to mma.sync (dot=mma): M x N x K = 256 x 256 x "
                            "128 on a 16 x 1 warp grid stages 139264 bytes of shared memory"),
              std::string::npos)
        << messages;
    return;
  }
  EXPECT_GT(mmas, 0) << messages;
  EXPECT_EQ(messages, "");
}

/// Stable test names (ctest discovers them at build time), e.g. bf16_D128_causal_64x64s2.
std::string flashCaseName(const ::testing::TestParamInfo<FlashCase> &info) {
  const FlashCase &c = info.param;
  return std::string(c.dtype) + "_D" + std::to_string(c.headDim) +
         (c.causal ? "_causal_" : "_dense_") + std::to_string(c.tuning.blockM) +
         "x" + std::to_string(c.tuning.blockN) + "s" + std::to_string(c.tuning.numStages);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, FlashAttentionFwdTest,
    ::testing::Values(FlashCase{"bf16", 128, true, {64, 64, 4, 2}},
                      FlashCase{"f16", 128, false, {64, 64, 4, 2}},
                      FlashCase{"bf16", 64, false, {128, 32, 8, 3}},
                      FlashCase{"f16", 64, true, {16, 16, 1, 1}},
                      FlashCase{"bf16", 128, true, {64, 64, 4, 1}},
                      FlashCase{"bf16", 128, true, {256, 256, 16, 8}}),
    flashCaseName);

TEST_F(KernelBuilderTest, FlashAttentionRefusesBadTuning) {
  auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, true,
                                      BFloat16Type::get(&context), "sm_80", nullptr);
  EXPECT_TRUE(failed(buildFlashAttentionFwd(*module, config, {32, 512, 4, 2})));
  EXPECT_NE(messages.find("block_n = 512 is invalid"), std::string::npos) << messages;
}

/// The three MoBA templates build and verify for every dtype, head dim and causality,
/// and top-k from 1 (causal: the current block only) to 64.
struct MobaCase {
  const char *dtype;
  int64_t headDim;
  bool causal;
  int64_t topK;
};

class MobaTemplatesTest : public KernelBuilderTest,
                          public ::testing::WithParamInterface<MobaCase> {};

TEST_P(MobaTemplatesTest, BuildAndVerify) {
  const MobaCase &c = GetParam();
  Type dtype = std::string(c.dtype) == "bf16" ? Type(BFloat16Type::get(&context))
                                              : Type(Float16Type::get(&context));
  auto config = moba::ConfigAttr::get(&context, 128, c.topK, c.headDim, 8, 2, c.causal, dtype,
                                      "sm_80", nullptr);
  ASSERT_TRUE(succeeded(buildPoolKeys(*module, config, {})));
  ASSERT_TRUE(succeeded(buildGateTopK(*module, config, {})));
  ASSERT_TRUE(succeeded(buildSparseAttentionFwd(*module, config, {})));
  EXPECT_TRUE(succeeded(verify(*module))) << messages;
  EXPECT_EQ(count<func::FuncOp>(), 3);
  // The running top-k folds each chunk in with one round per kept slot (each run
  // only as far as the chunk's scores above the weakest kept value need), each
  // round one argmax for the chunk's best and one for the eviction choice; it
  // emits the kept blocks with one argmax each.
  const int64_t kept = c.causal ? c.topK - 1 : c.topK;
  EXPECT_EQ(count<tile::ArgMaxOp>(), 3 * kept);
}

std::string mobaCaseName(const ::testing::TestParamInfo<MobaCase> &info) {
  const MobaCase &c = info.param;
  return std::string(c.dtype) + "_D" + std::to_string(c.headDim) +
         (c.causal ? "_causal_k" : "_dense_k") + std::to_string(c.topK);
}

INSTANTIATE_TEST_SUITE_P(Configs, MobaTemplatesTest,
                         ::testing::Values(MobaCase{"bf16", 128, true, 3},
                                           MobaCase{"f16", 64, false, 8},
                                           MobaCase{"bf16", 64, true, 1},
                                           MobaCase{"f16", 128, false, 1},
                                           MobaCase{"bf16", 64, true, 64}),
                         mobaCaseName);

TEST_F(KernelBuilderTest, RouteTemplatesBuildAndVerify) {
  for (bool causal : {true, false}) {
    auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, causal,
                                        BFloat16Type::get(&context), "sm_80", nullptr);
    for (RouteTuning tuning : {RouteTuning{}, RouteTuning{16, 16, 1}, RouteTuning{32, 64, 2}}) {
      OwningOpRef<ModuleOp> m = ModuleOp::create(UnknownLoc::get(&context));
      ASSERT_TRUE(succeeded(buildRouteScatter(*m, config, tuning)));
      EXPECT_TRUE(succeeded(verify(*m))) << messages;
      // No dot and no atomic (the ranks come from gate_topk); one barrier between
      // the offsets' stores and their gathers.
      int dots = 0, atomics = 0, barriers = 0;
      m->walk([&](tile::DotOp) { ++dots; });
      m->walk([&](tile::AtomicAddOp) { ++atomics; });
      m->walk([&](tile::BarrierOp) { ++barriers; });
      EXPECT_EQ(dots, 0);
      EXPECT_EQ(atomics, 0);
      EXPECT_EQ(barriers, 1);
    }
  }
}

// gate_topk hands out the ranks: one atomic add over its [rows, top_k slots]
// selection; pool_keys zeroes the counts it adds to.
TEST_F(KernelBuilderTest, GateTakesRanksWithOneAtomicAdd) {
  auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, true,
                                      BFloat16Type::get(&context), "sm_80", nullptr);
  OwningOpRef<ModuleOp> m = ModuleOp::create(UnknownLoc::get(&context));
  ASSERT_TRUE(succeeded(buildGateTopK(*m, config, {})));
  ASSERT_TRUE(succeeded(buildPoolKeys(*m, config, {})));
  EXPECT_TRUE(succeeded(verify(*m))) << messages;
  SmallVector<tile::AtomicAddOp> atomics;
  m->walk([&](tile::AtomicAddOp op) { atomics.push_back(op); });
  ASSERT_EQ(atomics.size(), 1u);
  EXPECT_EQ(cast<RankedTensorType>(atomics[0].getValue().getType()).getShape(),
            (ArrayRef<int64_t>{16, 4})); // block_m 16 x top_k 3 -> 4 slots
  auto gate = m->lookupSymbol<func::FuncOp>("gate_topk");
  auto pool = m->lookupSymbol<func::FuncOp>("pool_keys");
  ASSERT_TRUE(gate && pool);
  EXPECT_EQ(gate.getNumArguments(), 7u);
  EXPECT_EQ(pool.getNumArguments(), 4u);
}

TEST_F(KernelBuilderTest, RouteTemplatesRefuseBadTuning) {
  auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, true,
                                      BFloat16Type::get(&context), "sm_80", nullptr);
  EXPECT_TRUE(failed(buildRouteScatter(*module, config, {.blockRows = 8})));
  EXPECT_NE(messages.find("block_rows = 8 is invalid: must be a power of two in [16, 64]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildRouteScatter(*module, config, {.blocks = 48})));
  EXPECT_NE(messages.find("blocks = 48 is invalid: must be a power of two in [16, 64]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildRouteScatter(*module, config, {.blockRows = 128})));
  EXPECT_NE(messages.find("block_rows = 128 is invalid: must be a power of two in [16, 64]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildRouteScatter(*module, config, {.blocks = 64, .numWarps = 1})));
  EXPECT_NE(messages.find("block_rows = 64, blocks = 64, num_warps = 1 with top_k = 3 is invalid: "
                          "max(blocks^2, block_rows * top_k slots) = 4096 must be at most 2048 * "
                          "num_warps = 2048"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildRouteScatter(*module, config, {.numWarps = 3})));
  EXPECT_NE(messages.find("num_warps = 3 is invalid"), std::string::npos) << messages;
}

TEST_F(KernelBuilderTest, MobaTemplatesRefuseBadTuning) {
  auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, true,
                                      BFloat16Type::get(&context), "sm_80", nullptr);
  EXPECT_TRUE(failed(buildPoolKeys(*module, config, {.blockRows = 24})));
  EXPECT_NE(messages.find("block_rows = 24 is invalid: must be a power of two in [16, 256]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildGateTopK(*module, config, {.blockM = 256})));
  EXPECT_NE(messages.find("block_m = 256 is invalid: must be a power of two in [16, 128]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildSparseAttentionFwd(*module, config, {.blockN = 4})));
  EXPECT_NE(messages.find("block_n = 4 is invalid: must be a power of two in [8, 64]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildGateTopK(*module, config, {.numWarps = 3})));
  EXPECT_NE(messages.find("num_warps = 3 is invalid"), std::string::npos) << messages;
}

// sparse_attention_blocks builds and verifies at its default tuning at each head dim,
// with its two products as tile.dot on the dtype (what dot=mma takes), and
// refuses tiles outside [16, 128].
TEST_F(KernelBuilderTest, SparseAttentionBlocksBuildsWithTwoDtypeDots) {
  for (const MobaCase c : {MobaCase{"bf16", 64, true, 8}, MobaCase{"f16", 128, false, 3}}) {
    Type dtype = std::string(c.dtype) == "bf16" ? Type(BFloat16Type::get(&context))
                                                : Type(Float16Type::get(&context));
    auto config = moba::ConfigAttr::get(&context, 128, c.topK, c.headDim, 8, 2, c.causal, dtype,
                                        "sm_80", nullptr);
    SparseBlocksTuning tuning;
    EXPECT_EQ(tuning.blockM, 32);
    EXPECT_EQ(tuning.blockN, 64);
    FailureOr<func::FuncOp> kernel = buildSparseAttentionBlocks(*module, config, tuning);
    ASSERT_TRUE(succeeded(kernel));
    EXPECT_TRUE(succeeded(verify(*module))) << messages;
    int dots = 0;
    kernel->walk([&](tile::DotOp dot) {
      ++dots;
      auto a = cast<RankedTensorType>(dot.getA().getType());
      EXPECT_EQ(a.getElementType(), dtype);
      EXPECT_TRUE(cast<RankedTensorType>(dot.getType()).getElementType().isF32());
    });
    EXPECT_EQ(dots, 2);
    kernel->erase(); // the next case defines the same symbol
  }

  auto config = moba::ConfigAttr::get(&context, 64, 3, 128, 8, 2, true,
                                      BFloat16Type::get(&context), "sm_80", nullptr);
  EXPECT_TRUE(failed(buildSparseAttentionBlocks(*module, config, {.blockM = 8})));
  EXPECT_NE(messages.find("block_m = 8 is invalid: must be a power of two in [16, 128]"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(failed(buildSparseAttentionBlocks(*module, config, {.blockN = 256})));
  EXPECT_NE(messages.find("block_n = 256 is invalid: must be a power of two in [16, 128]"),
            std::string::npos)
      << messages;
}

// GQA sharing: S, the heads whose lists one program's chunks mix, is
// kSharedHeads (4) when it divides the group size, else 1; the kernel reads the S
// lists as an [S] tile and steps its chunk loop by S * block_m. S = 1 keeps one
// head's list and no [S] tile.
TEST_F(KernelBuilderTest, SparseAttentionBlocksSharesListsAcrossGqaHeads) {
  const std::pair<int64_t, int64_t> expected[] = {{1, 1}, {2, 1}, {3, 1}, {4, 4}, {6, 1},
                                                  {8, 4}, {12, 4}, {64, 4}};
  for (auto [group, shared] : expected)
    EXPECT_EQ(sharedHeads(group), shared) << "G " << group;

  // {Hq, Hkv, S}
  const std::array<int64_t, 3> cases[] = {{4, 4, 1}, {4, 2, 1}, {4, 1, 4}, {24, 2, 4}};
  for (const auto &[hq, hkv, shared] : cases) {
    SCOPED_TRACE(::testing::Message() << "Hq " << hq << " Hkv " << hkv);
    auto config = moba::ConfigAttr::get(&context, 64, 3, 64, hq, hkv, true,
                                        BFloat16Type::get(&context), "sm_80", nullptr);
    FailureOr<func::FuncOp> kernel = buildSparseAttentionBlocks(*module, config, {});
    ASSERT_TRUE(succeeded(kernel));
    EXPECT_TRUE(succeeded(verify(*module))) << messages;
    bool listTile = false;
    kernel->walk([&](tile::MakeRangeOp range) {
      listTile |= range.getStart() == 0 && range.getEnd() == 4;
    });
    EXPECT_EQ(listTile, shared > 1);
    // The chunk loop: the scf.for whose body holds the two dots, stepping S * block_m.
    int chunkLoops = 0;
    kernel->walk([&](scf::ForOp loop) {
      int dots = 0;
      loop.getBody()->walk([&](tile::DotOp) { ++dots; });
      if (dots == 0 || loop->getParentOfType<scf::ForOp>())
        return;
      ++chunkLoops;
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      ASSERT_TRUE(step.has_value());
      EXPECT_EQ(*step, shared * 32);
    });
    EXPECT_EQ(chunkLoops, 1);
    kernel->erase();
  }
}

} // namespace
