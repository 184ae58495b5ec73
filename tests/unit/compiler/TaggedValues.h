//===- TaggedValues.h - finding values of hand-written test IR by tag -------===//
//
// The analysis tests parse small kernels whose interesting ops carry an
// attribute `tag = "name"`; this finds the value such an op defines.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <gtest/gtest.h>

namespace mobagen::testing {

/// The first result of the op in `module` tagged `name` (a test failure, and a
/// null value, when none is).
inline mlir::Value taggedValue(mlir::ModuleOp module, llvm::StringRef name) {
  mlir::Value found;
  module->walk([&](mlir::Operation *op) {
    if (auto tag = op->getAttrOfType<mlir::StringAttr>("tag"); tag && tag.getValue() == name)
      found = op->getResult(0);
  });
  EXPECT_TRUE(found) << name.str();
  return found;
}

} // namespace mobagen::testing
