//===- DenseAttentionKernels.cpp - the dense baseline's variants as PTX ------===//
//
// Like generateMobaKernels: one GenerationContext, a few workers, one NVPTX
// TargetMachine per worker; each variant's errors are caught on its worker
// (ThreadDiagnostics) and become its rejection reason instead of failing the call.
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipeline/DenseAttentionKernels.h"

#include "compiler/Conversion/Passes.h"
#include "compiler/Conversion/TileToNVVM/DotLayout.h"
#include "compiler/Pipeline/GenerationContext.h"
#include "compiler/Target/PtxEmitter.h"
#include "templates/FlashAttentionFwd.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace mobagen::compiler {
namespace {

/// Builds, lowers and emits one variant; on failure `v.rejected` says why.
void generateDenseVariant(GenerationContext &gc, moba::ConfigAttr config, PtxEmitter &emitter,
                          llvm::StringRef target, DenseAttentionVariant &v) {
  ThreadDiagnostics diagnostics;
  auto reason = [&](const char *stage) {
    return diagnostics.text.empty() ? std::string(stage) : std::string(stage) + ": " + diagnostics.text;
  };
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&gc.context));
  const templates::FlashAttentionTuning tuning{.blockM = v.tuning.blockM,
                                               .blockN = v.tuning.blockN,
                                               .numWarps = v.tuning.numWarps,
                                               .numStages = v.tuning.numStages};
  if (failed(templates::buildFlashAttentionFwd(*module, config, tuning)) || failed(mlir::verify(*module))) {
    v.rejected = reason("the template refuses it");
    return;
  }
  mlir::PassManager pm(&gc.context);
  pm.enableVerifier(false); // the template's output was verified; mobagen-opt runs it verified
  buildTileToLLVMPipeline(pm, /*numWarps=*/v.tuning.numWarps, DotLowering::mma, sharedLimitOf(target));
  if (failed(pm.run(*module))) {
    v.rejected = reason("the dot=mma lowering fails");
    return;
  }
  module->walk([&](mlir::LLVM::LLVMFuncOp fn) {
    if (auto bytes = fn->getAttrOfType<mlir::IntegerAttr>(kDynamicSharedAttr))
      v.dynamicSharedBytes = static_cast<uint32_t>(bytes.getInt());
  });
  auto ptx = emitter.emit(*module);
  if (!ptx) {
    v.rejected = "PTX emission fails: " + ptx.status().message();
    return;
  }
  // dot=mma refuses a dot it cannot put on tensor cores; this guards the invariant
  // the baseline rests on (DESIGN.md section 4) against a lowering that changes.
  if (ptx->find("mma.sync") == std::string::npos) {
    v.rejected = "its PTX has no mma.sync instruction";
    return;
  }
  v.ptx = std::move(*ptx);
}

} // namespace

Expected<std::vector<DenseAttentionVariant>> generateDenseAttentionVariants(const MobaKernelConfig &c,
                                                                           const DenseTuningSpace &space,
                                                                           const DenseGenerateOptions &options) {
  GenerationContext gc;
  moba::ConfigAttr config = buildConfigAttr(c, gc.context);
  if (!config)
    return gc.fail("the configuration is not supported by the generated kernels");
  std::vector<DenseAttentionVariant> variants;
  for (const DenseTuning &t : space.variants())
    variants.push_back({.tuning = t, .ptx = {}, .rejected = {}, .dynamicSharedBytes = 0});
  if (variants.empty())
    return variants;

  unsigned workers = options.threads ? options.threads : std::thread::hardware_concurrency();
  workers = std::clamp<unsigned>(workers, 1, static_cast<unsigned>(variants.size()));
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status firstError = Status::success();
  auto work = [&] {
    auto emitter = PtxEmitter::create({.chip = c.target, .optLevel = options.optLevel});
    if (!emitter) {
      std::lock_guard<std::mutex> lock(mutex);
      if (firstError.ok())
        firstError = emitter.status();
      next = variants.size();
      return;
    }
    for (size_t i = next++; i < variants.size(); i = next++)
      generateDenseVariant(gc, config, *emitter, c.target, variants[i]);
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i)
    threads.emplace_back(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
  if (!firstError.ok())
    return firstError;
  return variants;
}

} // namespace mobagen::compiler
