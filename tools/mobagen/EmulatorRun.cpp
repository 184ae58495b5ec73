#include "tools/mobagen/EmulatorRun.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/Pipeline/MobaKernels.h"
#include "runtime/emulator/Emulator.h"

namespace mobagen::cli {
namespace {

using device::DevicePtr;

/// Device buffers freed when the run ends, whatever happens.
class Buffers {
public:
  explicit Buffers(device::Device &dev) : dev_(dev) {}
  ~Buffers() {
    for (DevicePtr p : owned_)
      (void)dev_.free(p);
  }
  template <typename T> Expected<DevicePtr> upload(const std::vector<T> &host) {
    auto ptr = allocate(host.size() * sizeof(T));
    if (ptr && !host.empty())
      MOBAGEN_RETURN_IF_ERROR(dev_.copyToDevice(*ptr, host.data(), host.size() * sizeof(T)));
    return ptr;
  }
  Expected<DevicePtr> allocate(size_t bytes) {
    auto ptr = dev_.allocate(std::max<size_t>(bytes, 4)); // empty tensors still get an address
    if (ptr)
      owned_.push_back(*ptr);
    return ptr;
  }
  template <typename T> Expected<std::vector<T>> download(DevicePtr ptr, size_t count) {
    std::vector<T> host(count);
    if (count)
      MOBAGEN_RETURN_IF_ERROR(dev_.copyToHost(host.data(), ptr, count * sizeof(T)));
    return host;
  }

private:
  device::Device &dev_;
  std::vector<DevicePtr> owned_;
};

std::vector<uint16_t> toBits(const std::vector<double> &values, DType dtype) {
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    bits[i] = encodeDType(values[i], dtype);
  return bits;
}

uint32_t ceilDiv(int64_t a, int64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

} // namespace

Expected<reference::MobaOutput>
runMobaOnEmulator(const MobaInputs &in, const reference::MobaParams &params, DType dtype,
                  const std::map<std::string, std::string> &variants) {
  const reference::AttentionInputs view = in.view();
  MOBAGEN_RETURN_IF_ERROR(reference::validateParams(params));
  MOBAGEN_RETURN_IF_ERROR(reference::validateInputs(view, params.causal));
  const auto &s = in.shape;

  auto kernels = compiler::generateMobaKernels(
      {.blockSize = params.blockSize, .topK = params.topK, .headDim = s.headDim,
       .numQHeads = s.numQHeads, .numKvHeads = s.numKvHeads, .causal = params.causal,
       .dtype = dtype, .scale = params.scale},
      {.select = variants});
  if (!kernels)
    return Status::errorf("cannot generate the kernels for the emulator: {}",
                          kernels.status().message());

  // Grid extents from the batch, as the host sees it.
  const int64_t batch = static_cast<int64_t>(in.cuSeqlensQ.size()) - 1;
  int64_t maxLq = 0, maxBlocks = 0, totalBlocks = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t lk = in.cuSeqlensK[b + 1] - in.cuSeqlensK[b];
    maxLq = std::max<int64_t>(maxLq, in.cuSeqlensQ[b + 1] - in.cuSeqlensQ[b]);
    maxBlocks = std::max(maxBlocks, reference::blockCount(lk, params.blockSize));
    totalBlocks += reference::blockCount(lk, params.blockSize);
  }

  emu::EmulatorDevice dev;
  // One module per kernel variant, whose only entry is `<kernel>_<variant>`.
  std::vector<device::ModuleId> modules;
  for (const compiler::KernelInfo &kernel : kernels->kernels) {
    const compiler::KernelVariant &variant = kernel.defaultVariant();
    auto module = dev.loadModule(variant.ptx, variant.entry + ".ptx");
    if (!module)
      return module.status();
    modules.push_back(*module);
  }
  Buffers buffers(dev);
  auto q = buffers.upload(toBits(in.q, dtype));
  auto k = buffers.upload(toBits(in.k, dtype));
  auto v = buffers.upload(toBits(in.v, dtype));
  auto cuQ = buffers.upload(in.cuSeqlensQ);
  auto cuK = buffers.upload(in.cuSeqlensK);
  auto kbar = buffers.allocate(static_cast<size_t>(totalBlocks * s.numKvHeads * s.headDim) * 4);
  const size_t selectedCount = static_cast<size_t>(s.totalQ * s.numQHeads * params.topK);
  auto selected = buffers.allocate(selectedCount * 4);
  const size_t outCount = static_cast<size_t>(s.totalQ * s.numQHeads * s.headDim);
  auto out = buffers.allocate(outCount * 2);
  auto lse = buffers.allocate(static_cast<size_t>(s.numQHeads * s.totalQ) * 4);
  for (const auto *b : {&q, &k, &v, &cuQ, &cuK, &kbar, &selected, &out, &lse})
    if (!*b)
      return b->status();

  const auto dim = [](int64_t x) { return static_cast<uint32_t>(x); };
  // generateMobaKernels lists the kernels in launch order, each with the one variant asked.
  const compiler::KernelVariant &pool = kernels->kernels[0].defaultVariant();
  const compiler::KernelVariant &gate = kernels->kernels[1].defaultVariant();
  const compiler::KernelVariant &attention = kernels->kernels[2].defaultVariant();
  const int32_t totalQ = static_cast<int32_t>(s.totalQ);
  if (maxBlocks > 0 && batch > 0) {
    MOBAGEN_RETURN_IF_ERROR(dev.launch(
        modules[0], pool.entry,
        {{dim(maxBlocks), dim(s.numKvHeads), dim(batch)}, {pool.threads}},
        device::KernelArgs().add(*k).add(*kbar).add(*cuK)).withContext("pool_keys: "));
  }
  if (maxLq > 0) {
    MOBAGEN_RETURN_IF_ERROR(dev.launch(
        modules[1], gate.entry,
        {{ceilDiv(maxLq, gate.rowsPerProgram), dim(s.numQHeads), dim(batch)}, {gate.threads}},
        device::KernelArgs().add(*q).add(*kbar).add(*selected).add(*cuQ).add(*cuK))
                                .withContext("gate_topk: "));
    MOBAGEN_RETURN_IF_ERROR(dev.launch(
        modules[2], attention.entry,
        {{ceilDiv(maxLq, attention.rowsPerProgram), dim(s.numQHeads), dim(batch)},
         {attention.threads}},
        device::KernelArgs().add(*q).add(*k).add(*v).add(*selected).add(*out).add(*lse)
            .add(*cuQ).add(*cuK).add(totalQ)).withContext("sparse_attention_fwd: "));
  }

  auto outBits = buffers.download<uint16_t>(*out, s.totalQ > 0 ? outCount : 0);
  auto lseValues = buffers.download<float>(*lse, static_cast<size_t>(s.numQHeads * s.totalQ));
  auto blocks = buffers.download<int32_t>(*selected, s.totalQ > 0 ? selectedCount : 0);
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
  result.selection.scores.assign(result.selection.blocks.size(),
                                 std::numeric_limits<double>::quiet_NaN());
  return result;
}

} // namespace mobagen::cli
