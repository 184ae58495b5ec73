#include "tools/mobagen/ApiRun.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "mobagen/mobagen.hpp"
#include "runtime/moba/MobaLauncher.h"

namespace mobagen::cli {
namespace {

Status statusOf(const mobagen::Error &e, std::string_view what) {
  return Status::errorf("{}: {}", what, e.message());
}

/// Device buffers freed when the run ends, whatever happens.
class Buffers {
public:
  explicit Buffers(mobagen::Device &device) : device_(device) {}
  ~Buffers() {
    for (mobagen_devptr p : owned_)
      (void)device_.free(p);
  }
  Expected<mobagen_devptr> allocate(size_t bytes) {
    auto ptr = device_.malloc(std::max<size_t>(bytes, 16)); // empty tensors still get an address
    if (!ptr)
      return statusOf(ptr.error(), "device memory");
    owned_.push_back(*ptr);
    return *ptr;
  }
  template <typename T> Expected<mobagen_devptr> upload(const std::vector<T> &host) {
    auto ptr = allocate(host.size() * sizeof(T));
    if (ptr && !host.empty())
      if (mobagen::Error e = device_.copyToDevice(*ptr, host.data(), host.size() * sizeof(T)); !e.ok())
        return statusOf(e, "copy to the device");
    return ptr;
  }
  template <typename T> Expected<std::vector<T>> download(mobagen_devptr ptr, size_t count) {
    std::vector<T> host(count);
    if (count)
      if (mobagen::Error e = device_.copyToHost(host.data(), ptr, count * sizeof(T)); !e.ok())
        return statusOf(e, "copy to the host");
    return host;
  }

private:
  mobagen::Device &device_;
  std::vector<mobagen_devptr> owned_;
};

std::vector<uint16_t> toBits(const std::vector<double> &values, DType dtype) {
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    bits[i] = encodeDType(values[i], dtype);
  return bits;
}

} // namespace

Expected<reference::MobaOutput> runMobaThroughApi(const MobaInputs &in, const reference::MobaParams &params,
                                                  DType dtype, mobagen_device_kind kind,
                                                  const BundleSource &source, const VariantOptions &variants,
                                                  VariantsRun *ran) {
  MOBAGEN_RETURN_IF_ERROR(reference::validateParams(params));
  MOBAGEN_RETURN_IF_ERROR(reference::validateInputs(in.view(), params.causal));
  const auto &s = in.shape;

  auto device = mobagen::Device::open(kind);
  if (!device)
    return Status::error(device.error().message());
  // The bundle must be the run's configuration, for any target the device runs.
  mobagen_config expected{};
  expected.block_size = params.blockSize;
  expected.top_k = params.topK;
  expected.head_dim = s.headDim;
  expected.num_q_heads = s.numQHeads;
  expected.num_kv_heads = s.numKvHeads;
  expected.causal = params.causal;
  expected.dtype = dtype == DType::BF16 ? MOBAGEN_DTYPE_BF16 : MOBAGEN_DTYPE_FP16;
  expected.has_scale = params.scale.has_value();
  expected.scale = params.scale.value_or(0.0);
  mobagen::ContextOptions options;
  options.expectedConfig = expected;
  options.cacheDir = variants.cacheDir;
  options.log = variants.log;
  auto context = source.directory.empty()
                     ? mobagen::Context::open(*device, source.files.data(), source.files.size(), options)
                     : mobagen::Context::open(*device, source.directory, options);
  if (!context)
    return Status::error(context.error().message());
  for (const auto &[kernel, id] : variants.pins)
    if (mobagen::Error pinned = context->setVariant(kernel.c_str(), id.c_str()); !pinned.ok())
      return Status::errorf("--variant {}={}: {}", kernel, id, pinned.message());

  mobagen_shape shape{};
  shape.batch = int64_t(in.cuSeqlensQ.size()) - 1;
  shape.total_q = s.totalQ;
  shape.total_k = s.totalK;
  for (int64_t b = 0; b < shape.batch; ++b) {
    shape.max_seqlen_q = std::max<int64_t>(shape.max_seqlen_q, in.cuSeqlensQ[b + 1] - in.cuSeqlensQ[b]);
    shape.max_seqlen_k = std::max<int64_t>(shape.max_seqlen_k, in.cuSeqlensK[b + 1] - in.cuSeqlensK[b]);
  }
  shape.num_q_heads = s.numQHeads;
  shape.num_kv_heads = s.numKvHeads;
  shape.head_dim = s.headDim;
  shape.dtype = expected.dtype;
  // The choices `mobagen tune` cached for this bucket (pins still win); a
  // context without a cache directory has none.
  size_t fromCache = 0;
  if (!variants.cacheDir.empty()) {
    auto found = context->loadTuned(shape);
    if (!found)
      return Status::errorf("the tuning cache {}: {}", variants.cacheDir, found.error().message());
    fromCache = *found;
  }
  if (ran) {
    ran->ids.clear();
    ran->fromCache = fromCache;
    ran->shape = shape;
    for (std::string_view kernel : bundle::kKernelNames) {
      auto id = context->variant(shape, std::string(kernel).c_str());
      if (!id)
        return Status::error(id.error().message());
      ran->ids.emplace_back(kernel, *id);
    }
  }
  auto workspaceBytes = context->workspaceSize(shape);
  if (!workspaceBytes)
    return Status::error(workspaceBytes.error().message());

  Buffers buffers(*device);
  auto q = buffers.upload(toBits(in.q, dtype));
  auto k = buffers.upload(toBits(in.k, dtype));
  auto v = buffers.upload(toBits(in.v, dtype));
  auto cuQ = buffers.upload(in.cuSeqlensQ);
  auto cuK = buffers.upload(in.cuSeqlensK);
  const size_t outCount = size_t(s.totalQ * s.numQHeads * s.headDim);
  auto out = buffers.allocate(outCount * 2);
  auto lse = buffers.allocate(size_t(s.numQHeads * s.totalQ) * 4);
  auto workspace = buffers.allocate(*workspaceBytes);
  for (const auto *b : {&q, &k, &v, &cuQ, &cuK, &out, &lse, &workspace})
    if (!*b)
      return b->status();
  if (mobagen::Error e = context->forward(shape, {*q, *k, *v, *cuQ, *cuK, *out, *lse, *workspace, *workspaceBytes});
      !e.ok())
    return Status::error(e.message());
  if (mobagen::Error e = device->synchronize(); !e.ok())
    return Status::error(e.message());

  // The selection is the workspace's "selected" buffer (docs/api.md).
  const mobagen_config c = context->config();
  bundle::BundleConfig layoutConfig;
  layoutConfig.blockSize = c.block_size;
  layoutConfig.topK = c.top_k;
  layoutConfig.headDim = c.head_dim;
  layoutConfig.numQHeads = c.num_q_heads;
  layoutConfig.numKvHeads = c.num_kv_heads;
  auto layout = launch::workspaceLayout(
      layoutConfig, {shape.batch, shape.total_q, shape.total_k, shape.max_seqlen_q, shape.max_seqlen_k});
  if (!layout)
    return layout.status();
  const size_t selectedCount = size_t(s.totalQ * s.numQHeads * params.topK);
  auto outBits = buffers.download<uint16_t>(*out, outCount);
  auto lseValues = buffers.download<float>(*lse, size_t(s.numQHeads * s.totalQ));
  auto blocks = buffers.download<int32_t>(*workspace + layout->selected.offset, shape.batch ? selectedCount : 0);
  if (!outBits)
    return outBits.status();
  if (!lseValues)
    return lseValues.status();
  if (!blocks)
    return blocks.status();

  reference::MobaOutput result;
  result.attention.out.resize(outBits->size());
  for (size_t i = 0; i < outBits->size(); ++i)
    result.attention.out[i] = decodeDType((*outBits)[i], dtype);
  result.attention.lse.assign(lseValues->begin(), lseValues->end());
  result.selection.slots = params.topK;
  result.selection.blocks = std::move(*blocks);
  result.selection.blocks.resize(selectedCount, -1);
  result.selection.scores.assign(result.selection.blocks.size(), std::numeric_limits<double>::quiet_NaN());
  return result;
}

} // namespace mobagen::cli
