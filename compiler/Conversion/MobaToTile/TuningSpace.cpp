//===- TuningSpace.cpp - the tuning variants of the MoBA kernels --------------===//
//
// Candidates are listed in the order an autotuner should try them (default, then
// neighbours of the default); those that break a limit of TuningSpace.h are left
// out, so the space shrinks with the head dimension (the attention tile at D 128
// fits 48 KiB only as 8 x 8).
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/MobaToTile/TuningSpace.h"

#include <algorithm>

#include "llvm/Support/FormatVariadic.h"

namespace mobagen::compiler {

using templates::GateTopKTuning;
using templates::PoolKeysTuning;
using templates::SparseAttentionTuning;

std::string variantId(const PoolKeysTuning &t) { return llvm::formatv("w{0}", t.numWarps).str(); }

std::string variantId(const GateTopKTuning &t) {
  return llvm::formatv("m{0}w{1}", t.blockM, t.numWarps).str();
}

std::string variantId(const SparseAttentionTuning &t) {
  return llvm::formatv("m{0}n{1}w{2}", t.blockM, t.blockN, t.numWarps).str();
}

int64_t stagingBytes(moba::ConfigAttr config, const PoolKeysTuning &t) {
  return t.blockRows * config.getHeadDim() * 4;
}

int64_t stagingBytes(moba::ConfigAttr config, const GateTopKTuning &t) {
  return (t.blockM + t.blockN) * config.getHeadDim() * 4;
}

int64_t stagingBytes(moba::ConfigAttr config, const SparseAttentionTuning &t) {
  return t.blockM * t.blockN * config.getHeadDim() * 4;
}

namespace {

/// Appends `tuning` unless it breaks a limit or is there already.
template <typename Tuning>
void addIfValid(std::vector<TuningVariant<Tuning>> &space, moba::ConfigAttr config,
                const Tuning &tuning, bool fits) {
  if (!fits || tuning.numWarps > kMaxTuningWarps ||
      stagingBytes(config, tuning) > kMaxStaticSharedBytes)
    return;
  std::string id = variantId(tuning);
  if (std::none_of(space.begin(), space.end(), [&](const auto &v) { return v.id == id; }))
    space.push_back({std::move(id), tuning});
}

} // namespace

MobaTuningSpace mobaTuningSpace(moba::ConfigAttr config) {
  const MobaTuning byDefault = defaultMobaTuning(config);
  const int64_t headDim = config.getHeadDim(), blockSize = config.getBlockSize();
  MobaTuningSpace space;

  for (int64_t warps : {byDefault.pool.numWarps, int64_t{4}, int64_t{8}, int64_t{1}})
    addIfValid(space.pool, config, {.blockRows = byDefault.pool.blockRows, .numWarps = warps},
               true);

  const GateTopKTuning gate = byDefault.gate;
  for (auto [m, warps] : {std::pair{gate.blockM, gate.numWarps}, {int64_t{16}, int64_t{4}},
                          {int64_t{32}, int64_t{4}}, {int64_t{64}, int64_t{8}}})
    addIfValid(space.gate, config, {.blockM = m, .blockN = gate.blockN, .numWarps = warps}, true);

  const SparseAttentionTuning att = byDefault.attention;
  const SparseAttentionTuning candidates[] = {
      att,          {8, 8, 4},  {8, 8, 8},  {8, 8, 2},  {16, 8, 8}, {16, 8, 4},
      {8, 16, 4},   {8, 16, 8}, {16, 16, 8}, {32, 8, 8}, {16, 8, 2}};
  for (const SparseAttentionTuning &t : candidates) {
    if (space.attention.size() == 8)
      break;
    const int64_t slots = t.blockM * t.blockN * headDim / (32 * t.numWarps);
    addIfValid(space.attention, config, t,
               t.blockN <= blockSize && (slots <= kMaxAttentionTileSlots ||
                                         variantId(t) == variantId(att)));
  }
  return space;
}

} // namespace mobagen::compiler
