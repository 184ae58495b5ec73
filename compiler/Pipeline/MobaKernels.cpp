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

#include <cassert>
#include <chrono>
#include <map>

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

Expected<MobaKernels> generateMobaKernels(const MobaKernelConfig &c, GenerationTimes *times) {
  GenerationTimes ignored;
  GenerationTimes &t = times ? *times : ignored;
  auto last = std::chrono::steady_clock::now();
  auto lap = [&] {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last).count();
    last = now;
    return ms;
  };
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
  t.contextMs += lap();

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  if (failed(instantiateMobaKernels(*module, config, kAllKernels)) || failed(mlir::verify(*module)))
    return failWith("building the MoBA kernels failed");
  t.buildMs += lap();

  // What a launcher needs of each kernel, read off the tile IR before lowering:
  // argument names are the KernelBuilder's NameLocs.
  const MobaTuning tuning = defaultMobaTuning(config);
  const std::map<std::string, std::vector<std::pair<std::string, int64_t>>> knobs = {
      {"pool_keys", {{"block_rows", tuning.pool.blockRows}, {"num_warps", tuning.pool.numWarps}}},
      {"gate_topk",
       {{"block_m", tuning.gate.blockM}, {"block_n", tuning.gate.blockN}, {"num_warps", tuning.gate.numWarps}}},
      {"sparse_attention_fwd",
       {{"block_m", tuning.attention.blockM}, {"block_n", tuning.attention.blockN},
        {"num_warps", tuning.attention.numWarps}}}};
  MobaKernels kernels;
  for (auto func : module->getOps<mlir::func::FuncOp>()) {
    KernelInfo info;
    info.name = func.getSymName().str();
    info.knobs = knobs.at(info.name);
    for (const auto &[knob, value] : info.knobs) {
      if (knob == "num_warps")
        info.threads = static_cast<uint32_t>(32 * value);
      if (knob == "block_m")
        info.rowsPerProgram = static_cast<uint32_t>(value);
    }
    for (mlir::BlockArgument arg : func.getArguments()) {
      std::string type;
      llvm::raw_string_ostream(type) << arg.getType();
      auto name = llvm::dyn_cast<mlir::NameLoc>(arg.getLoc());
      info.params.emplace_back(name ? name.getName().str() : "", type);
    }
    kernels.kernels.push_back(std::move(info));
  }

  mlir::PassManager pm(&context);
  buildTileToLLVMPipeline(pm, /*numWarps=*/4); // each kernel sets its own
  if (failed(pm.run(*module)))
    return failWith("lowering the MoBA kernels failed");
  t.passesMs += lap();
  auto ptx = emitPtx(*module, {.chip = c.target}, &t.ptx);
  if (!ptx)
    return ptx.status();

  kernels.ptx = std::move(*ptx);
  return kernels;
}

const KernelInfo &MobaKernels::kernel(std::string_view name) const {
  for (const KernelInfo &k : kernels)
    if (k.name == name)
      return k;
  assert(false && "MobaKernels holds pool_keys, gate_topk and sparse_attention_fwd");
  return kernels.front();
}

} // namespace mobagen::compiler
