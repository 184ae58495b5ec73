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
// - the baseline lowering's static shared memory (one staging buffer as large as
//   the kernel's largest cross-thread operand) at most 48 KiB, the most a kernel
//   may declare statically;
// - the attention kernel holds at most 32 elements of its [block_m, block_n, D]
//   tile per thread: at 64, ptxas spills at D 64 (m16n8w4, m8n16w4) or sits at
//   249 of 255 registers (docs/perf.md). The default (m8n8w4) holds 32 at D 64
//   and 64 at D 128 without spilling; it is kept at every head dim, since it is
//   what the pass and `mobagen run` use until the autotuner picks.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

#include "compiler/Conversion/MobaToTile/InstantiateKernels.h"

namespace mobagen::compiler {

constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;
constexpr int64_t kMaxTuningWarps = 8;
constexpr int64_t kMaxAttentionTileSlots = 32;

template <typename Tuning> struct TuningVariant {
  std::string id;
  Tuning tuning;
};

/// Every kernel's variants for one configuration, default first.
struct MobaTuningSpace {
  std::vector<TuningVariant<templates::PoolKeysTuning>> pool;
  std::vector<TuningVariant<templates::GateTopKTuning>> gate;
  std::vector<TuningVariant<templates::SparseAttentionTuning>> attention;
};
MobaTuningSpace mobaTuningSpace(moba::ConfigAttr config);

/// Variant ids: pool `w<num_warps>`; gate `m<block_m>w<num_warps>` (block_n stays
/// 16); attention `m<block_m>n<block_n>w<num_warps>`.
std::string variantId(const templates::PoolKeysTuning &tuning);
std::string variantId(const templates::GateTopKTuning &tuning);
std::string variantId(const templates::SparseAttentionTuning &tuning);

/// The static shared memory (bytes) the baseline lowering gives each kernel: its
/// largest staged operand (pool: the [block_rows, D] f32 rows summed; gate: the
/// dot's [block_m, D] and [D, block_n] f32 operands together; attention: the
/// [block_m, block_n, D] f32 products reduced over D).
int64_t stagingBytes(moba::ConfigAttr config, const templates::PoolKeysTuning &tuning);
int64_t stagingBytes(moba::ConfigAttr config, const templates::GateTopKTuning &tuning);
int64_t stagingBytes(moba::ConfigAttr config, const templates::SparseAttentionTuning &tuning);

} // namespace mobagen::compiler
