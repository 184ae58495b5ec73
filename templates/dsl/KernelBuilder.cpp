//===- KernelBuilder.cpp - the embedded DSL's ops and broadcasting ----------===//

#include "templates/dsl/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mobagen::templates;
namespace tile = mobagen::tile;
using tile::PointerType;

//===----------------------------------------------------------------------===//
// Tile
//===----------------------------------------------------------------------===//

Type Tile::elementType() const { return getElementTypeOrSelf(type()); }

ArrayRef<int64_t> Tile::shape() const {
  if (auto tensor = dyn_cast<RankedTensorType>(type()))
    return tensor.getShape();
  return {};
}

Tile Tile::expandDims(int32_t axis) const {
  SmallVector<int64_t> newShape(shape());
  newShape.insert(newShape.begin() + axis, 1);
  auto result = RankedTensorType::get(newShape, elementType());
  return {*kb, tile::ExpandDimsOp::create(kb->opBuilder(), result, v, axis)};
}

Tile Tile::broadcastTo(ArrayRef<int64_t> target) const {
  // A scalar brought to a scalar's (empty) shape stays a scalar: the dialect has
  // no rank-0 tiles, and scalar loads, stores and selects take scalar operands.
  if (shape() == target && (isTile() || target.empty()))
    return *this;
  auto result = RankedTensorType::get(target, elementType());
  if (!isTile())
    return {*kb, tile::SplatOp::create(kb->opBuilder(), result, v)};
  return {*kb, tile::BroadcastOp::create(kb->opBuilder(), result, v)};
}

Tile Tile::to(Type element) const {
  Type from = elementType();
  if (from == element)
    return *this;
  Type result = isTile() ? Type(RankedTensorType::get(shape(), element)) : element;
  ImplicitLocOpBuilder &b = kb->opBuilder();
  if (isa<FloatType>(from) && isa<FloatType>(element)) {
    if (from.getIntOrFloatBitWidth() < element.getIntOrFloatBitWidth())
      return {*kb, arith::ExtFOp::create(b, result, v)};
    return {*kb, arith::TruncFOp::create(b, result, v)};
  }
  if (isa<IntegerType>(from) && isa<FloatType>(element))
    return {*kb, arith::SIToFPOp::create(b, result, v)};
  if (isa<FloatType>(from) && isa<IntegerType>(element))
    return {*kb, arith::FPToSIOp::create(b, result, v)};
  if (from.getIntOrFloatBitWidth() < element.getIntOrFloatBitWidth())
    return {*kb, arith::ExtSIOp::create(b, result, v)};
  return {*kb, arith::TruncIOp::create(b, result, v)};
}

//===----------------------------------------------------------------------===//
// Operators
//===----------------------------------------------------------------------===//

namespace {

/// Emits `FloatOp` or `IntOp` on the broadcast operands.
template <typename FloatOp, typename IntOp>
Tile arithmetic(const Tile &lhs, const Tile &rhs) {
  auto [a, b] = lhs.builder().broadcastPair(lhs, rhs);
  ImplicitLocOpBuilder &ob = lhs.builder().opBuilder();
  if (isa<FloatType>(a.elementType()))
    return {lhs.builder(), FloatOp::create(ob, a.value(), b.value())};
  return {lhs.builder(), IntOp::create(ob, a.value(), b.value())};
}

Tile compare(const Tile &lhs, const Tile &rhs, arith::CmpFPredicate fp,
             arith::CmpIPredicate ip) {
  auto [a, b] = lhs.builder().broadcastPair(lhs, rhs);
  ImplicitLocOpBuilder &ob = lhs.builder().opBuilder();
  if (isa<FloatType>(a.elementType()))
    return {lhs.builder(), arith::CmpFOp::create(ob, fp, a.value(), b.value())};
  return {lhs.builder(), arith::CmpIOp::create(ob, ip, a.value(), b.value())};
}

} // namespace

