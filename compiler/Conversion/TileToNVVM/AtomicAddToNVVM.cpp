//===- AtomicAddToNVVM.cpp - tile.atomic_add to LLVM atomicrmw ---------------===//
#include "compiler/Conversion/TileToNVVM/AtomicAddToNVVM.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace mobagen::compiler {

namespace {
Value atomicAdd(ImplicitLocOpBuilder &b, Value ptr, Value value) {
  const LLVM::AtomicBinOp op =
      isa<FloatType>(value.getType()) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
  // "device" is NVPTX's name for the gpu scope: every CTA of the grid sees one order.
  return LLVM::AtomicRMWOp::create(b, op, ptr, value, LLVM::AtomicOrdering::monotonic,
                                   "device");
}
} // namespace

Value emitGuardedAtomicAdd(ImplicitLocOpBuilder &b, Value ptr, Value value, Value mask) {
  if (!mask)
    return atomicAdd(b, ptr, value);
  Type type = value.getType();
  auto branch = scf::IfOp::create(b, TypeRange{type}, mask, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(branch.thenBlock());
  scf::YieldOp::create(b, ValueRange{atomicAdd(b, ptr, value)});
  b.setInsertionPointToStart(branch.elseBlock());
  Value zero = isa<FloatType>(type)
                   ? Value(arith::ConstantOp::create(b, b.getFloatAttr(type, 0.0)))
                   : Value(arith::ConstantOp::create(b, b.getIntegerAttr(type, 0)));
  scf::YieldOp::create(b, ValueRange{zero});
  return branch.getResult(0);
}

} // namespace mobagen::compiler
