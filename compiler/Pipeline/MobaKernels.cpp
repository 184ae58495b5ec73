#include "compiler/Pipeline/MobaKernels.h"

#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"
#include "templates/GateTopK.h"
#include "templates/PoolKeys.h"
#include "templates/SparseAttentionFwd.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::compiler {
namespace {

// The tuning used until the autotuner picks per shape: small tiles, because the
// baseline lowering keeps every tile element in registers and stages cross-thread
// operands in static shared memory (48 KiB at most). The attention kernel's
// [block_m, block_n, D] f32 tile is 32 KiB at 16 x 8 x 64 and at 8 x 8 x 128.
constexpr templates::PoolKeysTuning kPool{.blockRows = 16, .numWarps = 2};
constexpr templates::GateTopKTuning kGate{.blockM = 16, .blockN = 16, .numWarps = 2};

templates::SparseAttentionTuning attentionTuning(int64_t headDim) {
  return {.blockM = headDim > 64 ? 8 : 16, .blockN = 8, .numWarps = 4};
}

std::string configText(const MobaKernelConfig &c) {
  std::string text = fmt::format(
      "#moba.config<block_size = {}, top_k = {}, head_dim = {}, num_q_heads = {}, "
      "num_kv_heads = {}, causal = {}, dtype = {}, target = {}",
      c.blockSize, c.topK, c.headDim, c.numQHeads, c.numKvHeads, c.causal ? "true" : "false",
      c.dtype == DType::BF16 ? "bf16" : "f16", c.target);
  if (c.scale)
    text += fmt::format(", scale = {:.17g}", *c.scale);
  return text + ">";
}

} // namespace

Expected<MobaKernels> generateMobaKernels(const MobaKernelConfig &c) {
  mlir::MLIRContext context;
  context.loadDialect<moba::MobaDialect, tile::TileDialect, mlir::func::FuncDialect>();
  mlir::DialectRegistry registry;
  registerPtxTranslations(registry);
  context.appendDialectRegistry(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler collect(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
    return mlir::success();
  });
  auto failWith = [&](std::string_view what) {
    return Status::errorf("{}: {}", what, diagnostics.empty() ? "no diagnostic" : diagnostics);
  };

  auto config = llvm::dyn_cast_if_present<moba::ConfigAttr>(
      mlir::parseAttribute(configText(c), &context));
  if (!config)
    return failWith("the configuration is not supported by the generated kernels");

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  if (failed(templates::buildPoolKeys(*module, config, kPool)) ||
      failed(templates::buildGateTopK(*module, config, kGate)) ||
      failed(templates::buildSparseAttentionFwd(*module, config, attentionTuning(c.headDim))) ||
      failed(mlir::verify(*module)))
    return failWith("building the MoBA kernels failed");

  mlir::PassManager pm(&context);
  buildTileToLLVMPipeline(pm, /*numWarps=*/4); // each kernel sets its own
  if (failed(pm.run(*module)))
    return failWith("lowering the MoBA kernels failed");
  auto ptx = emitPtx(*module, {.chip = c.target});
  if (!ptx)
    return ptx.status();

  MobaKernels kernels;
  kernels.ptx = std::move(*ptx);
  kernels.poolThreads = static_cast<uint32_t>(32 * kPool.numWarps);
  kernels.gateThreads = static_cast<uint32_t>(32 * kGate.numWarps);
  kernels.gateRowsPerProgram = static_cast<uint32_t>(kGate.blockM);
  const templates::SparseAttentionTuning attention = attentionTuning(c.headDim);
  kernels.attentionThreads = static_cast<uint32_t>(32 * attention.numWarps);
  kernels.attentionRowsPerProgram = static_cast<uint32_t>(attention.blockM);
  return kernels;
}

} // namespace mobagen::compiler