Tile mobagen::templates::operator+(const Tile &a, const Tile &b) {
  if (!isa<PointerType>(a.elementType()))
    return arithmetic<arith::AddFOp, arith::AddIOp>(a, b);
  // Pointer + offset: bring both to the common shape, then tile.addptr.
  auto [ptr, offset] = a.builder().broadcastPair(a, b);
  return {a.builder(), tile::AddPtrOp::create(a.builder().opBuilder(), ptr.type(),
                                              ptr.value(), offset.value())};
}
Tile mobagen::templates::operator-(const Tile &a, const Tile &b) {
  return arithmetic<arith::SubFOp, arith::SubIOp>(a, b);
}
Tile mobagen::templates::operator*(const Tile &a, const Tile &b) {
  return arithmetic<arith::MulFOp, arith::MulIOp>(a, b);
}
Tile mobagen::templates::operator/(const Tile &a, const Tile &b) {
  return arithmetic<arith::DivFOp, arith::DivSIOp>(a, b);
}
Tile mobagen::templates::operator+(const Tile &a, Literal b) {
  return a + a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator-(const Tile &a, Literal b) {
  return a - a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator*(const Tile &a, Literal b) {
  return a * a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator/(const Tile &a, Literal b) {
  return a / a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator<(const Tile &a, const Tile &b) {
  return compare(a, b, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
}
Tile mobagen::templates::operator<=(const Tile &a, const Tile &b) {
  return compare(a, b, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle);
}
Tile mobagen::templates::operator<(const Tile &a, Literal b) {
  return a < a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator==(const Tile &a, const Tile &b) {
  return compare(a, b, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
}
Tile mobagen::templates::operator==(const Tile &a, Literal b) {
  return a == a.builder().literalLike(b, a);
}
Tile mobagen::templates::operator&(const Tile &a, const Tile &b) {
  auto [x, y] = a.builder().broadcastPair(a, b);
  return {a.builder(),
          arith::AndIOp::create(a.builder().opBuilder(), x.value(), y.value())};
}

//===----------------------------------------------------------------------===//
// KernelBuilder
//===----------------------------------------------------------------------===//

KernelBuilder::KernelBuilder(ModuleOp module, StringRef name,
                             ArrayRef<Argument> arguments)
    : b(module.getLoc(), module.getContext()) {
  module.getContext()->loadDialect<tile::TileDialect, func::FuncDialect>();
  SmallVector<Type> types;
  for (const Argument &argument : arguments)
    types.push_back(argument.type);
  b.setInsertionPointToEnd(module.getBody());
  func = func::FuncOp::create(b, name, b.getFunctionType(types, {}));
  Block *entry = func.addEntryBlock();
  for (auto [argument, value] : llvm::zip(arguments, entry->getArguments()))
    value.setLoc(NameLoc::get(b.getStringAttr(argument.name)));
  b.setInsertionPointToStart(entry);
}

Tile KernelBuilder::arg(unsigned index) {
  return {*this, func.getArgument(index)};
}

Tile KernelBuilder::programId(tile::ProgramAxis axis) {
  return {*this, tile::ProgramIdOp::create(b, i32(), axis)};
}

Tile KernelBuilder::numPrograms(tile::ProgramAxis axis) {
  return {*this, tile::NumProgramsOp::create(b, i32(), axis)};
}

Tile KernelBuilder::arange(int32_t start, int32_t end) {
  auto type = RankedTensorType::get({end - start}, i32());
  return {*this, tile::MakeRangeOp::create(b, type, start, end)};
}

TypedAttr KernelBuilder::literalAttr(Literal value, Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return b.getFloatAttr(floatType, value.value());
  return b.getIntegerAttr(type, static_cast<int64_t>(value.value()));
}

Tile KernelBuilder::constant(Literal value, Type type) {
  return {*this, arith::ConstantOp::create(b, literalAttr(value, type))};
}

Tile KernelBuilder::full(ArrayRef<int64_t> shape, Literal value, Type element) {
  auto type = RankedTensorType::get(shape, element);
  return {*this, arith::ConstantOp::create(
                     b, DenseElementsAttr::get(type, literalAttr(value, element)))};
}

Tile KernelBuilder::literalLike(Literal value, const Tile &like) {
  if (like.isTile())
    return full(like.shape(), value, like.elementType());
  return constant(value, like.elementType());
}

std::pair<Tile, Tile> KernelBuilder::broadcastPair(const Tile &a, const Tile &c) {
  if (!a.isTile() && !c.isTile())
    return {a, c};
  if (!a.isTile())
    return {a.broadcastTo(c.shape()), c};
  if (!c.isTile())
    return {a, c.broadcastTo(a.shape())};
  if (a.shape() == c.shape())
    return {a, c};
  // Ranks must agree (as in Triton); broadcasting across ranks makes a
  // tile.broadcast whose verifier names both shapes and the fix.
  if (a.shape().size() != c.shape().size())
    return {a, c.broadcastTo(a.shape())};
  SmallVector<int64_t> common;
  for (auto [x, y] : llvm::zip(a.shape(), c.shape()))
    common.push_back(x == 1 ? y : x);
  return {a.broadcastTo(common), c.broadcastTo(common)};
}

Tile KernelBuilder::load(const Tile &ptr, std::optional<Tile> mask,
                         std::optional<Literal> other) {
  Type pointee = cast<PointerType>(ptr.elementType()).getPointeeType();
  Type result = ptr.isTile() ? Type(RankedTensorType::get(ptr.shape(), pointee))
                             : pointee;
  Value maskValue, otherValue;
  if (mask)
    maskValue = mask->broadcastTo(ptr.shape()).value();
  if (other)
    otherValue = ptr.isTile() ? full(ptr.shape(), *other, pointee).value()
                              : constant(*other, pointee).value();
  return {*this, tile::LoadOp::create(b, result, ptr.value(), maskValue, otherValue)};
}

void KernelBuilder::store(const Tile &ptr, const Tile &value,
                          std::optional<Tile> mask) {
  Value maskValue;
  if (mask)
    maskValue = mask->broadcastTo(ptr.shape()).value();
  tile::StoreOp::create(b, ptr.value(), value.broadcastTo(ptr.shape()).value(),
                        maskValue);
}

Tile KernelBuilder::atomicAdd(const Tile &ptr, const Tile &value, std::optional<Tile> mask) {
  Value maskValue;
  if (mask)
    maskValue = mask->broadcastTo(ptr.shape()).value();
  Value v = value.broadcastTo(ptr.shape()).value();
  return {*this, tile::AtomicAddOp::create(b, v.getType(), ptr.value(), v, maskValue)};
}

void KernelBuilder::barrier() { tile::BarrierOp::create(b); }

Tile KernelBuilder::dot(const Tile &a, const Tile &c, const Tile &acc) {
  return {*this, tile::DotOp::create(b, acc.type(), a.value(), c.value(),
                                     acc.value(), std::nullopt)};
}

Tile KernelBuilder::exp2(const Tile &x) {
  return {*this, math::Exp2Op::create(b, x.value())};
}

Tile KernelBuilder::log2(const Tile &x) {
  return {*this, math::Log2Op::create(b, x.value())};
}

Tile KernelBuilder::maximum(const Tile &x, const Tile &y) {
  return arithmetic<arith::MaximumFOp, arith::MaxSIOp>(x, y);
}

Tile KernelBuilder::minimum(const Tile &x, const Tile &y) {
  return arithmetic<arith::MinimumFOp, arith::MinSIOp>(x, y);
}

static Tile reduce(KernelBuilder &kb, tile::ReduceKind kind, const Tile &x,
                   int32_t axis) {
  SmallVector<int64_t> shape(x.shape());
  shape.erase(shape.begin() + axis);
  Type result = shape.empty() ? x.elementType()
                              : Type(RankedTensorType::get(shape, x.elementType()));
  return {kb, tile::ReduceOp::create(kb.opBuilder(), result, kind, x.value(), axis)};
}

Tile KernelBuilder::max(const Tile &x, int32_t axis) {
  return reduce(*this, tile::ReduceKind::max, x, axis);
}

Tile KernelBuilder::min(const Tile &x, int32_t axis) {
  return reduce(*this, tile::ReduceKind::min, x, axis);
}

Tile KernelBuilder::sum(const Tile &x, int32_t axis) {
  return reduce(*this, tile::ReduceKind::sum, x, axis);
}

std::pair<Tile, Tile> KernelBuilder::argmax(const Tile &x, int32_t axis) {
  SmallVector<int64_t> shape(x.shape());
  shape.erase(shape.begin() + axis);
  Type value = shape.empty() ? x.elementType()
                             : Type(RankedTensorType::get(shape, x.elementType()));
  Type index = shape.empty() ? i32() : Type(RankedTensorType::get(shape, i32()));
  auto op = tile::ArgMaxOp::create(b, value, index, x.value(), b.getI32IntegerAttr(axis));
  return {Tile(*this, op.getValue()), Tile(*this, op.getIndex())};
}

Tile KernelBuilder::where(const Tile &cond, const Tile &x, const Tile &y) {
  // All three to one shape; on scalars this is a scalar arith.select.
  auto [a, c] = broadcastPair(x, y);
  auto [mask, a2] = broadcastPair(cond, a);
  auto [a3, c2] = broadcastPair(a2, c);
  mask = mask.broadcastTo(a3.shape());
  return {*this, arith::SelectOp::create(b, mask.value(), a3.value(), c2.value())};
}

Tile KernelBuilder::where(const Tile &cond, const Tile &x, Literal y) {
  return where(cond, x, literalLike(y, x));
}

Tile KernelBuilder::where(const Tile &cond, Literal x, const Tile &y) {
  return where(cond, literalLike(x, y), y);
}

SmallVector<Tile> KernelBuilder::forLoop(
    const Tile &lower, const Tile &upper, const Tile &step, ArrayRef<Tile> init,
    function_ref<SmallVector<Tile>(Tile, ArrayRef<Tile>)> body, scf::ForOp *loop) {
  SmallVector<Value> initValues;
  for (const Tile &t : init)
    initValues.push_back(t.value());
  auto forOp = scf::ForOp::create(
      b, lower.value(), upper.value(), step.value(), initValues,
      [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
        // Build the body with this builder's API, at the nested insertion point.
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
        SmallVector<Tile> carried;
        for (Value arg : args)
          carried.emplace_back(*this, arg);
        SmallVector<Value> next;
        for (const Tile &t : body(Tile(*this, iv), carried))
          next.push_back(t.value());
        scf::YieldOp::create(b, next);
      });
  if (loop)
    *loop = forOp;
  SmallVector<Tile> results;
  for (Value result : forOp.getResults())
    results.emplace_back(*this, result);
  return results;
}

void KernelBuilder::finish() { func::ReturnOp::create(b); }
