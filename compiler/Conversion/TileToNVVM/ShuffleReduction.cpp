#include "compiler/Conversion/TileToNVVM/ShuffleReduction.h"

#include "compiler/Conversion/TileToNVVM/TileLayout.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mobagen::compiler {

using namespace mlir;

std::optional<ShuffleReductionPlan> chooseShuffleReduction(RankedTensorType source, int64_t axis,
                                                           int64_t threads, std::string *whyNot) {
  auto refuse = [&](const llvm::Twine &why) -> std::optional<ShuffleReductionPlan> {
    if (whyNot)
      *whyNot = why.str();
    return std::nullopt;
  };
  const int64_t rank = source.getRank();
  if (rank < 2)
    return refuse("a 1-D reduction gives a scalar every thread holds");
  if (axis != rank - 1)
    return refuse("axis " + llvm::Twine(axis) + " is not the last axis (" +
                  llvm::Twine(rank - 1) + ")");
  const int64_t n = source.getDimSize(axis);
  if (!llvm::isPowerOf2_64(n))
    return refuse("the reduced length " + llvm::Twine(n) + " is not a power of two");
  Type element = source.getElementType();
  if (!element.isF32() && !element.isInteger(32)) {
    std::string name;
    llvm::raw_string_ostream os(name);
    os << element;
    return refuse("element type " + name + " is not f32 or i32 (shfl.sync moves 32 bits)");
  }
  if (!llvm::isPowerOf2_64(threads) || threads < 32)
    return refuse(llvm::Twine(threads) + " threads are not a power-of-two number of warps");

  ShuffleReductionPlan plan;
  plan.rowLength = n;
  plan.rows = source.getNumElements() / n;
  plan.threads = threads;
  plan.slotsPerRow = std::max<int64_t>(n / threads, 1);
  plan.rowsPerSlot = std::max<int64_t>(threads / n, 1);
  plan.shuffleWidth = std::min<int64_t>(n, 32);
  plan.warpsPerRow = std::max<int64_t>(std::min(n, threads) / 32, 1);
  const int64_t slots = (source.getNumElements() + threads - 1) / threads;
  plan.groups = slots / plan.slotsPerRow;
  return plan;
}

Value reductionInit(ImplicitLocOpBuilder &b, Type type, tile::ReduceKind kind) {
  if (auto f = dyn_cast<FloatType>(type)) {
    if (kind == tile::ReduceKind::sum)
      return arith::ConstantOp::create(b, b.getFloatAttr(f, 0.0));
    const APFloat inf = APFloat::getInf(f.getFloatSemantics(), kind == tile::ReduceKind::max);
    return arith::ConstantOp::create(b, b.getFloatAttr(f, inf));
  }
  const unsigned width = type.getIntOrFloatBitWidth();
  const APInt value = kind == tile::ReduceKind::sum   ? APInt::getZero(width)
                      : kind == tile::ReduceKind::max ? APInt::getSignedMinValue(width)
                                                      : APInt::getSignedMaxValue(width);
  return arith::ConstantOp::create(b, b.getIntegerAttr(type, value));
}

Value reductionStep(ImplicitLocOpBuilder &b, tile::ReduceKind kind, Value acc, Value x) {
  const bool isFloat = isa<FloatType>(acc.getType());
  switch (kind) {
  case tile::ReduceKind::sum:
    return isFloat ? arith::AddFOp::create(b, acc, x).getResult()
                   : arith::AddIOp::create(b, acc, x).getResult();
  case tile::ReduceKind::max:
    return isFloat ? arith::MaximumFOp::create(b, acc, x).getResult()
                   : arith::MaxSIOp::create(b, acc, x).getResult();
  case tile::ReduceKind::min:
    return isFloat ? arith::MinimumFOp::create(b, acc, x).getResult()
                   : arith::MinSIOp::create(b, acc, x).getResult();
  }
  llvm_unreachable("unknown reduction");
}

