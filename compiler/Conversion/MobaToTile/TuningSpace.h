//===- TuningSpace.h - the tuning variants of the MoBA kernels ----------------===//
//
// What an autotuner sweeps for one configuration: per kernel, the knob settings
// that the template accepts and the baseline lowering can hold, the default
// (defaultMobaTuning) first. Each variant has an id made of its swept knobs
// (`w4`, `m16w4`, `m8n8w4`), unique per kernel, only [a-z0-9]: it names the
// variant's PTX entry (`<kernel>_<id>`) and file in a bundle (docs/bundle.md).
//
// Limits a variant must meet (docs/bundle.md, "Tuning space"):
// - the template's knob rules (power-of-two tile extents, 1..16 warps);
// - at most 8 warps: at up to 255 registers a thread, 256 threads already take
//   65280 of an SM's 65536 registers;
// - the lowering's static shared memory at most 48 KiB, the most a kernel may
//   declare statically (stagingBytes, an upper bound of what it declares);
// - the two attention kernels' key tiles no wider than the block size (keys past a
//   block's end are masked work).
// Every variant of the space assembles without spills for sm_80 and sm_90
// (scripts/kernel-resources.sh, the table in docs/perf.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/Conversion/MobaToTile/InstantiateKernels.h"

namespace mobagen::compiler {

constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;
constexpr int64_t kMaxTuningWarps = 8;

template <typename Tuning> struct TuningVariant {
  std::string id;
  Tuning tuning;
};

/// Every kernel's variants for one configuration, default first.
struct MobaTuningSpace {
  std::vector<TuningVariant<templates::PoolKeysTuning>> pool;
  std::vector<TuningVariant<templates::GateTopKTuning>> gate;
  std::vector<TuningVariant<templates::RouteTuning>> route;
  std::vector<TuningVariant<templates::SparseBlocksTuning>> blocks;
  std::vector<TuningVariant<templates::SparseMergeTuning>> merge;
};
MobaTuningSpace mobaTuningSpace(moba::ConfigAttr config);

/// Variant ids: pool `w<num_warps>`; gate `m<block_m>w<num_warps>` (block_n stays
/// 16); route `r<block_rows>b<blocks>w<num_warps>`; the attention kernels
/// `m<block_m>n<block_n>w<num_warps>s<num_stages>`.
std::string variantId(const templates::PoolKeysTuning &tuning);
std::string variantId(const templates::GateTopKTuning &tuning);
std::string variantId(const templates::RouteTuning &tuning);
std::string variantId(const templates::SparseBlocksTuning &tuning);
std::string variantId(const templates::SparseMergeTuning &tuning);

/// The static shared memory (bytes) the lowering gives each kernel, at most: its
/// largest staged operand (pool: the [block_rows, D] f32 rows summed; gate: the
/// dot's [block_m, D] and [D, block_n] f32 operands together; route: route_scatter's
/// [blocks, blocks] i32 column sum of the offsets;
/// attention: the larger of its two tensor-core dots. A tensor-core dot stages A and
/// B in the dtype and C in f32, rows padded as docs/design/mma-layout.md says).
int64_t stagingBytes(moba::ConfigAttr config, const templates::PoolKeysTuning &tuning);
int64_t stagingBytes(moba::ConfigAttr config, const templates::GateTopKTuning &tuning);
int64_t stagingBytes(moba::ConfigAttr config, const templates::RouteTuning &tuning);
int64_t stagingBytes(moba::ConfigAttr config, const templates::SparseBlocksTuning &tuning);
/// The shared memory of sparse_attention_blocks' resident K^T and V (keysResident;
/// 0 otherwise): two [block_n, D] copies in the dtype, rows padded.
int64_t residentKeyBytes(moba::ConfigAttr config, const templates::SparseBlocksTuning &tuning);
/// sparse_attention_blocks with the block's keys resident in shared memory:
/// block_m-row chunks on num_warps warps (the default: 32 on 4), the whole block
/// one key tile. None when the block rounds up past 128 keys or its K^T, V and
/// staging pass the target's shared memory.
std::optional<templates::SparseBlocksTuning> residentBlocksTuning(moba::ConfigAttr config,
                                                                  int64_t blockM = 32,
                                                                  int64_t numWarps = 4);
int64_t stagingBytes(moba::ConfigAttr config, const templates::SparseMergeTuning &tuning);

} // namespace mobagen::compiler
