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

/// Shared memory a kernel with pipelined loops may use by default: 99 KB, the
/// opt-in limit of sm_86 / sm_89 and so of every sm_80+ GPU (sm_80 allows
/// 163 KB, sm_90 227 KB: CUDA C++ Programming Guide, compute capabilities).
constexpr int64_t kDefaultSharedLimit = 99 * 1024;

#define GEN_PASS_DECL
#include "compiler/Conversion/Passes.h.inc"

/// Shared memory per block of `target` (sm_80, sm_90, ...): 227 KB on sm_90,
/// kDefaultSharedLimit on the sm_8x family a sm_80 bundle runs on.
int64_t sharedLimitOf(llvm::StringRef target);

/// tile kernels -> LLVM + NVVM dialect (convert-tile-to-nvvm, then the upstream
/// scf/arith/math/cf to LLVM conversions), ready for emitPtx. `dot` picks the
/// lowering of tile.dot: the MoBA pipeline takes mma.sync wherever a dot
/// qualifies (docs/lowering.md); `fma` is the baseline.
/// `swizzle`: cp.async operand copies get XOR-swizzled rather than padded rows.
void buildTileToLLVMPipeline(mlir::OpPassManager &pm, int64_t numWarps,
                             DotLowering dot = DotLowering::mma,
                             int64_t sharedLimit = kDefaultSharedLimit, bool swizzle = false);

/// Registers the passes and the `mobagen-tile-to-llvm` pipeline with mlir-opt.
void registerConversionPasses();

} // namespace mobagen::compiler
