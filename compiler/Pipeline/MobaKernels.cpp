//===- MobaKernels.cpp - a MoBA configuration to the PTX of its kernels' variants
//
// One MLIRContext for the whole set (GenerationContext.h). Each variant is built,
// lowered and emitted in its own module by one of a few workers; each worker
// reuses one NVPTX TargetMachine.
// The lowering passes run without the verifier between them: the templates' output
// is verified, and the lit suite runs the same pipeline verified (mobagen-opt).
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipeline/MobaKernels.h"

#include "compiler/Pipeline/GenerationContext.h"
#include "compiler/Conversion/MobaToTile/TuningSpace.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/Target/PtxEmitter.h"
#include "compiler/Target/StageClock.h"
#include "dialect/moba/IR/MobaDialect.h"
#include "dialect/tile/IR/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <mutex>
#include <thread>

namespace mobagen::compiler {
namespace {

/// A variant to build: which kernel, and how (the template call with its tuning).
struct VariantJob {
  size_t kernel = 0; // index in MobaKernels::kernels
  size_t variant = 0;
  std::function<mlir::FailureOr<mlir::func::FuncOp>(mlir::ModuleOp)> build;
};

template <typename Tuning> KernelVariant describe(const std::string &kernel, moba::ConfigAttr config,
                                                  const TuningVariant<Tuning> &v) {
  KernelVariant out;
  out.id = v.id;
  out.entry = kernel + "_" + v.id;
  out.threads = static_cast<uint32_t>(32 * v.tuning.numWarps);
  out.sharedBytes = stagingBytes(config, v.tuning);
  return out;
}

/// The tuning space as KernelInfos, with the jobs that build each variant.
MobaKernels describeSpace(moba::ConfigAttr config, std::vector<VariantJob> *jobs) {
  const MobaTuningSpace space = mobaTuningSpace(config);
  MobaKernels kernels;
  for (const char *name : {"pool_keys", "gate_topk", "route_scatter", "sparse_attention_blocks",
                           "sparse_attention_merge"})
    kernels.kernels.push_back({.name = name, .params = {}, .variants = {}});
  // Appends the variants of kernel `index`; `knobs` fills a variant's knobs and
  // launch shape from its tuning, `build` is the template call.
  auto addKernel = [&](size_t index, const auto &variants, auto knobs, auto build) {
    for (const auto &v : variants) {
      KernelVariant d = describe(kernels.kernels[index].name, config, v);
      knobs(d, v.tuning);
      if (jobs)
        jobs->push_back({index, kernels.kernels[index].variants.size(),
                         [config, t = v.tuning, build](auto m) { return build(m, config, t); }});
      kernels.kernels[index].variants.push_back(std::move(d));
    }
  };
  addKernel(
      0, space.pool,
      [](KernelVariant &d, const auto &t) {
        d.knobs = {{"block_rows", t.blockRows}, {"num_warps", t.numWarps}};
      },
      [](auto m, auto c, const auto &t) { return templates::buildPoolKeys(m, c, t); });
  // Query-row programs: gate_topk and sparse_attention_merge.
  auto rowKnobs = [](KernelVariant &d, const auto &t) {
    d.rowsPerProgram = static_cast<uint32_t>(t.blockM);
    d.knobs = {{"block_m", t.blockM}, {"block_n", t.blockN}, {"num_warps", t.numWarps}};
  };
  auto routeKnobs = [](KernelVariant &d, const templates::RouteTuning &t) {
    d.rowsPerProgram = static_cast<uint32_t>(t.blockRows);
    d.knobs = {{"block_rows", t.blockRows}, {"blocks", t.blocks}, {"num_warps", t.numWarps}};
  };
  addKernel(1, space.gate, rowKnobs,
            [](auto m, auto c, const auto &t) { return templates::buildGateTopK(m, c, t); });
  addKernel(2, space.route, routeKnobs,
            [](auto m, auto c, const auto &t) { return templates::buildRouteScatter(m, c, t); });
  addKernel(
      3, space.blocks,
      [](KernelVariant &d, const auto &t) {
        d.knobs = {{"block_m", t.blockM},
                   {"block_n", t.blockN},
                   {"num_warps", t.numWarps},
                   {"num_stages", t.numStages},
                   {"keys_resident", t.keysResident ? 1 : 0}};
      },
      [](auto m, auto c, const auto &t) { return templates::buildSparseAttentionBlocks(m, c, t); });
  addKernel(
      4, space.merge,
      [&](KernelVariant &d, const templates::SparseMergeTuning &t) {
        rowKnobs(d, t);
        d.knobs.emplace_back("num_stages", t.numStages);
      },
      [](auto m, auto c, const auto &t) { return templates::buildSparseAttentionMerge(m, c, t); });
  return kernels;
}

/// Keeps, per kernel, the variants `options` asks for (the selected ones in the
/// order given, else the space's order) and their jobs.
Status selectVariants(MobaKernels &kernels, std::vector<VariantJob> &jobs,
                      const GenerateOptions &options) {
  for (const auto &[name, ids] : options.select)
    if (std::none_of(kernels.kernels.begin(), kernels.kernels.end(),
                     [&](const KernelInfo &k) { return k.name == name; }))
      return Status::errorf("unknown kernel '{}' (pool_keys, gate_topk, route_scatter, "
                            "sparse_attention_blocks, sparse_attention_merge)",
                            name);
  // order[k]: the space indices of kernel k's kept variants, in their new order.
  std::vector<std::vector<size_t>> order(kernels.kernels.size());
  for (size_t k = 0; k < kernels.kernels.size(); ++k) {
    const KernelInfo &kernel = kernels.kernels[k];
    auto chosen = options.select.find(kernel.name);
    if (chosen == options.select.end()) {
      for (size_t v = 0; v < kernel.variants.size(); ++v)
        if (options.allVariants || v == 0)
          order[k].push_back(v);
      continue;
    }
    for (const std::string &id : chosen->second) {
      auto it = std::find_if(kernel.variants.begin(), kernel.variants.end(),
                             [&](const KernelVariant &v) { return v.id == id; });
      if (it == kernel.variants.end()) {
        std::string ids;
        for (const KernelVariant &v : kernel.variants)
          ids += (ids.empty() ? "" : ", ") + v.id;
        return Status::errorf("{} has no variant '{}' for this configuration; its variants: {}",
                              kernel.name, id, ids);
      }
      const size_t index = static_cast<size_t>(it - kernel.variants.begin());
      if (std::find(order[k].begin(), order[k].end(), index) != order[k].end())
        return Status::errorf("{} variant '{}' is selected twice", kernel.name, id);
      order[k].push_back(index);
    }
  }
  // Renumber the jobs to the kept variants' new positions.
  std::vector<VariantJob> kept;
  for (VariantJob &job : jobs) {
    const std::vector<size_t> &o = order[job.kernel];
    auto at = std::find(o.begin(), o.end(), job.variant);
    if (at == o.end())
      continue;
    job.variant = static_cast<size_t>(at - o.begin());
    kept.push_back(std::move(job));
  }
  jobs = std::move(kept);
  for (size_t k = 0; k < kernels.kernels.size(); ++k) {
    std::vector<KernelVariant> variants;
    for (size_t v : order[k])
      variants.push_back(std::move(kernels.kernels[k].variants[v]));
    kernels.kernels[k].variants = std::move(variants);
  }
  return Status::success();
}

void addTimes(GenerationTimes &to, const GenerationTimes &from) {
  to.contextMs += from.contextMs;
  to.buildMs += from.buildMs;
  to.passesMs += from.passesMs;
  to.ptx.translateMs += from.ptx.translateMs;
  to.ptx.targetMachineMs += from.ptx.targetMachineMs;
  to.ptx.optimizeMs += from.ptx.optimizeMs;
  to.ptx.codegenMs += from.ptx.codegenMs;
}

/// Builds, lowers and emits one variant into `kernels`.
Status generateVariant(GenerationContext &gc, const VariantJob &job, PtxEmitter &emitter,
                       llvm::StringRef target, bool verifyLowering, MobaKernels &kernels,
                       GenerationTimes &t) {
  KernelInfo &kernel = kernels.kernels[job.kernel];
  KernelVariant &variant = kernel.variants[job.variant];
  const std::string what = fmt::format("{} variant {}", kernel.name, variant.id);
  StageClock clock;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&gc.context));
  mlir::FailureOr<mlir::func::FuncOp> func = job.build(*module);
  if (failed(func))
    return gc.fail(fmt::format("building {} failed", what));
  func->setSymName(variant.entry);
  if (failed(mlir::verify(*module)))
    return gc.fail(fmt::format("building {} failed", what));
  // The signature, read off the tile IR before lowering: argument names are the
  // KernelBuilder's NameLocs. Every variant of a kernel has the same one; the
  // first variant's worker writes it.
  if (job.variant == 0)
    for (mlir::BlockArgument arg : func->getArguments()) {
      std::string type;
      llvm::raw_string_ostream(type) << arg.getType();
      auto name = llvm::dyn_cast<mlir::NameLoc>(arg.getLoc());
      kernel.params.emplace_back(name ? name.getName().str() : "", type);
    }
  t.buildMs += clock.lap();

