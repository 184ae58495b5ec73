//===- TileDialect.h - the tile dialect: pointer type, enums, ops ------------===//
//
// The one header to include for anything in the tile dialect. ODS documents
// every op and type (dialect/tile/IR/*.td, rendered in docs/dialects/tile.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/tile/IR/TileDialect.h.inc"
#include "dialect/tile/IR/TileEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/tile/IR/TileTypes.h.inc"

#define GET_OP_CLASSES
#include "dialect/tile/IR/TileOps.h.inc"

namespace mobagen::tile {

/// The rules of the `tile.num_warps` / `tile.num_stages` tuning attributes,
/// shared by the dialect's verifier and the templates that take them as knobs.
llvm::LogicalResult verifyNumWarps(int64_t warps,
                                   llvm::function_ref<mlir::InFlightDiagnostic()> emitError);
llvm::LogicalResult verifyNumStages(int64_t stages,
                                    llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

} // namespace mobagen::tile
