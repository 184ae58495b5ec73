//===- Passes.h - mobagen's conversion passes and pipelines -----------------===//
#pragma once

#include "compiler/Conversion/TileToNVVM/DotLayout.h"
#include "dialect/tile/IR/TileDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::compiler {

#define GEN_PASS_DECL
#include "compiler/Conversion/Passes.h.inc"

/// tile kernels -> LLVM + NVVM dialect (convert-tile-to-nvvm, then the upstream
/// scf/arith/math/cf to LLVM conversions), ready for emitPtx. `dot` picks the
/// lowering of tile.dot: the MoBA pipeline takes mma.sync wherever a dot
/// qualifies (docs/lowering.md); `fma` is the baseline.
void buildTileToLLVMPipeline(mlir::OpPassManager &pm, int64_t numWarps,
                             DotLowering dot = DotLowering::mma);

/// Registers the passes and the `mobagen-tile-to-llvm` pipeline with mlir-opt.
void registerConversionPasses();

} // namespace mobagen::compiler
