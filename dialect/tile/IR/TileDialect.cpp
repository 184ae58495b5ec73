//===- TileDialect.cpp - registration of the tile dialect and its types -----===//

#include "dialect/tile/IR/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

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
