//===- MobaLauncher.cpp - Workspace, grids and launches of the MoBA kernels --===//
#include "runtime/moba/MobaLauncher.h"

#include <algorithm>
#include <tuple>
#include <vector>

namespace mobagen::launch {
namespace {

using bundle::KernelKind;

constexpr int64_t kInt32Max = INT32_MAX;
/// Grid y and z extents (CUDA's limit; the emulator checks the same).
constexpr int64_t kGridYzMax = 65535;
/// Where selected starts in the workspace: the alignment cudaMalloc gives.
constexpr uint64_t kWorkspaceAlign = 256;

int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// Whether a cubin for `target` ("sm_80", "sm_90a") runs on this device: a CUDA GPU
/// of the same major compute capability and at least its minor one (cubins are
/// binary-compatible only within a major version); "a" targets need the exact one.
bool cubinRunsOn(std::string_view target, const device::DeviceProperties &p) {
  if (p.kind != "cuda" || target.size() < 5 || target.substr(0, 3) != "sm_")
    return false;
  const bool archSpecific = target.back() == 'a';
  const std::string_view digits = target.substr(3, target.size() - 3 - (archSpecific ? 1 : 0));
  if (digits.size() != 2 || digits[0] < '0' || digits[0] > '9' || digits[1] < '0' || digits[1] > '9')
    return false;
  const int major = digits[0] - '0', minor = digits[1] - '0';
  return p.computeMajor == major && (archSpecific ? p.computeMinor == minor : p.computeMinor >= minor);
}

/// a * b * c * d bytes, or an error naming the buffer.
Expected<uint64_t> bytesOf(std::string_view what, const std::vector<int64_t> &factors) {
  uint64_t product = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(product, uint64_t(f), &product) || product > uint64_t(INT64_MAX))
      return Status::errorf("the workspace's {} buffer would exceed {} bytes", what, INT64_MAX);
  return product;
}

} // namespace

Status validateShape(const bundle::BundleConfig &config, const VarlenShape &s) {
  const std::pair<const char *, int64_t> sizes[] = {{"batch", s.batch},
                                                    {"total_q", s.totalQ},
                                                    {"total_k", s.totalK},
                                                    {"max_seqlen_q", s.maxSeqlenQ},
                                                    {"max_seqlen_k", s.maxSeqlenK}};
  for (const auto &[name, value] : sizes)
    if (value < 0)
      return Status::errorf("{} = {} is negative", name, value);
  if (s.batch > kGridYzMax)
    return Status::errorf("batch = {} exceeds {}, the grid's z limit (one program row per sequence)", s.batch,
                          kGridYzMax);
  if (s.totalQ > kInt32Max)
    return Status::errorf("total_q = {} exceeds {} (cu_seqlens_q and the kernels use int32 row offsets)",
                          s.totalQ, kInt32Max);
  if (s.totalK > kInt32Max)
    return Status::errorf("total_k = {} exceeds {} (cu_seqlens_k and the kernels use int32 row offsets)",
                          s.totalK, kInt32Max);
  if (s.maxSeqlenQ > s.totalQ)
    return Status::errorf("max_seqlen_q = {} exceeds total_q = {}: no sequence can be longer than the batch",
                          s.maxSeqlenQ, s.totalQ);
  if (s.maxSeqlenK > s.totalK)
    return Status::errorf("max_seqlen_k = {} exceeds total_k = {}: no sequence can be longer than the batch",
                          s.maxSeqlenK, s.totalK);
  // batch * max_seqlen <= 65535 * 2^31: no overflow.
  if (s.totalQ > s.batch * s.maxSeqlenQ)
    return Status::errorf("total_q = {} exceeds batch * max_seqlen_q = {} * {} = {}: some sequence is longer "
                          "than max_seqlen_q",
                          s.totalQ, s.batch, s.maxSeqlenQ, s.batch * s.maxSeqlenQ);
  if (s.totalK > s.batch * s.maxSeqlenK)
    return Status::errorf("total_k = {} exceeds batch * max_seqlen_k = {} * {} = {}: some sequence is longer "
                          "than max_seqlen_k",
                          s.totalK, s.batch, s.maxSeqlenK, s.batch * s.maxSeqlenK);
  if (s.totalQ > 0 && s.totalK == 0)
    return Status::errorf("total_q = {} with total_k = 0: the queries have no keys", s.totalQ);
  // The kernels index q, out, k, v and the routing buffers with int32 element
  // offsets (each factor is below 2^31, so the products fit int64).
  const int64_t qElements = s.totalQ * config.numQHeads * config.headDim;
  if (qElements > kInt32Max)
    return Status::errorf("total_q * num_q_heads * head_dim = {} * {} * {} = {} exceeds {} (the kernels index q "
                          "and out with int32 element offsets)",
                          s.totalQ, config.numQHeads, config.headDim, qElements, kInt32Max);
  const int64_t kvElements = s.totalK * config.numKvHeads * config.headDim;
  if (kvElements > kInt32Max)
    return Status::errorf("total_k * num_kv_heads * head_dim = {} * {} * {} = {} exceeds {} (the kernels index k "
                          "and v with int32 element offsets)",
                          s.totalK, config.numKvHeads, config.headDim, kvElements, kInt32Max);
  const int64_t slots = s.totalQ * config.numQHeads * config.topK;
  if (slots > kInt32Max)
    return Status::errorf("total_q * num_q_heads * top_k = {} * {} * {} = {} exceeds {} (the selection and the "
                          "routing lists use int32 indices)",
                          s.totalQ, config.numQHeads, config.topK, slots, kInt32Max);
  return Status::success();
}

