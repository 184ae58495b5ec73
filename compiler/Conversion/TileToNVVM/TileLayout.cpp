#include "compiler/Conversion/TileToNVVM/TileLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mobagen::compiler {

using namespace mlir;

Value constantI32(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

Value stagedIndex(ImplicitLocOpBuilder &b, Value row, Value col, int64_t stride, bool swizzled,
                  bool chunkStart) {
  if (!swizzled)
    return arith::AddIOp::create(b, arith::MulIOp::create(b, row, constantI32(b, stride)), col);
  // swizzledOffset in DotLayout.cpp.
  const int64_t chunks = stride / 8;
  Value chunk = arith::ShRUIOp::create(b, col, constantI32(b, 3));
  auto times8 = [&](Value v) { return arith::ShLIOp::create(b, v, constantI32(b, 3)); };
  auto plusWithin = [&](Value v) -> Value {
    if (chunkStart)
      return v;
    return arith::AddIOp::create(b, v, arith::AndIOp::create(b, col, constantI32(b, 7)));
  };
  if (chunks >= 8) {
    Value swizzledChunk =
        arith::XOrIOp::create(b, chunk, arith::AndIOp::create(b, row, constantI32(b, 7)));
    return arith::AddIOp::create(b, arith::MulIOp::create(b, row, constantI32(b, stride)),
                                 plusWithin(times8(swizzledChunk)));
  }
  Value linear =
      arith::AddIOp::create(b, arith::MulIOp::create(b, row, constantI32(b, chunks)), chunk);
  Value line = arith::AndIOp::create(b, arith::ShRUIOp::create(b, linear, constantI32(b, 3)),
                                     constantI32(b, 7));
  return plusWithin(times8(arith::XOrIOp::create(b, linear, line)));
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
