//===- mobagen-translate.cpp - MLIR to PTX and cubin, for tests and debugging ===//
//
// mlir-translate with mobagen's target translations:
//   --mlir-to-ptx               LLVM + NVVM dialect module -> PTX text
//   --mlir-to-cubin-resources   ... -> PTX -> cubin (nvJitLink), printing each
//                               kernel's registers, spills and shared memory
// Both take --ptx-chip (sm_80, sm_90, sm_90a) and --ptx-features (e.g. +ptx80).
//
//===----------------------------------------------------------------------===//

#include "compiler/Target/PtxEmitter.h"
#include "llvm/Support/CommandLine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

namespace {

llvm::cl::opt<std::string> chip("ptx-chip", llvm::cl::desc("GPU architecture, e.g. sm_80"),
                                llvm::cl::init("sm_80"));
llvm::cl::opt<std::string> features("ptx-features",
                                    llvm::cl::desc("NVPTX features, e.g. +ptx80"),
                                    llvm::cl::init("+ptx80"));

mlir::FailureOr<std::string> ptxOf(mlir::Operation *op) {
  auto ptx = mobagen::compiler::emitPtx(op, {.chip = chip, .features = features});
  if (!ptx)
    return mlir::emitError(op->getLoc()) << ptx.status().message();
  return std::move(ptx).value();
}

void registerTranslations() {
  static mlir::TranslateFromMLIRRegistration toPtx(
      "mlir-to-ptx", "Translate an LLVM + NVVM dialect module to PTX",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto ptx = ptxOf(op);
        if (mlir::failed(ptx))
          return mlir::failure();
        os << *ptx;
        return mlir::success();
      },
      mobagen::compiler::registerPtxTranslations);

  static mlir::TranslateFromMLIRRegistration toCubinResources(
      "mlir-to-cubin-resources",
      "Translate to PTX, assemble with nvJitLink and print each kernel's resources",
      [](mlir::Operation *op, llvm::raw_ostream &os) -> mlir::LogicalResult {
        auto ptx = ptxOf(op);
        if (mlir::failed(ptx))
          return mlir::failure();
        auto cubin = mobagen::compiler::assembleCubin(*ptx, chip);
        if (!cubin)
          return mlir::emitError(op->getLoc()) << cubin.status().message();
        os << "cubin " << chip << " " << cubin->image.size() << " bytes\n";
        for (const auto &k : cubin->kernels)
          os << "kernel " << k.kernel << ": registers " << k.registers << ", stack "
             << k.stackFrameBytes << ", spill stores " << k.spillStoreBytes << ", spill loads "
             << k.spillLoadBytes << ", smem " << k.sharedBytes << "\n";
        return mlir::success();
      },
      mobagen::compiler::registerPtxTranslations);
}

} // namespace

int main(int argc, char **argv) {
  registerTranslations();
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "mobagen translation driver"));
}
