//===- Context.cpp - Argument checks, variant choice, forward ---------------===//
#include "runtime/api/Context.h"

#include "runtime/api/TuningSelector.h"

#include <cmath>
#include <cstring>
#include <mutex>

namespace mobagen::api {
namespace {

using bundle::KernelKind;

const char *dtypeText(mobagen_dtype d) {
  return d == MOBAGEN_DTYPE_BF16 ? "bf16" : d == MOBAGEN_DTYPE_FP16 ? "fp16" : "unknown";
}
mobagen_dtype toPublic(DType d) { return d == DType::BF16 ? MOBAGEN_DTYPE_BF16 : MOBAGEN_DTYPE_FP16; }

/// The first field where the bundle's config differs from the expected one.
ApiStatus compareConfigs(const mobagen_config &have, const mobagen_config &want, const std::string &origin) {
  auto differ = [&](const char *field, const std::string &h, const std::string &w) {
    return ApiStatus::error(MOBAGEN_ERROR_CONFIG_MISMATCH,
                            fmt::format("bundle '{}' is for {} = {}, but {} was requested", origin, field, h, w));
  };
  const std::pair<const char *, std::pair<int64_t, int64_t>> ints[] = {
      {"block_size", {have.block_size, want.block_size}},
      {"top_k", {have.top_k, want.top_k}},
      {"head_dim", {have.head_dim, want.head_dim}},
      {"num_q_heads", {have.num_q_heads, want.num_q_heads}},
      {"num_kv_heads", {have.num_kv_heads, want.num_kv_heads}}};
  for (const auto &[field, values] : ints)
    if (values.first != values.second)
      return differ(field, std::to_string(values.first), std::to_string(values.second));
  if (bool(have.causal) != bool(want.causal))
    return differ("causal", have.causal ? "true" : "false", want.causal ? "true" : "false");
  if (have.dtype != want.dtype)
    return differ("dtype", dtypeText(have.dtype), dtypeText(want.dtype));
  const std::string wantTarget(want.target, strnlen(want.target, sizeof want.target));
  if (!wantTarget.empty() && wantTarget != have.target)
    return differ("target", have.target, wantTarget);
  const auto scaleText = [](const mobagen_config &c) {
    return c.has_scale ? fmt::format("{:.17g}", c.scale) : std::string("default (1/sqrt(head_dim))");
  };
  // By value: a default scale at head_dim 64 is the explicit 0.125 (the head dims
  // are equal here), so a run naming it uses a default-scale bundle.
  const auto effectiveScale = [](const mobagen_config &c) {
    return c.has_scale ? c.scale : 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  };
  if (effectiveScale(have) != effectiveScale(want))
    return differ("scale", scaleText(have), scaleText(want));
  return ApiStatus::success();
}

/// A device pointer's checks: present when its tensor is not empty, aligned.
ApiStatus checkPointer(const char *name, device::DevicePtr ptr, bool needed, uint64_t alignment,
                       const char *why) {
  if (!needed)
    return ApiStatus::success();
  if (ptr == 0)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT, fmt::format("{} is null", name));
  if (ptr % alignment != 0)
    return ApiStatus::error(MOBAGEN_ERROR_MISALIGNED,
                            fmt::format("{} = 0x{:x} is not {}-byte aligned (it is {} bytes past a boundary; {})",
                                        name, ptr, alignment, ptr % alignment, why));
  return ApiStatus::success();
}

} // namespace

Expected<size_t> selectFirstVariant(const VariantRequest &) { return size_t(0); }

std::string rejectedEntryNote(const std::filesystem::path &entry, KernelKind kernel, std::string_view reason,
                              std::string_view consequence) {
  return fmt::format("tuning-cache entry {} ({}) rejected: {}; {}", entry.string(),
                     bundle::kKernelNames[size_t(kernel)], reason, consequence);
}

tune::ShapeBucket bucketOf(const launch::VarlenShape &s) {
  // The sizes have passed validateShape (each below 2^31), so of() cannot fail.
  auto bucket = tune::ShapeBucket::of(s.batch, s.maxSeqlenQ, s.maxSeqlenK);
  return bucket ? *bucket : tune::ShapeBucket{};
}

Context::Context(std::shared_ptr<device::Device> device, bundle::Bundle bundle)
    : device_(std::move(device)), bundle_(std::move(bundle)), launcher_(*device_, bundle_),
      selector_(makeTuningSelector()) {}

