#include "compiler/Conversion/TileToNVVM/AxisInfo.h"

#include "dialect/tile/IR/TileDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <numeric>

namespace mobagen::compiler {

using namespace mlir;

AxisInfo AxisInfo::unknown(int64_t rank) {
  const size_t n = static_cast<size_t>(std::max<int64_t>(rank, 1));
  return AxisInfo{SmallVector<int64_t>(n, 1), SmallVector<int64_t>(n, 1), SmallVector<int64_t>(n, 1)};
}

namespace {

int64_t rankOf(Value v) {
  if (auto tensor = dyn_cast<RankedTensorType>(v.getType()))
    return tensor.getRank();
  return 0;
}

/// The largest power of two dividing `c` (0 is divisible by every one), capped.
int64_t highestPowerOfTwoDivisor(int64_t c) {
  if (c == 0)
    return AxisInfo::kMaxDivisibility;
  const uint64_t magnitude = c < 0 ? uint64_t(0) - uint64_t(c) : uint64_t(c);
  return std::min<int64_t>(int64_t(magnitude & (~magnitude + 1)), AxisInfo::kMaxDivisibility);
}

int64_t cappedProduct(int64_t a, int64_t b) {
  // Both are powers of two no larger than the cap: the product cannot overflow.
  return std::min<int64_t>(a * b, AxisInfo::kMaxDivisibility);
}

/// The integer every element of `v` equals, when `v` is a constant or a splat
/// of one.
std::optional<int64_t> constantValue(Value v) {
  if (auto splat = v.getDefiningOp<tile::SplatOp>())
    v = splat.getSrc();
  Attribute attr;
  if (auto constant = v.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  if (auto dense = dyn_cast_or_null<SplatElementsAttr>(attr))
    attr = dense.getSplatValue<Attribute>();
  if (auto integer = dyn_cast_or_null<IntegerAttr>(attr))
    return integer.getValue().getSExtValue();
  return std::nullopt;
}

/// The divisibility every element has along `d` when the result's runs along
/// `d` are single elements: an operand's run starts are divisible by its
/// `divisibility`, its other elements are not known to be.
int64_t everyElementDivisibility(const AxisInfo &x, size_t d) {
  return x.contiguity[d] > 1 ? 1 : x.divisibility[d];
}

/// a + b (and, with `bytesPerUnit`, a pointer advanced by b elements).
AxisInfo addInfo(const AxisInfo &a, const AxisInfo &b, int64_t bytesPerUnit) {
  AxisInfo r = AxisInfo::unknown(a.rank());
  for (size_t d = 0; d < a.contiguity.size(); ++d) {
    // A run of a over which b is constant stays a run, and vice versa.
    r.contiguity[d] = std::max(std::gcd(a.contiguity[d], b.constancy[d]),
                               std::gcd(a.constancy[d], b.contiguity[d]));
    r.constancy[d] = std::gcd(a.constancy[d], b.constancy[d]);
    const bool runs = r.contiguity[d] > 1;
    const int64_t da = runs ? a.divisibility[d] : everyElementDivisibility(a, d);
    const int64_t db = runs ? b.divisibility[d] : everyElementDivisibility(b, d);
    r.divisibility[d] = std::gcd(da, cappedProduct(db, bytesPerUnit));
  }
  return r;
}

} // namespace

AxisInfoAnalysis::AxisInfoAnalysis(func::FuncOp kernel) {
  for (BlockArgument arg : kernel.getArguments()) {
    AxisInfo info = AxisInfo::unknown(0);
    if (auto ptr = dyn_cast<tile::PointerType>(arg.getType())) {
      // bf16 / f16 buffers (q, k, v, out) are 16-byte aligned: the runtime
      // refuses them otherwise. Others are known aligned to their element only.
      Type pointee = ptr.getPointeeType();
      const bool half = isa<FloatType>(pointee) && pointee.getIntOrFloatBitWidth() == 16;
      info.divisibility[0] = half ? AxisInfo::kHalfPointerArgumentAlignment
                                  : std::max<int64_t>(1, pointee.getIntOrFloatBitWidth() / 8);
    }
    set(arg, info);
  }
  kernel.walk<WalkOrder::PreOrder>([&](Operation *op) { visit(op); });
}

AxisInfo AxisInfoAnalysis::lookup(Value value) const {
  auto it = infos_.find(value);
  return it != infos_.end() ? it->second : AxisInfo::unknown(rankOf(value));
}

void AxisInfoAnalysis::visit(Operation *op) {
  auto info = [&](Value v) { return lookup(v); };
  auto shapeOf = [](Value v) -> ArrayRef<int64_t> {
    if (auto tensor = dyn_cast<RankedTensorType>(v.getType()))
      return tensor.getShape();
    return {};
  };

  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    Value result = constant.getResult();
    AxisInfo r = AxisInfo::unknown(rankOf(result));
    if (isa<SplatElementsAttr>(constant.getValue()))
      for (auto [d, size] : llvm::enumerate(shapeOf(result)))
        r.constancy[d] = size;
    if (std::optional<int64_t> c = constantValue(result))
      r.divisibility.assign(r.divisibility.size(), highestPowerOfTwoDivisor(*c));
    set(result, r);
    return;
  }
  if (auto range = dyn_cast<tile::MakeRangeOp>(op)) {
    AxisInfo r = AxisInfo::unknown(1);
    r.contiguity[0] = range.getEnd() - range.getStart();
    r.divisibility[0] = highestPowerOfTwoDivisor(range.getStart());
    set(range.getResult(), r);
    return;
  }
  if (auto splat = dyn_cast<tile::SplatOp>(op)) {
    const int64_t divisibility = info(splat.getSrc()).divisibility[0];
    AxisInfo r = AxisInfo::unknown(rankOf(splat.getResult()));
    r.divisibility.assign(r.divisibility.size(), divisibility);
    for (auto [d, size] : llvm::enumerate(shapeOf(splat.getResult())))
      r.constancy[d] = size;
    set(splat.getResult(), r);
    return;
  }
  if (auto broadcast = dyn_cast<tile::BroadcastOp>(op)) {
    AxisInfo r = info(broadcast.getSrc());
    ArrayRef<int64_t> from = shapeOf(broadcast.getSrc()), to = shapeOf(broadcast.getResult());
    for (size_t d = 0; d < to.size(); ++d)
      if (from[d] == 1 && to[d] != 1) {
        r.contiguity[d] = 1;
        r.constancy[d] = to[d];
      }
    set(broadcast.getResult(), r);
    return;
  }
  if (auto expand = dyn_cast<tile::ExpandDimsOp>(op)) {
    AxisInfo src = info(expand.getSrc()), r = src;
    // Along the new size-1 dimension every element starts a run: its
    // divisibility is what every element has, known along a dimension whose
    // runs are single elements.
    int64_t every = 1;
    for (size_t d = 0; d < src.contiguity.size(); ++d)
      if (src.contiguity[d] == 1)
        every = std::max(every, src.divisibility[d]);
    const size_t axis = expand.getAxis();
    r.contiguity.insert(r.contiguity.begin() + axis, 1);
    r.constancy.insert(r.constancy.begin() + axis, 1);
    r.divisibility.insert(r.divisibility.begin() + axis, every);
    set(expand.getResult(), r);
    return;
  }
  if (auto reshape = dyn_cast<tile::ReshapeOp>(op)) {
    if (shapeOf(reshape.getSrc()) == shapeOf(reshape.getResult()))
      set(reshape.getResult(), info(reshape.getSrc()));
    return; // other reshapes prove nothing (the default)
  }
  if (auto addptr = dyn_cast<tile::AddPtrOp>(op)) {
    Type pointee =
        cast<tile::PointerType>(getElementTypeOrSelf(addptr.getPtr().getType())).getPointeeType();
    const int64_t bytes = std::max<int64_t>(1, pointee.getIntOrFloatBitWidth() / 8);
    set(addptr.getResult(), addInfo(info(addptr.getPtr()), info(addptr.getOffset()), bytes));
    return;
  }
  if (auto add = dyn_cast<arith::AddIOp>(op)) {
    set(add.getResult(), addInfo(info(add.getLhs()), info(add.getRhs()), 1));
    return;
  }
  if (auto sub = dyn_cast<arith::SubIOp>(op)) {
    AxisInfo a = info(sub.getLhs()), b = info(sub.getRhs());
    AxisInfo r = AxisInfo::unknown(a.rank());
    for (size_t d = 0; d < a.contiguity.size(); ++d) {
      // Only a run of the minuend over which the subtrahend is constant grows by 1.
      r.contiguity[d] = std::gcd(a.contiguity[d], b.constancy[d]);
      r.constancy[d] = std::gcd(a.constancy[d], b.constancy[d]);
      const bool runs = r.contiguity[d] > 1;
      r.divisibility[d] = std::gcd(runs ? a.divisibility[d] : everyElementDivisibility(a, d),
                                   runs ? b.divisibility[d] : everyElementDivisibility(b, d));
    }
    set(sub.getResult(), r);
    return;
  }
  if (auto mul = dyn_cast<arith::MulIOp>(op)) {
    AxisInfo a = info(mul.getLhs()), b = info(mul.getRhs());
    if (constantValue(mul.getRhs()) == 1) {
      set(mul.getResult(), a);
      return;
    }
    if (constantValue(mul.getLhs()) == 1) {
      set(mul.getResult(), b);
      return;
    }
    AxisInfo r = AxisInfo::unknown(a.rank());
    for (size_t d = 0; d < a.contiguity.size(); ++d) {
      r.constancy[d] = std::gcd(a.constancy[d], b.constancy[d]);
      r.divisibility[d] =
          cappedProduct(everyElementDivisibility(a, d), everyElementDivisibility(b, d));
    }
    set(mul.getResult(), r);
    return;
  }
  if (isa<arith::ExtSIOp, arith::ExtUIOp, arith::IndexCastOp>(op)) {
    set(op->getResult(0), info(op->getOperand(0)));
    return;
  }
  if (auto trunc = dyn_cast<arith::TruncIOp>(op)) {
    AxisInfo r = info(trunc.getIn());
    const unsigned width = getElementTypeOrSelf(trunc.getType()).getIntOrFloatBitWidth();
    const int64_t cap = width >= 32 ? AxisInfo::kMaxDivisibility : int64_t(1) << width;
    for (int64_t &v : r.divisibility)
      v = std::min(v, cap);
    set(trunc.getResult(), r);
    return;
  }
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    // The induction variable is lb + i * step; carried values prove nothing.
    AxisInfo iv = AxisInfo::unknown(0);
    iv.divisibility[0] = std::gcd(info(loop.getLowerBound()).divisibility[0],
                                  info(loop.getStep()).divisibility[0]);
    set(loop.getInductionVar(), iv);
    return;
  }
  // Any other elementwise op (comparisons, and / or, select, casts, division):
  // its result is constant wherever all its operands are.
  if (op->getNumResults() == 1 && isa<arith::ArithDialect>(op->getDialect())) {
    Value result = op->getResult(0);
    AxisInfo r = AxisInfo::unknown(rankOf(result));
    for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
      if (rankOf(operand) != rankOf(result))
        return;
      AxisInfo o = info(operand);
      for (size_t d = 0; d < r.constancy.size(); ++d)
        r.constancy[d] = i == 0 ? o.constancy[d] : std::gcd(r.constancy[d], o.constancy[d]);
    }
    set(result, r);
  }
  // Everything else (loads, reductions, dots, program ids) proves nothing.
}

} // namespace mobagen::compiler
