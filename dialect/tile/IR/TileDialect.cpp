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

/// The tuning attributes: `tile.num_warps` on a func.func (warps per program,
/// a power of two so tiles split evenly), `tile.num_stages` on an scf.for
/// (pipelining depth; 8 stages already exceed shared memory for any tile
/// worth pipelining).
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
  if (name == "tile.num_warps") {
    if (failed(checkI32("func.func")))
      return failure();
    int64_t warps = value.getInt();
    if (warps < 1 || warps > 16 || !llvm::isPowerOf2_64(warps))
      return op->emitOpError() << "tile.num_warps = " << warps
                               << " is invalid: must be a power of two in [1, 16]";
    return success();
  }
  if (name == "tile.num_stages") {
    if (failed(checkI32("scf.for")))
      return failure();
    int64_t stages = value.getInt();
    if (stages < 1 || stages > 8)
      return op->emitOpError() << "tile.num_stages = " << stages
                               << " is invalid: must be in [1, 8]";
    return success();
  }
  return op->emitOpError() << "has unknown tile dialect attribute '" << name
                           << "'; known: tile.num_warps, tile.num_stages";
}