  mlir::PassManager pm(&gc.context);
  pm.enableVerifier(verifyLowering);
  // Each kernel sets its own warps.
  buildTileToLLVMPipeline(pm, /*numWarps=*/4, DotLowering::mma, sharedLimitOf(target));
  if (failed(pm.run(*module)))
    return gc.fail(fmt::format("lowering {} failed", what));
  module->walk([&](mlir::LLVM::LLVMFuncOp fn) {
    if (auto bytes = fn->getAttrOfType<mlir::IntegerAttr>(kDynamicSharedAttr))
      variant.dynamicSharedBytes = static_cast<uint32_t>(bytes.getInt());
  });
  t.passesMs += clock.lap();
  auto ptx = emitter.emit(*module, &t.ptx);
  if (!ptx)
    return ptx.status().withContext(what + ": ");
  variant.ptx = std::move(*ptx);
  return Status::success();
}

} // namespace

std::string llvmVersion() { return LLVM_VERSION_STRING; }

Expected<MobaKernels> mobaTuningSpace(const MobaKernelConfig &c) {
  GenerationContext gc;
  moba::ConfigAttr config = buildConfigAttr(c, gc.context);
  if (!config)
    return gc.fail("the configuration is not supported by the generated kernels");
  return describeSpace(config, nullptr);
}

