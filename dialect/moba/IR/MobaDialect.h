//===- MobaDialect.h - the moba dialect, its attribute and ops --------------===//
//
// The one header to include for anything in the moba dialect. ODS documents
// every op and attribute (dialect/moba/IR/*.td, rendered in docs/dialects/moba.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/moba/IR/MobaDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/moba/IR/MobaAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialect/moba/IR/MobaOps.h.inc"
