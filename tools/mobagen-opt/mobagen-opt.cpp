//===- mobagen-opt.cpp - mlir-opt with mobagen's dialects and passes -------===//
//
// The driver the lit suite runs: parses MLIR, runs a pass pipeline given on the
// command line, prints the result. It registers mobagen's dialects (moba, tile) and
// every upstream dialect, extension and pass so that any stage of mobagen's
// lowering (moba -> tile -> gpu/nvgpu/nvvm -> llvm) can be read back and checked
// on its own.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/Passes.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mobagen::compiler::registerConversionPasses();

  mlir::DialectRegistry registry;
  registry.insert<mobagen::moba::MobaDialect, mobagen::tile::TileDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mobagen optimizer driver\n", registry));
}