Expected<MobaKernels> generateMobaKernels(const MobaKernelConfig &c,
                                          const GenerateOptions &options) {
  GenerationTimes total;
  StageClock clock;
  GenerationContext gc;
  moba::ConfigAttr config = buildConfigAttr(c, gc.context);
  if (!config)
    return gc.fail("the configuration is not supported by the generated kernels");
  std::vector<VariantJob> jobs;
  MobaKernels kernels = describeSpace(config, &jobs);
  MOBAGEN_RETURN_IF_ERROR(selectVariants(kernels, jobs, options));
  total.contextMs += clock.lap();
  if (jobs.empty())
    return kernels;

  unsigned workers = options.threads ? options.threads : std::thread::hardware_concurrency();
  workers = std::clamp<unsigned>(workers, 1, static_cast<unsigned>(jobs.size()));
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status firstError = Status::success();
  auto work = [&] {
    GenerationTimes t;
    auto emitter = PtxEmitter::create({.chip = c.target, .optLevel = options.optLevel}, &t.ptx);
    if (!emitter) {
      std::lock_guard<std::mutex> lock(mutex);
      if (firstError.ok())
        firstError = emitter.status();
      return;
    }
    for (size_t i = next++; i < jobs.size(); i = next++) {
      Status s = generateVariant(gc, jobs[i], *emitter, c.target, options.verifyLowering,
                                 kernels, t);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (firstError.ok())
          firstError = s;
        next = jobs.size();
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    addTimes(total, t);
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i)
    threads.emplace_back(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
  if (!firstError.ok())
    return firstError;
  if (options.times)
    addTimes(*options.times, total);
  return kernels;
}

const KernelInfo &MobaKernels::kernel(std::string_view name) const {
  for (const KernelInfo &k : kernels)
    if (k.name == name)
      return k;
  assert(false && "MobaKernels holds the five kernels of a forward");
  return kernels.front();
}

} // namespace mobagen::compiler
