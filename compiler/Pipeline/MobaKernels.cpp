#include "compiler/Pipeline/MobaKernels.h"

#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"
#include "compiler/Conversion/MobaToTile/InstantiateKernels.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::compiler {
namespace {

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
  if (failed(instantiateMobaKernels(*module, config, kAllKernels)) || failed(mlir::verify(*module)))
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
  const MobaTuning tuning = defaultMobaTuning(config);
  kernels.poolThreads = static_cast<uint32_t>(32 * tuning.pool.numWarps);
  kernels.gateThreads = static_cast<uint32_t>(32 * tuning.gate.numWarps);
  kernels.gateRowsPerProgram = static_cast<uint32_t>(tuning.gate.blockM);
  kernels.attentionThreads = static_cast<uint32_t>(32 * tuning.attention.numWarps);
  kernels.attentionRowsPerProgram = static_cast<uint32_t>(tuning.attention.blockM);
  return kernels;
}

} // namespace mobagen::compiler
