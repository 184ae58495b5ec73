//===- TuningSpace.cpp - the tuning variants of the MoBA kernels --------------===//
//
// Candidates are listed in the order an autotuner should try them (default, then
// neighbours of the default); those that break a limit of TuningSpace.h are left
// out, so the space shrinks with the head dimension and the block size.
//
//===----------------------------------------------------------------------===//
#include "compiler/Conversion/MobaToTile/TuningSpace.h"

#include "compiler/Conversion/Passes.h"

#include <algorithm>
#include <tuple>
#include <type_traits>

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

namespace mobagen::compiler {

using templates::GateTopKTuning;
using templates::PoolKeysTuning;
using templates::RouteTuning;
using templates::SparseBlocksTuning;
using templates::SparseMergeTuning;

std::string variantId(const PoolKeysTuning &t) { return llvm::formatv("w{0}", t.numWarps).str(); }

std::string variantId(const GateTopKTuning &t) {
  return llvm::formatv("m{0}w{1}", t.blockM, t.numWarps).str();
}

std::string variantId(const RouteTuning &t) {
  return llvm::formatv("r{0}b{1}w{2}", t.blockRows, t.blocks, t.numWarps).str();
}

std::string variantId(const SparseBlocksTuning &t) {
  if (t.keysResident)
    return llvm::formatv("m{0}n{1}w{2}r", t.blockM, t.blockN, t.numWarps).str();
  return llvm::formatv("m{0}n{1}w{2}s{3}", t.blockM, t.blockN, t.numWarps, t.numStages).str();
}

std::string variantId(const SparseMergeTuning &t) {
  return llvm::formatv("m{0}n{1}w{2}s{3}", t.blockM, t.blockN, t.numWarps, t.numStages).str();
}

int64_t stagingBytes(moba::ConfigAttr config, const PoolKeysTuning &t) {
  return t.blockRows * config.getHeadDim() * 4;
}

namespace {

/// A staged row of `n` elements: rows whose length is a multiple of 16 elements get
/// 8 more, so that ldmatrix's rows fall in different banks (docs/design/mma-layout.md).
int64_t paddedRow(int64_t n) { return n % 16 == 0 ? n + 8 : n; }

/// One mma.sync dot's staging bound: A [m, k] and B [k, n] in the 2-byte dtype and
/// C [m, n] f32. With C and D in registers (the accumulator layout,
/// docs/lowering.md) the lowering stages A + B, or the result alone where a user
/// needs it in another layout: less. The bound is what keeps the space to tiles
/// whose registers fit (64 x 64 tiles on 8 warps spill 212 bytes at D 128).
int64_t mmaDotBytes(int64_t m, int64_t n, int64_t k) {
  return m * paddedRow(k) * 2 + k * paddedRow(n) * 2 + m * paddedRow(n) * 4;
}

/// Both attention kernels: S = Q K^T ([bm, D] x [D, bn]) and O += P V ([bm, bn] x [bn, D]).
int64_t attentionStagingBytes(int64_t headDim, int64_t bm, int64_t bn) {
  return std::max(mmaDotBytes(bm, bn, headDim), mmaDotBytes(bm, headDim, bn));
}

} // namespace

int64_t stagingBytes(moba::ConfigAttr config, const GateTopKTuning &t) {
  // The scores' bf16 dots q part [bm, D] x kbar part [D, bn], each from a zero
  // accumulator.
  return mmaDotBytes(t.blockM, t.blockN, config.getHeadDim());
}

int64_t stagingBytes(moba::ConfigAttr, const RouteTuning &t) {
  // route_scatter's largest staged tile: the offsets' [blocks, blocks] i32 column sum.
  return t.blocks * t.blocks * 4;
}

int64_t stagingBytes(moba::ConfigAttr config, const SparseBlocksTuning &t) {
  if (t.keysResident) {
    // K^T and V come by resident copies (residentKeyBytes); each dot stages its A
    // ([bm, D] q, [bm, bn] p) and at most its f32 result.
    const int64_t d = config.getHeadDim();
    return std::max(t.blockM * paddedRow(d), t.blockM * paddedRow(t.blockN)) * 2 +
           t.blockM * paddedRow(std::max(d, t.blockN)) * 4;
  }
  return attentionStagingBytes(config.getHeadDim(), t.blockM, t.blockN);
}

int64_t residentKeyBytes(moba::ConfigAttr config, const SparseBlocksTuning &t) {
  if (!t.keysResident)
    return 0;
  // K^T staged [bn, D] (its copies run along D) and V [bn, D], rows padded.
  return 2 * t.blockN * paddedRow(config.getHeadDim()) * 2;
}

std::optional<SparseBlocksTuning> residentBlocksTuning(moba::ConfigAttr config, int64_t blockM,
                                                      int64_t numWarps) {
  const int64_t wholeBlock =
      std::max<int64_t>(16, static_cast<int64_t>(llvm::PowerOf2Ceil(config.getBlockSize())));
  if (wholeBlock > 128)
    return std::nullopt;
  const SparseBlocksTuning resident{
      .blockM = blockM, .blockN = wholeBlock, .numWarps = numWarps, .numStages = 1, .keysResident = true};
  if (stagingBytes(config, resident) > kMaxStaticSharedBytes ||
      residentKeyBytes(config, resident) + stagingBytes(config, resident) >
          sharedLimitOf(config.getTarget()))
    return std::nullopt;
  return resident;
}

int64_t stagingBytes(moba::ConfigAttr config, const SparseMergeTuning &t) {
  return attentionStagingBytes(config.getHeadDim(), t.blockM, t.blockN);
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
  const int64_t blockSize = config.getBlockSize();
  MobaTuningSpace space;

  for (int64_t warps : {byDefault.pool.numWarps, int64_t{4}, int64_t{8}, int64_t{1}})
    addIfValid(space.pool, config, {.blockRows = byDefault.pool.blockRows, .numWarps = warps},
               true);

  // Left out because ptxas spills it at D 128: 16 rows on 2 warps.
  const GateTopKTuning gate = byDefault.gate;
  for (auto [m, warps] : {std::pair{gate.blockM, gate.numWarps}, {int64_t{16}, int64_t{2}},
                          {int64_t{16}, int64_t{4}}, {int64_t{32}, int64_t{4}},
                          {int64_t{64}, int64_t{8}}})
    addIfValid(space.gate, config, {.blockM = m, .blockN = gate.blockN, .numWarps = warps},
               warps > 2 || config.getHeadDim() <= 64);

  for (auto [rows, blocks, warps] :
       {std::tuple{byDefault.route.blockRows, byDefault.route.blocks, byDefault.route.numWarps},
        {int64_t{32}, int64_t{64}, int64_t{4}}, {int64_t{64}, int64_t{32}, int64_t{4}},
        {int64_t{16}, int64_t{32}, int64_t{2}}})
    addIfValid(space.route, config, {.blockRows = rows, .blocks = blocks, .numWarps = warps}, true);

  // sparse_attention_blocks: the block's keys resident first where they fit (the
  // default), then the streamed kernels. Both attention kernels' streamed variants:
  // the streamed default, then taller and shorter query tiles and wider key tiles;
  // at most 6 each. 64-row tiles take 8 warps: with 4, the [64, D] f32 accumulator
  // and the probabilities spill (docs/perf.md).
  // Left out because ptxas spills them at D 128: blocks 64 x 32 with 8 warps, merge
  // 32 x 64 with 4 or 8 warps.
  // The 16-key tiles at the end are what 16-key blocks keep.
  const std::tuple<int64_t, int64_t, int64_t> blockTiles[] = {
      {32, 64, 4}, {64, 64, 8}, {32, 32, 4}, {16, 32, 4}, {64, 16, 8}, {128, 32, 8},
      {32, 16, 4}, {16, 16, 4}};
  const std::tuple<int64_t, int64_t, int64_t> mergeTiles[] = {
      {64, 32, 8}, {32, 32, 4}, {64, 64, 8}, {64, 16, 8}, {16, 32, 4}, {128, 32, 8},
      {32, 16, 4}, {16, 16, 4}};
  // The streamed default's key loop without its cp.async pipeline comes second
  // (none when it has no pipeline: the non-causal merge kernel has no key loop);
  // the other tiles keep the streamed default's stages.
  auto addAttention = [&](auto &variants, const auto &streamed, const auto &tiles) {
    using Tuning = std::decay_t<decltype(streamed)>;
    const size_t limit = variants.size() + 6;
    addIfValid(variants, config, streamed, true);
    Tuning unpipelined = streamed;
    unpipelined.numStages = 1;
    addIfValid(variants, config, unpipelined, true);
    for (auto [m, n, warps] : tiles)
      if (variants.size() < limit)
        addIfValid(variants, config,
                   Tuning{.blockM = m, .blockN = n, .numWarps = warps,
                          .numStages = streamed.numStages},
                   n <= blockSize);
  };
  // The block's keys resident in shared memory, when the whole block is one key
  // tile of at most 128 keys and its K^T, V and the staging fit the target's
  // shared memory (sm_80: 99 KB, dynamic): 32 rows on 4 warps (the default), and
  // 64 rows on 8 warps after the streamed variants.
  if (const std::optional<SparseBlocksTuning> resident = residentBlocksTuning(config))
    addIfValid(space.blocks, config, *resident, true);
  addAttention(space.blocks, streamedBlocksTuning(config), blockTiles);
  if (const std::optional<SparseBlocksTuning> resident = residentBlocksTuning(config, 64, 8))
    addIfValid(space.blocks, config, *resident, true);
  addAttention(space.merge, byDefault.merge, mergeTiles);
  return space;
}

} // namespace mobagen::compiler
