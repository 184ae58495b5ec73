//===- GenerationContext.h - the MLIRContext kernels are generated in ---------===//
//
// Internal to compiler/Pipeline: one registered and loaded MLIRContext per
// generation call, shared by its worker threads (dialects and translations are
// loaded before any worker starts: loading a dialect while other threads use the
// context is a race), with the errors its diagnostics carry. A worker that needs
// the errors of one variant alone (a variant refused from a tuning space, not a
// failed call) opens a ThreadDiagnostics around it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/Pipeline/MobaKernels.h"
#include "dialect/moba/IR/MobaDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

namespace mobagen::compiler {

/// The #moba.config attribute of `c`, built field by field rather than printed
/// and parsed back: a text round trip loses the type of an integral scale
/// (`scale = 1` is an integer literal, refused for a float parameter). The
/// attribute's verifier still refuses an unsupported configuration, through
/// the context's diagnostic handler.
moba::ConfigAttr buildConfigAttr(const MobaKernelConfig &c, mlir::MLIRContext &context);

class GenerationContext {
public:
  GenerationContext();

  /// `what`: the errors collected so far from threads without a ThreadDiagnostics.
  Status fail(std::string_view what);

  mlir::MLIRContext context;

private:
  std::mutex mutex;
  std::string diagnostics;
  std::optional<mlir::ScopedDiagnosticHandler> handler;
};

/// While alive, the errors diagnosed on this thread go to `text` rather than to the
/// GenerationContext's shared list. The lowering runs on the calling thread (one
/// function per module: the pass manager does not fan out), so this catches them.
class ThreadDiagnostics {
public:
  ThreadDiagnostics();
  ~ThreadDiagnostics();
  ThreadDiagnostics(const ThreadDiagnostics &) = delete;
  ThreadDiagnostics &operator=(const ThreadDiagnostics &) = delete;

  /// The innermost one of this thread, or null.
  static ThreadDiagnostics *current();

  std::string text;

private:
  ThreadDiagnostics *outer_;
};

} // namespace mobagen::compiler
