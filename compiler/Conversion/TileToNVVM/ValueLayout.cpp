#include "compiler/Conversion/TileToNVVM/ValueLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mobagen::compiler {

using namespace mlir;

ValueLayout ValueLayout::accumulatorOf(const MmaSyncDotLayout &dot) {
  if (dot.mTiles % dot.warpsM != 0 || dot.nTiles % dot.warpsN != 0)
    return roundRobin();
  return {Kind::mmaAcc, dot.m, dot.n, dot.warpsM, dot.warpsN};
}

std::pair<int64_t, int64_t> ValueLayout::slotOffset(int64_t slot) const {
  const int64_t tileM = MmaSyncDotLayout::tileM, tileN = MmaSyncDotLayout::tileN;
  if (kind == Kind::mmaRows)
    return {slot / 2 * warpsM * tileM + 8 * (slot % 2), 0};
  const int64_t r = slot % 4, j = slot / 4 % nPerWarp(), i = slot / 4 / nPerWarp();
  return {i * warpsM * tileM + 8 * (r / 2), j * warpsN * tileN + r % 2};
}

bool ValueLayout::fits(ArrayRef<int64_t> shape) const {
  switch (kind) {
  case Kind::roundRobin:
    return true;
  case Kind::mmaAcc:
    return shape.size() == 2 && shape[0] == m && shape[1] == n;
  case Kind::mmaRows:
    return (shape.size() == 1 || (shape.size() == 2 && shape[1] == 1)) && shape[0] == m;
  }
  llvm_unreachable("unknown layout");
}

bool isRecomputableIntegerOp(Operation *op) {
  return isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp, arith::DivUIOp,
             arith::RemSIOp, arith::RemUIOp, arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
             arith::IndexCastOp, arith::CmpIOp, arith::AndIOp, arith::OrIOp, arith::XOrIOp,
             arith::MinSIOp, arith::MaxSIOp, arith::MinUIOp, arith::MaxUIOp, arith::SelectOp>(op);
}

bool recomputable(Value v) {
  if (!isa<RankedTensorType>(v.getType()))
    return true;
  Operation *def = v.getDefiningOp();
  if (!def)
    return false; // a loop-carried tile
  if (isa<tile::MakeRangeOp, tile::SplatOp>(def))
    return true;
  if (auto constant = dyn_cast<arith::ConstantOp>(def))
    return isa<SplatElementsAttr>(constant.getValue());
  if (isa<tile::ExpandDimsOp, tile::BroadcastOp, tile::AddPtrOp>(def) ||
      isRecomputableIntegerOp(def))
    return llvm::all_of(def->getOperands(), recomputable);
  return false;
}

LayoutAnalysis::LayoutAnalysis(func::FuncOp kernel, int64_t numWarps, bool mmaDots)
    : numWarps(numWarps), mmaDots(mmaDots) {
  if (!kernel.getBody().empty())
    analyze(kernel.getBody().front());
}

ValueLayout LayoutAnalysis::layoutOf(Value v) const {
  auto it = layouts.find(v);
  return it == layouts.end() ? ValueLayout::roundRobin() : it->second;
}

ValueLayout LayoutAnalysis::commonLayout(ValueRange operands) const {
  std::optional<ValueLayout> shared;
  for (Value operand : operands) {
    if (!isa<RankedTensorType>(operand.getType()) || unsettled.contains(operand) ||
        recomputable(operand))
      continue;
    ValueLayout l = layoutOf(operand);
    if (shared && *shared != l)
      return ValueLayout::roundRobin();
    shared = l;
  }
  return shared.value_or(ValueLayout::roundRobin());
}

void LayoutAnalysis::analyze(Block &block) {
  for (Operation &op : block)
    analyze(&op);
}

