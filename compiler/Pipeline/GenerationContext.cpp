//===- GenerationContext.cpp - the MLIRContext kernels are generated in -------===//
#include "compiler/Pipeline/GenerationContext.h"

#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "dialect/tile/IR/TileDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::compiler {
namespace {
thread_local ThreadDiagnostics *currentThreadDiagnostics = nullptr;
} // namespace

moba::ConfigAttr buildConfigAttr(const MobaKernelConfig &c, mlir::MLIRContext &context) {
  mlir::Builder b(&context);
  const mlir::Type dtype = c.dtype == DType::BF16 ? mlir::Type(b.getBF16Type()) : b.getF16Type();
  const mlir::FloatAttr scale = c.scale ? b.getF64FloatAttr(*c.scale) : mlir::FloatAttr();
  return moba::ConfigAttr::getChecked(
      [&] { return mlir::emitError(mlir::UnknownLoc::get(&context)); }, &context, c.blockSize,
      c.topK, c.headDim, c.numQHeads, c.numKvHeads, c.causal, dtype, llvm::StringRef(c.target), scale);
}

GenerationContext::GenerationContext() {
  mlir::DialectRegistry registry;
  registry.insert<moba::MobaDialect, tile::TileDialect, mlir::func::FuncDialect>();
  registerPtxTranslations(registry);
  mlir::PassManager pm(&context);
  buildTileToLLVMPipeline(pm, /*numWarps=*/4);
  pm.getDependentDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  handler.emplace(&context, [this](mlir::Diagnostic &d) {
    if (d.getSeverity() != mlir::DiagnosticSeverity::Error)
      return mlir::success();
    if (ThreadDiagnostics *own = ThreadDiagnostics::current()) {
      own->text += (own->text.empty() ? "" : "; ") + d.str();
      return mlir::success();
    }
    std::lock_guard<std::mutex> lock(mutex);
    diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
    return mlir::success();
  });
}

Status GenerationContext::fail(std::string_view what) {
  std::lock_guard<std::mutex> lock(mutex);
  return Status::errorf("{}: {}", what, diagnostics.empty() ? "no diagnostic" : diagnostics);
}

ThreadDiagnostics::ThreadDiagnostics() : outer_(currentThreadDiagnostics) { currentThreadDiagnostics = this; }
ThreadDiagnostics::~ThreadDiagnostics() { currentThreadDiagnostics = outer_; }
ThreadDiagnostics *ThreadDiagnostics::current() { return currentThreadDiagnostics; }

} // namespace mobagen::compiler