ReductionPartial elementPartial(ImplicitLocOpBuilder &b, bool withIndex, Value x, Value column) {
  if (!withIndex)
    return {x, Value()};
  if (!isa<FloatType>(x.getType()))
    return {x, column}; // ties to the lower column already give the scan's answer
  // The serial scan starts at (-inf, 0) and never takes NaN or -inf (not
  // greater than -inf): such an element must not win a tie against column 0.
  Value init = reductionInit(b, x.getType(), tile::ReduceKind::max);
  Value counts = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, init);
  return {arith::SelectOp::create(b, counts, x, init),
          arith::SelectOp::create(b, counts, column, constantI32(b, 0))};
}

ReductionPartial combinePartials(ImplicitLocOpBuilder &b, tile::ReduceKind kind, bool withIndex,
                                 ReductionPartial a, ReductionPartial c) {
  if (!withIndex)
    return {reductionStep(b, kind, a.value, c.value), Value()};
  // No NaN reaches here (elementPartial), so values are totally ordered up to
  // -0 == +0, where the lower column wins as in the scan.
  const bool isFloat = isa<FloatType>(a.value.getType());
  Value greater =
      isFloat ? arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, c.value, a.value).getResult()
              : arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, c.value, a.value).getResult();
  Value equal =
      isFloat ? arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, c.value, a.value).getResult()
              : arith::CmpIOp::create(b, arith::CmpIPredicate::eq, c.value, a.value).getResult();
  Value lower = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, c.column, a.column);
  Value takeC = arith::OrIOp::create(b, greater, arith::AndIOp::create(b, equal, lower));
  return {arith::SelectOp::create(b, takeC, c.value, a.value),
          arith::SelectOp::create(b, takeC, c.column, a.column)};
}

ReductionPartial emitButterfly(ImplicitLocOpBuilder &b, const ShuffleReductionPlan &plan,
                               tile::ReduceKind kind, bool withIndex,
                               ArrayRef<ReductionPartial> groups, Value tid) {
  assert(llvm::isPowerOf2_64(groups.size()) &&
         static_cast<int64_t>(groups.size()) <= plan.shuffleWidth && "see chunkSize");
  // PTX ISA, shfl.sync: with c = 0x1f (no segment mask, clamp at lane 31) bfly
  // reads lane ^ offset; offsets below shuffleWidth keep the partner in the
  // lane's aligned segment of shuffleWidth lanes.
  Value allLanes = constantI32(b, -1);
  Value clamp = constantI32(b, 31);
  auto shuffle = [&](Value v, int64_t offset) -> Value {
    if (!v)
      return v;
    return NVVM::ShflOp::create(b, v.getType(), allLanes, v, constantI32(b, offset), clamp,
                                NVVM::ShflKind::bfly, UnitAttr());
  };
  auto select = [&](Value cond, ReductionPartial x, ReductionPartial y) -> ReductionPartial {
    return {arith::SelectOp::create(b, cond, x.value, y.value),
            x.column ? arith::SelectOp::create(b, cond, x.column, y.column).getResult() : Value()};
  };
  SmallVector<ReductionPartial> live(groups);
  int64_t offset = plan.shuffleWidth / 2;
  // Halve the live groups per level: the lane whose `offset` bit is set keeps
  // the upper half and sends the lower half, its partner the other way round;
  // each combines what it kept with what it received.
  for (; live.size() > 1; offset /= 2) {
    const size_t half = live.size() / 2;
    Value upper = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                        arith::AndIOp::create(b, tid, constantI32(b, offset)),
                                        constantI32(b, 0));
    for (size_t k = 0; k < half; ++k) {
      ReductionPartial keep = select(upper, live[k + half], live[k]);
      ReductionPartial send = select(upper, live[k], live[k + half]);
      ReductionPartial received{shuffle(send.value, offset), shuffle(send.column, offset)};
      live[k] = combinePartials(b, kind, withIndex, keep, received);
    }
    live.resize(half);
  }
  // One group left: the plain butterfly over the remaining lane bits.
  for (; offset >= 1; offset /= 2) {
    ReductionPartial received{shuffle(live[0].value, offset), shuffle(live[0].column, offset)};
    live[0] = combinePartials(b, kind, withIndex, live[0], received);
  }
  return live[0];
}

int64_t chunkSize(const ShuffleReductionPlan &plan, int64_t remaining) {
  int64_t size = 1;
  while (size * 2 <= remaining && size * 2 <= plan.shuffleWidth)
    size *= 2;
  return size;
}

} // namespace mobagen::compiler