void LayoutAnalysis::analyze(Operation *op) {
  auto set = [&](Value v, ValueLayout l) {
    if (l.isRoundRobin() || !l.fits(cast<RankedTensorType>(v.getType()).getShape()))
      layouts.erase(v);
    else
      layouts[v] = l;
  };
  if (auto dot = dyn_cast<tile::DotOp>(op)) {
    if (!mmaDots)
      return;
    if (std::optional<MmaSyncDotLayout> l = chooseMmaSyncLayout(dot, numWarps))
      set(dot.getResult(), ValueLayout::accumulatorOf(*l));
    return;
  }
  if (auto reduce = dyn_cast<tile::ReduceOp>(op)) {
    ValueLayout src = layoutOf(reduce.getSrc());
    Type element = getElementTypeOrSelf(reduce.getSrc().getType());
    if (src.kind == ValueLayout::Kind::mmaAcc && reduce.getAxis() == 1 &&
        (element.isF32() || element.isInteger(32)))
      set(reduce.getResult(), src.rows());
    return;
  }
  if (auto expand = dyn_cast<tile::ExpandDimsOp>(op)) {
    ValueLayout src = layoutOf(expand.getSrc());
    if (src.kind == ValueLayout::Kind::mmaRows && expand.getAxis() == 1)
      set(expand.getResult(), src);
    return;
  }
  if (auto broadcast = dyn_cast<tile::BroadcastOp>(op)) {
    ValueLayout src = layoutOf(broadcast.getSrc());
    ArrayRef<int64_t> shape = broadcast.getType().getShape();
    if (src.kind != ValueLayout::Kind::mmaRows || shape.size() != 2)
      return;
    // The rows of the grid, spread over the columns of an accumulator with
    // the same warps along M.
    const int64_t warpsN = numWarps / src.warpsM;
    if (shape[1] % (MmaSyncDotLayout::tileN * warpsN) == 0)
      set(broadcast.getResult(),
          {ValueLayout::Kind::mmaAcc, src.m, shape[1], src.warpsM, warpsN});
    return;
  }
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    // A fixed point: carried tiles start unsettled (or in their init's layout)
    // and take what the yield settles on; a few rounds, else round-robin.
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    const size_t n = loop.getInitArgs().size();
    SmallVector<std::optional<ValueLayout>> carried(n);
    for (size_t k = 0; k < n; ++k)
      if (!recomputable(loop.getInitArgs()[k]))
        carried[k] = layoutOf(loop.getInitArgs()[k]);
    auto round = [&] {
      for (size_t k = 0; k < n; ++k) {
        Value arg = loop.getRegionIterArgs()[k];
        if (!isa<RankedTensorType>(arg.getType()))
          continue;
        if (carried[k]) {
          unsettled.erase(arg);
          set(arg, *carried[k]);
        } else {
          unsettled.insert(arg);
          layouts.erase(arg);
        }
      }
      analyze(*loop.getBody());
    };
    bool settled = false;
    for (int attempt = 0; attempt < 4 && !settled; ++attempt) {
      round();
      settled = true;
      for (size_t k = 0; k < n; ++k) {
        Value yielded = yield.getOperands()[k];
        if (!isa<RankedTensorType>(yielded.getType()) || recomputable(yielded) ||
            unsettled.contains(yielded))
          continue;
        ValueLayout l = layoutOf(yielded);
        if (!carried[k] || *carried[k] != l) {
          carried[k] = l;
          settled = false;
        }
      }
    }
    if (!settled) {
      for (auto &c : carried)
        c = ValueLayout::roundRobin();
    }
    for (auto &c : carried)
      if (!c)
        c = ValueLayout::roundRobin();
    round();
    for (size_t k = 0; k < n; ++k)
      if (isa<RankedTensorType>(loop.getResult(k).getType()))
        set(loop.getResult(k), *carried[k]);
    return;
  }
  const bool elementwise = isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
                           isa<tile::AddPtrOp>(op);
  if (!elementwise || op->getNumResults() == 0 || op->getNumRegions() != 0)
    return;
  ValueLayout l = commonLayout(op->getOperands());
  for (Value result : op->getResults())
    if (isa<RankedTensorType>(result.getType()))
      set(result, l);
}

} // namespace mobagen::compiler