int64_t maxTotalKeyBlocks(const VarlenShape &s, int64_t blockSize) {
  if (s.totalK == 0)
    return 0;
  // Each sequence adds at most one partial block; a block holds at least one key.
  const int64_t byPartials = (s.totalK + s.batch * (blockSize - 1)) / blockSize;
  const int64_t byLongest = s.batch * ceilDiv(s.maxSeqlenK, blockSize);
  return std::min({s.totalK, byPartials, byLongest});
}

Expected<WorkspaceLayout> workspaceLayout(const bundle::BundleConfig &c, const VarlenShape &s) {
  MOBAGEN_RETURN_IF_ERROR(validateShape(c, s));
  WorkspaceLayout w;
  w.maxTotalBlocks = maxTotalKeyBlocks(s, c.blockSize);
  const std::tuple<const char *, WorkspaceLayout::Buffer *, std::vector<int64_t>> buffers[] = {
      {"kbar", &w.kbar, {w.maxTotalBlocks, c.numKvHeads, c.headDim, 4}},
      {"selected", &w.selected, {s.totalQ, c.numQHeads, c.topK, 4}},
      {"ranks", &w.ranks, {s.totalQ, c.numQHeads, c.topK, 4}},
      {"block_counts", &w.blockCounts, {w.maxTotalBlocks, c.numQHeads, 4}},
      {"block_offsets", &w.blockOffsets, {w.maxTotalBlocks, c.numQHeads, 4}},
      {"routed", &w.routed, {s.totalQ, c.numQHeads, c.topK, 4}},
      {"partial_out", &w.partialOut, {s.totalQ, c.numQHeads, c.topK, c.headDim, 4}},
      {"partial_lse", &w.partialLse, {s.totalQ, c.numQHeads, c.topK, 4}}};
  uint64_t end = 0;
  for (const auto &[name, buffer, factors] : buffers) {
    auto bytes = bytesOf(name, factors);
    if (!bytes)
      return bytes.status();
    buffer->offset = (end + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign;
    buffer->bytes = *bytes;
    if (__builtin_add_overflow(buffer->offset, buffer->bytes, &end) || end > uint64_t(INT64_MAX))
      return Status::errorf("the workspace would exceed {} bytes", INT64_MAX);
  }
  w.totalBytes = end;
  return w;
}

MobaLauncher::MobaLauncher(device::Device &device, const bundle::Bundle &bundle)
    : device_(device), bundle_(bundle) {
  for (size_t k = 0; k < bundle::kKernelCount; ++k) {
    const size_t count = bundle.kernels()[k].variants.size();
    modules_[k] = std::make_unique<std::atomic<int64_t>[]>(count);
    for (size_t v = 0; v < count; ++v)
      modules_[k][v].store(kNotLoaded, std::memory_order_relaxed);
  }
}

Expected<device::ModuleId> MobaLauncher::module(KernelKind kernel, size_t variant) {
  const bundle::BundleKernel &k = bundle_.kernel(kernel);
  if (variant >= k.variants.size())
    return Status::errorf("{} has {} variants; variant {} does not exist", k.name, k.variants.size(), variant);
  std::atomic<int64_t> &slot = modules_[size_t(kernel)][variant];
  if (const int64_t loaded = slot.load(std::memory_order_acquire); loaded != kNotLoaded)
    return device::ModuleId(loaded);
  std::lock_guard lock(mutex_);
  if (const int64_t loaded = slot.load(std::memory_order_acquire); loaded != kNotLoaded)
    return device::ModuleId(loaded);
  const bundle::KernelVariant &v = k.variants[variant];
  // A cubin ptxas built for this GPU's architecture skips the driver's JIT; a device
  // that refuses it (another architecture, a driver older than the ptxas) runs the PTX.
  if (!v.cubinFile.empty() && cubinRunsOn(bundle_.config().target, device_.properties())) {
    const std::string_view image = bundle_.file(v.cubinFile);
    auto cubin = device_.loadCubin(image.data(), image.size(), fmt::format("{}/{}", bundle_.origin(), v.cubinFile));
    if (cubin) {
      slot.store(int64_t(*cubin), std::memory_order_release);
      return *cubin;
    }
  }
  auto id = device_.loadModule(bundle_.ptx(kernel, variant), fmt::format("{}/{}", bundle_.origin(), v.ptxFile));
  if (!id)
    return Status::errorf("loading {} variant {} ({}): {}", k.name, v.id, v.ptxFile, id.status().message());
  slot.store(int64_t(*id), std::memory_order_release);
  return *id;
}

device::LaunchConfig MobaLauncher::launchConfig(KernelKind kernel, size_t variant, const VarlenShape &s) const {
  const bundle::BundleConfig &c = bundle_.config();
  const bundle::KernelVariant &v = bundle_.kernel(kernel).variants[variant];
  device::LaunchConfig launch;
  launch.block = {v.threads, 1, 1};
  launch.dynamicSharedBytes = v.dynamicSharedBytes;
  const int64_t keyBlocks = ceilDiv(s.maxSeqlenK, c.blockSize);
  int64_t x = 0;
  switch (bundle::kKernelGridX[size_t(kernel)]) {
  case bundle::GridX::KeyBlocks:
    x = keyBlocks;
    break;
  case bundle::GridX::QueryRows:
    x = ceilDiv(s.maxSeqlenQ, v.rowsPerProgram);
    break;
  }
  if (kernel != KernelKind::PoolKeys && s.maxSeqlenQ == 0)
    x = 0; // no query rows: nothing to select, route or attend
  const int64_t heads = kernel == KernelKind::PoolKeys ? c.numKvHeads : c.numQHeads;
  launch.grid = {uint32_t(x), uint32_t(heads), uint32_t(s.batch)};
  return launch;
}

device::KernelArgs MobaLauncher::kernelArgs(KernelKind kernel, const VarlenShape &s, const WorkspaceLayout &w,
                                            const ForwardBuffers &b) const {
  const device::DevicePtr kbar = b.workspace + w.kbar.offset;
  const device::DevicePtr selected = b.workspace + w.selected.offset;
  const device::DevicePtr ranks = b.workspace + w.ranks.offset;
  const device::DevicePtr counts = b.workspace + w.blockCounts.offset;
  const device::DevicePtr offsets = b.workspace + w.blockOffsets.offset;
  const device::DevicePtr routed = b.workspace + w.routed.offset;
  const device::DevicePtr partialOut = b.workspace + w.partialOut.offset;
  const device::DevicePtr partialLse = b.workspace + w.partialLse.offset;
  device::KernelArgs args;
  switch (kernel) {
  case KernelKind::PoolKeys:
    args.add(b.k).add(kbar).add(counts).add(b.cuSeqlensK);
    break;
  case KernelKind::GateTopK:
    args.add(b.q).add(kbar).add(selected).add(counts).add(ranks).add(b.cuSeqlensQ).add(b.cuSeqlensK);
    break;
  case KernelKind::RouteScatter:
    args.add(selected).add(ranks).add(counts).add(offsets).add(routed).add(b.cuSeqlensQ).add(b.cuSeqlensK);
    break;
  case KernelKind::SparseAttentionBlocks:
    args.add(b.q).add(b.k).add(b.v).add(counts).add(offsets).add(routed).add(partialOut).add(partialLse)
        .add(b.cuSeqlensQ).add(b.cuSeqlensK);
    break;
  case KernelKind::SparseAttentionMerge:
    args.add(b.q).add(b.k).add(b.v).add(selected).add(partialOut).add(partialLse).add(b.out).add(b.lse)
        .add(b.cuSeqlensQ).add(b.cuSeqlensK).add(int32_t(s.totalQ));
    break;
  }
  return args;
}

Status MobaLauncher::enqueueKernel(KernelKind kernel, size_t variant, const VarlenShape &s,
                                   const WorkspaceLayout &layout, const ForwardBuffers &b, device::Stream stream) {
  const device::LaunchConfig launch = launchConfig(kernel, variant, s);
  if (launch.grid.count() == 0)
    return Status::success();
  auto module = this->module(kernel, variant);
  if (!module)
    return module.status();
  const device::KernelArgs args = kernelArgs(kernel, s, layout, b);
  const bundle::KernelVariant &v = bundle_.kernel(kernel).variants[variant];
  Status status = device_.enqueue(*module, v.entry, launch, args, stream);
  if (!status) // the context only on failure: formatting it costs more than the launch setup
    return std::move(status).withContext(fmt::format("{} variant {}: ", bundle_.kernel(kernel).name, v.id));
  return status;
}

Status MobaLauncher::forward(const VarlenShape &s, const ForwardBuffers &b, const VariantChoice &choice,
                             device::Stream stream) {
  if (s.batch == 0)
    return Status::success();
  auto layout = workspaceLayout(bundle_.config(), s);
  if (!layout)
    return layout.status();
  for (size_t k = 0; k < bundle::kKernelCount; ++k)
    MOBAGEN_RETURN_IF_ERROR(enqueueKernel(KernelKind(k), choice[k], s, *layout, b, stream));
  return Status::success();
}

} // namespace mobagen::launch
