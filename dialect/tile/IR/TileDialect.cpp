//===- TileDialect.cpp - registration of the tile dialect and its types -----===//

#include "dialect/tile/IR/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mobagen::tile;

#include "dialect/tile/IR/TileDialect.cpp.inc"
#include "dialect/tile/IR/TileEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/tile/IR/TileTypes.cpp.inc"

void TileDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/tile/IR/TileTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/tile/IR/TileOps.cpp.inc"
      >();
}

/// Pointers address scalars (a tile of pointers is a tensor of them), in the
/// two NVVM address spaces kernels use: global (1) and shared (3).
LogicalResult PointerType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  Type pointeeType, unsigned addressSpace) {
  if (!isa<FloatType, IntegerType>(pointeeType))
    return emitError() << "!tile.ptr pointee must be an integer or float type, got "
                       << pointeeType;
  if (addressSpace != 1 && addressSpace != 3)
    return emitError() << "!tile.ptr address space " << addressSpace
                       << " is not supported: must be 1 (global) or 3 (shared)";
  return success();
}

/// Warps per program: a power of two so that tiles split evenly over warps;
/// 16 warps (512 threads) leave registers for 64 x 128 f32 accumulators.
LogicalResult mobagen::tile::verifyNumWarps(
    int64_t warps, function_ref<InFlightDiagnostic()> emitError) {
  if (warps >= 1 && warps <= 16 && llvm::isPowerOf2_64(warps))
    return success();
  return emitError() << "num_warps = " << warps
                     << " is invalid: must be a power of two in [1, 16]";
}

/// Software-pipelining depth: 8 stages of any tile worth pipelining already
/// exceed the shared memory of one SM.
LogicalResult mobagen::tile::verifyNumStages(
    int64_t stages, function_ref<InFlightDiagnostic()> emitError) {
  if (stages >= 1 && stages <= 8)
    return success();
  return emitError() << "num_stages = " << stages
                     << " is invalid: must be in [1, 8]";
}

/// The tuning attributes: `tile.num_warps` on a func.func, `tile.num_stages`
/// on an scf.for, both i32; and `tile.dynamic_shared`, a unit attribute on a
/// func.func (its resident copies may take dynamic shared memory,
/// docs/lowering.md).
LogicalResult TileDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  auto value = dyn_cast<IntegerAttr>(attribute.getValue());
  auto checkI32 = [&](StringRef expectedOp) -> LogicalResult {
    if (op->getName().getStringRef() != expectedOp)
      return op->emitOpError() << "has '" << name << "', which belongs on "
                               << expectedOp;
    if (!value || !value.getType().isInteger(32))
      return op->emitOpError() << "'" << name << "' must be an i32 integer, got "
                               << attribute.getValue();
    return success();
  };
  auto emitError = [&] { return op->emitOpError(); };
  if (name == "tile.num_warps")
    return success(succeeded(checkI32("func.func")) &&
                   succeeded(verifyNumWarps(value.getInt(), emitError)));
  if (name == "tile.num_stages")
    return success(succeeded(checkI32("scf.for")) &&
                   succeeded(verifyNumStages(value.getInt(), emitError)));
  if (name == "tile.dynamic_shared") {
    if (op->getName().getStringRef() != "func.func")
      return op->emitOpError() << "has '" << name << "', which belongs on func.func";
    if (!isa<UnitAttr>(attribute.getValue()))
      return op->emitOpError() << "'" << name << "' must be a unit attribute, got "
                               << attribute.getValue();
    return success();
  }
  return op->emitOpError() << "has unknown tile dialect attribute '" << name
                           << "'; known: tile.num_warps, tile.num_stages, tile.dynamic_shared";
}
