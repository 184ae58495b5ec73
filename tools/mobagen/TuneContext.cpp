//===- TuneContext.cpp - Bundle, device and context for tune and bench ------===//
#include "tools/mobagen/TuneContext.h"

#include <algorithm>

#include "runtime/cache/DiskCache.h"
#include "runtime/device/OpenDevice.h"
#include "tools/mobagen/ScaleOption.h"
#ifdef MOBAGEN_HAVE_COMPILER
#include "tools/mobagen/InProcessBundle.h"
#endif

namespace mobagen::cli {

void addContextFlags(CLI::App &c, ContextFlags &o) {
  c.add_option("--bundle", o.bundle,
               "Kernel bundle directory (format 4); default: generate every variant of the "
               "configuration below in this process (builds with the compiler)");
  c.add_option("--block-size", o.blockSize, "Keys per block")->capture_default_str();
  c.add_option("--top-k", o.topK, "Blocks per query")->capture_default_str();
  c.add_option("--head-dim", o.headDim, "Head dimension D")->capture_default_str();
  c.add_option("--num-q-heads", o.numQHeads, "Query heads Hq")->capture_default_str();
  c.add_option("--num-kv-heads", o.numKvHeads, "Key/value heads Hkv")->capture_default_str();
  c.add_flag("--causal,!--non-causal", o.causal, "Causal (default) or non-causal");
  c.add_option("--dtype", o.dtype, "Element type")->check(CLI::IsMember({"bf16", "fp16"}))->capture_default_str();
  c.add_option("--target", o.target, "GPU architecture: sm_80, sm_90, sm_90a")->capture_default_str();
  c.add_option("--scale", o.scale, kScaleHelp)->each([&o](const std::string &) {
    o.haveScale = true;
  });
  c.add_option("--device", o.device, "auto (a CUDA GPU if usable, else the emulator), cuda or emulator")
      ->check(CLI::IsMember({"auto", "cuda", "emulator"}))
      ->capture_default_str();
  c.add_option("--cache-dir", o.cacheDir, "Tuning cache directory (default: the runtime's, docs/cache.md)");
}

namespace {

Expected<bundle::Bundle> loadBundle(const ContextFlags &o) {
  if (!o.bundle.empty())
    return bundle::Bundle::fromDirectory(o.bundle);
#ifdef MOBAGEN_HAVE_COMPILER
  auto dtype = parseDType(o.dtype);
  if (!dtype)
    return Status::errorf("--dtype {} is not bf16 or fp16", o.dtype);
  const compiler::MobaKernelConfig config{.blockSize = o.blockSize, .topK = o.topK, .headDim = o.headDim,
                                          .numQHeads = o.numQHeads, .numKvHeads = o.numKvHeads,
                                          .causal = o.causal, .dtype = *dtype, .target = o.target,
                                          .scale = o.haveScale ? std::optional(o.scale) : std::nullopt};
  BundleOptions options;
  options.allVariants = true;
  auto files = generateBundle(config, options);
  if (!files)
    return Status::errorf("cannot generate the kernels: {}", files.status().message());
  std::vector<bundle::FileView> views;
  for (const auto &[name, bytes] : *files)
    views.push_back({name, bytes});
  return bundle::Bundle::fromFiles(views, "generated bundle");
#else
  return Status::error("no --bundle DIR: this mobagen is built without the compiler "
                       "(MOBAGEN_BUILD_COMPILER=OFF) and cannot generate the kernels");
#endif
}

} // namespace

Expected<std::unique_ptr<api::Context>> openContext(const ContextFlags &o, std::string &cacheDirUsed,
                                                    std::function<void(std::string_view)> log) {
  if (o.haveScale)
    MOBAGEN_RETURN_IF_ERROR(checkScaleOption(o.scale));
  auto choice = device::parseDeviceChoice(o.device);
  if (!choice)
    return choice.status();
  std::string whyNotCuda;
  auto device = device::openDevice(*choice, 0, &whyNotCuda);
  if (!device)
    return device.status();
  auto bundle = loadBundle(o);
  if (!bundle)
    return bundle.status();
  api::ContextOptions options;
  options.cacheDir = o.cacheDir.empty() ? defaultCacheDirectory() : std::filesystem::path(o.cacheDir);
  cacheDirUsed = options.cacheDir->string();
  options.log = std::move(log);
  std::unique_ptr<api::Context> context;
  api::ApiStatus s =
      api::Context::create(std::shared_ptr<device::Device>(std::move(*device)), std::move(*bundle), options, context);
  if (!s.ok())
    return Status::error(s.message);
  return context;
}

void RejectedEntryNotes::note(std::string_view line) {
  if (!seen_.emplace(line).second)
    return;
  if (!quiet_)
    fmt::print(stderr, "mobagen: note: {}\n", line);
}

void RejectedEntryNotes::printCount() const {
  if (!quiet_ || seen_.empty())
    return;
  fmt::print(stderr, "mobagen: note: {} tuning-cache {} rejected (rerun without --quiet for each reason)\n",
             seen_.size(), seen_.size() == 1 ? "entry was" : "entries were");
}

UniformBatch uniformBatch(const api::Context &context, int64_t batch, int64_t seqlenQ, int64_t seqlenK) {
  const mobagen_config c = context.config();
  UniformBatch b;
  b.shape.batch = batch;
  b.shape.total_q = batch * seqlenQ;
  b.shape.total_k = batch * seqlenK;
  b.shape.max_seqlen_q = seqlenQ;
  b.shape.max_seqlen_k = seqlenK;
  b.shape.num_q_heads = c.num_q_heads;
  b.shape.num_kv_heads = c.num_kv_heads;
  b.shape.head_dim = c.head_dim;
  b.shape.dtype = c.dtype;
  for (int64_t i = 0; i <= batch; ++i) {
    b.cuSeqlensQ.push_back(int32_t(i * seqlenQ));
    b.cuSeqlensK.push_back(int32_t(i * seqlenK));
  }
  return b;
}

UniformBatch varlenBatch(const api::Context &context, const std::vector<int64_t> &lengths) {
  UniformBatch b = uniformBatch(context, 0, 0, 0);
  b.shape.batch = int64_t(lengths.size());
  for (int64_t length : lengths) {
    b.shape.total_q += length;
    b.shape.max_seqlen_q = std::max(b.shape.max_seqlen_q, length);
    b.cuSeqlensQ.push_back(int32_t(b.shape.total_q));
  }
  b.shape.total_k = b.shape.total_q;
  b.shape.max_seqlen_k = b.shape.max_seqlen_q;
  b.cuSeqlensK = b.cuSeqlensQ;
  return b;
}

} // namespace mobagen::cli
