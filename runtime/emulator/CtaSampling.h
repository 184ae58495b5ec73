//===- CtaSampling.h - A stratified, seeded subset of a launch's CTAs ------===//
//
// Sampled mode (EmulatorOptions::sampleCtas) runs a few CTAs of a large launch
// and scales their counters to the grid. The strata follow where the kernels'
// work differs: each (blockIdx.y, blockIdx.z) slice is its own set of strata
// (heads, and the sequences of a varlen batch); within a slice the last
// blockIdx.x (the last two when grid.x is even) runs exactly, since its work
// breaks the trend (a partial tile or block; the causal grid's last key block
// has no later rows), and the others are cut into contiguous bands of even size
// (causal kernels do work that grows with x: the query-row or key-block
// position). Each band runs a mirrored pair: X drawn uniformly from a seeded
// hash and its mirror lo + hi - 1 - X, each standing for half the band's
// population. The estimate of each counter is unbiased (X and its mirror are
// each uniform over the band, so E[pop/2 * (c(X) + c(mirror))] = the band's
// sum, and the bands and the tail partition the grid), and exact when the work
// is linear in x within a band, as it nearly is for causal rows, or alternates
// between even and odd x (a pair is one of each). docs/emulator.md, "Sampled
// mode".
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/emulator/Interpreter.h"

namespace mobagen::emu {

struct SampledCta {
  Dim id;
  /// Twice the CTAs it stands for (half a band each for a pair, 1 for the
  /// tail): weights stay integers.
  uint64_t doubleWeight = 2;
};

/// The CTAs to run for `grid` with a budget of about `budget` CTAs (0: every
/// CTA once). Each y/z slice runs its tail (the last x, or the last two when
/// grid.x is even) and min(pairs, max(1, (budget / slices - tail) / 2)) bands
/// of an even number of CTAs over the others, one pair per band; a grid with more
/// slices than half the budget runs one pair and the tail per slice, and a grid
/// within the budget runs in full.
/// Deterministic in (grid, budget, seed).
std::vector<SampledCta> planCtaSample(Dim grid, uint64_t budget, uint64_t seed);

} // namespace mobagen::emu
