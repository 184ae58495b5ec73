//===- GenerateCommand.cpp - `mobagen generate`: a configuration's kernel bundle
//
// Writes, for one MoBA configuration, the PTX module of its three kernels and a
// manifest that says how to launch them (docs/bundle.md); with --cubin, also the
// cubin assembled by nvJitLink for the target and ptxas's resource report per
// kernel. The bundle is what a host without LLVM/MLIR will load.
//
//===----------------------------------------------------------------------===//
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/Pipeline/MobaKernels.h"
#include "compiler/Target/PtxEmitter.h"
#include "tools/mobagen/Commands.h"

namespace mobagen::cli {
namespace {

struct GenerateOptions {
  compiler::MobaKernelConfig config;
  std::string dtype = "bf16";
  double scale = 0.0;
  bool haveScale = false;
  bool cubin = false;
  std::string outputDir = "mobagen-bundle";
};

Status writeFile(const std::filesystem::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return Status::errorf("{}: cannot write", path.string());
  return Status::success();
}

/// How each kernel's grid follows from the batch (the manifest's "grid").
nlohmann::json gridOf(const compiler::KernelInfo &k) {
  if (k.name == "pool_keys")
    return {"max over sequences of ceil(Lk / block_size)", "num_kv_heads", "batch"};
  return {fmt::format("ceil(max over sequences of Lq / {})", k.rowsPerProgram), "num_q_heads",
          "batch"};
}

int generateCommand(GenerateOptions o) {
  auto fail = [](const Status &status) {
    fmt::print(stderr, "mobagen generate: error: {}\n", status.message());
    return kExitFailure;
  };
  o.config.dtype = *parseDType(o.dtype);
  if (o.haveScale)
    o.config.scale = o.scale;
  auto kernels = compiler::generateMobaKernels(o.config);
  if (!kernels)
    return fail(kernels.status());

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.outputDir, ec);
  if (ec)
    return fail(Status::errorf("cannot create output directory '{}': {}", o.outputDir,
                               ec.message()));
  const fs::path dir(o.outputDir);
  if (Status s = writeFile(dir / "kernels.ptx", kernels->ptx); !s)
    return fail(s);

  const auto &c = o.config;
  nlohmann::json manifest = {
      {"format", "mobagen-bundle"},
      {"format_version", 1},
      {"mobagen_version", MOBAGEN_VERSION},
      {"config",
       {{"block_size", c.blockSize},
        {"top_k", c.topK},
        {"head_dim", c.headDim},
        {"num_q_heads", c.numQHeads},
        {"num_kv_heads", c.numKvHeads},
        {"causal", c.causal},
        {"dtype", o.dtype},
        {"target", c.target},
        {"scale", c.scale ? nlohmann::json(*c.scale) : nlohmann::json(nullptr)}}},
      {"ptx", "kernels.ptx"},
      {"workspace",
       {{"kbar", "f32 [total blocks, num_kv_heads, head_dim]"},
        {"selected", "i32 [total_q, num_q_heads, top_k]"}}}};

  std::vector<compiler::KernelResources> resources;
  if (o.cubin) {
    auto cubin = compiler::assembleCubin(kernels->ptx, c.target);
    if (!cubin)
      return fail(cubin.status());
    const std::string name = fmt::format("kernels.{}.cubin", c.target);
    if (Status s = writeFile(dir / name, std::string(cubin->image.begin(), cubin->image.end())); !s)
      return fail(s);
    manifest["cubin"] = name;
    resources = cubin->kernels;
  }
  for (const compiler::KernelInfo &k : kernels->kernels) {
    nlohmann::json kernel = {{"name", k.name}, {"block", {k.threads, 1, 1}}, {"grid", gridOf(k)}};
    for (const auto &[knob, value] : k.knobs)
      kernel["knobs"][knob] = value;
    for (const auto &[param, type] : k.params)
      kernel["params"].push_back({{"name", param}, {"type", type}});
    for (const compiler::KernelResources &r : resources)
      if (r.kernel == k.name)
        kernel["resources"] = {{"registers", r.registers},
                               {"stack_bytes", r.stackFrameBytes},
                               {"spill_store_bytes", r.spillStoreBytes},
                               {"spill_load_bytes", r.spillLoadBytes},
                               {"shared_bytes", r.sharedBytes}};
    manifest["kernels"].push_back(kernel);
  }
  if (Status s = writeFile(dir / "manifest.json", manifest.dump(2) + "\n"); !s)
    return fail(s);
  fmt::print("mobagen generate: wrote kernels.ptx{}, manifest.json to {} ({} kernels)\n",
             o.cubin ? fmt::format(", kernels.{}.cubin", c.target) : "", o.outputDir,
             kernels->kernels.size());
  return kExitOk;
}

} // namespace

std::function<int()> addGenerateCommand(CLI::App &app) {
  auto options = std::make_shared<GenerateOptions>();
  GenerateOptions &o = *options;
  CLI::App *gen = app.add_subcommand(
      "generate", "Generate a configuration's MoBA kernels: PTX, manifest, optional cubin");
  gen->footer("Writes kernels.ptx (pool_keys, gate_topk, sparse_attention_fwd) and\n"
              "manifest.json (configuration, kernels, parameters, launch shapes; with --cubin\n"
              "also ptxas's registers, spills and shared memory) to --output-dir. Format:\n"
              "docs/bundle.md.");
  gen->add_option("--block-size", o.config.blockSize, "Keys per block")->capture_default_str();
  gen->add_option("--top-k", o.config.topK, "Blocks per query")->capture_default_str();
  gen->add_option("--head-dim", o.config.headDim, "Head dimension D")->capture_default_str();
  gen->add_option("--num-q-heads", o.config.numQHeads, "Query heads Hq")->capture_default_str();
  gen->add_option("--num-kv-heads", o.config.numKvHeads, "Key/value heads Hkv")
      ->capture_default_str();
  gen->add_flag("--causal,!--non-causal", o.config.causal, "Causal (default) or non-causal");
  gen->add_option("--dtype", o.dtype, "Element type")
      ->check(CLI::IsMember({"bf16", "fp16"}))
      ->capture_default_str();
  gen->add_option("--target", o.config.target, "GPU architecture: sm_80, sm_90, sm_90a")
      ->capture_default_str();
  gen->add_option("--scale", o.scale, "Softmax scale (default 1/sqrt(D))")
      ->each([&o](const std::string &) { o.haveScale = true; });
  gen->add_flag("--cubin", o.cubin, "Also assemble a cubin for --target with nvJitLink");
  gen->add_option("-o,--output-dir", o.outputDir, "Bundle directory")->capture_default_str();
  return [options] { return generateCommand(*options); };
}

} // namespace mobagen::cli
