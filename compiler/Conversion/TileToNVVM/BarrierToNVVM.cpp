//===- BarrierToNVVM.cpp - tile.barrier to bar.sync ----------------------------===//
#include "compiler/Conversion/TileToNVVM/BarrierToNVVM.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mobagen::compiler {

void emitProgramBarrier(mlir::ImplicitLocOpBuilder &b) { mlir::NVVM::Barrier0Op::create(b); }

} // namespace mobagen::compiler