ApiStatus Context::create(std::shared_ptr<device::Device> device, bundle::Bundle bundle,
                          const ContextOptions &options, std::unique_ptr<Context> &out) {
  std::unique_ptr<Context> ctx(new Context(std::move(device), std::move(bundle)));
  if (options.expectedConfig)
    if (ApiStatus s = compareConfigs(ctx->config(), *options.expectedConfig, ctx->bundle_.origin()); !s.ok())
      return s;
  const device::DeviceProperties props = ctx->device_->properties();
  if (Status s = bundle::checkTargetRuns(ctx->bundle_.config().target, props.computeMajor, props.computeMinor); !s)
    return ApiStatus::error(MOBAGEN_ERROR_UNSUPPORTED_DEVICE,
                            fmt::format("bundle '{}' on device '{}': {}", ctx->bundle_.origin(), props.name,
                                        s.message()));
  if (options.cacheDir) {
    auto cache = DiskCache::open(*options.cacheDir);
    if (!cache)
      return ApiStatus::error(MOBAGEN_ERROR_IO, cache.status().message());
    ctx->cache_ = std::move(*cache);
  }
  ctx->log_ = options.log;
  out = std::move(ctx);
  return ApiStatus::success();
}

mobagen_config Context::config() const {
  const bundle::BundleConfig &c = bundle_.config();
  mobagen_config out{};
  out.block_size = c.blockSize;
  out.top_k = c.topK;
  out.head_dim = c.headDim;
  out.num_q_heads = c.numQHeads;
  out.num_kv_heads = c.numKvHeads;
  out.causal = c.causal ? 1 : 0;
  out.dtype = toPublic(c.dtype);
  std::snprintf(out.target, sizeof out.target, "%s", c.target.c_str());
  out.has_scale = c.scale ? 1 : 0;
  out.scale = c.scale ? *c.scale : 1.0 / std::sqrt(double(c.headDim));
  return out;
}

ApiStatus Context::checkShape(const mobagen_shape &shape, launch::VarlenShape &sizes) const {
  const bundle::BundleConfig &c = bundle_.config();
  const std::pair<const char *, std::pair<int64_t, int64_t>> dims[] = {
      {"num_q_heads", {shape.num_q_heads, c.numQHeads}},
      {"num_kv_heads", {shape.num_kv_heads, c.numKvHeads}},
      {"head_dim", {shape.head_dim, c.headDim}}};
  for (const auto &[field, values] : dims)
    if (values.first != values.second)
      return ApiStatus::error(MOBAGEN_ERROR_SHAPE_MISMATCH,
                              fmt::format("shape.{} = {} but the bundle's config has {} = {}", field, values.first,
                                          field, values.second));
  if (shape.dtype != MOBAGEN_DTYPE_BF16 && shape.dtype != MOBAGEN_DTYPE_FP16)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT,
                            fmt::format("shape.dtype = {} is not a mobagen_dtype (0 bf16, 1 fp16)", int(shape.dtype)));
  if (shape.dtype != toPublic(c.dtype))
    return ApiStatus::error(MOBAGEN_ERROR_SHAPE_MISMATCH,
                            fmt::format("shape.dtype = {} but the bundle's config has dtype = {}",
                                        dtypeText(shape.dtype), dtypeName(c.dtype)));
  sizes = {shape.batch, shape.total_q, shape.total_k, shape.max_seqlen_q, shape.max_seqlen_k};
  if (Status s = launch::validateShape(c, sizes); !s)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT, "shape." + s.message());
  return ApiStatus::success();
}

ApiStatus Context::workspaceSize(const mobagen_shape &shape, uint64_t &bytes) const {
  launch::VarlenShape sizes;
  if (ApiStatus s = checkShape(shape, sizes); !s.ok())
    return s;
  if (sizes.batch == 0) {
    bytes = 0;
    return ApiStatus::success();
  }
  auto layout = launch::workspaceLayout(bundle_.config(), sizes);
  if (!layout)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT, layout.status().message());
  bytes = layout->totalBytes;
  return ApiStatus::success();
}

launch::VariantChoice Context::choiceFor(const launch::VarlenShape &shape) const {
  const tune::ShapeBucket b = bucketOf(shape);
  launch::VariantChoice choice{};
  std::shared_lock lock(choicesMutex_);
  if (auto it = tuned_.find({b.batch, b.maxSeqlenQ, b.maxSeqlenK}); it != tuned_.end())
    choice = it->second;
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    if (pinned_[k])
      choice[k] = *pinned_[k];
  return choice;
}

