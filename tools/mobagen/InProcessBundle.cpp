//===- InProcessBundle.cpp - Bundle format 4: manifest, PTX and cubins -------===//
#include "tools/mobagen/InProcessBundle.h"
#include "runtime/bundle/FileHash.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/Target/PtxEmitter.h"

namespace mobagen::cli {
namespace {

/// How each kernel's grid follows from the batch (the manifest's "grid").
nlohmann::json gridOf(const compiler::KernelInfo &k) {
  if (k.name == "pool_keys")
    return {"max_blocks_per_sequence", "num_kv_heads", "batch"};
  if (k.name == "sparse_attention_blocks")
    return {"max_blocks_per_sequence", "num_q_heads", "batch"};
  return {"ceil(max_seqlen_q / rows_per_program)", "num_q_heads", "batch"};
}

/// The workspace's buffers (the manifest's "workspace"), in the launcher's order.
nlohmann::json workspaceOf() {
  auto buffer = [](const char *name, const char *dtype, std::vector<const char *> shape) {
    return nlohmann::json{{"name", name}, {"dtype", dtype}, {"shape", shape}};
  };
  return nlohmann::json::array(
      {buffer("kbar", "f32", {"total_blocks", "num_kv_heads", "head_dim"}),
       buffer("selected", "i32", {"total_q", "num_q_heads", "top_k"}),
       buffer("ranks", "i32", {"total_q", "num_q_heads", "top_k"}),
       buffer("block_counts", "i32", {"total_blocks", "num_q_heads"}),
       buffer("block_offsets", "i32", {"total_blocks", "num_q_heads"}),
       buffer("routed", "i32", {"total_q", "num_q_heads", "top_k"}),
       buffer("partial_out", "f32", {"total_q", "num_q_heads", "top_k", "head_dim"}),
       buffer("partial_lse", "f32", {"total_q", "num_q_heads", "top_k"})});
}

} // namespace

Expected<BundleFiles> generateBundle(const compiler::MobaKernelConfig &config, const BundleOptions &options) {
  auto kernels = compiler::generateMobaKernels(
      config, {.allVariants = options.allVariants,
               .select = options.only,
               .threads = options.threads,
               .optLevel = options.optLevel});
  if (!kernels)
    return kernels.status();

  const auto &c = config;
  nlohmann::json manifest = {
      {"format", "mobagen-bundle"},
      {"format_version", 4},
      {"mobagen_version", MOBAGEN_VERSION},
      {"compiler", fmt::format("mobagen {}, LLVM {} NVPTX", MOBAGEN_VERSION,
                               compiler::llvmVersion())},
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
      {"workspace", workspaceOf()},
      {"kernels", nlohmann::json::array()}};

  BundleFiles files; // manifest.json goes first, once complete
  for (const compiler::KernelInfo &k : kernels->kernels) {
    nlohmann::json kernel = {{"name", k.name}, {"params", nlohmann::json::array()},
                             {"grid", gridOf(k)}, {"variants", nlohmann::json::array()}};
    for (const auto &[param, type] : k.params)
      kernel["params"].push_back({{"name", param}, {"type", type}});
    for (const compiler::KernelVariant &v : k.variants) {
      const std::string ptxName = fmt::format("{}.{}.ptx", k.name, v.id);
      nlohmann::json variant = {{"id", v.id},
                                {"entry", v.entry},
                                {"ptx", ptxName},
                                {"threads", v.threads},
                                {"rows_per_program", v.rowsPerProgram},
                                {"dynamic_shared_bytes", v.dynamicSharedBytes},
                                {"knobs", nlohmann::json::object()}};
      for (const auto &[knob, value] : v.knobs)
        variant["knobs"][knob] = value;
      files.push_back({ptxName, v.ptx});
      if (options.cubin) {
        auto cubin = compiler::assembleCubin(v.ptx, c.target);
        if (!cubin)
          return cubin.status().withContext(fmt::format("{} variant {}: ", k.name, v.id));
        const std::string cubinName = fmt::format("{}.{}.{}.cubin", k.name, v.id, c.target);
        files.push_back({cubinName, std::string(cubin->image.begin(), cubin->image.end())});
        variant["cubin"] = cubinName;
        for (const compiler::KernelResources &r : cubin->kernels)
          if (r.kernel == v.entry)
            variant["resources"] = {{"registers", r.registers},
                                    {"stack_bytes", r.stackFrameBytes},
                                    {"spill_store_bytes", r.spillStoreBytes},
                                    {"spill_load_bytes", r.spillLoadBytes},
                                    {"shared_bytes", r.sharedBytes}};
        if (!variant.contains("resources"))
          return Status::errorf("ptxas reported no resources for entry {} (its log: {})", v.entry,
                                cubin->infoLog);
      }
      kernel["variants"].push_back(std::move(variant));
    }
    manifest["kernels"].push_back(std::move(kernel));
  }
  // Every other file's content hash, checked by the runtime when it reads the
  // file (docs/bundle.md, "File hashes"): a changed or truncated PTX is refused.
  manifest["files"] = nlohmann::json::object();
  for (const auto &[name, bytes] : files)
    manifest["files"][name] = bundle::fileHash(bytes);
  files.insert(files.begin(), {"manifest.json", manifest.dump(2) + "\n"});
  return files;
}

size_t bundleVariantCount(const BundleFiles &files) {
  size_t count = 0;
  for (const auto &[name, bytes] : files)
    count += name.size() > 4 && name.compare(name.size() - 4, 4, ".ptx") == 0;
  return count;
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
