//===- BarrierToNVVM.h - tile.barrier to bar.sync ------------------------------===//
//
// tile.barrier is `bar.sync 0` (NVVM barrier0) over the program's threads: every
// thread waits for all of them, and the memory accesses made before it, global
// and shared, are visible to all of them after it (PTX ISA 9.7.13.1, bar.sync).
// The op is a statement: it has no tile operands, so it needs no layout.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mobagen::compiler {

/// Emits the program-wide barrier of a tile.barrier.
void emitProgramBarrier(mlir::ImplicitLocOpBuilder &b);

} // namespace mobagen::compiler
