#include "compiler/Conversion/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Pass/PassRegistry.h"

namespace mobagen::compiler {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/Conversion/Passes.h.inc"

struct TileToLLVMOptions : public mlir::PassPipelineOptions<TileToLLVMOptions> {
  Option<int64_t> numWarps{*this, "num-warps", llvm::cl::desc("Warps per program"),
                           llvm::cl::init(4)};
  Option<std::string> dot{*this, "dot",
                          llvm::cl::desc("How tile.dot is lowered: fma (baseline) or mma"),
                          llvm::cl::init("fma")};
  Option<int64_t> sharedLimit{*this, "shared-limit",
                              llvm::cl::desc("Shared memory (bytes) a kernel with pipelined "
                                             "loops may use"),
                              llvm::cl::init(kDefaultSharedLimit)};
  Option<bool> swizzle{*this, "swizzle",
                       llvm::cl::desc("Swizzle (instead of pad) the rows of dot operands "
                                      "copied by cp.async"),
                       llvm::cl::init(false)};
};
} // namespace

/// The upstream conversions that follow convert-tile-to-nvvm.
static void addUpstreamConversions(mlir::OpPassManager &pm) {
  // Without rollback the conversion rewrites in place; with it, each scf.if's block
  // split is recorded and replayed, quadratic in the kernel's size (docs/perf.md:
  // 185 ms -> 30 ms on the D 128 attention kernel). Every pattern here succeeds.
  pm.addPass(mlir::createSCFToControlFlowPass({.allowPatternRollback = false}));
  pm.addPass(mlir::createArithToLLVMConversionPass());
  pm.addPass(mlir::createConvertMathToLLVMPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
}

void buildTileToLLVMPipeline(mlir::OpPassManager &pm, int64_t numWarps, DotLowering dot,
                             int64_t sharedLimit, bool swizzle) {
  pm.addPass(createConvertTileToNVVM(ConvertTileToNVVMOptions{
      numWarps, stringifyDotLowering(dot).str(), sharedLimit, swizzle}));
  addUpstreamConversions(pm);
}

int64_t sharedLimitOf(llvm::StringRef target) {
  return target.starts_with("sm_90") ? 227 * 1024 : kDefaultSharedLimit;
}

void registerConversionPasses() {
  registerMobagenConversionPasses();
  mlir::PassPipelineRegistration<TileToLLVMOptions>(
      "mobagen-tile-to-llvm",
      "Lower tile kernels to the LLVM and NVVM dialects (input of mobagen-translate --mlir-to-ptx)",
      [](mlir::OpPassManager &pm, const TileToLLVMOptions &options) {
        // The pass checks the spelling of `dot` and reports a bad one.
        pm.addPass(createConvertTileToNVVM(ConvertTileToNVVMOptions{
            options.numWarps, options.dot, options.sharedLimit, options.swizzle}));
        addUpstreamConversions(pm);
      });
}

} // namespace mobagen::compiler
