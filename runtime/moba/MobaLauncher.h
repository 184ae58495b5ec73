//===- MobaLauncher.h - Enqueues a bundle's kernels for a varlen batch --===//
//
// Given a Device and a Bundle, loads the chosen variant of each kernel (each
// module once, on first use), sizes the workspace and the grids from the batch's
// host-side sizes, and enqueues the five kernels of a forward (pool_keys,
// gate_topk, route_scatter, sparse_attention_blocks,
// sparse_attention_merge) on a stream (docs/bundle.md, docs/api.md). The shapes are those of
// FlashAttention's varlen API: device pointers to q, k, v, cu_seqlens_q,
// cu_seqlens_k, out, lse and the workspace, and host integers batch, total_q,
// total_k, max_seqlen_q, max_seqlen_k. max_seqlen_* may over-estimate the
// longest sequence (the extra programs exit), never under-estimate it.
//
// Thread safety: every member may be called from several threads at once; module
// loading is serialized by a lock and happens once per variant. A module already
// loaded is found without the lock, so a launch made while another thread holds
// the device (Device::measure on the emulator) never waits on a load that waits
// on the device.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/bundle/Bundle.h"
#include "runtime/device/Device.h"

namespace mobagen::launch {

/// A varlen batch's sizes, as the host knows them.
struct VarlenShape {
  int64_t batch = 0;
  int64_t totalQ = 0;
  int64_t totalK = 0;
  int64_t maxSeqlenQ = 0;
  int64_t maxSeqlenK = 0;
};

/// The device buffers of one forward.
struct ForwardBuffers {
  device::DevicePtr q = 0, k = 0, v = 0, cuSeqlensQ = 0, cuSeqlensK = 0, out = 0, lse = 0, workspace = 0;
  uint64_t workspaceBytes = 0;
};

/// Where the intermediate buffers sit in the workspace, each at a 256-byte boundary
/// (docs/api.md): the pooled keys, the selection, the routing of query rows to
/// key blocks, and the per-(row, head, slot) partial attention results.
struct WorkspaceLayout {
  struct Buffer {
    uint64_t offset = 0, bytes = 0;
  };
  int64_t maxTotalBlocks = 0; ///< key blocks of the batch, at most
  Buffer kbar;         ///< f32 [maxTotalBlocks, Hkv, D]
  Buffer selected;     ///< i32 [total_q, Hq, top_k]
  Buffer ranks;        ///< i32 [total_q, Hq, top_k]: each routed entry's place in its block's list
  Buffer blockCounts;  ///< i32 [maxTotalBlocks, Hq]
  Buffer blockOffsets; ///< i32 [maxTotalBlocks, Hq]
  Buffer routed;       ///< i32 [total_q, Hq, top_k]
  Buffer partialOut;   ///< f32 [total_q, Hq, top_k, D]
  Buffer partialLse;   ///< f32 [total_q, Hq, top_k]
  uint64_t totalBytes = 0;
};

/// The variant index of each kernel, in launch order; all 0 = the defaults.
using VariantChoice = std::array<size_t, bundle::kKernelCount>;

/// Checks the sizes: none negative, max_seqlen_* within the totals and consistent
/// with them (total <= batch * max_seqlen), sizes within the kernels' int32
/// offsets and the grid limits. The message names the value and the limit.
Status validateShape(const bundle::BundleConfig &config, const VarlenShape &shape);

/// An upper bound on sum over sequences of ceil(Lk_b / block_size) for every batch
/// with these sizes: min(total_k, floor((total_k + batch (block_size - 1)) / block_size),
/// batch ceil(max_seqlen_k / block_size)). `shape` must be valid.
int64_t maxTotalKeyBlocks(const VarlenShape &shape, int64_t blockSize);

/// The workspace a forward with these sizes needs. Errors when the sizes are
/// invalid or the bytes overflow.
Expected<WorkspaceLayout> workspaceLayout(const bundle::BundleConfig &config, const VarlenShape &shape);

class MobaLauncher {
public:
  /// Both must outlive the launcher.
  MobaLauncher(device::Device &device, const bundle::Bundle &bundle);

  /// The module of a kernel's variant, loaded on first use.
  Expected<device::ModuleId> module(bundle::KernelKind kernel, size_t variant);

  /// The launch shape of one kernel's variant for `shape`; a grid with a zero
  /// extent means the kernel has nothing to do.
  device::LaunchConfig launchConfig(bundle::KernelKind kernel, size_t variant, const VarlenShape &shape) const;

  /// One kernel's arguments, in its parameter order (docs/bundle.md). The tuner
  /// builds them ahead of its measured runs, which enqueue on the device directly.
  device::KernelArgs kernelArgs(bundle::KernelKind kernel, const VarlenShape &shape, const WorkspaceLayout &layout,
                                const ForwardBuffers &buffers) const;

  /// Enqueues one kernel (the tuner measures kernels one at a time). `layout` is
  /// workspaceLayout's for `shape`; buffers must have been checked.
  Status enqueueKernel(bundle::KernelKind kernel, size_t variant, const VarlenShape &shape,
                       const WorkspaceLayout &layout, const ForwardBuffers &buffers, device::Stream stream);

  /// Enqueues the kernels in launch order. `shape` must be valid (validateShape) and the
  /// workspace at least workspaceLayout(...).totalBytes; batch 0 enqueues nothing.
  Status forward(const VarlenShape &shape, const ForwardBuffers &buffers, const VariantChoice &choice,
                 device::Stream stream);

  device::Device &device() const { return device_; }
  const bundle::Bundle &bundle() const { return bundle_; }

private:
  device::Device &device_;
  const bundle::Bundle &bundle_;
  std::mutex mutex_; // serializes loads
  /// Per kernel and variant: the loaded module, or kNotLoaded (written once, under mutex_).
  std::array<std::unique_ptr<std::atomic<int64_t>[]>, bundle::kKernelCount> modules_;
  static constexpr int64_t kNotLoaded = -1;
};

} // namespace mobagen::launch
