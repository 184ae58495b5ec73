#include "compiler/Conversion/TileToNVVM/AsyncCopy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

namespace mobagen::compiler {

using namespace mlir;

namespace {

/// Whether `other` is +0.0 everywhere (zero-fill writes +0.0; -0.0 would differ
/// in the sign of a zero product).
bool isPositiveZero(Value other) {
  if (auto splat = other.getDefiningOp<tile::SplatOp>())
    other = splat.getSrc();
  auto constant = other.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return false;
  Attribute attr = constant.getValue();
  if (auto dense = dyn_cast<SplatElementsAttr>(attr))
    attr = dense.getSplatValue<Attribute>();
  auto f = dyn_cast<FloatAttr>(attr);
  return f && f.getValue().isPosZero();
}

/// The kernel argument a pointer (tile) is derived from by tile.splat,
/// tile.broadcast, tile.expand_dims, tile.reshape and tile.addptr, or null when
/// it is not one argument's.
BlockArgument baseArgument(Value ptr) {
  while (true) {
    if (auto arg = dyn_cast<BlockArgument>(ptr))
      return isa<func::FuncOp>(arg.getOwner()->getParentOp()) ? arg : BlockArgument();
    Operation *def = ptr.getDefiningOp();
    if (auto addptr = dyn_cast_if_present<tile::AddPtrOp>(def))
      ptr = addptr.getPtr();
    else if (isa_and_present<tile::SplatOp, tile::BroadcastOp, tile::ExpandDimsOp, tile::ReshapeOp>(def))
      ptr = def->getOperand(0);
    else
      return BlockArgument();
  }
}

/// Whether an op after `from` up to `to` (same block; `to` itself, with its
/// regions, only when `inclusive`) may write the memory `load` reads. A store
/// through another kernel argument's pointers cannot: a kernel's pointer
/// arguments address disjoint memory (docs/lowering.md, "Kernel contract").
/// An atomic add writes memory too.
bool writesMemoryBetween(tile::LoadOp load, Operation *to, bool inclusive) {
  const BlockArgument read = baseArgument(load.getPtr());
  auto mayAlias = [&](Value ptr) {
    const BlockArgument written = baseArgument(ptr);
    return !read || !written || read == written;
  };
  for (Operation *op = load->getNextNode(); op && (op != to || inclusive);
       op = op->getNextNode()) {
    bool writes = false;
    op->walk([&](Operation *inner) {
      if (auto store = dyn_cast<tile::StoreOp>(inner))
        writes |= mayAlias(store.getPtr());
      else if (auto atomic = dyn_cast<tile::AtomicAddOp>(inner))
        writes |= mayAlias(atomic.getPtr());
    });
    if (writes)
      return true;
    if (op == to)
      break;
  }
  return false;
}

} // namespace

std::optional<AsyncOperandCopy> planAsyncOperand(tile::DotOp dot, unsigned operand,
                                                 const AxisInfoAnalysis &axisInfo,
                                                 std::string *whyNot) {
  auto fail = [&](std::string reason) -> std::optional<AsyncOperandCopy> {
    if (whyNot)
      *whyNot = std::move(reason);
    return std::nullopt;
  };
  const char *name = operand == 0 ? "A" : "B";
  Value value = operand == 0 ? dot.getA() : dot.getB();
  auto load = value.getDefiningOp<tile::LoadOp>();
  if (!load)
    return fail(llvm::formatv("{0} is not a tile.load", name));
  if (!value.hasOneUse())
    return fail(llvm::formatv("{0} has other uses than the dot", name));
  // The op of the load's block that holds the dot (the dot itself, or a loop).
  Operation *holder = load->getBlock()->findAncestorOpInBlock(*dot);
  if (!holder)
    return fail(llvm::formatv("{0} is loaded in a block that does not enclose the dot", name));
  const bool resident = holder != dot.getOperation();
  if (writesMemoryBetween(load, holder, /*inclusive=*/resident))
    return fail(llvm::formatv("a tile.store through {0}'s pointer argument (or an untraced "
                              "pointer) sits between {0}'s load and the dot",
                              name));
  auto ptrType = cast<RankedTensorType>(load.getPtr().getType());
  auto pointer = cast<tile::PointerType>(ptrType.getElementType());
  if (pointer.getAddressSpace() != 1)
    return fail(llvm::formatv("{0} is loaded from address space {1}; cp.async reads global (1)",
                              name, pointer.getAddressSpace()));
  if (pointer.getPointeeType().getIntOrFloatBitWidth() != 16)
    return fail(llvm::formatv("{0}'s elements are {1}; the copies move 16-bit elements", name,
                              pointer.getPointeeType()));
  if (load.getOther() && !isPositiveZero(load.getOther()))
    return fail(llvm::formatv("{0}'s load has an `other` that is not +0.0", name));

  const AxisInfo ptrInfo = axisInfo.lookup(load.getPtr());
  const std::optional<AxisInfo> maskInfo =
      load.getMask() ? std::optional<AxisInfo>(axisInfo.lookup(load.getMask())) : std::nullopt;
  // A is staged [M, K]: its runs go along K. B goes along N ([K, N] staging)
  // or, failing that, along K ([N, K] staging).
  SmallVector<int64_t, 2> axes = operand == 0 ? SmallVector<int64_t, 2>{1}
                                              : SmallVector<int64_t, 2>{1, 0};
  std::string reasons;
  for (int64_t axis : axes) {
    std::string why;
    if (ptrType.getDimSize(axis) % kAsyncCopyElements != 0)
      why = llvm::formatv("extent {0} is not a multiple of {1}", ptrType.getDimSize(axis),
                          kAsyncCopyElements);
    else if (ptrInfo.contiguity[axis] < kAsyncCopyElements)
      why = llvm::formatv("pointer contiguity {0} < {1}", ptrInfo.contiguity[axis],
                          kAsyncCopyElements);
    else if (ptrInfo.divisibility[axis] < kAsyncCopyBytes)
      why = llvm::formatv("pointer alignment {0} B < {1} B", ptrInfo.divisibility[axis],
                          kAsyncCopyBytes);
    else if (maskInfo && maskInfo->constancy[axis] < kAsyncCopyElements)
      why = llvm::formatv("mask constancy {0} < {1}", maskInfo->constancy[axis],
                          kAsyncCopyElements);
    else
      return AsyncOperandCopy{load, axis, resident};
    reasons += llvm::formatv("{0}along axis {1}: {2}", reasons.empty() ? "" : "; ", axis, why);
  }
  return fail(llvm::formatv("{0}'s load is not provably in 16-byte runs ({1})", name, reasons));
}

} // namespace mobagen::compiler
