//===- GeneratedContext.cpp - Contexts from bundles generated at run time ---===//
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "jit/GeneratedContext.h"
#include "mobagen/mobagen_jit.h"
#include "runtime/api/LastError.h"
#include "runtime/cache/DiskCache.h"
#include "tools/mobagen/InProcessBundle.h"

namespace {

using mobagen::api::setLastError;
using BundleFiles = mobagen::cli::BundleFiles;

} // namespace

std::string mobagen::jit::bundleCacheKey(const compiler::MobaKernelConfig &c) {
  mobagen::CacheKey key;
  key.add("entry", "generated-bundle")
      .add("bundle_format", 2)
      .add("block_size", c.blockSize)
      .add("top_k", c.topK)
      .add("head_dim", c.headDim)
      .add("num_q_heads", c.numQHeads)
      .add("num_kv_heads", c.numKvHeads)
      .add("causal", c.causal ? 1 : 0)
      .add("dtype", mobagen::dtypeName(c.dtype))
      .add("target", c.target)
      .add("scale", c.scale ? fmt::format("{:a}", *c.scale) : std::string("default"))
      .add("mobagen_version", mobagen_version())
      .add("llvm_version", mobagen::compiler::llvmVersion());
  return key.str();
}

namespace {

std::string pack(const BundleFiles &files) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto &[name, bytes] : files)
    j.push_back({{"name", name}, {"bytes", bytes}});
  return j.dump();
}

/// The files of a cached payload, or nothing if it is not a list of named files.
std::optional<BundleFiles> unpack(const std::string &payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array() || j.empty())
    return std::nullopt;
  BundleFiles files;
  for (const auto &f : j) {
    if (!f.is_object() || !f.contains("name") || !f.contains("bytes") || !f["name"].is_string() ||
        !f["bytes"].is_string())
      return std::nullopt;
    files.emplace_back(f["name"].get<std::string>(), f["bytes"].get<std::string>());
  }
  return files;
}

mobagen_status createFrom(mobagen_device *device, const BundleFiles &files, const mobagen_context_options *options,
                          mobagen_context **context) {
  std::vector<mobagen_bundle_file> views;
  for (const auto &[name, bytes] : files)
    views.push_back({name.c_str(), reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()});
  return mobagen_context_create_from_files(device, views.data(), views.size(), options, context);
}

} // namespace

mobagen_status mobagen_context_create_for_config(mobagen_device *device, const mobagen_config *config,
                                                 const mobagen_context_options *options,
                                                 mobagen_context **context) {
  if (!context)
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT, "mobagen_context_create_for_config: context is null");
  *context = nullptr;
  if (!device)
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT, "mobagen_context_create_for_config: device is null");
  if (!config)
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT, "mobagen_context_create_for_config: config is null");
  if (config->dtype != MOBAGEN_DTYPE_BF16 && config->dtype != MOBAGEN_DTYPE_FP16)
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT,
                        fmt::format("mobagen_context_create_for_config: dtype = {} is not MOBAGEN_DTYPE_BF16 (0) "
                                    "or MOBAGEN_DTYPE_FP16 (1)",
                                    int(config->dtype)));
  const size_t targetLength = strnlen(config->target, sizeof(config->target));
  if (targetLength == sizeof(config->target))
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT,
                        "mobagen_context_create_for_config: config->target is not NUL-terminated");
  if (config->has_scale && !(std::isfinite(config->scale) && config->scale > 0))
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT,
                        fmt::format("mobagen_context_create_for_config: scale = {} must be finite and > 0",
                                    config->scale));
  mobagen::compiler::MobaKernelConfig c{
      .blockSize = config->block_size, .topK = config->top_k, .headDim = config->head_dim,
      .numQHeads = config->num_q_heads, .numKvHeads = config->num_kv_heads, .causal = config->causal != 0,
      .dtype = config->dtype == MOBAGEN_DTYPE_BF16 ? mobagen::DType::BF16 : mobagen::DType::F16,
      .target = targetLength ? std::string(config->target, targetLength) : std::string("sm_80"),
      .scale = config->has_scale ? std::optional<double>(config->scale) : std::nullopt};

  std::optional<mobagen::DiskCache> cache;
  if (options && options->cache_dir) {
    auto opened = mobagen::DiskCache::open(options->cache_dir);
    if (!opened)
      return setLastError(MOBAGEN_ERROR_IO, fmt::format("mobagen_context_create_for_config: {}",
                                                        opened.status().message()));
    cache.emplace(std::move(*opened));
  }
  const std::string key = mobagen::jit::bundleCacheKey(c);
  if (cache) {
    // A cached bundle that does not unpack or load is regenerated below.
    mobagen::CacheLookup hit = cache->load(key);
    if (hit.payload)
      if (auto files = unpack(*hit.payload))
        if (createFrom(device, *files, options, context) == MOBAGEN_SUCCESS)
          return MOBAGEN_SUCCESS;
  }
  auto files = mobagen::cli::generateBundle(c, {.allVariants = true});
  if (!files)
    return setLastError(MOBAGEN_ERROR_INVALID_ARGUMENT,
                        fmt::format("mobagen_context_create_for_config: cannot generate the kernels of this "
                                    "configuration: {}",
                                    files.status().message()));
  const mobagen_status created = createFrom(device, *files, options, context);
  if (created != MOBAGEN_SUCCESS || !cache)
    return created;
  // A full or read-only disk does not stop the run: the context works, and the
  // next process generates the bundle again.
  (void)cache->store(key, pack(*files));
  return MOBAGEN_SUCCESS;
}
