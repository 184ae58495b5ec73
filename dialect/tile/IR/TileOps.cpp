//===- TileOps.cpp - shape and type rules of the tile ops -------------------===//
//
// ODS checks each operand's type family (tile, pointer tile, i1 mask); these
// verifiers check how operands relate: shapes that must agree, element types
// that must match a pointee, axes in range, dot's M/N/K. Diagnostics quote
// the shapes involved, e.g.
//   'tile.load' op mask shape [64] differs from ptr shape [64, 128]
//
//===----------------------------------------------------------------------===//

#include "dialect/tile/IR/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <string>

using namespace mlir;
using namespace mobagen::tile;

namespace {

/// The shape of a scalar-or-tile type; empty for a scalar.
ArrayRef<int64_t> shapeOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getShape();
  return {};
}

/// "[64, 128]" for a tile, "scalar" for a scalar.
std::string describeShape(Type type) {
  if (!isa<RankedTensorType>(type))
    return "scalar";
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shapeOf(type), os);
  return text + "]";
}

/// `value` (a mask, offsets or stored values) must have the pointers' shape.
LogicalResult verifySameShapeAsPtr(Operation *op, StringRef name, Type type,
                                   Type ptrType) {
  if (isa<RankedTensorType>(type) == isa<RankedTensorType>(ptrType) &&
      shapeOf(type) == shapeOf(ptrType))
    return success();
  return op->emitOpError() << name << " shape " << describeShape(type)
                           << " differs from ptr shape " << describeShape(ptrType);
}

/// Loaded or stored values have the pointers' shape and their pointee type.
LogicalResult verifyPointee(Operation *op, StringRef name, Type valueType,
                            Type ptrType) {
  if (failed(verifySameShapeAsPtr(op, name, valueType, ptrType)))
    return failure();
  Type pointee = cast<PointerType>(getElementTypeOrSelf(ptrType)).getPointeeType();
  if (getElementTypeOrSelf(valueType) == pointee)
    return success();
  return op->emitOpError() << name << " element type "
                           << getElementTypeOrSelf(valueType)
                           << " differs from the pointee type " << pointee;
}

/// Shape changes keep the element type.
LogicalResult verifySameElementType(Operation *op, RankedTensorType src,
                                    RankedTensorType result) {
  if (src.getElementType() == result.getElementType())
    return success();
  return op->emitOpError() << "result element type " << result.getElementType()
                           << " differs from the operand's " << src.getElementType();
}

/// A reduction over `axis` of `src` has this type: `src` without that
/// dimension, or the element type when `src` is 1-D.
Type reducedType(RankedTensorType src, int64_t axis, Type elementType) {
  SmallVector<int64_t> shape(src.getShape());
  shape.erase(shape.begin() + axis);
  if (shape.empty())
    return elementType;
  return RankedTensorType::get(shape, elementType);
}

LogicalResult verifyReduction(Operation *op, RankedTensorType src, int64_t axis,
                              Type result, StringRef resultName,
                              Type resultElementType) {
  if (axis < 0 || axis >= src.getRank())
    return op->emitOpError() << "axis " << axis << " is out of range for a rank-"
                             << src.getRank() << " tile: must be in [0, "
                             << src.getRank() << ")";
  Type expected = reducedType(src, axis, resultElementType);
  if (result == expected)
    return success();
  return op->emitOpError() << resultName << " type " << result
                           << " does not match the reduction of " << src
                           << " over axis " << axis << ", which is " << expected;
}

} // namespace

LogicalResult MakeRangeOp::verify() {
  int64_t start = getStart(), end = getEnd();
  if (end <= start)
    return emitOpError() << "range " << start << " to " << end
                         << " is empty: end must be greater than start";
  int64_t length = end - start;
  if (!llvm::isPowerOf2_64(length))
    return emitOpError() << "range " << start << " to " << end << " has " << length
                         << " elements: must be a power of two";
  RankedTensorType type = getResult().getType();
  if (type.getRank() != 1 || type.getDimSize(0) != length)
    return emitOpError() << "result shape " << describeShape(type)
                         << " does not hold the " << length << " elements of range "
                         << start << " to " << end;
  return success();
}

LogicalResult SplatOp::verify() {
  Type element = getResult().getType().getElementType();
  if (element == getSrc().getType())
    return success();
  return emitOpError() << "result element type " << element
                       << " differs from the scalar's type " << getSrc().getType();
}

LogicalResult BroadcastOp::verify() {
  RankedTensorType src = getSrc().getType(), result = getResult().getType();
  if (failed(verifySameElementType(*this, src, result)))
    return failure();
  if (src.getRank() != result.getRank())
    return emitOpError() << "operand shape " << describeShape(src)
                         << " and result shape " << describeShape(result)
                         << " differ in rank: use tile.expand_dims first";
  for (auto [dim, from, to] :
       llvm::enumerate(src.getShape(), result.getShape()))
    if (from != to && from != 1)
      return emitOpError() << "cannot broadcast dim " << dim << " from " << from
                           << " to " << to << ": only size-1 dims broadcast";
  return success();
}