ApiStatus Context::forward(const mobagen_shape &shape, const launch::ForwardBuffers &b, device::Stream stream) {
  launch::VarlenShape sizes;
  if (ApiStatus s = checkShape(shape, sizes); !s.ok())
    return s;
  if (sizes.batch == 0)
    return ApiStatus::success();
  auto layout = launch::workspaceLayout(bundle_.config(), sizes);
  if (!layout)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT, layout.status().message());
  const bool anyQ = sizes.totalQ > 0, anyK = sizes.totalK > 0;
  const char *vectors = "the kernels load and store it in 16-byte vectors";
  const char *words = "it holds 4-byte elements";
  const struct {
    const char *name;
    device::DevicePtr ptr;
    bool needed;
    uint64_t alignment;
    const char *why;
  } pointers[] = {{"q", b.q, anyQ, 16, vectors},
                  {"k", b.k, anyK, 16, vectors},
                  {"v", b.v, anyK, 16, vectors},
                  {"cu_seqlens_q", b.cuSeqlensQ, true, 4, words},
                  {"cu_seqlens_k", b.cuSeqlensK, true, 4, words},
                  {"out", b.out, anyQ, 16, vectors},
                  {"lse", b.lse, anyQ, 4, words},
                  {"workspace", b.workspace, layout->totalBytes > 0, 16, "the kernels may access it in 16-byte vectors"}};
  for (const auto &p : pointers)
    if (ApiStatus s = checkPointer(p.name, p.ptr, p.needed, p.alignment, p.why); !s.ok())
      return s;
  if (b.workspaceBytes < layout->totalBytes)
    return ApiStatus::error(MOBAGEN_ERROR_WORKSPACE_TOO_SMALL,
                            fmt::format("workspace_bytes = {} is less than the {} bytes this shape needs "
                                        "(kbar {} for up to {} key blocks, selected {}, routing {}, partial "
                                        "results {}; mobagen_workspace_size)",
                                        b.workspaceBytes, layout->totalBytes, layout->kbar.bytes,
                                        layout->maxTotalBlocks, layout->selected.bytes,
                                        layout->blockCounts.bytes + layout->blockOffsets.bytes +
                                            layout->routed.bytes,
                                        layout->partialOut.bytes + layout->partialLse.bytes));
  const launch::VariantChoice choice = choiceFor(sizes);
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    if (Status s = launcher_.enqueueKernel(KernelKind(k), choice[k], sizes, *layout, b, stream); !s)
      return ApiStatus::error(MOBAGEN_ERROR_DEVICE, s.message());
  return ApiStatus::success();
}

ApiStatus Context::benchmarkForward(const mobagen_shape &shape, const launch::ForwardBuffers &buffers, int warmup,
                                   int repetitions, device::Stream stream, device::Measurement &measurement) {
  if (warmup < 0 || repetitions < 1)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT,
                            fmt::format("{} warm-up runs and {} repetitions; need warmup >= 0 and repetitions >= 1",
                                        warmup, repetitions));
  // The first run checks the arguments (with forward's error codes) and loads the modules.
  if (ApiStatus s = forward(shape, buffers, stream); !s.ok())
    return s;
  auto measured = device_->measure(
      [&]() -> Status {
        ApiStatus s = forward(shape, buffers, stream);
        return s.ok() ? Status::success() : Status::error(s.message);
      },
      warmup, repetitions, stream);
  if (!measured)
    return ApiStatus::error(MOBAGEN_ERROR_DEVICE, "measuring the forward: " + measured.status().message());
  measurement = std::move(*measured);
  return ApiStatus::success();
}

ApiStatus Context::tune(const mobagen_shape &shape) {
  VariantSelector selector;
  {
    std::shared_lock lock(choicesMutex_);
    selector = selector_;
  }
  return tune(shape, selector);
}

