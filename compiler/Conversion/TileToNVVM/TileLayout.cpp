#include "compiler/Conversion/TileToNVVM/TileLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mobagen::compiler {

using namespace mlir;

Value constantI32(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

Value TileLayout::linearIndex(ImplicitLocOpBuilder &b, Value tid, int64_t slot) const {
  if (slot == 0)
    return tid;
  return arith::AddIOp::create(b, tid, constantI32(b, slot * threads_));
}

Value TileLayout::validity(ImplicitLocOpBuilder &b, Value tid, int64_t slot) const {
  if ((slot + 1) * threads_ <= elements_)
    return nullptr;
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linearIndex(b, tid, slot),
                               constantI32(b, elements_));
}

Value TileLayout::clampedLinearIndex(ImplicitLocOpBuilder &b, Value tid, int64_t slot) const {
  Value linear = linearIndex(b, tid, slot);
  if (Value valid = validity(b, tid, slot))
    linear = arith::SelectOp::create(b, valid, linear, constantI32(b, 0));
  return linear;
}

SmallVector<Value> TileLayout::delinearize(ImplicitLocOpBuilder &b, Value linear) const {
  SmallVector<Value> index(shape_.size());
  Value rest = linear;
  for (int64_t d = static_cast<int64_t>(shape_.size()) - 1; d >= 0; --d) {
    if (d == 0) {
      index[d] = rest;
      break;
    }
    Value size = constantI32(b, shape_[d]);
    index[d] = arith::RemUIOp::create(b, rest, size);
    rest = arith::DivUIOp::create(b, rest, size);
  }
  return index;
}

Value TileLayout::linearize(ImplicitLocOpBuilder &b, ArrayRef<Value> index, ArrayRef<int64_t> shape) {
  Value linear = constantI32(b, 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    linear = arith::MulIOp::create(b, linear, constantI32(b, shape[d]));
    linear = arith::AddIOp::create(b, linear, index[d]);
  }
  return linear;
}

} // namespace mobagen::compiler
