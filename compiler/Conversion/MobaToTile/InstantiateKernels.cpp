//===- InstantiateKernels.cpp - moba ops -> the tile kernels implementing them ===//
//
// The first step of mobagen's pipeline: a `moba` op says what is computed for a
// configuration; this pass adds the tile-dialect kernels that compute it, built
// from the templates (templates/) with the default tuning, once per configuration,
// and points the op at them with `moba.kernels`.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/MobaToTile/InstantiateKernels.h"
#include "compiler/Conversion/MobaToTile/TuningSpace.h"
#include "compiler/Conversion/Passes.h"
#include "templates/VarlenProgram.h"

#include "mlir/IR/SymbolTable.h"
#include <algorithm>
#include <functional>
#include "llvm/Support/FormatVariadic.h"

namespace mobagen::compiler {

#define GEN_PASS_DEF_INSTANTIATEMOBAKERNELS
#include "compiler/Conversion/Passes.h.inc"

using namespace mlir;

templates::SparseBlocksTuning streamedBlocksTuning(moba::ConfigAttr config) {
  // The template's default (SparseAttentionBlocks.h), with a key tile that divides
  // the block (a power of two, as tile extents are): keys past a block's end are
  // masked work, and blocks of 48 or 80 keys take 16-key tiles (templates::keyTileFor).
  templates::SparseBlocksTuning tuning;
  tuning.blockN = templates::keyTileFor(config.getBlockSize(), tuning.blockN);
  return tuning;
}

MobaTuning defaultMobaTuning(moba::ConfigAttr config) {
  MobaTuning tuning;
  // The block's keys resident where they fit, else streamed (docs/perf.md, "The
  // five-kernel forward": 51.3 against 87.7 model-us at 2048 tokens, block 128).
  tuning.blocks = residentBlocksTuning(config).value_or(streamedBlocksTuning(config));
  // The merge template's default, with key tiles that divide the block.
  tuning.merge = templates::SparseMergeTuning{};
  tuning.merge.blockN = templates::keyTileFor(config.getBlockSize(), tuning.merge.blockN);
  // Non-causal merge programs have no key loop to pipeline: one stage says so in
  // the variant id and the manifest.
  if (!config.getCausal())
    tuning.merge.numStages = 1;
  // The gate's 16 x 32 score tile on 2 warps spills at D 128 (ptxas: 255
  // registers, 24 to 48 bytes on sm_80); on 4 warps it does not (docs/perf.md).
  if (config.getHeadDim() > 64)
    tuning.gate.numWarps = 4;
  return tuning;
}

FailureOr<SmallVector<FlatSymbolRefAttr>>
instantiateMobaKernels(ModuleOp module, moba::ConfigAttr config, unsigned which, StringRef suffix) {
  const MobaTuning tuning = defaultMobaTuning(config);
  SmallVector<FlatSymbolRefAttr> symbols;
  auto add = [&](FailureOr<func::FuncOp> kernel) -> LogicalResult {
    if (failed(kernel))
      return failure();
    if (!suffix.empty())
      kernel->setSymName((kernel->getSymName() + suffix).str());
    symbols.push_back(FlatSymbolRefAttr::get(*kernel));
    return success();
  };
  const std::pair<unsigned, std::function<FailureOr<func::FuncOp>()>> builders[] = {
      {kPoolKeys, [&] { return templates::buildPoolKeys(module, config, tuning.pool); }},
      {kGateTopK, [&] { return templates::buildGateTopK(module, config, tuning.gate); }},
      {kRouteScatter, [&] { return templates::buildRouteScatter(module, config, tuning.route); }},
      {kSparseBlocks, [&] { return templates::buildSparseAttentionBlocks(module, config, tuning.blocks); }},
      {kSparseMerge, [&] { return templates::buildSparseAttentionMerge(module, config, tuning.merge); }}};
  for (const auto &[kernel, build] : builders)
    if ((which & kernel) && failed(add(build())))
      return failure();
  return symbols;
}

namespace {

/// The kernels a moba op needs, or 0 for any other op.
unsigned kernelsOf(Operation *op) {
  if (isa<moba::PoolKeysOp>(op))
    return kPoolKeys;
  if (isa<moba::GateTopKOp>(op))
    return kGateTopK;
  if (isa<moba::SparseAttentionFwdOp>(op))
    return kSparseAttention;
  if (isa<moba::ForwardOp>(op))
    return kAllKernels;
  return 0;
}

struct InstantiateMobaKernelsPass
    : public impl::InstantiateMobaKernelsBase<InstantiateMobaKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<Operation *, unsigned>> users;
    module.walk([&](Operation *op) {
      if (unsigned which = kernelsOf(op))
        users.push_back({op, which});
    });
    // Per configuration: its suffix and the symbol of each kernel built so far.
    struct Built {
      std::string suffix;
      DenseMap<unsigned, FlatSymbolRefAttr> kernels;
    };
    DenseMap<Attribute, Built> built;
    for (auto [op, which] : users) {
      auto config = cast<moba::ConfigAttr>(op->getAttr("config"));
      auto [it, inserted] = built.try_emplace(config);
      if (inserted && built.size() > 1)
        it->second.suffix = llvm::formatv("_{0}", built.size() - 1).str();
      SmallVector<Attribute> symbols;
      for (unsigned kernel : {kPoolKeys, kGateTopK, kRouteScatter, kSparseBlocks, kSparseMerge}) {
        if (!(which & kernel))
          continue;
        FlatSymbolRefAttr &symbol = it->second.kernels[kernel];
        if (!symbol) {
          auto made = instantiateMobaKernels(module, config, kernel, it->second.suffix);
          if (failed(made)) {
            op->emitError("cannot instantiate the kernels for this configuration");
            return signalPassFailure();
          }
          symbol = made->front();
        }
        symbols.push_back(symbol);
      }
      op->setAttr("moba.kernels", ArrayAttr::get(&getContext(), symbols));
    }
  }
};

} // namespace
} // namespace mobagen::compiler
