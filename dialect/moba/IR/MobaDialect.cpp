//===- MobaDialect.cpp - registration of the moba dialect -------------------===//

#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mobagen::moba;

#include "dialect/moba/IR/MobaDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/moba/IR/MobaAttrs.cpp.inc"

void MobaDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/moba/IR/MobaAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/moba/IR/MobaOps.cpp.inc"
      >();
}
