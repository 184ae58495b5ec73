//===- InProcessBundle.cpp - One PTX module per kernel variant, and a manifest -===//
#include "tools/mobagen/InProcessBundle.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "compiler/Conversion/MobaToTile/InstantiateKernels.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

namespace mobagen::cli {
namespace {

std::string configText(const compiler::MobaKernelConfig &c) {
  std::string text = fmt::format(
      "#moba.config<block_size = {}, top_k = {}, head_dim = {}, num_q_heads = {}, "
      "num_kv_heads = {}, causal = {}, dtype = {}, target = {}",
      c.blockSize, c.topK, c.headDim, c.numQHeads, c.numKvHeads, c.causal ? "true" : "false",
      c.dtype == DType::BF16 ? "bf16" : "f16", c.target);
  if (c.scale)
    text += fmt::format(", scale = {:.17g}", *c.scale);
  return text + ">";
}

/// One variant to build: the kernel, its id, knobs and launch shape.
struct VariantPlan {
  std::string kernel, id;
  std::vector<std::pair<std::string, int64_t>> knobs;
  uint32_t threads = 0, rowsPerProgram = 0;
  std::function<mlir::FailureOr<mlir::func::FuncOp>(mlir::ModuleOp, moba::ConfigAttr)> build;
};

std::vector<VariantPlan> plan(const BundleVariants &variants) {
  std::vector<VariantPlan> plans;
  for (const auto &p : variants.poolKeys)
    plans.push_back({"pool_keys", fmt::format("r{}w{}", p.blockRows, p.numWarps),
                     {{"block_rows", p.blockRows}, {"num_warps", p.numWarps}}, uint32_t(32 * p.numWarps), 0,
                     [p](mlir::ModuleOp m, moba::ConfigAttr c) {
                       return templates::buildPoolKeys(m, c, {.blockRows = p.blockRows, .numWarps = p.numWarps});
                     }});
  for (const auto &g : variants.gateTopK)
    plans.push_back({"gate_topk", fmt::format("m{}n{}w{}", g.blockM, g.blockN, g.numWarps),
                     {{"block_m", g.blockM}, {"block_n", g.blockN}, {"num_warps", g.numWarps}},
                     uint32_t(32 * g.numWarps), uint32_t(g.blockM), [g](mlir::ModuleOp m, moba::ConfigAttr c) {
                       return templates::buildGateTopK(
                           m, c, {.blockM = g.blockM, .blockN = g.blockN, .numWarps = g.numWarps});
                     }});
  for (const auto &a : variants.sparseAttention)
    plans.push_back({"sparse_attention_fwd", fmt::format("m{}n{}w{}", a.blockM, a.blockN, a.numWarps),
                     {{"block_m", a.blockM}, {"block_n", a.blockN}, {"num_warps", a.numWarps}},
                     uint32_t(32 * a.numWarps), uint32_t(a.blockM), [a](mlir::ModuleOp m, moba::ConfigAttr c) {
                       return templates::buildSparseAttentionFwd(
                           m, c, {.blockM = a.blockM, .blockN = a.blockN, .numWarps = a.numWarps});
                     }});
  return plans;
}

nlohmann::json gridOf(const std::string &kernel) {
  if (kernel == "pool_keys")
    return {"ceil(max_seqlen_k / block_size)", "num_kv_heads", "batch"};
  return {"ceil(max_seqlen_q / rows_per_program)", "num_q_heads", "batch"};
}

} // namespace

BundleVariants defaultBundleVariants(const compiler::MobaKernelConfig &config) {
  // compiler::defaultMobaTuning's values (InstantiateKernels.h).
  const int64_t attentionRows = config.headDim > 64 ? 8 : 16;
  return {.poolKeys = {{16, 2}}, .gateTopK = {{16, 16, 2}}, .sparseAttention = {{attentionRows, 8, 4}}};
}

Expected<BundleFiles> generateBundle(const compiler::MobaKernelConfig &c, const BundleVariants &variants) {
  mlir::MLIRContext context;
  context.loadDialect<moba::MobaDialect, tile::TileDialect, mlir::func::FuncDialect>();
  mlir::DialectRegistry registry;
  compiler::registerPtxTranslations(registry);
  context.appendDialectRegistry(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler collect(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      diagnostics += (diagnostics.empty() ? "" : "; ") + d.str();
    return mlir::success();
  });
  auto failWith = [&](const std::string &what) {
    return Status::errorf("{}: {}", what, diagnostics.empty() ? "no diagnostic" : diagnostics);
  };
  auto config = llvm::dyn_cast_if_present<moba::ConfigAttr>(mlir::parseAttribute(configText(c), &context));
  if (!config)
    return failWith("the configuration is not supported by the generated kernels");

  nlohmann::json manifest = {
      {"format", "mobagen-bundle"},
      {"format_version", 2},
      {"mobagen_version", MOBAGEN_VERSION},
      {"compiler", fmt::format("mobagen {}, LLVM NVPTX", MOBAGEN_VERSION)},
      {"config",
       {{"block_size", c.blockSize},
        {"top_k", c.topK},
        {"head_dim", c.headDim},
        {"num_q_heads", c.numQHeads},
        {"num_kv_heads", c.numKvHeads},
        {"causal", c.causal},
        {"dtype", std::string(dtypeName(c.dtype))},
        {"target", c.target},
        {"scale", c.scale ? nlohmann::json(*c.scale) : nlohmann::json(nullptr)}}},
      {"workspace",
       {{{"name", "kbar"}, {"type", "f32"}, {"shape", {"total key blocks", "num_kv_heads", "head_dim"}}},
        {{"name", "selected"}, {"type", "i32"}, {"shape", {"total_q", "num_q_heads", "top_k"}}}}},
      {"kernels", nlohmann::json::array()}};
  BundleFiles files;
  for (const VariantPlan &p : plan(variants)) {
    mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
    auto func = p.build(*module, config);
    if (failed(func) || failed(mlir::verify(*module)))
      return failWith(fmt::format("building {} variant {} failed", p.kernel, p.id));
    func->setSymName(fmt::format("{}_{}", p.kernel, p.id));
    nlohmann::json params = nlohmann::json::array();
    for (mlir::BlockArgument arg : func->getArguments()) {
      std::string type;
      llvm::raw_string_ostream(type) << arg.getType();
      auto name = llvm::dyn_cast<mlir::NameLoc>(arg.getLoc());
      params.push_back({{"name", name ? name.getName().str() : ""}, {"type", type}});
    }
    mlir::PassManager pm(&context);
    compiler::buildTileToLLVMPipeline(pm, /*numWarps=*/4); // the kernel carries its own
    if (failed(pm.run(*module)))
      return failWith(fmt::format("lowering {} variant {} failed", p.kernel, p.id));
    auto ptx = compiler::emitPtx(*module, {.chip = c.target});
    if (!ptx)
      return ptx.status();
    const std::string file = fmt::format("{}.{}.ptx", p.kernel, p.id);
    files.emplace_back(file, std::move(*ptx));

    nlohmann::json variant = {{"id", p.id},
                              {"entry", fmt::format("{}_{}", p.kernel, p.id)},
                              {"ptx", file},
                              {"threads", p.threads},
                              {"rows_per_program", p.rowsPerProgram},
                              {"dynamic_shared_bytes", 0},
                              {"knobs", nlohmann::json::object()}};
    for (const auto &[knob, value] : p.knobs)
      variant["knobs"][knob] = value;
    nlohmann::json &kernels = manifest["kernels"];
    if (kernels.empty() || kernels.back()["name"] != p.kernel)
      kernels.push_back({{"name", p.kernel}, {"params", params}, {"grid", gridOf(p.kernel)},
                         {"variants", nlohmann::json::array()}});
    kernels.back()["variants"].push_back(variant);
  }
  files.insert(files.begin(), {"manifest.json", manifest.dump(2) + "\n"});
  return files;
}

Status writeBundle(const BundleFiles &files, const std::filesystem::path &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::errorf("cannot create bundle directory '{}': {}", dir.string(), ec.message());
  for (const auto &[name, bytes] : files) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out)
      return Status::errorf("{}: cannot write", (dir / name).string());
  }
  return Status::success();
}

} // namespace mobagen::cli