ApiStatus Context::tune(const mobagen_shape &shape, const VariantSelector &selector) {
  launch::VarlenShape sizes;
  if (ApiStatus s = checkShape(shape, sizes); !s.ok())
    return s;
  if (!selector)
    return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT, "tune: the variant selector is empty");
  const tune::ShapeBucket bucket = bucketOf(sizes);
  launch::VariantChoice choice{};
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    const bundle::BundleKernel &kernel = bundle_.kernels()[k];
    const VariantRequest request{KernelKind(k), bucket,    sizes,    choice, bundle_, launcher_,
                                 *device_,      cache_ ? &*cache_ : nullptr, log_};
    auto index = selector(request);
    if (!index)
      return ApiStatus::error(MOBAGEN_ERROR_DEVICE,
                              fmt::format("choosing a variant of {}: {}", kernel.name, index.status().message()));
    if (*index >= kernel.variants.size())
      return ApiStatus::error(MOBAGEN_ERROR_DEVICE,
                              fmt::format("the variant selector chose variant {} of {}, which has {}", *index,
                                          kernel.name, kernel.variants.size()));
    if (auto module = launcher_.module(KernelKind(k), *index); !module)
      return ApiStatus::error(MOBAGEN_ERROR_DEVICE, module.status().message());
    choice[k] = *index;
  }
  std::unique_lock lock(choicesMutex_);
  tuned_[{bucket.batch, bucket.maxSeqlenQ, bucket.maxSeqlenK}] = choice;
  return ApiStatus::success();
}

ApiStatus Context::loadTuned(const mobagen_shape &shape, size_t &found) {
  found = 0;
  launch::VarlenShape sizes;
  if (ApiStatus s = checkShape(shape, sizes); !s.ok())
    return s;
  if (!cache_)
    return ApiStatus::success();
  const tune::ShapeBucket bucket = bucketOf(sizes);
  const BucketKey key{bucket.batch, bucket.maxSeqlenQ, bucket.maxSeqlenK};
  // The lookups and module loads run without the choices' lock; only the
  // kernels found are written, into whatever the bucket holds by then.
  launch::VariantChoice earlier{};
  {
    std::shared_lock lock(choicesMutex_);
    if (auto it = tuned_.find(key); it != tuned_.end())
      earlier = it->second;
  }
  std::array<std::optional<size_t>, bundle::kKernelCount> cached;
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    const VariantRequest request{KernelKind(k), bucket,   sizes,    earlier, bundle_, launcher_,
                                 *device_,      &*cache_, log_};
    cached[k] = cachedChoiceFor(request);
    if (!cached[k])
      continue;
    if (auto module = launcher_.module(KernelKind(k), *cached[k]); !module)
      return ApiStatus::error(MOBAGEN_ERROR_DEVICE,
                              fmt::format("the cached choice of {}: {}", bundle_.kernels()[k].name,
                                          module.status().message()));
    earlier[k] = *cached[k];
    ++found;
  }
  if (found == 0)
    return ApiStatus::success();
  std::unique_lock lock(choicesMutex_);
  launch::VariantChoice &choice = tuned_[key]; // a new bucket starts at the defaults
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    if (cached[k])
      choice[k] = *cached[k];
  return ApiStatus::success();
}

ApiStatus Context::kernelIndex(std::string_view kernel, size_t &index) const {
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    if (bundle::kKernelNames[k] == kernel) {
      index = k;
      return ApiStatus::success();
    }
  return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT,
                          fmt::format("unknown kernel '{}': expected one of {}", kernel, bundle::kernelNameList()));
}

ApiStatus Context::variantFor(const mobagen_shape &shape, std::string_view kernel, const std::string *&id) const {
  size_t k = 0;
  if (ApiStatus s = kernelIndex(kernel, k); !s.ok())
    return s;
  launch::VarlenShape sizes;
  if (ApiStatus s = checkShape(shape, sizes); !s.ok())
    return s;
  id = &bundle_.kernels()[k].variants[choiceFor(sizes)[k]].id;
  return ApiStatus::success();
}

ApiStatus Context::setVariant(std::string_view kernel, std::string_view variant) {
  size_t k = 0;
  if (ApiStatus s = kernelIndex(kernel, k); !s.ok())
    return s;
  const bundle::BundleKernel &bk = bundle_.kernels()[k];
  std::optional<size_t> index;
  if (!variant.empty()) {
    index = bk.findVariant(variant);
    if (!index) {
      std::string ids;
      for (const bundle::KernelVariant &v : bk.variants)
        ids += (ids.empty() ? "" : ", ") + v.id;
      return ApiStatus::error(MOBAGEN_ERROR_INVALID_ARGUMENT,
                              fmt::format("{} has no variant '{}' (variants: {})", kernel, variant, ids));
    }
  }
  std::unique_lock lock(choicesMutex_);
  pinned_[k] = index;
  return ApiStatus::success();
}

void Context::setVariantSelector(VariantSelector selector) {
  std::unique_lock lock(choicesMutex_);
  selector_ = selector ? std::move(selector) : makeTuningSelector();
}

} // namespace mobagen::api
