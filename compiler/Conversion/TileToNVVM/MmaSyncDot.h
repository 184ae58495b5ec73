//===- MmaSyncDot.h - tile.dot as warp-level mma.sync m16n8k16 ---------------===//
//
// The warp-level core of the mma.sync lowering of tile.dot: given A, B and C
// staged in shared memory as DotLayout.h describes, each warp multiplies its
// 16 x 8 result tiles with nvvm.mma.sync m16n8k16 (fragments read by ldmatrix)
// and writes its D fragments over C. The caller stages the operands
// and reads the result back between barriers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "compiler/Conversion/TileToNVVM/DotLayout.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mobagen::compiler {

struct MmaSyncDotOperands {
  mlir::Value aBuffer, bBuffer, cBuffer; ///< !llvm.ptr<3> at the staged copies
  /// The f32 value of every element of C when the accumulator is uniform (a
  /// splat): C is then not read from shared memory. Null otherwise.
  mlir::Value uniformAcc;
  mlir::Type operandType; ///< bf16 or f16
  /// A in the accumulator layout of a 1-column warp grid with the dot's warpsM
  /// (ValueLayout.h), as 16-bit values: its fragments come from these registers,
  /// not from aBuffer (emitMmaSyncDotInRegisters only). Empty otherwise.
  llvm::SmallVector<mlir::Value> aSlots;
};

/// Emits the per-warp mma loops for the thread `tid` (i32 thread index in the CTA).
void emitMmaSyncDot(mlir::ImplicitLocOpBuilder &b, const MmaSyncDotLayout &layout,
                    mlir::Value tid, const MmaSyncDotOperands &operands);

/// The same product with C and D in registers, in the accumulator layout of
/// ValueLayout.h (`acc`: its slots, one f32 per slot; cBuffer and uniformAcc
/// unused): every warp holds the same number of m tiles, unrolled, and the
/// k loop carries all of the thread's accumulators. Returns D's slots.
llvm::SmallVector<mlir::Value> emitMmaSyncDotInRegisters(mlir::ImplicitLocOpBuilder &b,
                                                         const MmaSyncDotLayout &layout,
                                                         mlir::Value tid,
                                                         const MmaSyncDotOperands &operands,
                                                         mlir::ValueRange acc);

} // namespace mobagen::compiler