LogicalResult ExpandDimsOp::verify() {
  RankedTensorType src = getSrc().getType(), result = getResult().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis > src.getRank())
    return emitOpError() << "axis " << axis << " is out of range for a rank-"
                         << src.getRank() << " tile: must be in [0, "
                         << src.getRank() << "]";
  SmallVector<int64_t> shape(src.getShape());
  shape.insert(shape.begin() + axis, 1);
  auto expected = RankedTensorType::get(shape, src.getElementType());
  if (result == expected)
    return success();
  return emitOpError() << "result type " << result << " should be " << expected
                       << " (a size-1 dim inserted at axis " << axis << ")";
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType src = getSrc().getType(), result = getResult().getType();
  if (failed(verifySameElementType(*this, src, result)))
    return failure();
  if (src.getNumElements() != result.getNumElements())
    return emitOpError() << "cannot reshape " << describeShape(src) << " ("
                         << src.getNumElements() << " elements) to "
                         << describeShape(result) << " ("
                         << result.getNumElements() << " elements)";
  return success();
}

LogicalResult AddPtrOp::verify() {
  return verifySameShapeAsPtr(*this, "offset", getOffset().getType(),
                              getPtr().getType());
}

LogicalResult LoadOp::verify() {
  Type ptrType = getPtr().getType();
  if (failed(verifyPointee(*this, "result", getResult().getType(), ptrType)))
    return failure();
  if (getMask() && failed(verifySameShapeAsPtr(*this, "mask", getMask().getType(),
                                               ptrType)))
    return failure();
  if (!getOther())
    return success();
  if (!getMask())
    return emitOpError() << "has `other` but no mask: `other` fills the masked-off "
                            "positions";
  if (getOther().getType() != getResult().getType())
    return emitOpError() << "other type " << getOther().getType()
                         << " differs from the result type " << getResult().getType();
  return success();
}

LogicalResult StoreOp::verify() {
  Type ptrType = getPtr().getType();
  if (failed(verifyPointee(*this, "value", getValue().getType(), ptrType)))
    return failure();
  if (getMask())
    return verifySameShapeAsPtr(*this, "mask", getMask().getType(), ptrType);
  return success();
}

LogicalResult AtomicAddOp::verify() {
  Type ptrType = getPtr().getType();
  if (!isa<RankedTensorType>(ptrType))
    return emitOpError() << "adds through the scalar pointer " << ptrType
                         << ": atomic adds take tiles (a scalar has no single owner thread)";
  if (failed(verifyPointee(*this, "value", getValue().getType(), ptrType)))
    return failure();
  Type element = getElementTypeOrSelf(getValue().getType());
  if (!element.isInteger(32) && !element.isF32())
    return emitOpError() << "adds " << element
                         << " values: only i32 and f32 atomic adds are supported";
  if (getMask())
    return verifySameShapeAsPtr(*this, "mask", getMask().getType(), ptrType);
  return success();
}

LogicalResult DotOp::verify() {
  RankedTensorType a = getA().getType(), b = getB().getType(),
                   acc = getAcc().getType();
  int64_t m = a.getDimSize(0), k = a.getDimSize(1), n = b.getDimSize(1);
  if (b.getDimSize(0) != k)
    return emitOpError() << "a is [" << m << ", " << k << "] but b is ["
                         << b.getDimSize(0) << ", " << n
                         << "]: the inner dimensions K must agree";
  if (acc.getDimSize(0) != m || acc.getDimSize(1) != n)
    return emitOpError() << "acc shape " << describeShape(acc) << " should be ["
                         << m << ", " << n << "] for a [" << m << ", " << k
                         << "] x [" << k << ", " << n << "] product";
  if (m < 16 || n < 16 || k < 16)
    return emitOpError() << "M = " << m << ", N = " << n << ", K = " << k
                         << ": each must be at least 16 (the smallest tensor-core tile)";

  Type in = a.getElementType(), out = acc.getElementType();
  if (b.getElementType() != in)
    return emitOpError() << "a has element type " << in << " but b has "
                         << b.getElementType() << ": they must match";
  bool supported = (in.isF16() && (out.isF32() || out.isF16())) ||
                   (in.isBF16() && out.isF32()) || (in.isF32() && out.isF32()) ||
                   (in.isInteger(8) && out.isInteger(32));
  if (!supported)
    return emitOpError() << "a, b of " << in << " with acc of " << out
                         << " is not supported: f16 -> f32|f16, bf16 -> f32, "
                            "f32 -> f32, i8 -> i32";
  if (getInputPrecision() && !in.isF32())
    return emitOpError() << "input_precision = "
                         << stringifyInputPrecision(*getInputPrecision())
                         << " applies to f32 operands only, but a and b are " << in;
  return success();
}

LogicalResult ReduceOp::verify() {
  RankedTensorType src = getSrc().getType();
  return verifyReduction(*this, src, getAxis(), getResult().getType(), "result",
                         src.getElementType());
}

LogicalResult ArgMaxOp::verify() {
  RankedTensorType src = getSrc().getType();
  if (failed(verifyReduction(*this, src, getAxis(), getValue().getType(), "value",
                             src.getElementType())))
    return failure();
  return verifyReduction(*this, src, getAxis(), getIndex().getType(), "index",
                         IntegerType::get(getContext(), 32));
}

#define GET_OP_CLASSES
#include "dialect/tile/IR/TileOps.cpp.inc"
